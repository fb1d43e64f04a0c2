"""The bus handler that turns domain events into notices, and the dispatchers' wake-up.

:func:`on_event` runs inside the publishing transaction: one indexed query for the enabled rules
of the tenants that may see the event, one notice per matching channel (two rules sending the
same event to one channel make one notice, mentioning everyone either names), no network and no
commit. When the transaction commits, this process's dispatchers wake; others poll.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.events import DomainEvent
from hub.core.models import utcnow
from hub.core.wakeup import Wakeup, wake_after_commit
from notifiers import rules
from notifiers.models import NoticeKind, NoticeStatus, NotificationNotice

wakeup = Wakeup("notifiers")
"""Wakes this process's notifier dispatchers."""


def wake_dispatchers(session: AsyncSession) -> None:
    """Wake this process's dispatchers once ``session``'s transaction commits."""
    wake_after_commit(session, wakeup)


async def on_event(session: AsyncSession, event: DomainEvent) -> None:
    """Queue ``event`` for every channel a matching rule of a tenant in its views names.

    A notice's payload is exactly ``event.views[rule.tenant_id]``; a tenant absent from the views
    gets nothing. A channel suspended by a vendor error holds the notice until it is fixed. The
    ``notification.channel_disabled`` event never goes to the channel it is about.
    """
    await on_events(session, [event])


async def on_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """:func:`on_event` for a batch: one rule look-up and one insert for all of them."""
    tenant_ids = list({tenant_id for event in events for tenant_id in event.views})
    if not tenant_ids:
        return
    rows = await rules.rules_for(session, tenant_ids)
    if not rows:
        return
    now = utcnow()
    queued: list[dict[str, Any]] = []
    for event in events:
        about_channel = event.attributes.get("channel_id")
        notices: dict[uuid.UUID, dict[str, Any]] = {}
        for row in rows:
            view: Any = event.views.get(row.tenant_id)
            if view is None or str(row.channel_id) == about_channel:
                continue
            if not rules.matches(row.event_types or [], row.conditions or {}, event, view):
                continue
            existing = notices.get(row.channel_id)
            if existing is not None:
                existing["mentions"] = list(
                    dict.fromkeys([*existing["mentions"], *(row.mentions or [])])
                )
                continue
            live = bool(row.channel_enabled)
            notices[row.channel_id] = {
                "id": uuid.uuid4(),
                "tenant_id": row.tenant_id,
                "channel_id": row.channel_id,
                "rule_id": row.id,
                "kind": NoticeKind.event,
                "event_id": event.id,
                "event_type": event.type,
                "case_id": event.case_id,
                "occurred_at": event.occurred_at,
                "locale": row.locale or row.channel_locale,
                "mentions": list(row.mentions or []),
                "payload": dict(view),
                "status": NoticeStatus.pending if live else NoticeStatus.held,
                "attempt_count": 0,
                "next_attempt_at": now if live else None,
                "created_at": now,
            }
        queued += notices.values()
    if not queued:
        return
    # Core inserts: building ORM objects costs more than the rows themselves on a busy bus.
    await session.execute(insert(NotificationNotice), queued)
    if any(n["status"] == NoticeStatus.pending for n in queued):
        wake_dispatchers(session)
