"""What each party sees of a case's clocks, and the ``?sla=`` filter of the case list.

The host sees its own buyer-facing clock and the current brand's clocks; a brand sees only its
own. Imports nothing of :mod:`hub.cases`, which calls in here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.models import utcnow
from hub.sla import clocks
from hub.sla.calendars import BusinessCalendar
from hub.sla.models import ClockState, Side, SlaClock, SlaPolicy
from hub.sla.schemas import ClockRead, SlaFilter


def _visible(
    clock: SlaClock, host_id: uuid.UUID, brand_id: uuid.UUID | None, reader: uuid.UUID
) -> bool:
    if reader == host_id:
        return clock.side == Side.host or clock.brand_id == brand_id
    return clock.side == Side.brand and clock.brand_id == reader


async def clocks_of_cases(
    session: AsyncSession,
    cases: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]],
    *,
    reader_id: uuid.UUID,
    now: datetime | None = None,
) -> dict[uuid.UUID, list[ClockRead]]:
    """The clocks of each ``(case id, host id, brand id)`` that ``reader_id``'s tenant may see,
    oldest first; one query for the lot."""
    if not cases:
        return {}
    now = now or utcnow()
    owners = {case_id: (host_id, brand_id) for case_id, host_id, brand_id in cases}
    rows = (
        await session.execute(
            select(SlaClock)
            .where(col(SlaClock.case_id).in_(list(owners)))
            .order_by(col(SlaClock.id))
        )
    ).scalars()
    calendars: dict[uuid.UUID, BusinessCalendar | None] = {}
    out: dict[uuid.UUID, list[ClockRead]] = {}
    for clock in rows:
        host_id, brand_id = owners[clock.case_id]
        if not _visible(clock, host_id, brand_id, reader_id):
            continue
        if clock.policy_id not in calendars:
            policy = await session.get(SlaPolicy, clock.policy_id)
            calendars[clock.policy_id] = (
                None if policy is None else await clocks.calendar_of(session, policy)
            )
        cal = calendars[clock.policy_id]
        out.setdefault(clock.case_id, []).append(
            ClockRead(
                metric=clock.metric,
                side=clock.side,
                state=clock.state,
                target_minutes=clock.target_seconds // 60,
                started_at=clock.started_at,
                due_at=clock.due_at,
                remaining_seconds=None
                if cal is None
                else clocks.remaining_seconds(clock, cal, now),
                paused=clock.paused_at is not None,
                pause_reason=clock.pause_reason,
                warned_pct=clock.warned_pct,
                breached_at=clock.breached_at,
                completed_at=clock.completed_at,
                elapsed_seconds=clock.elapsed_seconds,
            )
        )
    return out


def cases_matching(kind: SlaFilter, tenant_id: uuid.UUID, *, brand_view: bool) -> Select[Any]:
    """Ids of cases with a clock the tenant may see that is at risk (past a warning threshold,
    not breached) or breached and not yet met."""
    if kind == SlaFilter.breached:
        state = and_(
            col(SlaClock.state) == ClockState.breached, col(SlaClock.completed_at).is_(None)
        )
    else:
        state = and_(
            col(SlaClock.state).in_((ClockState.running, ClockState.paused)),
            col(SlaClock.warned_pct) > 0,
        )
    if brand_view:
        who = and_(col(SlaClock.side) == Side.brand, col(SlaClock.brand_id) == tenant_id)
    else:
        who = col(SlaClock.host_id) == tenant_id
    return select(col(SlaClock.case_id)).where(state, who)
