"""Scheduled entry points of the webhooks package; the scheduler gives each its unit of work."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.models import utcnow
from webhooks.models import MessageStatus, WebhookMessage

PAYLOAD_RETENTION = timedelta(days=30)
"""Delivered or failed messages keep their body this long (for retries and replays)."""
LOG_RETENTION = timedelta(days=90)
"""The delivery log (messages and attempts) is kept this long."""
PURGE_BATCH = 5000
TERMINAL = (MessageStatus.succeeded, MessageStatus.failed)


async def purge_old_deliveries(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    payload_retention: timedelta = PAYLOAD_RETENTION,
    log_retention: timedelta = LOG_RETENTION,
    batch: int = PURGE_BATCH,
) -> int:
    """Empty the payloads of finished messages older than ``payload_retention`` and delete the
    log of those older than ``log_retention``, a bounded batch per run. Returns rows touched."""
    now = now or utcnow()
    old_log = (
        select(col(WebhookMessage.id))
        .where(col(WebhookMessage.status).in_(TERMINAL))
        .where(col(WebhookMessage.created_at) < now - log_retention)
        .limit(batch)
    )
    deleted = await session.execute(
        delete(WebhookMessage)
        .where(col(WebhookMessage.id).in_(old_log.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    old_payloads = (
        select(col(WebhookMessage.id))
        .where(col(WebhookMessage.status).in_(TERMINAL))
        .where(col(WebhookMessage.created_at) < now - payload_retention)
        .where(col(WebhookMessage.payload).is_not(None))
        .limit(batch)
    )
    emptied = await session.execute(
        update(WebhookMessage)
        .where(col(WebhookMessage.id).in_(old_payloads.scalar_subquery()))
        .values(payload=None)
        .execution_options(synchronize_session=False)
    )
    return int(deleted.rowcount or 0) + int(emptied.rowcount or 0)  # type: ignore[attr-defined]
