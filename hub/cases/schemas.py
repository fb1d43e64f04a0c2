"""Input and output models of the case API (the console uses the same ones)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hub.cases.models import FieldKind, Priority, Status, Visibility
from hub.sla.schemas import ClockRead
from tenants.case_types import CaseType

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class OrderRef(BaseModel):
    platform: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    order_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    amount: Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)] | None = (
        None
    )


class ProductRef(BaseModel):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None


class BuyerIn(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 -]{5,20}$")]
        | None
    ) = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: CaseType
    title: ShortText
    description: Text = ""
    priority: Priority = Priority.normal
    order: OrderRef = OrderRef()
    product: ProductRef = ProductRef()
    buyer: BuyerIn = BuyerIn()
    brand: str | None = Field(default=None, max_length=63, description="Brand slug, if known")
    live_session_id: uuid.UUID | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    force_new: bool = Field(
        default=False, description="File even if an open case exists for this order and SKU"
    )

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


class CaseUpdate(BaseModel):
    """Fields a PATCH may change. The host may change all; the brand only tags and custom fields."""

    model_config = ConfigDict(extra="forbid")

    title: ShortText | None = None
    description: Text | None = None
    priority: Priority | None = None
    type: CaseType | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    custom_fields: dict[str, Any] | None = None
    order: OrderRef | None = None
    product: ProductRef | None = None


class TenantRef(BaseModel):
    slug: str
    name: str


class BuyerOut(BaseModel):
    name: str | None
    phone: str | None
    address: str | None
    masked: bool


class RoutingOut(BaseModel):
    evidence: str
    reason: str
    steps: list[dict[str, str]] | None = None
    """The reader's own steps: the host sees how the brand was found; the brand how its queue
    and agent were picked."""


class ExternalRefOut(BaseModel):
    system: str
    ref: str
    url: str | None


class CaseRead(BaseModel):
    id: uuid.UUID
    number: str
    status: Status
    type: CaseType
    priority: Priority
    title: str
    description: str
    host: TenantRef
    brand: TenantRef | None
    order: OrderRef
    product: ProductRef
    product_category: str | None
    live_session_id: uuid.UUID | None
    tags: list[str]
    custom_fields: dict[str, Any]
    buyer: BuyerOut | None
    routing: RoutingOut | None
    resolution: dict[str, Any] | None
    host_queue: str | None = None
    brand_team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    duplicate_of_id: uuid.UUID | None
    merged_into_id: uuid.UUID | None
    external_refs: list[ExternalRefOut]
    status_url: str | None = None
    allowed_actions: list[str]
    version: int
    filed_at: datetime
    created_at: datetime
    updated_at: datetime
    routed_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: list[ClockRead] = Field(
        default_factory=list, description="The SLA clocks the reader may see: due, remaining …"
    )


class CaseFiled(CaseRead):
    duplicate: bool = Field(
        default=False, description="True when the filing was linked to an open case instead"
    )


class CommentCreate(BaseModel):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    visibility: Visibility


class EventRead(BaseModel):
    id: int
    uid: uuid.UUID
    case_id: uuid.UUID
    type: str
    visibility: Visibility
    actor: dict[str, str | None]
    data: dict[str, Any]
    created_at: datetime


class ResolutionKind(StrEnum):
    refund = "refund"
    resend = "resend"
    exchange = "exchange"
    repair = "repair"
    compensation = "compensation"
    no_action = "no_action"


class InfoFrom(StrEnum):
    host = "host"
    buyer = "buyer"


class ActionBody(BaseModel):
    """The body of ``POST /v1/cases/{id}/actions/{action}``; each action reads what it needs."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    question: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = (
        None
    )
    answer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)] | None = (
        None
    )
    info_from: InfoFrom | None = Field(default=None, alias="from")
    kind: ResolutionKind | None = None
    amount: Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"))] | None = None
    brand: str | None = Field(default=None, max_length=63)
    into: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    """The buyer's rating (``rate``), 1–5; ``note`` carries the comment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ExternalRefIn(BaseModel):
    system: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    visibility: Visibility
    created_at: datetime


class CustomFieldIn(BaseModel):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: ShortText
    kind: FieldKind
    case_type: CaseType | None = None
    required: bool = False
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )


class CustomFieldRead(CustomFieldIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
