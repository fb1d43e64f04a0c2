"""What routing reads (the facts of a case) and what it answers (a decision and its reasons)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


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
