"""The outbox in the database: claiming due messages and recording what their attempts did.

Claiming is safe with any number of workers. On PostgreSQL the due rows are selected
``FOR UPDATE OF webhook_message SKIP LOCKED``; on SQLite the unit of work holds the write lock
from its first statement (``BEGIN IMMEDIATE``). Either way the claim is a conditional ``UPDATE``
that hands the worker a lease: ``status = delivering`` and ``next_attempt_at`` = the lease's end.
A worker that dies mid-batch loses nothing: when its lease runs out the message is due again and
any worker claims it (the receiver may then see it twice, with the same ``webhook-id``).

Results are recorded only under the lease that sent them (``lease_token``), so a worker that
comes back after its lease was taken over logs its attempt but changes nothing else.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from hub.core.events import DomainEvent, EventType, bus
from webhooks.handlers import isoformat
from webhooks.models import (
    AttemptOutcome,
    MessageStatus,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    webhook_id,
)

RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""Delays after each failed attempt of a round; the first attempt is immediate (8 in all)."""
JITTER = 0.2
"""Each delay is stretched or shrunk by up to this fraction, so retries of a burst spread out."""
RETRY_AFTER_STATUSES = frozenset({429, 502, 504})
MAX_RETRY_AFTER = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=5)
ERROR_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message a worker holds the lease of, with what it needs to send it."""

    message_id: uuid.UUID
    lease_token: uuid.UUID
    endpoint_id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    payload: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None

    @property
    def webhook_id(self) -> str:
        return webhook_id(self.message_id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did. ``status_code`` is None when no response came (then ``error`` says)."""

    message_id: uuid.UUID
    lease_token: uuid.UUID
    endpoint_id: uuid.UUID
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: int | None = None
    response_body: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    worker_id: str,
    in_flight: Mapping[uuid.UUID, int] | None = None,
    per_endpoint: int | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due messages, oldest due first.

    ``in_flight`` counts what this worker already sends per endpoint; no endpoint gets more than
    ``per_endpoint`` at once, so one slow receiver cannot take every slot. An endpoint marked
    ``ordered`` yields only its oldest live message, and only when no other is in flight.
    Messages whose endpoint was disabled meanwhile are failed instead of claimed.
    """
    if limit <= 0:
        return []
    in_flight = in_flight or {}
    message, endpoint = WebhookMessage, WebhookEndpoint
    older = aliased(WebhookMessage)
    oldest_live = (
        select(col(older.id))
        .where(col(older.endpoint_id) == col(message.endpoint_id))
        .where(col(older.next_attempt_at).is_not(None))
        .order_by(col(older.created_at), col(older.id))
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        select(
            col(message.id),
            col(message.endpoint_id),
            col(message.tenant_id),
            col(message.payload),
            col(endpoint.enabled),
            col(endpoint.url),
            col(endpoint.secret),
            col(endpoint.previous_secret),
            col(endpoint.previous_secret_expires_at),
        )
        .join(endpoint, col(endpoint.id) == col(message.endpoint_id))
        .where(col(message.next_attempt_at).is_not(None))
        .where(col(message.next_attempt_at) <= now)
        .where(or_(col(endpoint.ordered).is_(False), col(message.id) == oldest_live))
        .order_by(col(message.next_attempt_at))
        .limit(limit * 2)
    )
    full = [e for e, n in in_flight.items() if per_endpoint is not None and n >= per_endpoint]
    if full:
        statement = statement.where(col(message.endpoint_id).not_in(full))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=WebhookMessage)
    rows = (await session.execute(statement)).all()

    counts: Counter[uuid.UUID] = Counter(in_flight)
    chosen: list[Any] = []
    orphans: list[uuid.UUID] = []
    for row in rows:
        if not row.enabled:
            orphans.append(row.id)
            continue
        if len(chosen) >= limit:
            break
        if per_endpoint is not None and counts[row.endpoint_id] >= per_endpoint:
            continue
        counts[row.endpoint_id] += 1
        chosen.append(row)
    if orphans:
        await _finish(session, orphans, MessageStatus.failed)
    if not chosen:
        return []
    token = uuid.uuid4()
    await session.execute(
        update(WebhookMessage)
        .where(col(WebhookMessage.id).in_([row.id for row in chosen]))
        .where(col(WebhookMessage.next_attempt_at) <= now)
        .values(
            status=MessageStatus.delivering,
            next_attempt_at=now + lease,
            lease_token=token,
            leased_by=worker_id[:100],
        )
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(
            message_id=row.id,
            lease_token=token,
            endpoint_id=row.endpoint_id,
            tenant_id=row.tenant_id,
            url=row.url,
            payload=row.payload or "",
            secret=row.secret,
            previous_secret=row.previous_secret,
            previous_secret_expires_at=row.previous_secret_expires_at,
        )
        for row in chosen
    ]


async def _finish(session: AsyncSession, ids: Sequence[uuid.UUID], status: MessageStatus) -> None:
    await session.execute(
        update(WebhookMessage)
        .where(col(WebhookMessage.id).in_(ids))
        .values(status=status, next_attempt_at=None, lease_token=None)
        .execution_options(synchronize_session=False)
    )


def retry_delay(
    attempts_this_round: int,
    *,
    rng: random.Random,
    retry_after: timedelta | None = None,
    schedule: Sequence[timedelta] = RETRY_SCHEDULE,
) -> timedelta | None:
    """The wait before the next attempt after ``attempts_this_round`` failures, or None to stop.

    A receiver's ``Retry-After`` (429, 502, 504) is honoured: never retry sooner than it asks,
    up to a day.
    """
    if attempts_this_round > len(schedule):
        return None
    base = schedule[attempts_this_round - 1]
    delay = base * (1 + rng.uniform(-JITTER, JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


async def record(
    session: AsyncSession,
    outcomes: Sequence[Outcome],
    *,
    rng: random.Random | None = None,
    schedule: Sequence[timedelta] = RETRY_SCHEDULE,
) -> None:
    """Log every attempt and move each message on: succeeded, retry later, or failed for good.

    Also keeps each endpoint's health: a success clears ``failing_since``; failures set it, and
    five days of nothing but failures — or one ``410 Gone`` — disable the endpoint and publish
    ``webhook.endpoint_disabled`` to its owner.
    """
    if not outcomes:
        return
    rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
    rows = {
        row.id: row
        for row in (
            await session.execute(
                select(
                    col(WebhookMessage.id),
                    col(WebhookMessage.tenant_id),
                    col(WebhookMessage.attempt_count),
                    col(WebhookMessage.round_start),
                    col(WebhookMessage.lease_token),
                ).where(col(WebhookMessage.id).in_([o.message_id for o in outcomes]))
            )
        ).all()
    }
    attempts, changes = [], []
    gone: dict[uuid.UUID, datetime] = {}
    for outcome in outcomes:
        row = rows.get(outcome.message_id)
        if row is None:
            continue
        number = row.attempt_count + 1
        attempts.append(
            {
                "id": uuid.uuid4(),
                "tenant_id": row.tenant_id,
                "message_id": outcome.message_id,
                "number": number,
                "attempted_at": outcome.attempted_at,
                "outcome": AttemptOutcome.succeeded if outcome.succeeded else AttemptOutcome.failed,
                "status_code": outcome.status_code,
                "latency_ms": outcome.latency_ms,
                "response_body": outcome.response_body,
                "error": None if outcome.error is None else outcome.error[:ERROR_MAX_CHARS],
            }
        )
        if row.lease_token != outcome.lease_token:
            continue
        status, next_at, succeeded_at = MessageStatus.failed, None, None
        if outcome.succeeded:
            status, succeeded_at = MessageStatus.succeeded, outcome.attempted_at
        elif outcome.gone:
            gone.setdefault(outcome.endpoint_id, outcome.attempted_at)
        else:
            retry_after = (
                outcome.retry_after if outcome.status_code in RETRY_AFTER_STATUSES else None
            )
            delay = retry_delay(
                number - row.round_start, rng=rng, retry_after=retry_after, schedule=schedule
            )
            if delay is not None:
                status, next_at = MessageStatus.pending, outcome.attempted_at + delay
        changes.append(
            {
                "b_id": outcome.message_id,
                "b_token": outcome.lease_token,
                "status": status,
                "next_attempt_at": next_at,
                "attempt_count": number,
                "last_attempt_at": outcome.attempted_at,
                "succeeded_at": succeeded_at,
            }
        )
    if attempts:
        await session.execute(insert(WebhookAttempt), attempts)
    if changes:
        table = WebhookMessage.__table__  # type: ignore[attr-defined]
        await session.execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .where(table.c.lease_token == bindparam("b_token"))
            .values(
                status=bindparam("status"),
                next_attempt_at=bindparam("next_attempt_at"),
                attempt_count=bindparam("attempt_count"),
                last_attempt_at=bindparam("last_attempt_at"),
                succeeded_at=bindparam("succeeded_at"),
                lease_token=None,
                leased_by=None,
            ),
            changes,
        )
    await _update_health(session, outcomes)
    for endpoint_id, at in gone.items():
        await disable_endpoint(
            session, endpoint_id, reason="the receiver answered 410 Gone", now=at
        )


async def _update_health(session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    by_endpoint: dict[uuid.UUID, list[Outcome]] = {}
    for outcome in outcomes:
        by_endpoint.setdefault(outcome.endpoint_id, []).append(outcome)
    for endpoint_id, items in by_endpoint.items():
        items.sort(key=lambda o: o.attempted_at)
        last_success = max((o.attempted_at for o in items if o.succeeded), default=None)
        failures = [
            o.attempted_at
            for o in items
            if not o.succeeded and (last_success is None or o.attempted_at > last_success)
        ]
        table = WebhookEndpoint
        if not failures:
            await session.execute(
                update(table)
                .where(col(table.id) == endpoint_id, col(table.failing_since).is_not(None))
                .values(failing_since=None)
                .execution_options(synchronize_session=False)
            )
            continue
        clear = last_success is not None
        statement = update(table).where(col(table.id) == endpoint_id)
        if not clear:
            statement = statement.where(col(table.failing_since).is_(None))
        await session.execute(
            statement.values(failing_since=failures[0]).execution_options(synchronize_session=False)
        )
        latest = failures[-1]
        stale = (
            await session.execute(
                select(col(table.id)).where(
                    col(table.id) == endpoint_id,
                    col(table.enabled).is_(True),
                    col(table.failing_since) <= latest - DISABLE_AFTER,
                )
            )
        ).first()
        if stale is not None:
            await disable_endpoint(
                session,
                endpoint_id,
                reason="every delivery failed for 5 days",
                now=latest,
            )


async def disable_endpoint(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    reason: str,
    now: datetime,
    notify: bool = True,
) -> bool:
    """Disable an endpoint once (whoever gets there first), fail its pending messages and, when
    ``notify``, publish ``webhook.endpoint_disabled`` to its owner. Returns whether it did."""
    result = await session.execute(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == endpoint_id, col(WebhookEndpoint.enabled).is_(True))
        .values(enabled=False, disabled_reason=reason[:300], disabled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await fail_pending(session, endpoint_id)
    if notify:
        row = (
            await session.execute(
                select(
                    col(WebhookEndpoint.tenant_id),
                    col(WebhookEndpoint.url),
                    col(WebhookEndpoint.description),
                ).where(col(WebhookEndpoint.id) == endpoint_id)
            )
        ).one()
        await bus.publish(
            session,
            DomainEvent(
                id=uuid.uuid4(),
                type=EventType.webhook_endpoint_disabled,
                occurred_at=now,
                case_id=None,
                views={
                    row.tenant_id: {
                        "endpoint": {
                            "id": str(endpoint_id),
                            "url": row.url,
                            "description": row.description,
                        },
                        "reason": reason,
                        "disabled_at": isoformat(now),
                    }
                },
                attributes={"endpoint_id": str(endpoint_id)},
            ),
        )
    return True


async def fail_pending(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    """Stop the queued messages of an endpoint (a replay can queue them again)."""
    await session.execute(
        update(WebhookMessage)
        .where(
            col(WebhookMessage.endpoint_id) == endpoint_id,
            col(WebhookMessage.status) == MessageStatus.pending,
        )
        .values(status=MessageStatus.failed, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


async def anything_due(session: AsyncSession, *, now: datetime) -> bool:
    """A cheap read: is any message due? (Lets a poll skip the write lock when idle.)"""
    row = (
        await session.execute(
            select(col(WebhookMessage.id))
            .where(col(WebhookMessage.next_attempt_at).is_not(None))
            .where(col(WebhookMessage.next_attempt_at) <= now)
            .limit(1)
        )
    ).first()
    return row is not None
