"""Filing cases: one from the API or the console, or thousands from a spreadsheet — one path.

:func:`file_cases` files a batch in order, exactly as if each case were filed after the one
before it (the same duplicate linking, routing, custom-field checks, numbers and events), but
reads what the batch shares once and writes each kind of row in one statement per batch.
:func:`file_case` is a batch of one.

For each case it: links it to an open case of the same order and SKU (``case.duplicate_linked``
on that case) unless ``force_new``; decides its routing; checks the brand's required custom
fields; takes the host's next number; inserts the case already placed where routing put it, with
the buyer's contact apart; and records ``case.created`` then ``case.routed`` (or
``case.held_for_review``). The events of a batch reach the bus consumers together.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col

from hub.cases import events
from hub.cases.errors import InvalidCustomFields
from hub.cases.models import (
    OPEN_STATUSES,
    BuyerContact,
    Case,
    CaseCounter,
    Visibility,
)
from hub.cases.placing import (
    FilingLookups,
    check_custom_fields,
    facts_for,
    open_cases_by_agent,
    placement,
    record_routing,
    routes_to_brand,
)
from hub.cases.schemas import CaseCreate
from hub.core.db import increment_counter, serialize_on_many
from hub.core.errors import CaseHubError, Forbidden, Unprocessable
from hub.core.events import EventType, bus
from hub.core.models import new_row, utcnow
from hub.core.security import Principal
from hub.sla import hooks as sla_hooks
from routing import service as routing_service
from routing.lookups import chunked
from routing.schemas import CaseFacts
from tenants import live_sessions as tenants_live_sessions
from tenants.models import Tenant

OrderKey = tuple[str, str | None]
"""An order id and a SKU: a second open case for the same pair is a duplicate."""


@dataclass(slots=True)
class Filing:
    case: Case
    duplicate: bool


def status_token() -> str:
    """192 random bits, URL-safe: the buyer's status link."""
    return secrets.token_urlsafe(24)


async def next_numbers(session: AsyncSession, host: Tenant, count: int) -> list[str]:
    """Allocate the host's next ``count`` case numbers atomically (one upsert)."""
    if count == 0:
        return []
    last = await increment_counter(
        session, CaseCounter, {"tenant_id": host.id}, "last_number", by=count
    )
    return [f"{host.case_prefix}-{n:06d}" for n in range(last - count + 1, last + 1)]


async def next_number(session: AsyncSession, host: Tenant) -> str:
    [number] = await next_numbers(session, host, 1)
    return number


async def find_open_duplicate(
    session: AsyncSession, host_id: uuid.UUID, order_id: str, sku: str | None
) -> Case | None:
    return (await open_duplicates(session, host_id, [(order_id, sku)])).get((order_id, sku))


async def open_duplicates(
    session: AsyncSession, host_id: uuid.UUID, keys: Sequence[OrderKey]
) -> dict[OrderKey, Case]:
    """The oldest open case of the host for each (order id, SKU) in ``keys`` that has one."""
    found: dict[OrderKey, Case] = {}
    wanted = set(keys)
    order_ids = sorted({order_id for order_id, _ in wanted})
    for chunk in chunked(order_ids):
        # Status is checked here, not in SQL: given only the host and the order ids, the
        # planner has one index to use (host, order id) even before it has statistics.
        rows = await session.execute(
            select(Case)
            .where(col(Case.tenant_id) == host_id, col(Case.order_id).in_(chunk))
            .order_by(col(Case.created_at), col(Case.id))
        )
        for case in rows.scalars():
            key = (case.order_id or "", case.sku)
            if case.status in OPEN_STATUSES and key in wanted and key not in found:
                found[key] = case
    return found


async def file_case(
    session: AsyncSession,
    principal: Principal,
    data: CaseCreate,
    *,
    now: datetime | None = None,
    actor: events.Actor | None = None,
) -> Filing:
    """File a complaint for the caller's host tenant and route it.

    A second open case for the same order and SKU is linked to the first (the filing is recorded
    on it and it is returned) unless ``force_new``. Raises 422 errors when an explicit brand is
    not an active partner or a brand's required custom fields are missing. ``actor`` names who
    the events are recorded for when that is not the principal (a buyer's self-service form,
    filed on the host's behalf).
    """
    [result] = await file_cases(session, principal, [data], now=now, actor=actor)
    if isinstance(result, CaseHubError):
        raise result
    return result


async def file_cases(
    session: AsyncSession,
    principal: Principal,
    items: Sequence[CaseCreate],
    *,
    now: datetime | None = None,
    lookups: FilingLookups | None = None,
    actor: events.Actor | None = None,
) -> list[Filing | CaseHubError]:
    """File ``items`` in order for the caller's host; each gets its :class:`Filing` or the 422
    error that filing it alone would raise (then nothing of it is written).

    Raises :class:`Forbidden` unless the caller is a host. Never commits.
    """
    if principal.tenant_kind != "host":
        raise Forbidden("only a host files cases")
    now = now or utcnow()
    lookups = lookups or FilingLookups(session)
    actor = actor or events.Actor.of(principal)
    host = await events.tenant(session, principal.tenant_id)
    assert host is not None
    cases = [_new_case(host, principal, data, now) for data in items]
    facts = [facts_for(c, brand_slug=d.brand) for c, d in zip(cases, items, strict=True)]
    # Whether a case is refused depends on it alone, so a preview (no agent picked, no turn
    # taken) settles it first; then duplicates link to the first case of their order and SKU
    # that was not refused, exactly as if the cases came one after another.
    refusals = await _refusals(session, host, items, cases, facts, lookups)
    results: list[Filing | CaseHubError | None] = [None] * len(items)
    keys = [_order_key(data) for data in items]
    # Two filings of one order at once must not both miss each other.
    await serialize_on_many(
        session, sorted({f"case-order:{host.id}:{k[0]}" for k in keys if k is not None})
    )
    opened: dict[OrderKey, Case] = await open_duplicates(
        session, host.id, [k for k in keys if k is not None]
    )
    new: list[int] = []
    links: list[tuple[int, Case]] = []
    for i, key in enumerate(keys):
        if i in refusals:
            results[i] = refusals[i]
        elif key is not None and key in opened:
            links.append((i, opened[key]))
            results[i] = Filing(opened[key], duplicate=True)
        else:
            new.append(i)
            results[i] = Filing(cases[i], duplicate=False)
            if key is not None:
                opened[key] = cases[i]
    batch = events.EventBatch()
    async with bus.holding(session):
        await _file_new(
            session,
            host,
            [(cases[i], items[i], facts[i]) for i in new],
            actor,
            now,
            lookups,
            batch,
        )
        for i, existing in links:
            await _link_duplicate(session, existing, items[i], actor, now=now, batch=batch)
        await session.flush()
        await batch.write(session)
        for i in new:  # the SLA clocks start once the case's events are recorded
            change = sla_hooks.Change("filed", party="host")
            await sla_hooks.case_changed(session, cases[i], change, now=now)
    return [r for r in results if r is not None]


async def _refusals(
    session: AsyncSession,
    host: Tenant,
    items: Sequence[CaseCreate],
    cases: list[Case],
    facts: list[CaseFacts],
    lookups: FilingLookups,
) -> dict[int, CaseHubError]:
    """The cases that filing would refuse: a live session that is not the host's, an explicit
    brand that cannot take the case, or a brand's custom fields the case does not satisfy."""
    refused: dict[int, CaseHubError] = {}
    wanted = {data.live_session_id for data in items if data.live_session_id is not None}
    unknown = set()
    for live_session_id in wanted:
        if (
            await tenants_live_sessions.get_host_live_session(session, host.id, live_session_id)
            is None
        ):
            unknown.add(live_session_id)
    for i, data in enumerate(items):
        if data.live_session_id in unknown:
            refused[i] = Unprocessable(
                f"no live session {data.live_session_id} of this host", pointer="#/live_session_id"
            )
    await lookups.load_definitions(list(await lookups.routing.partners(host.id)))
    checked = [
        i
        for i, data in enumerate(items)
        if i not in refused and (data.brand or lookups.any_definitions())
    ]
    if not checked:
        return refused
    previews = await routing_service.decide_many(
        session, [facts[i] for i in checked], open_cases_by_agent=None, lookups=lookups.routing
    )
    for i, preview in zip(checked, previews, strict=True):
        if isinstance(preview, CaseHubError):
            refused[i] = preview
        elif routes_to_brand(preview):
            assert preview.brand_id is not None
            try:
                await check_custom_fields(session, cases[i], preview.brand_id, lookups)
            except InvalidCustomFields as error:
                refused[i] = error
    return refused


def _order_key(data: CaseCreate) -> OrderKey | None:
    if not data.order.order_id or data.force_new:
        return None
    return (data.order.order_id, data.product.sku)


def _new_case(host: Tenant, principal: Principal, data: CaseCreate, now: datetime) -> Case:
    return new_row(
        Case,
        id=uuid.uuid4(),
        tenant_id=host.id,
        number="",
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
        routing={},
        rejected_brand_ids=[],
        status_token=status_token(),
        created_by=principal.display_name,
        created_by_id=principal.subject_id,
        filed_at=now,
        created_at=now,
        updated_at=now,
    )


async def _file_new(
    session: AsyncSession,
    host: Tenant,
    accepted: list[tuple[Case, CaseCreate, CaseFacts]],
    actor: events.Actor,
    now: datetime,
    lookups: FilingLookups,
    batch: events.EventBatch,
) -> None:
    """Route, number, insert and record the cases that are neither refused nor duplicates."""
    if not accepted:
        return

    async def loader(agent_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        return await open_cases_by_agent(session, agent_ids)

    decisions = await routing_service.decide_many(
        session,
        [facts for _, _, facts in accepted],
        open_cases_by_agent=loader,
        lookups=lookups.routing,
    )
    numbers = await next_numbers(session, host, len(accepted))
    for (case, _, _), decision, number in zip(accepted, decisions, numbers, strict=True):
        assert not isinstance(decision, CaseHubError)  # the preview refused those already
        # Not inserted yet: the values go straight in, without change tracking (the insert
        # takes them as they are); from the insert on, changes are tracked as usual.
        case.__dict__.update(placement(case, decision, now=now), number=number)
    await _insert_cases(session, [case for case, _, _ in accepted])
    contacts = [
        {"case_id": case.id, **buyer}
        for case, data, _ in accepted
        if any((buyer := data.buyer.model_dump()).values())
    ]
    if contacts:
        await session.execute(insert(BuyerContact.__table__), contacts)  # type: ignore[attr-defined]
    for (case, _, _), decision in zip(accepted, decisions, strict=True):
        assert not isinstance(decision, CaseHubError)
        await batch.record(
            session,
            case,
            EventType.case_created,
            actor,
            visibility=Visibility.internal,
            data={"title": case.title},
        )
        await record_routing(session, case, decision, actor, batch=batch)


async def _insert_cases(session: AsyncSession, cases: list[Case]) -> None:
    """Insert new cases with one multi-row statement, then let the session hold them as it
    holds rows it loaded (changes from here on are tracked and flushed as usual)."""
    table = Case.__table__  # type: ignore[attr-defined]
    columns = [column.key for column in table.columns]
    await session.execute(
        insert(table), [{key: case.__dict__[key] for key in columns} for case in cases]
    )
    for case in cases:
        make_transient_to_detached(case)
    session.add_all(cases)


async def _link_duplicate(
    session: AsyncSession,
    existing: Case,
    data: CaseCreate,
    actor: events.Actor,
    *,
    now: datetime,
    batch: events.EventBatch,
) -> None:
    existing.updated_at = now
    existing.version += 1
    await batch.record(
        session,
        existing,
        EventType.case_duplicate_linked,
        actor,
        data={"title": data.title, "description": data.description},
    )
