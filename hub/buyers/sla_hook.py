"""Where the buyer page asks the SLA engine when the next reply is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.models import Case
from hub.sla.models import ClockState, Metric, SlaClock

REPLY_METRICS = (Metric.first_response, Metric.next_response)


async def expected_reply_by(session: AsyncSession, case: Case) -> datetime | None:
    """When the buyer can expect the next reply: the earliest due time of a running response
    target, or ``None`` when no policy measures one now (none applies, it is met, or it is paused
    because the case waits on the buyer)."""
    due = await session.execute(
        select(func.min(col(SlaClock.due_at))).where(
            col(SlaClock.case_id) == case.id,
            col(SlaClock.state) == ClockState.running,
            col(SlaClock.metric).in_(REPLY_METRICS),
        )
    )
    value: datetime | None = due.scalar_one_or_none()
    return value
