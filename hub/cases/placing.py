"""Where a case goes: routing decided for a case, applied to it, and recorded.

Shared by filing (:mod:`hub.cases.filing`) and by the actions that move a case on (re-route).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events, fields
from hub.cases.models import (
    OPEN_STATUSES,
    Case,
    CustomFieldDefinition,
    Priority,
    Status,
    Visibility,
)
from hub.core.events import EventType
from routing import service as routing_service
from routing.lookups import Lookups, chunked
from routing.schemas import CaseFacts, RoutingDecision


class FilingLookups:
    """What filing reads repeatedly, read once per batch: routing's lookups and the brands'
    custom-field definitions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.routing = Lookups(session)
        self._definitions: dict[uuid.UUID, list[CustomFieldDefinition]] = {}

    async def load_definitions(self, brand_ids: Sequence[uuid.UUID]) -> None:
        """Read the custom-field definitions of ``brand_ids`` in one query."""
        wanted = [b for b in brand_ids if b not in self._definitions]
        for brand_id in wanted:
            self._definitions[brand_id] = []
        for chunk in chunked(wanted):
            rows = await self.session.execute(
                select(CustomFieldDefinition).where(col(CustomFieldDefinition.tenant_id).in_(chunk))
            )
            for definition in rows.scalars():
                self._definitions[definition.tenant_id].append(definition)

    async def definitions(self, brand_id: uuid.UUID, case_type: str) -> list[CustomFieldDefinition]:
        """What ``brand_id`` asks for on cases of ``case_type``."""
        await self.load_definitions([brand_id])
        return [d for d in self._definitions[brand_id] if d.case_type in (None, case_type)]

    def any_definitions(self) -> bool:
        return any(self._definitions.values())


async def open_cases_by_agent(
    session: AsyncSession, agent_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not agent_ids:
        return {}
    result = await session.execute(
        select(col(Case.assignee_id), func.count())
        .where(col(Case.assignee_id).in_(agent_ids), col(Case.status).in_(OPEN_STATUSES))
        .group_by(col(Case.assignee_id))
    )
    return {row[0]: int(row[1]) for row in result.all() if row[0] is not None}


def facts_for(case: Case, *, brand_slug: str | None = None) -> CaseFacts:
    return CaseFacts(
        host_id=case.tenant_id,
        case_type=case.type.value,
        priority=case.priority.value,
        title=case.title,
        description=case.description,
        sku=case.sku,
        product_name=case.product_name,
        amount=case.order_amount,
        tags=tuple(case.tags),
        live_session_id=case.live_session_id,
        brand_slug=brand_slug,
        exclude_brand_ids=frozenset(uuid.UUID(b) for b in case.rejected_brand_ids),
    )


async def decide_routing(
    session: AsyncSession,
    case: Case,
    *,
    brand_slug: str | None = None,
    exclude: frozenset[uuid.UUID] = frozenset(),
) -> RoutingDecision:
    async def loader(agent_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        return await open_cases_by_agent(session, agent_ids)

    facts = facts_for(case, brand_slug=brand_slug)
    if exclude:
        facts = replace(facts, exclude_brand_ids=facts.exclude_brand_ids | exclude)
    return await routing_service.decide(session, facts, open_cases_by_agent=loader)


def routing_record(decision: RoutingDecision) -> dict[str, Any]:
    return {
        "evidence": decision.evidence.value,
        "reason": decision.reason,
        "rule_id": None if decision.rule_id is None else str(decision.rule_id),
        "steps": [{"evidence": str(s.evidence), "reason": s.reason} for s in decision.steps],
        "brand_steps": [
            {"evidence": str(s.evidence), "reason": s.reason} for s in decision.brand_steps
        ],
    }


def routes_to_brand(decision: RoutingDecision) -> bool:
    return decision.brand_id is not None and not decision.hold_for_review


async def apply_routing(
    session: AsyncSession,
    case: Case,
    decision: RoutingDecision,
    actor: events.Actor,
    *,
    now: datetime,
) -> None:
    """Put ``case`` where ``decision`` says and record why (``case.routed`` or triage).

    Raises :class:`InvalidCustomFields` (422) when the brand requires fields the case lacks.
    """
    if routes_to_brand(decision):
        assert decision.brand_id is not None
        await check_custom_fields(session, case, decision.brand_id)
    place(case, decision, now=now)
    await record_routing(session, case, decision, actor)


async def check_custom_fields(
    session: AsyncSession,
    case: Case,
    brand_id: uuid.UUID,
    lookups: FilingLookups | None = None,
) -> None:
    """Validate and normalise the case's custom fields against what ``brand_id`` asks for."""
    lookups = lookups or FilingLookups(session)
    definitions = await lookups.definitions(brand_id, case.type.value)
    if definitions:
        brand = await events.tenant(session, brand_id)
        case.custom_fields = fields.validate(
            definitions,
            case.custom_fields,
            brand_name=brand.name if brand else "",
            enforce_required=True,
        )


def place(case: Case, decision: RoutingDecision, *, now: datetime) -> None:
    """Set the case's routing fields from ``decision`` (no event: see :func:`record_routing`)."""
    for name, value in placement(case, decision, now=now).items():
        setattr(case, name, value)


def placement(case: Case, decision: RoutingDecision, *, now: datetime) -> dict[str, Any]:
    """The fields of ``case`` that ``decision`` sets, and their new values."""
    fields: dict[str, Any] = {"routing": routing_record(decision)}
    if decision.priority:
        fields["priority"] = Priority(decision.priority)
    if decision.host_queue:
        fields["host_queue"] = decision.host_queue
    if decision.category and not case.product_category:
        fields["product_category"] = decision.category
    if routes_to_brand(decision):
        fields.update(
            brand_id=decision.brand_id,
            brand_team_id=decision.brand_team_id,
            assignee_id=decision.assignee_id,
            status=Status.routed,
            routed_at=now,
        )
    else:
        fields.update(brand_id=None, brand_team_id=None, assignee_id=None, status=Status.triage)
    return fields


async def record_routing(
    session: AsyncSession,
    case: Case,
    decision: RoutingDecision,
    actor: events.Actor,
    *,
    batch: events.EventBatch | None = None,
) -> None:
    """Record ``case.routed`` (shared with the brand) or ``case.held_for_review`` (host only)."""
    record = events.record if batch is None else batch.record
    if routes_to_brand(decision):
        await record(
            session,
            case,
            EventType.case_routed,
            actor,
            data={"routing": {"evidence": decision.evidence.value, "reason": decision.reason}},
        )
    else:
        await record(
            session,
            case,
            EventType.case_held_for_review,
            actor,
            visibility=Visibility.internal,
            data={"routing": routing_record(decision)},
        )
