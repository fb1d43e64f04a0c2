"""Filing, reading, listing and editing cases. Module-level functions, session first.

Every change appends its event through :mod:`hub.cases.events` in the caller's unit of work.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events, fields
from hub.cases.access import Party, party_of, visible_cases, visible_events
from hub.cases.errors import CaseNotFound, StaleCase
from hub.cases.models import (
    OPEN_STATUSES,
    BuyerContact,
    Case,
    CaseCounter,
    CaseEvent,
    ExternalRef,
    Priority,
    Status,
    Visibility,
)
from hub.cases.schemas import CaseCreate, CaseUpdate
from hub.core.db import increment_counter, serialize_on
from hub.core.errors import Forbidden, Unprocessable
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.pagination import decode_cursor, encode_cursor
from hub.core.security import Principal
from hub.sla import hooks as sla_hooks
from hub.sla import visibility as sla_visibility
from hub.sla.schemas import SlaFilter
from routing import service as routing_service
from routing.schemas import CaseFacts, RoutingDecision
from tenants import live_sessions as tenants_live_sessions
from tenants.models import Tenant


@dataclass(slots=True)
class Filing:
    case: Case
    duplicate: bool


def status_token() -> str:
    """192 random bits, URL-safe: the buyer's status link."""
    return secrets.token_urlsafe(24)


async def next_number(session: AsyncSession, host: Tenant) -> str:
    """Allocate the host's next case number atomically (an upsert that returns the new value)."""
    number = await increment_counter(session, CaseCounter, {"tenant_id": host.id}, "last_number")
    return f"{host.case_prefix}-{number:06d}"


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


async def apply_routing(
    session: AsyncSession,
    case: Case,
    decision: RoutingDecision,
    actor: events.Actor,
    *,
    now: datetime,
) -> None:
    """Put ``case`` where ``decision`` says and record why (``case.routed`` or triage)."""
    case.routing = routing_record(decision)
    if decision.priority:
        case.priority = Priority(decision.priority)
    if decision.host_queue:
        case.host_queue = decision.host_queue
    if decision.category and not case.product_category:
        case.product_category = decision.category
    if decision.brand_id is not None and not decision.hold_for_review:
        brand = await events.tenant(session, decision.brand_id)
        brand_name = brand.name if brand else ""
        await _check_custom_fields(session, case, decision.brand_id, brand_name)
        case.brand_id = decision.brand_id
        case.brand_team_id = decision.brand_team_id
        case.assignee_id = decision.assignee_id
        case.status = Status.routed
        case.routed_at = now
        await events.record(
            session,
            case,
            EventType.case_routed,
            actor,
            data={"routing": {"evidence": decision.evidence.value, "reason": decision.reason}},
        )
    else:
        case.brand_id = None
        case.brand_team_id = None
        case.assignee_id = None
        case.status = Status.triage
        await events.record(
            session,
            case,
            EventType.case_held_for_review,
            actor,
            visibility=Visibility.internal,
            data={"routing": routing_record(decision)},
        )


async def _check_custom_fields(
    session: AsyncSession, case: Case, brand_id: uuid.UUID, brand_name: str
) -> None:
    definitions = await fields.definitions_for(session, brand_id, case.type.value)
    if definitions:
        case.custom_fields = fields.validate(
            definitions, case.custom_fields, brand_name=brand_name, enforce_required=True
        )


async def find_open_duplicate(
    session: AsyncSession, host_id: uuid.UUID, order_id: str, sku: str | None
) -> Case | None:
    statement = select(Case).where(
        col(Case.tenant_id) == host_id,
        col(Case.order_id) == order_id,
        col(Case.status).in_(OPEN_STATUSES),
    )
    statement = (
        statement.where(col(Case.sku) == sku if sku else col(Case.sku).is_(None))
        .order_by(col(Case.created_at))
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def file_case(
    session: AsyncSession, principal: Principal, data: CaseCreate, *, now: datetime | None = None
) -> Filing:
    """File a complaint for the caller's host tenant and route it.

    A second open case for the same order and SKU is linked to the first (the filing is recorded
    on it and it is returned) unless ``force_new``. Raises 422 errors when an explicit brand is
    not an active partner or a brand's required custom fields are missing.
    """
    if principal.tenant_kind != "host":
        raise Forbidden("only a host files cases")
    now = now or utcnow()
    actor = events.Actor.of(principal)
    if data.live_session_id is not None and (
        await tenants_live_sessions.get_host_live_session(
            session, principal.tenant_id, data.live_session_id
        )
        is None
    ):
        raise Unprocessable(
            f"no live session {data.live_session_id} of this host", pointer="#/live_session_id"
        )
    if data.order.order_id and not data.force_new:
        # Two filings of one order at once must not both miss each other.
        await serialize_on(session, f"case-order:{principal.tenant_id}:{data.order.order_id}")
        existing = await find_open_duplicate(
            session, principal.tenant_id, data.order.order_id, data.product.sku
        )
        if existing is not None:
            await _link_duplicate(session, existing, data, actor, now=now)
            return Filing(existing, duplicate=True)

    host = await events.tenant(session, principal.tenant_id)
    assert host is not None
    case = Case(
        tenant_id=host.id,
        number=await next_number(session, host),
        type=data.type,
        priority=data.priority,
        title=data.title,
        description=data.description,
        order_platform=data.order.platform,
        order_id=data.order.order_id,
        order_amount=data.order.amount,
        sku=data.product.sku,
        product_name=data.product.name,
        live_session_id=data.live_session_id,
        tags=list(data.tags),
        custom_fields=dict(data.custom_fields),
        status_token=status_token(),
        created_by=principal.display_name,
        created_by_id=principal.subject_id,
        filed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()  # the contact row refers to the case; no relationship orders them
    if any((data.buyer.name, data.buyer.phone, data.buyer.address)):
        session.add(
            BuyerContact(
                case_id=case.id,
                name=data.buyer.name,
                phone=data.buyer.phone,
                address=data.buyer.address,
            )
        )
    await events.record(
        session,
        case,
        EventType.case_created,
        actor,
        visibility=Visibility.internal,
        data={"title": case.title},
    )
    decision = await decide_routing(session, case, brand_slug=data.brand)
    await apply_routing(session, case, decision, actor, now=now)
    await sla_hooks.case_changed(session, case, sla_hooks.Change("filed", party="host"), now=now)
    await session.flush()
    return Filing(case, duplicate=False)


async def _link_duplicate(
    session: AsyncSession, existing: Case, data: CaseCreate, actor: events.Actor, *, now: datetime
) -> None:
    existing.updated_at = now
    existing.version += 1
    await events.record(
        session,
        existing,
        EventType.case_duplicate_linked,
        actor,
        data={"title": data.title, "description": data.description},
    )


async def get_case(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    """The case if the caller's tenant may see it; another tenant's answers 404."""
    statement = select(Case).where(col(Case.id) == case_id, visible_cases(principal))
    if for_update:
        statement = statement.with_for_update()
    case = (await session.execute(statement)).scalar_one_or_none()
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def require_party(case: Case, principal: Principal) -> Party:
    party = party_of(case, principal.tenant_id)
    if party is None:
        raise CaseNotFound(f"no case {case.id}")
    return party


def check_version(case: Case, if_match: int | None) -> None:
    if if_match is not None and if_match != case.version:
        raise StaleCase(
            f"the case is at version {case.version}, not {if_match}", current_version=case.version
        )


HOST_EDITABLE = frozenset(CaseUpdate.model_fields)
BRAND_EDITABLE = frozenset({"tags", "custom_fields"})


async def update_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    changes: CaseUpdate,
    *,
    if_match: int,
    now: datetime | None = None,
) -> Case:
    """Apply a PATCH made against version ``if_match`` (412 when the case moved on)."""
    now = now or utcnow()
    case = await get_case(session, principal, case_id, for_update=True)
    party = require_party(case, principal)
    check_version(case, if_match)
    given = changes.model_dump(exclude_unset=True)
    allowed = HOST_EDITABLE if party == Party.host else BRAND_EDITABLE
    refused = sorted(set(given) - allowed)
    if refused:
        raise Forbidden(f"a {party.value} may not change {', '.join(refused)}", fields=refused)
    changed: dict[str, Any] = {}
    for name, value in given.items():
        if name == "order":
            for key, attr in (
                ("platform", "order_platform"),
                ("order_id", "order_id"),
                ("amount", "order_amount"),
            ):
                if key in value:
                    setattr(case, attr, value[key])
        elif name == "product":
            for key, attr in (("sku", "sku"), ("name", "product_name")):
                if key in value:
                    setattr(case, attr, value[key])
        elif name == "custom_fields" and case.brand_id is not None:
            brand = await events.tenant(session, case.brand_id)
            definitions = await fields.definitions_for(session, case.brand_id, case.type.value)
            case.custom_fields = fields.validate(
                definitions,
                value,
                brand_name=brand.name if brand else "",
                enforce_required=False,
            )
        else:
            setattr(case, name, value)
        changed[name] = value if not isinstance(value, dict) else dict(value)
    if changed:
        case.version += 1
        case.updated_at = now
        await events.record(
            session,
            case,
            EventType.case_updated,
            events.Actor.of(principal),
            data={"changed": sorted(changed)},
        )
        change = sla_hooks.Change("updated", party=party.value)
        await sla_hooks.case_changed(session, case, change, now=now)
    await session.flush()
    return case


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: list[str] | None = None
    brand: str | None = None
    host: str | None = None
    type: list[str] | None = None
    priority: list[str] | None = None
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    """The brand's queue (team)."""
    unassigned: bool = False
    """Only cases in no queue and with no agent (a brand's inbox)."""
    created_by_id: uuid.UUID | None = None
    """Filed by this person or client (a host's "my cases")."""
    live_session_id: uuid.UUID | None = None
    sku: str | None = None
    order_id: str | None = None
    """The platform's order id, exactly (indexed, unlike ``q``)."""
    q: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    external_ref: str | None = None
    sla: SlaFilter | None = None


async def list_cases(
    session: AsyncSession,
    principal: Principal,
    filters: CaseFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Case], str | None]:
    """The caller's cases, newest first, filtered; keyset pagination on (created_at, id)."""
    statement = select(Case).where(visible_cases(principal))
    if filters.status:
        statement = statement.where(col(Case.status).in_(filters.status))
    if filters.type:
        statement = statement.where(col(Case.type).in_(filters.type))
    if filters.priority:
        statement = statement.where(col(Case.priority).in_(filters.priority))
    for slug, column in ((filters.brand, Case.brand_id), (filters.host, Case.tenant_id)):
        if slug:
            tenant_id = select(col(Tenant.id)).where(col(Tenant.slug) == slug).scalar_subquery()
            statement = statement.where(col(column) == tenant_id)
    if filters.assignee_id:
        statement = statement.where(col(Case.assignee_id) == filters.assignee_id)
    if filters.team_id:
        statement = statement.where(col(Case.brand_team_id) == filters.team_id)
    if filters.unassigned:
        statement = statement.where(
            col(Case.brand_team_id).is_(None), col(Case.assignee_id).is_(None)
        )
    if filters.created_by_id:
        statement = statement.where(col(Case.created_by_id) == filters.created_by_id)
    if filters.live_session_id:
        statement = statement.where(col(Case.live_session_id) == filters.live_session_id)
    if filters.sku:
        statement = statement.where(col(Case.sku) == filters.sku)
    if filters.order_id:
        statement = statement.where(col(Case.order_id) == filters.order_id)
    if filters.created_from:
        statement = statement.where(col(Case.created_at) >= filters.created_from)
    if filters.created_to:
        statement = statement.where(col(Case.created_at) < filters.created_to)
    if filters.q:
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        statement = statement.where(
            or_(
                col(Case.title).like(pattern, escape="\\"),
                col(Case.number).like(pattern, escape="\\"),
                col(Case.order_id).like(pattern, escape="\\"),
                col(Case.product_name).like(pattern, escape="\\"),
            )
        )
    if filters.external_ref:
        refs = select(col(ExternalRef.case_id)).where(
            col(ExternalRef.tenant_id) == principal.tenant_id,
            col(ExternalRef.ref) == filters.external_ref,
        )
        statement = statement.where(col(Case.id).in_(refs))
    if filters.sla:
        matching = sla_visibility.cases_matching(
            filters.sla, principal.tenant_id, brand_view=principal.tenant_kind == "brand"
        )
        statement = statement.where(col(Case.id).in_(matching))
    if cursor:
        when, row_id = decode_cursor(cursor)
        after_at, after_id = datetime.fromisoformat(when), uuid.UUID(row_id)
        statement = statement.where(
            or_(
                col(Case.created_at) < after_at,
                (col(Case.created_at) == after_at) & (col(Case.id) < after_id),
            )
        )
    statement = statement.order_by(col(Case.created_at).desc(), col(Case.id).desc())
    rows = list((await session.execute(statement.limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)


async def set_external_ref(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    system: str,
    ref: str,
    url: str | None,
) -> ExternalRef:
    case = await get_case(session, principal, case_id, for_update=True)
    require_party(case, principal)
    existing = (
        await session.execute(
            select(ExternalRef).where(
                col(ExternalRef.case_id) == case.id,
                col(ExternalRef.tenant_id) == principal.tenant_id,
                col(ExternalRef.system) == system,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        existing = ExternalRef(
            case_id=case.id, tenant_id=principal.tenant_id, system=system, ref=ref
        )
        session.add(existing)
    existing.ref, existing.url = ref, url
    await events.record(
        session,
        case,
        EventType.case_external_ref_set,
        events.Actor.of(principal),
        visibility=Visibility.internal,
        data={"system": system, "ref": ref},
    )
    await session.flush()
    return existing


async def case_events(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    limit: int,
    after: int | None,
) -> list[CaseEvent]:
    await get_case(session, principal, case_id)
    statement = select(CaseEvent).where(
        col(CaseEvent.case_id) == case_id, visible_events(principal.tenant_id)
    )
    if after is not None:
        statement = statement.where(col(CaseEvent.id) > after)
    result = await session.execute(statement.order_by(col(CaseEvent.id)).limit(limit))
    return list(result.scalars())


async def event_feed(
    session: AsyncSession, principal: Principal, *, after: int | None, limit: int
) -> list[CaseEvent]:
    """The tenant-wide feed of events the caller may read, oldest first after ``after``."""
    statement = select(CaseEvent).where(visible_events(principal.tenant_id))
    if after is not None:
        statement = statement.where(col(CaseEvent.id) > after)
    result = await session.execute(statement.order_by(col(CaseEvent.id)).limit(limit))
    return list(result.scalars())
