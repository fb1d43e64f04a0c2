"""The notice outbox: leasing a channel with its due notices, and recording what a send did.

The unit of work is a channel, not a notice: a dispatcher leases a channel that has due notices
and may send now (``send_after``), takes every due notice of it, and sends them as one message —
alone when there is one, coalesced when several piled up while the channel was paced. One
message per channel is in flight at a time, so a robot's limit holds with any number of workers.
On PostgreSQL the channels are selected ``FOR UPDATE SKIP LOCKED``; on SQLite the unit of work
holds the write lock. A worker that dies loses nothing: its lease runs out and the notices are due
again. Results are recorded only under the lease that sent them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notifiers.channels import adapter_for
from notifiers.channels.base import SendResult
from notifiers.messages import NoticeData
from notifiers.models import (
    ChannelKind,
    DeliveryOutcome,
    NoticeKind,
    NoticeStatus,
    NotificationChannel,
    NotificationDelivery,
    NotificationNotice,
)
from notifiers.ratelimit import next_send_at
from notifiers.suspension import suspend

RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
"""Delays after each failed send of a notice (8 tries over about a day), stretched by jitter."""
JITTER = 0.2
SUSPEND_AFTER = timedelta(days=3)
"""A channel whose every send failed this long is suspended (its owner is told)."""
MAX_NOTICES_PER_MESSAGE = 500
MAX_RETRY_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A channel a worker holds the lease of, with the notices it is to send now."""

    channel_id: uuid.UUID
    tenant_id: uuid.UUID
    lease_token: uuid.UUID
    kind: ChannelKind
    time_zone: str
    config: dict[str, Any]
    sealed_secrets: str
    notices: list[NoticeData]


@dataclass(frozen=True, slots=True)
class Outcome:
    claimed: Claimed
    attempted_at: datetime
    result: SendResult
    latency_ms: int | None = None


def _due(now: datetime) -> Any:
    return exists(
        select(col(NotificationNotice.id)).where(
            col(NotificationNotice.channel_id) == col(NotificationChannel.id),
            col(NotificationNotice.next_attempt_at).is_not(None),
            col(NotificationNotice.next_attempt_at) <= now,
        )
    )


def _sendable(now: datetime) -> list[Any]:
    channel = NotificationChannel
    return [
        col(channel.enabled).is_(True),
        or_(col(channel.send_after).is_(None), col(channel.send_after) <= now),
        or_(col(channel.leased_until).is_(None), col(channel.leased_until) <= now),
        _due(now),
    ]


async def anything_due(session: AsyncSession, *, now: datetime) -> bool:
    """A cheap read: may some channel send something now?"""
    statement = select(col(NotificationChannel.id)).where(*_sendable(now)).limit(1)
    return (await session.execute(statement)).first() is not None


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    """Lease up to ``limit`` channels that may send now, each with its due notices.

    A test or digest notice goes out on its own; event notices go out together (up to
    :data:`MAX_NOTICES_PER_MESSAGE`), oldest first.
    """
    if limit <= 0:
        return []
    channel = NotificationChannel
    statement = (
        select(channel)
        .where(*_sendable(now))
        .order_by(col(channel.send_after).asc().nulls_first(), col(channel.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=NotificationChannel)
    channels = list((await session.execute(statement)).scalars())
    if not channels:
        return []
    token = uuid.uuid4()
    await session.execute(
        update(channel)
        .where(col(channel.id).in_([c.id for c in channels]))
        .values(lease_token=token, leased_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    claimed: list[Claimed] = []
    for row in channels:
        notices = await _due_notices(session, row.id, now)
        if not notices:
            continue
        await session.execute(
            update(NotificationNotice)
            .where(col(NotificationNotice.id).in_([n.id for n in notices]))
            .values(status=NoticeStatus.delivering, next_attempt_at=now + lease, lease_token=token)
            .execution_options(synchronize_session=False)
        )
        claimed.append(
            Claimed(
                channel_id=row.id,
                tenant_id=row.tenant_id,
                lease_token=token,
                kind=row.kind,
                time_zone=row.time_zone,
                config=dict(row.config),
                sealed_secrets=row.sealed_secrets,
                notices=notices,
            )
        )
    return claimed


_NOTICE_COLUMNS = (
    col(NotificationNotice.id),
    col(NotificationNotice.kind),
    col(NotificationNotice.event_type),
    col(NotificationNotice.case_id),
    col(NotificationNotice.occurred_at),
    col(NotificationNotice.payload),
    col(NotificationNotice.mentions),
    col(NotificationNotice.locale),
)


async def _due_notices(
    session: AsyncSession, channel_id: uuid.UUID, now: datetime
) -> list[NoticeData]:
    notice = NotificationNotice
    base = (
        select(*_NOTICE_COLUMNS)
        .where(col(notice.channel_id) == channel_id)
        .where(col(notice.next_attempt_at).is_not(None), col(notice.next_attempt_at) <= now)
    )
    special = (
        await session.execute(
            base.where(col(notice.kind) != NoticeKind.event)
            .order_by(col(notice.created_at))
            .limit(1)
        )
    ).all()
    if not special:
        statement = base.order_by(col(notice.created_at), col(notice.id)).limit(
            MAX_NOTICES_PER_MESSAGE
        )
        special = (await session.execute(statement)).all()
    notices = [
        NoticeData(
            id=row.id,
            kind=row.kind.value,
            event_type=row.event_type,
            case_id=row.case_id,
            occurred_at=row.occurred_at,
            payload=row.payload,
            mentions=list(row.mentions or []),
            locale=row.locale.value,
        )
        for row in special
    ]
    # One message speaks one language: notices in another wait for the next message.
    return [n for n in notices if n.locale == notices[0].locale] if notices else []


def _delay(attempts: int, rng: random.Random) -> timedelta | None:
    if attempts > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[attempts - 1] * (1 + rng.uniform(-JITTER, JITTER))


async def record(
    session: AsyncSession, outcomes: Sequence[Outcome], *, rng: random.Random | None = None
) -> None:
    """Log every send and move its notices on; keep each channel's pacing and health.

    Succeeded: the notices are sent. Throttled by the vendor: they wait for the throttle to end
    (it costs them no try). Failed: each is retried on the schedule or, out of tries, failed.
    Rejected: they fail. A channel error suspends the channel and holds them.
    """
    rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
    for outcome in outcomes:
        await _record_one(session, outcome, rng)


async def _record_one(session: AsyncSession, outcome: Outcome, rng: random.Random) -> None:
    claimed, result, at = outcome.claimed, outcome.result, outcome.attempted_at
    delivery_id = uuid.uuid4()
    await session.execute(
        insert(NotificationDelivery).values(
            id=delivery_id,
            tenant_id=claimed.tenant_id,
            channel_id=claimed.channel_id,
            attempted_at=at,
            notice_count=len(claimed.notices),
            coalesced=len(claimed.notices) > 1,
            outcome=result.outcome,
            status_code=result.status_code,
            vendor_code=result.vendor_code,
            response_body=None if result.response_body is None else result.response_body[:2048],
            error=None if result.error is None else result.error[:500],
            latency_ms=outcome.latency_ms,
        )
    )
    channel = await session.get(NotificationChannel, claimed.channel_id, with_for_update=True)
    if channel is None or channel.lease_token != claimed.lease_token:
        return  # the lease ran out and another worker took over: log only
    ids = [n.id for n in claimed.notices]
    owned = [
        col(NotificationNotice.id).in_(ids),
        col(NotificationNotice.lease_token) == claimed.lease_token,
    ]
    moved: dict[str, Any] = {"lease_token": None, "delivery_id": delivery_id}
    pause: datetime | None = None
    if result.outcome == DeliveryOutcome.succeeded:
        await _move(
            session,
            owned,
            status=NoticeStatus.sent,
            next_attempt_at=None,
            sent_at=at,
            error=None,
            **moved,
        )
        channel.failing_since = None
    elif result.outcome == DeliveryOutcome.throttled:
        wait = min(result.retry_after or adapter_for(claimed.kind).throttle_pause, MAX_RETRY_AFTER)
        pause = at + wait
        await _move(
            session,
            owned,
            status=NoticeStatus.pending,
            next_attempt_at=pause,
            error=result.error,
            **moved,
        )
    elif result.outcome == DeliveryOutcome.rejected:
        await _move(
            session,
            owned,
            status=NoticeStatus.failed,
            next_attempt_at=None,
            error=result.error,
            **moved,
        )
    elif result.outcome == DeliveryOutcome.failed:
        await _retry_or_fail(session, claimed, owned, at, result.error, moved, rng)
        channel.failing_since = channel.failing_since or at
    channel.lease_token = None
    channel.leased_until = None
    channel.send_after = await _send_after(session, claimed, at, pause)
    await session.flush()
    if result.outcome == DeliveryOutcome.channel_error:
        await suspend(
            session, channel, reason=result.error or "the vendor refused the channel", now=at
        )
    elif channel.failing_since is not None and channel.failing_since <= at - SUSPEND_AFTER:
        await suspend(session, channel, reason="every send failed for 3 days", now=at)


async def _move(session: AsyncSession, where: list[Any], **values: Any) -> None:
    await session.execute(
        update(NotificationNotice)
        .where(*where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _retry_or_fail(
    session: AsyncSession,
    claimed: Claimed,
    owned: list[Any],
    at: datetime,
    error: str | None,
    moved: dict[str, Any],
    rng: random.Random,
) -> None:
    rows = (
        await session.execute(
            select(col(NotificationNotice.id), col(NotificationNotice.attempt_count)).where(*owned)
        )
    ).all()
    for notice_id, attempts in rows:
        delay = _delay(attempts + 1, rng)
        values: dict[str, Any] = {"attempt_count": attempts + 1, "error": error, **moved}
        if delay is None:
            values.update(status=NoticeStatus.failed, next_attempt_at=None)
        else:
            values.update(status=NoticeStatus.pending, next_attempt_at=at + delay)
        await _move(session, [col(NotificationNotice.id) == notice_id], **values)


async def _send_after(
    session: AsyncSession, claimed: Claimed, at: datetime, pause: datetime | None
) -> datetime | None:
    """When the channel may send next: its recent sends against its pace, or a throttle."""
    pace = adapter_for(claimed.kind).pace
    sent = list(
        (
            await session.execute(
                select(col(NotificationDelivery.attempted_at))
                .where(
                    col(NotificationDelivery.channel_id) == claimed.channel_id,
                    col(NotificationDelivery.attempted_at) > at - pace.horizon,
                )
                .order_by(col(NotificationDelivery.attempted_at))
            )
        ).scalars()
    )
    earliest = next_send_at(sent, pace, now=at)
    if pause is not None and (earliest is None or pause > earliest):
        return pause
    return earliest
