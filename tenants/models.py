"""Tables of the tenants package."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

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


class TenantKind(StrEnum):
    host = "host"
    brand = "brand"


class Locale(StrEnum):
    zh_cn = "zh-CN"
    en = "en"


class Role(StrEnum):
    admin = "admin"
    lead = "lead"
    agent = "agent"
    viewer = "viewer"


class Tenant(SQLModel, table=True):
    id: uuid.UUID = id_field()
    slug: str = Field(max_length=63, unique=True)
    kind: TenantKind = Field(sa_type=StrEnumType(TenantKind, 16))
    name: str = Field(max_length=200)
    time_zone: str = Field(default="Asia/Shanghai", max_length=64)
    locale: Locale = Field(default=Locale.zh_cn, sa_type=StrEnumType(Locale, 8))
    case_prefix: str = Field(default="CASE", max_length=8)
    """Prefix of the human case numbers a host files (``LRBB-000123``)."""
    aliases: list[str] = Field(default_factory=list, sa_type=JSONType)
    """Other names a brand goes by in product titles (routing looks for them)."""
    created_at: datetime = created_at_field()


class User(TenantOwned, table=True):
    id: uuid.UUID = id_field()
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=StrEnumType(Role, 16))
    password_hash: str = Field(max_length=255)
    active: bool = True
    locale: Locale | None = Field(default=None, sa_type=StrEnumType(Locale, 8))
    created_at: datetime = created_at_field()


class Team(TenantOwned, table=True):
    """A team is also a queue: cases routed to it wait there for one of its agents."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "slug"),)

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=63)
    name: str = Field(max_length=200)
    created_at: datetime = created_at_field()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"

    team_id: uuid.UUID = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")


class ApiClient(TenantOwned, table=True):
    """An OAuth 2.0 client (client credentials) of one tenant's own system."""

    __tablename__ = "api_client"

    id: uuid.UUID = id_field()
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_digest: str = Field(max_length=128)
    scopes: str = Field(max_length=1000)
    """Space-separated scopes the client may request."""
    active: bool = True
    created_at: datetime = created_at_field()
    secret_rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RevokedToken(SQLModel, table=True):
    """The deny-list of access tokens revoked before they expire (by ``jti``)."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    revoked_at: datetime = created_at_field()


class PartnershipStatus(StrEnum):
    invited = "invited"
    active = "active"
    suspended = "suspended"
    declined = "declined"


class Partnership(SQLModel, table=True):
    """What a host and a brand agreed: which cases the brand takes and on which terms.

    Owned by the host (it invites); the brand accepts. Both read it. Only an ``active`` partnership
    lets cases reach the brand.
    """

    __table_args__ = (sa.UniqueConstraint("host_id", "brand_id"),)

    id: uuid.UUID = id_field()
    host_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    brand_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    status: PartnershipStatus = Field(
        default=PartnershipStatus.invited, sa_type=StrEnumType(PartnershipStatus, 16)
    )
    allowed_case_types: list[str] = Field(default_factory=list, sa_type=JSONType)
    """Case types the brand takes; empty means every type."""
    share_buyer_contact: bool = False
    """Whether the brand may see the buyer's contact details (resends, exchanges)."""
    sla_policy_id: uuid.UUID | None = Field(default=None)
    """The agreed SLA policy; ``None`` falls back to the host's default."""
    note: str = Field(default="", max_length=2000)
    created_at: datetime = created_at_field()
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Product(TenantOwned, table=True):
    """One SKU of a brand's catalog."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "sku"),)

    id: uuid.UUID = id_field()
    sku: str = Field(max_length=64, index=True)
    name: str = Field(max_length=300)
    category: str = Field(default="", max_length=100)
    aliases: list[str] = Field(default_factory=list, sa_type=JSONType)
    barcode: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class LiveSession(TenantOwned, table=True):
    """One broadcast of a host, with the products it sold."""

    __tablename__ = "live_session"

    id: uuid.UUID = id_field()
    title: str = Field(max_length=300)
    platform: str = Field(default="", max_length=50)
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class LiveSessionItem(SQLModel, table=True):
    """A product in a live session's line-up, with its brand, price and units sold."""

    __tablename__ = "live_session_item"
    __table_args__ = (sa.UniqueConstraint("live_session_id", "sku"),)

    id: uuid.UUID = id_field()
    live_session_id: uuid.UUID = Field(
        foreign_key="live_session.id", index=True, ondelete="CASCADE"
    )
    sku: str = Field(max_length=64, index=True)
    brand_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=300)
    price: Decimal | None = Field(default=None, sa_type=Money)
    units_sold: int = Field(default=0, ge=0)
