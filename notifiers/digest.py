"""Daily digests: when each channel's is due, and queueing it as a notice.

One scheduler job (every minute, see ``hub/scheduler.py``) finds the channels whose digest is due
— never one job per channel — computes their tenant's figures through the ``figures`` callable
the application supplies (the case tables are not this package's), and queues one digest notice
per channel. Advancing ``next_digest_at`` is a conditional update, so a digest goes out once
however many workers run the job.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notifiers.handlers import wake_dispatchers
from notifiers.messages import DigestFigures, zone
from notifiers.models import NoticeKind, NoticeStatus, NotificationChannel, NotificationNotice

DigestSource = Callable[[AsyncSession, uuid.UUID, datetime, datetime], Awaitable[DigestFigures]]
"""``figures(session, tenant_id, since, until)``: a tenant's figures for the period."""
BATCH = 100


def next_digest_time(hour: int | None, time_zone: str, *, after: datetime) -> datetime | None:
    """The next ``hour``:00 in ``time_zone`` strictly after ``after``, in UTC (None: no digest)."""
    if hour is None:
        return None
    tz = zone(time_zone)
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return candidate.astimezone(after.tzinfo)


async def queue_due_digests(
    session: AsyncSession, *, now: datetime, figures: DigestSource, batch: int = BATCH
) -> int:
    """Queue the digest of every enabled channel whose digest is due. Returns how many."""
    channel = NotificationChannel
    statement = (
        select(channel)
        .where(
            col(channel.enabled).is_(True),
            col(channel.next_digest_at).is_not(None),
            col(channel.next_digest_at) <= now,
        )
        .order_by(col(channel.next_digest_at))
        .limit(batch)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    queued = 0
    for row in list((await session.execute(statement)).scalars()):
        due_at = row.next_digest_at
        assert due_at is not None
        advanced = await session.execute(
            update(channel)
            .where(col(channel.id) == row.id, col(channel.next_digest_at) == due_at)
            .values(
                next_digest_at=next_digest_time(row.digest_hour, row.time_zone, after=now),
                last_digest_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if advanced.rowcount != 1:  # type: ignore[attr-defined]
            continue
        since = row.last_digest_at or due_at - timedelta(days=1)
        numbers = await figures(session, row.tenant_id, since, now)
        tz = zone(row.time_zone)
        session.add(
            NotificationNotice(
                tenant_id=row.tenant_id,
                channel_id=row.id,
                kind=NoticeKind.digest,
                event_type="notification.digest",
                occurred_at=now,
                locale=row.locale,
                payload={
                    "figures": numbers.as_payload(),
                    "period": due_at.astimezone(tz).date().isoformat(),
                    "since": since.isoformat(),
                    "until": now.isoformat(),
                },
                status=NoticeStatus.pending,
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued += 1
    if queued:
        await session.flush()
        wake_dispatchers(session)
    return queued
