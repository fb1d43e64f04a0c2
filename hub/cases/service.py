"""Reading, listing and editing cases. Module-level functions, session first.

Filing lives in :mod:`hub.cases.filing` (re-exported here). Every change appends its event
through :mod:`hub.cases.events` in the caller's unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events, fields
from hub.cases.access import Party, party_of, visible_cases, visible_events
from hub.cases.errors import CaseNotFound, StaleCase
from hub.cases.filing import Filing as Filing
from hub.cases.filing import file_case as file_case
from hub.cases.filing import file_cases as file_cases
from hub.cases.models import (
    Case,
    CaseEvent,
    ExternalRef,
    Visibility,
)
from hub.cases.placing import apply_routing as apply_routing
from hub.cases.placing import decide_routing as decide_routing
from hub.cases.schemas import CaseUpdate
from hub.core.errors import Forbidden
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.pagination import decode_cursor, encode_cursor
from hub.core.security import Principal
from hub.sla import hooks as sla_hooks
from hub.sla import visibility as sla_visibility
from hub.sla.schemas import SlaFilter
from tenants.models import Tenant


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


def case_conditions(principal: Principal, filters: CaseFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the caller's cases that match ``filters`` (listing and export)."""
    conditions: list[ColumnElement[bool]] = [visible_cases(principal)]
    if filters.status:
        conditions.append(col(Case.status).in_(filters.status))
    if filters.type:
        conditions.append(col(Case.type).in_(filters.type))
    if filters.priority:
        conditions.append(col(Case.priority).in_(filters.priority))
    for slug, column in ((filters.brand, Case.brand_id), (filters.host, Case.tenant_id)):
        if slug:
            tenant_id = select(col(Tenant.id)).where(col(Tenant.slug) == slug).scalar_subquery()
            conditions.append(col(column) == tenant_id)
    if filters.assignee_id:
        conditions.append(col(Case.assignee_id) == filters.assignee_id)
    if filters.team_id:
        conditions.append(col(Case.brand_team_id) == filters.team_id)
    if filters.unassigned:
        conditions.append(col(Case.brand_team_id).is_(None))
        conditions.append(col(Case.assignee_id).is_(None))
    if filters.created_by_id:
        conditions.append(col(Case.created_by_id) == filters.created_by_id)
    if filters.live_session_id:
        conditions.append(col(Case.live_session_id) == filters.live_session_id)
    if filters.sku:
        conditions.append(col(Case.sku) == filters.sku)
    if filters.order_id:
        conditions.append(col(Case.order_id) == filters.order_id)
    if filters.created_from:
        conditions.append(col(Case.created_at) >= filters.created_from)
    if filters.created_to:
        conditions.append(col(Case.created_at) < filters.created_to)
    if filters.q:
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        conditions.append(
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
        conditions.append(col(Case.id).in_(refs))
    if filters.sla:
        matching = sla_visibility.cases_matching(
            filters.sla, principal.tenant_id, brand_view=principal.tenant_kind == "brand"
        )
        conditions.append(col(Case.id).in_(matching))
    return conditions


def older_than(created_at: datetime, case_id: uuid.UUID) -> ColumnElement[bool]:
    """Keyset condition: cases after (created_at, id) in newest-first order.

    The bare ``created_at <=`` bounds the index range; the OR alone would make the database
    scan from the newest case again for every page.
    """
    return and_(
        col(Case.created_at) <= created_at,
        or_(
            col(Case.created_at) < created_at,
            (col(Case.created_at) == created_at) & (col(Case.id) < case_id),
        ),
    )


NEWEST_FIRST = (col(Case.created_at).desc(), col(Case.id).desc())


async def list_cases(
    session: AsyncSession,
    principal: Principal,
    filters: CaseFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Case], str | None]:
    """The caller's cases, newest first, filtered; keyset pagination on (created_at, id)."""
    statement = select(Case).where(*case_conditions(principal, filters))
    if cursor:
        when, row_id = decode_cursor(cursor)
        statement = statement.where(older_than(datetime.fromisoformat(when), uuid.UUID(row_id)))
    statement = statement.order_by(*NEWEST_FIRST)
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
