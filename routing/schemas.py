"""What routing reads (the facts of a case) and what it answers (a decision and its reasons)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tenants.case_types import CaseType, Priority


class Evidence(StrEnum):
    """How the brand was found, strongest first."""

    explicit_brand = "explicit_brand"
    catalog_sku = "catalog_sku"
    live_session_sku = "live_session_sku"
    brand_alias = "brand_alias"
    routing_rule = "routing_rule"
    triage = "triage"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The facts of a case (filed or previewed) that routing may look at."""

    host_id: uuid.UUID
    case_type: str
    priority: str
    title: str = ""
    description: str = ""
    sku: str | None = None
    product_name: str | None = None
    amount: Decimal | None = None
    tags: tuple[str, ...] = ()
    live_session_id: uuid.UUID | None = None
    brand_slug: str | None = None
    """An explicit brand from the filer: it must be an active partner."""
    exclude_brand_ids: frozenset[uuid.UUID] = frozenset()
    """Brands that already said "not ours" for this case."""


@dataclass(frozen=True, slots=True)
class RoutingStep:
    """One piece of reasoning, shown to people: ``SKU 6901234 is in 稻香食品's catalog``."""

    evidence: Evidence | str
    reason: str


@dataclass(slots=True)
class RoutingDecision:
    """Where a case goes and why. ``brand_id`` is ``None`` when the case stays in host triage."""

    brand_id: uuid.UUID | None
    evidence: Evidence
    reason: str
    brand_slug: str | None = None
    brand_name: str | None = None
    category: str | None = None
    """The product's category from the catalog, when known."""
    priority: str | None = None
    """A priority set by a host rule, or ``None`` to keep the filer's."""
    host_queue: str | None = None
    """A host queue named by a host rule (e.g. for triage)."""
    hold_for_review: bool = False
    """A host rule asked for review in triage before the brand sees it."""
    rule_id: uuid.UUID | None = None
    brand_team_id: uuid.UUID | None = None
    """The brand's queue, picked by the brand's own rules."""
    assignee_id: uuid.UUID | None = None
    """The agent picked inside the brand's queue (round-robin or fewest open)."""
    steps: list[RoutingStep] = field(default_factory=list)
    """The host's view of the reasoning (which brand and why)."""
    brand_steps: list[RoutingStep] = field(default_factory=list)
    """The brand's own view: which of its queues and agents, and why. Never shown to the host."""


# --- the API's input and output -------------------------------------------------------------

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]


class RuleConditions(BaseModel):
    """What a case must have for a rule to apply; every condition given must hold.

    Within one list, any item matches (``types: [quality, damaged]`` is either type).
    """

    model_config = ConfigDict(extra="forbid")

    types: list[CaseType] = Field(default_factory=list, max_length=20)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    categories: list[Label] = Field(default_factory=list, max_length=50)
    amount_min: Amount | None = None
    amount_max: Amount | None = None
    keywords: list[Keyword] = Field(default_factory=list, max_length=50)
    """Any of them in the title, description or product name (case-insensitive)."""
    tags: list[Label] = Field(default_factory=list, max_length=20)
    """Any of them among the case's tags."""
    live_session_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _ordered_amounts(self) -> RuleConditions:
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            raise ValueError("amount_min must not exceed amount_max")
        return self


class Assignment(StrEnum):
    """How a brand's queue picks an agent among its active members."""

    round_robin = "round_robin"
    fewest_open = "fewest_open"
    none = "none"


class RuleActions(BaseModel):
    """What a matching rule does. Hosts use ``brand``/``priority``/``queue``/``hold_for_review``;
    brands use ``team`` and ``assignment``."""

    model_config = ConfigDict(extra="forbid")

    brand: str | None = Field(default=None, max_length=63, description="Brand slug (host rules)")
    priority: Priority | None = None
    queue: Label | None = Field(default=None, description="A host queue name (host rules)")
    hold_for_review: bool = False
    team: str | None = Field(default=None, max_length=63, description="Team slug (brand rules)")
    assignment: Assignment = Assignment.none


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    enabled: bool = True
    position: int | None = Field(default=None, ge=1, description="1 = tried first; default last")
    conditions: RuleConditions = RuleConditions()
    actions: RuleActions


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    enabled: bool | None = None
    position: int | None = Field(default=None, ge=1)
    conditions: RuleConditions | None = None
    actions: RuleActions | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    name: str
    enabled: bool
    conditions: RuleConditions
    actions: RuleActions
    created_at: datetime
    updated_at: datetime


class PreviewOrder(BaseModel):
    amount: Amount | None = None


class PreviewProduct(BaseModel):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None


class PreviewRequest(BaseModel):
    """The routing facts of a case that is not filed yet (the same fields as filing)."""

    model_config = ConfigDict(extra="ignore")

    type: CaseType
    title: Annotated[str, StringConstraints(max_length=300)] = ""
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    priority: Priority = Priority.normal
    order: PreviewOrder = PreviewOrder()
    product: PreviewProduct = PreviewProduct()
    brand: str | None = Field(default=None, max_length=63)
    live_session_id: uuid.UUID | None = None
    tags: list[Label] = Field(default_factory=list, max_length=20)


class StepRead(BaseModel):
    evidence: str
    reason: str


class PreviewRead(BaseModel):
    """Where the case would go and why, without filing it."""

    brand: dict[str, str] | None
    evidence: Evidence
    reason: str
    priority: Priority
    queue: str | None
    hold_for_review: bool
    rule_id: uuid.UUID | None
    category: str | None
    steps: list[StepRead]
