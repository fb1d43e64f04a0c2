"""Moving running clocks onto a changed calendar or policy without losing or double-counting
business time: fold in what each used so far on the calendar in force until now (checkpoint),
then put it on the new target, calendar and thresholds (rebase)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.models import Case
from hub.sla import clocks
from hub.sla.models import SlaClock, SlaPolicy

LIVE = clocks.LIVE_STATES


async def live_clocks(session: AsyncSession, condition: object) -> list[tuple[SlaClock, str]]:
    rows = await session.execute(
        select(SlaClock, col(Case.priority))
        .join(Case, col(Case.id) == col(SlaClock.case_id))
        .where(
            condition,  # type: ignore[arg-type]
            col(SlaClock.state).in_(LIVE),
            col(SlaClock.completed_at).is_(None),
        )
        .with_for_update(of=SlaClock)
    )
    return [(clock, str(priority)) for clock, priority in rows.all()]


async def checkpoint(
    session: AsyncSession, affected: list[tuple[SlaClock, str]], now: datetime
) -> None:
    for clock, _ in affected:
        policy = await session.get(SlaPolicy, clock.policy_id)
        if policy is not None:
            clocks.checkpoint(clock, await clocks.calendar_of(session, policy), now)
    await session.flush()


async def rebase(
    session: AsyncSession, affected: list[tuple[SlaClock, str]], moves: dict[int, uuid.UUID]
) -> None:
    for clock, priority in affected:
        assert clock.id is not None
        policy = await session.get(SlaPolicy, moves.get(clock.id, clock.policy_id))
        if policy is None:
            continue
        cal = await clocks.calendar_of(session, policy)
        clocks.rebase(clock, policy, cal, policy.target_minutes(clock.metric, priority))
    await session.flush()


async def move(
    session: AsyncSession, condition: object, policy_id: uuid.UUID, now: datetime
) -> None:
    affected = [
        (clock, priority)
        for clock, priority in await live_clocks(session, condition)
        if clock.policy_id != policy_id
    ]
    await checkpoint(session, affected, now)
    await rebase(session, affected, {clock.id: policy_id for clock, _ in affected if clock.id})
