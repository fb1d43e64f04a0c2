"""What each party sees of a case's clocks, and the ``?sla=`` filter of the case list.

The host sees its own buyer-facing clock and the current brand's clocks; a brand sees only its
own. Imports nothing of :mod:`hub.cases`, which calls in here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.models import utcnow
from hub.sla import clocks
from hub.sla.models import ClockState, Side, SlaClock, SlaPolicy
from hub.sla.schemas import ClockRead, SlaFilter


def _visible(
    host_id: uuid.UUID, brand_id: uuid.UUID | None, reader_id: uuid.UUID
) -> ColumnElement[bool]:
    if reader_id == host_id:
        own = col(SlaClock.side) == Side.host
        return or_(own, and_(col(SlaClock.side) == Side.brand, col(SlaClock.brand_id) == brand_id))
    return and_(col(SlaClock.side) == Side.brand, col(SlaClock.brand_id) == reader_id)


async def case_clocks(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    host_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    reader_id: uuid.UUID,
    now: datetime | None = None,
) -> list[ClockRead]:
    """The clocks of a case that ``reader_id``'s tenant may see, newest cycle last."""
    now = now or utcnow()
    rows = (
        await session.execute(
            select(SlaClock)
            .where(col(SlaClock.case_id) == case_id, _visible(host_id, brand_id, reader_id))
            .order_by(col(SlaClock.id))
        )
    ).scalars()
    out = []
    for clock in rows:
        policy = await session.get(SlaPolicy, clock.policy_id)
        remaining = None
        if policy is not None:
            remaining = clocks.remaining_seconds(
                clock, await clocks.calendar_of(session, policy), now
            )
        out.append(
            ClockRead(
                metric=clock.metric,
                side=clock.side,
                state=clock.state,
                target_minutes=clock.target_seconds // 60,
                started_at=clock.started_at,
                due_at=clock.due_at,
                remaining_seconds=remaining,
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
