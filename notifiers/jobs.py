"""Scheduled entry points of the notifiers package; the scheduler gives each its unit of work."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.models import utcnow
from notifiers.models import NoticeStatus, NotificationDelivery, NotificationNotice

LOG_RETENTION = timedelta(days=30)
"""Sent and failed notices and the delivery log are kept this long."""
HOLD_LIMIT = timedelta(days=7)
"""A notice held this long for a suspended channel is given up."""
PURGE_BATCH = 5000


async def purge_old_notices(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    retention: timedelta = LOG_RETENTION,
    hold_limit: timedelta = HOLD_LIMIT,
    batch: int = PURGE_BATCH,
) -> int:
    """Delete finished notices and deliveries past retention and give up notices held too long,
    a bounded batch of each per run. Returns rows touched."""
    now = now or utcnow()
    notice, delivery = NotificationNotice, NotificationDelivery
    expired = await session.execute(
        update(notice)
        .where(
            col(notice.id).in_(
                select(col(notice.id))
                .where(col(notice.status) == NoticeStatus.held)
                .where(col(notice.created_at) < now - hold_limit)
                .limit(batch)
                .scalar_subquery()
            )
        )
        .values(status=NoticeStatus.failed, error="held too long for a suspended channel")
        .execution_options(synchronize_session=False)
    )
    old_notices = await session.execute(
        delete(notice)
        .where(
            col(notice.id).in_(
                select(col(notice.id))
                .where(col(notice.status).in_([NoticeStatus.sent, NoticeStatus.failed]))
                .where(col(notice.created_at) < now - retention)
                .limit(batch)
                .scalar_subquery()
            )
        )
        .execution_options(synchronize_session=False)
    )
    old_deliveries = await session.execute(
        delete(delivery)
        .where(
            col(delivery.id).in_(
                select(col(delivery.id))
                .where(col(delivery.attempted_at) < now - retention)
                .limit(batch)
                .scalar_subquery()
            )
        )
        .execution_options(synchronize_session=False)
    )
    results: list[Any] = [expired, old_notices, old_deliveries]
    return sum(int(r.rowcount or 0) for r in results)
