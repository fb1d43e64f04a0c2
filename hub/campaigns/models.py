"""Tables of campaigns and their submissions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hub.core.models import (
    JSONType,
    StrEnumType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    id_field,
)
from tenants.case_types import Priority


class CampaignKind(StrEnum):
    prize_verification = "prize_verification"
    size_colour_change = "size_colour_change"
    address_change = "address_change"
    exchange = "exchange"
    free_form = "free_form"


class Outcome(StrEnum):
    pending = "pending"
    applied = "applied"
    rejected = "rejected"
    too_late = "too_late"


class Campaign(TenantOwned, table=True):
    """A form a host publishes at ``/f/{slug}``; ``tenant_id`` is the host."""

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=63, unique=True)
    kind: CampaignKind = Field(sa_type=StrEnumType(CampaignKind, 32))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    fields: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    """The form's fields (:class:`hub.campaigns.schemas.CampaignField`), in order."""
    brand_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    """Brands the campaign covers; one brand means every submission goes to it."""
    skus: list[str] = Field(default_factory=list, sa_type=JSONType)
    """SKUs a submission may name; empty: any."""
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """SKU → {"sizes": [...], "colours": [...]}: what a size/colour change may choose."""
    priority: Priority = Field(default=Priority.normal, sa_type=StrEnumType(Priority, 16))
    require_link: bool = False
    """Only per-order signed links are accepted (the public link shows a refusal)."""
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The cutoff (e.g. the brand's shipping cutoff); submissions after it are refused."""
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set when the host closed the campaign early."""
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class CampaignSubmission(TenantOwned, table=True):
    """One buyer's submission; the case it became carries the work. ``tenant_id`` is the host."""

    __tablename__ = "campaign_submission"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "order_id"),
        sa.Index("ix_campaign_submission_campaign_created", "campaign_id", "created_at"),
    )

    id: uuid.UUID = id_field()
    campaign_id: uuid.UUID = Field(foreign_key="campaign.id", ondelete="CASCADE")
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True, ondelete="CASCADE")
    order_id: str = Field(max_length=100)
    sku: str | None = Field(default=None, max_length=64)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """What the buyer entered, except contact details (those live in the case's BuyerContact)."""
    via_link: bool = False
    """Submitted through a per-order signed link."""
    outcome: Outcome = Field(default=Outcome.pending, sa_type=StrEnumType(Outcome, 16))
    outcome_reason: str | None = Field(default=None, max_length=2000)
    outcome_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
