"""The bus handler that turns domain events into outbox messages, and the dispatcher's wake-up.

:func:`on_event` runs inside the publishing transaction: one indexed query for the enabled
endpoints of the tenants that may see the event, one message row per subscribed endpoint, no
network and no commit. When that transaction commits, the dispatchers of this process are woken so
the first attempt follows at once; dispatchers in other processes find the rows on their next poll.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.events import DomainEvent
from hub.core.wakeup import Wakeup
from hub.core.wakeup import wake_after_commit as wake_after_commit_of
from webhooks.models import MessageStatus, WebhookEndpoint, WebhookMessage

ALL_TYPES = "*"


wakeup = Wakeup("webhooks")
"""Wakes this process's webhook dispatchers."""


def wake_after_commit(session: AsyncSession) -> None:
    """Wake this process's dispatchers once ``session``'s transaction commits."""
    wake_after_commit_of(session, wakeup)


def subscribed(event_types: list[str], event_type: str) -> bool:
    return ALL_TYPES in event_types or event_type in event_types


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def isoformat(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render_payload(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """The exact body a receiver gets: ``{"type", "timestamp", "data"}`` as compact UTF-8 JSON."""
    return json.dumps(
        {"type": event_type, "timestamp": isoformat(occurred_at), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_default,
    )


def new_message(
    endpoint_id: uuid.UUID,
    tenant_id: uuid.UUID,
    *,
    event_id: uuid.UUID,
    event_type: str,
    payload: str,
    now: datetime,
) -> WebhookMessage:
    return WebhookMessage(
        tenant_id=tenant_id,
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        status=MessageStatus.pending,
        next_attempt_at=now,
        created_at=now,
    )


async def on_event(session: AsyncSession, event: DomainEvent) -> None:
    """Queue ``event`` for every enabled endpoint subscribed to it, of each tenant in its views.

    The payload data for an endpoint is exactly ``event.views[endpoint.tenant_id]``; a tenant
    absent from the views gets nothing. Writes with ``session`` only; never commits.
    """
    await on_events(session, [event])


async def on_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """:func:`on_event` for a batch: one endpoint look-up for all of their tenants."""
    tenant_ids = list({tenant_id for event in events for tenant_id in event.views})
    if not tenant_ids:
        return
    rows = (
        await session.execute(
            select(
                col(WebhookEndpoint.id),
                col(WebhookEndpoint.tenant_id),
                col(WebhookEndpoint.event_types),
            ).where(
                col(WebhookEndpoint.tenant_id).in_(tenant_ids),
                col(WebhookEndpoint.enabled).is_(True),
            )
        )
    ).all()
    if not rows:
        return
    now = datetime.now(UTC)
    queued = False
    for event in events:
        payloads: dict[uuid.UUID, str] = {}
        for endpoint_id, tenant_id, event_types in rows:
            if tenant_id not in event.views or not subscribed(event_types or [], event.type):
                continue
            if tenant_id not in payloads:
                payloads[tenant_id] = render_payload(
                    event.type, event.occurred_at, event.views[tenant_id]
                )
            session.add(
                new_message(
                    endpoint_id,
                    tenant_id,
                    event_id=event.id,
                    event_type=event.type,
                    payload=payloads[tenant_id],
                    now=now,
                )
            )
            queued = True
    if queued:
        wake_after_commit(session)
