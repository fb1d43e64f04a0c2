"""Input and output models of the campaign API."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hub.campaigns.models import CampaignKind, Outcome
from hub.cases.schemas import BuyerOut
from tenants.case_types import Priority

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Choice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class FieldType(StrEnum):
    text = "text"
    textarea = "textarea"
    number = "number"
    choice = "choice"
    phone = "phone"
    date = "date"
    boolean = "boolean"


class CampaignField(BaseModel):
    """One field of the form. Some keys mean something: ``order_id`` (always asked), ``sku``,
    ``size``, ``colour`` (checked against the SKU options), ``name``, ``phone``, ``address``
    (stored as the buyer's contact, masked for brands unless the partnership shares it)."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Label
    label_en: Label | None = None
    type: FieldType = FieldType.text
    required: bool = False
    choices: list[Choice] = Field(default_factory=list, max_length=200)
    max_length: Annotated[int, Field(ge=1, le=5000)] = 500
    help: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""

    @model_validator(mode="after")
    def _choices(self) -> CampaignField:
        if (
            self.type == FieldType.choice
            and not self.choices
            and self.key not in ("sku", "size", "colour")
        ):
            raise ValueError("a choice field needs choices")
        return self


class SkuOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sizes: list[Choice] = Field(default_factory=list, max_length=100)
    colours: list[Choice] = Field(default_factory=list, max_length=100)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CampaignKind
    title: Label
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{5,62}$")] | None = Field(
        default=None, description="The public link's last part; generated (unguessable) if absent"
    )
    fields: list[CampaignField] | None = Field(
        default=None, max_length=50, description="The form; the kind's preset when absent"
    )
    brands: list[Annotated[str, StringConstraints(max_length=63)]] = Field(
        default_factory=list, max_length=50
    )
    skus: list[Sku] = Field(default_factory=list, max_length=5000)
    options: dict[Sku, SkuOptions] = Field(default_factory=dict)
    priority: Priority = Priority.normal
    require_link: bool = False
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CampaignCreate:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        if self.skus and set(self.options) - set(self.skus):
            raise ValueError("options name SKUs that are not in skus")
        for time in (self.opens_at, self.closes_at):
            if time is not None and time.tzinfo is None:
                raise ValueError("times need a time zone (e.g. 2026-12-01T20:00:00+08:00)")
        return self


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Label | None = None
    description: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None
    ) = None
    closes_at: datetime | None = None
    closed: bool | None = Field(default=None, description="true closes the form now")


class CampaignState(StrEnum):
    scheduled = "scheduled"
    open = "open"
    closed = "closed"


class CampaignRead(BaseModel):
    id: uuid.UUID
    slug: str
    kind: CampaignKind
    title: str
    description: str
    fields: list[CampaignField]
    brands: list[str]
    skus: list[str]
    options: dict[str, SkuOptions]
    priority: Priority
    require_link: bool
    opens_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    state: CampaignState
    url: str
    submissions: dict[str, int]
    """Counts by outcome (the reader's own submissions for a brand)."""
    created_at: datetime


class OrderLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    sku: Sku | None = None


class LinksRequest(BaseModel):
    orders: list[OrderLinkIn] = Field(min_length=1, max_length=20_000)


class OrderLink(BaseModel):
    order_id: str
    sku: str | None
    url: str


class CaseBrief(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    brand: str | None


class SubmissionRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    case: CaseBrief
    order_id: str
    sku: str | None
    answers: dict[str, Any]
    buyer: BuyerOut | None
    via_link: bool
    outcome: Outcome
    outcome_reason: str | None
    outcome_at: datetime | None
    created_at: datetime


class AckItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    submission_id: uuid.UUID | None = None
    order_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    outcome: Outcome
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _identified(self) -> AckItem:
        if (self.submission_id is None) == (self.order_id is None):
            raise ValueError("name the row by submission_id or by order_id (one of them)")
        if self.outcome == Outcome.pending:
            raise ValueError("acknowledge as applied, rejected or too_late")
        if self.outcome == Outcome.rejected and not self.reason:
            raise ValueError("a rejection needs a reason (the buyer sees it)")
        return self


class AckRequest(BaseModel):
    items: list[AckItem] = Field(min_length=1, max_length=1000)


class AckResult(BaseModel):
    index: int
    submission_id: uuid.UUID | None
    order_id: str | None
    ok: bool
    outcome: Outcome | None
    error: str | None = None


class AckResponse(BaseModel):
    results: list[AckResult]
    acknowledged: int
    failed: int
