"""Tables of the case domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hub.core.models import (
    JSONType,
    Money,
    StrEnumType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    id_field,
)
from tenants.case_types import PRIORITY_ORDER as PRIORITY_ORDER
from tenants.case_types import CaseType
from tenants.case_types import Priority as Priority


class Status(StrEnum):
    triage = "triage"
    routed = "routed"
    in_progress = "in_progress"
    waiting_on_host = "waiting_on_host"
    waiting_on_buyer = "waiting_on_buyer"
    resolution_proposed = "resolution_proposed"
    resolved = "resolved"
    closed = "closed"
    reopened = "reopened"
    cancelled = "cancelled"


OPEN_STATUSES = frozenset(
    {
        Status.triage,
        Status.routed,
        Status.in_progress,
        Status.waiting_on_host,
        Status.waiting_on_buyer,
        Status.resolution_proposed,
        Status.reopened,
    }
)


class Visibility(StrEnum):
    internal = "internal"
    """The author's tenant only."""
    partners = "partners"
    """The host and the brand."""
    public = "public"
    """Also the buyer."""


class ActorKind(StrEnum):
    user = "user"
    client = "client"
    buyer = "buyer"
    system = "system"


class Case(TenantOwned, table=True):
    """A buyer's complaint, owned by the host that filed it (``tenant_id``), worked by a brand."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        # (created_at, id) is the order of listings and exports: the index serves it whole.
        sa.Index("ix_case_tenant_created", "tenant_id", "created_at", "id"),
        sa.Index("ix_case_tenant_status_created", "tenant_id", "status", "created_at"),
        sa.Index("ix_case_brand_created", "brand_id", "created_at", "id"),
        sa.Index("ix_case_brand_status_created", "brand_id", "status", "created_at"),
        sa.Index("ix_case_tenant_order", "tenant_id", "order_id"),
        sa.Index(
            "ix_case_tenant_filer_status", "tenant_id", "created_by_id", "status", "created_at"
        ),
        # Covering indexes for the dashboards' open cases per brand (host) and per queue (brand).
        sa.Index("ix_case_tenant_status_brand", "tenant_id", "status", "brand_id"),
        sa.Index("ix_case_brand_status_team", "brand_id", "status", "brand_team_id"),
    )

    id: uuid.UUID = id_field()
    number: str = Field(max_length=32)
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="tenant.id")
    brand_team_id: uuid.UUID | None = Field(default=None, foreign_key="team.id")
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    host_queue: str | None = Field(default=None, max_length=63)
    type: CaseType = Field(sa_type=StrEnumType(CaseType, 32))
    priority: Priority = Field(default=Priority.normal, sa_type=StrEnumType(Priority, 16))
    status: Status = Field(default=Status.triage, sa_type=StrEnumType(Status, 32))
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    order_platform: str | None = Field(default=None, max_length=50)
    order_id: str | None = Field(default=None, max_length=100)
    order_amount: Decimal | None = Field(default=None, sa_type=Money)
    sku: str | None = Field(default=None, max_length=64, index=True)
    product_name: str | None = Field(default=None, max_length=300)
    product_category: str | None = Field(default=None, max_length=100)
    live_session_id: uuid.UUID | None = Field(
        default=None, foreign_key="live_session.id", index=True
    )
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    routing: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """The latest routing decision: evidence, reason and steps."""
    rejected_brand_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    """Brands that said "not ours"; routing never picks them again for this case."""
    resolution: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    """The proposed or accepted resolution: kind, amount, note, state."""
    duplicate_of_id: uuid.UUID | None = Field(default=None, foreign_key="case.id")
    merged_into_id: uuid.UUID | None = Field(default=None, foreign_key="case.id")
    status_token: str = Field(max_length=64, unique=True)
    """The buyer's status-link token (≥ 128 bits, URL-safe)."""
    status_link_revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set when the host revoked the status link; a rotation issues a new token and clears it."""
    created_by: str = Field(default="", max_length=200)
    created_by_id: uuid.UUID | None = Field(default=None)
    """The person or API client who filed it (the principal's subject): "my cases" of a host."""
    version: int = Field(default=1, nullable=False)
    filed_at: datetime = created_at_field()
    """When the complaint was first filed; kept across re-routing for buyer-facing timing."""
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    routed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BuyerContact(SQLModel, table=True):
    """The buyer's personal data, kept apart from the case and purged after retention."""

    __tablename__ = "buyer_contact"

    case_id: uuid.UUID = Field(foreign_key="case.id", primary_key=True, ondelete="CASCADE")
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseCounter(SQLModel, table=True):
    """The next human case number of each host."""

    __tablename__ = "case_counter"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", primary_key=True, ondelete="CASCADE")
    last_number: int = 0


EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY."""


class CaseEvent(SQLModel, table=True):
    """One immutable entry of a case's timeline: the audit log and the source of every notice.

    ``host_id`` and ``brand_id`` (the brand at the time) decide who may read it, together with
    ``visibility`` and ``author_tenant_id`` (an internal entry is seen by its author's tenant only).
    """

    __tablename__ = "case_event"
    __table_args__ = (
        sa.Index("ix_case_event_case", "case_id", "id"),
        sa.Index("ix_case_event_host", "host_id", "id"),
        sa.Index("ix_case_event_brand", "brand_id", "id"),
    )

    id: int | None = Field(default=None, sa_type=EventId, primary_key=True)
    uid: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", ondelete="CASCADE")
    host_id: uuid.UUID = Field(foreign_key="tenant.id")
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="tenant.id")
    type: str = Field(max_length=64)
    visibility: Visibility = Field(sa_type=StrEnumType(Visibility, 16))
    author_tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenant.id")
    actor_kind: ActorKind = Field(sa_type=StrEnumType(ActorKind, 16))
    actor_id: str | None = Field(default=None, max_length=64)
    actor_name: str = Field(default="", max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = created_at_field()


class Attachment(SQLModel, table=True):
    """Evidence uploaded to a case; the bytes live in the storage backend under ``storage_key``."""

    __table_args__ = (sa.Index("ix_attachment_case", "case_id", "created_at"),)

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", ondelete="CASCADE")
    author_tenant_id: uuid.UUID = Field(foreign_key="tenant.id")
    visibility: Visibility = Field(sa_type=StrEnumType(Visibility, 16))
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255)
    created_at: datetime = created_at_field()


class ExternalRef(SQLModel, table=True):
    """A tenant's own ticket id for a case (two-way sync with its helpdesk)."""

    __tablename__ = "external_ref"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "tenant_id", "system"),
        sa.Index("ix_external_ref_lookup", "tenant_id", "system", "ref"),
    )

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", ondelete="CASCADE")
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    system: str = Field(max_length=50)
    ref: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


class IdempotencyRecord(SQLModel, table=True):
    """A write made with an ``Idempotency-Key``: replayed for the same key and body."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("principal_key", "key"),)

    id: uuid.UUID = id_field()
    principal_key: str = Field(max_length=100)
    """Keys are scoped per API client (or per user)."""
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    response_status: int | None = None
    response_body: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = created_at_field()


class FieldKind(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    boolean = "boolean"
    choice = "choice"


class CustomFieldDefinition(TenantOwned, table=True):
    """A field a brand asks for on its cases (e.g. a batch number for quality complaints)."""

    __tablename__ = "custom_field_definition"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key", "case_type"),)

    id: uuid.UUID = id_field()
    key: str = Field(max_length=64)
    label: str = Field(max_length=200)
    kind: FieldKind = Field(sa_type=StrEnumType(FieldKind, 16))
    case_type: str | None = Field(default=None, max_length=32)
    """``None``: asked on every case type."""
    required: bool = False
    choices: list[str] = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = created_at_field()
