"""Suspending a channel the vendor refuses, holding its notices, and resuming them.

A suspended channel (``enabled = false``, ``disabled_by = vendor``) keeps collecting notices as
``held``; so does one its owner muted, for what was pending at the time. Enabling it again makes
them due at once, and the pacing sends them as one coalesced message.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.events import DomainEvent, EventType, bus
from notifiers.models import DisabledBy, NoticeStatus, NotificationChannel, NotificationNotice

log = logging.getLogger("casehub.notifiers")


async def _move(session: AsyncSession, where: list[Any], **values: Any) -> None:
    await session.execute(
        update(NotificationNotice)
        .where(*where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def suspend(
    session: AsyncSession, channel: NotificationChannel, *, reason: str, now: datetime
) -> bool:
    """Suspend a channel once (whoever gets there first), hold its notices, tell its owner.

    The owner learns it three ways: the channel reads ``enabled: false`` with ``disabled_by:
    vendor`` and the reason; a ``notification.channel_disabled`` event goes on the bus for the
    tenant's webhooks and other channels' rules; and a warning is logged (without secrets).
    """
    result = await session.execute(
        update(NotificationChannel)
        .where(
            col(NotificationChannel.id) == channel.id, col(NotificationChannel.enabled).is_(True)
        )
        .values(
            enabled=False,
            disabled_by=DisabledBy.vendor,
            disabled_reason=reason[:300],
            disabled_at=now,
            updated_at=now,
            lease_token=None,
            leased_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await hold_pending(session, channel.id)
    log.warning(
        "notification channel suspended",
        extra={"channel_id": str(channel.id), "kind": channel.kind.value, "reason": reason[:300]},
    )
    await bus.publish(
        session,
        DomainEvent(
            id=uuid.uuid4(),
            type=EventType.notification_channel_disabled,
            occurred_at=now,
            case_id=None,
            views={
                channel.tenant_id: {
                    "channel": {
                        "id": str(channel.id),
                        "name": channel.name,
                        "kind": channel.kind.value,
                        "target": channel.target,
                    },
                    "reason": reason[:300],
                    "disabled_at": now.isoformat(),
                }
            },
            attributes={"channel_id": str(channel.id)},
        ),
    )
    return True


async def hold_pending(session: AsyncSession, channel_id: uuid.UUID) -> None:
    """Hold a channel's live notices until it is enabled again."""
    await _move(
        session,
        [
            col(NotificationNotice.channel_id) == channel_id,
            col(NotificationNotice.status).in_([NoticeStatus.pending, NoticeStatus.delivering]),
        ],
        status=NoticeStatus.held,
        next_attempt_at=None,
        lease_token=None,
    )


async def resume_held(session: AsyncSession, channel_id: uuid.UUID, *, now: datetime) -> int:
    """Make a re-enabled channel's held notices due now (they go out coalesced)."""
    result = await session.execute(
        update(NotificationNotice)
        .where(
            col(NotificationNotice.channel_id) == channel_id,
            col(NotificationNotice.status) == NoticeStatus.held,
        )
        .values(status=NoticeStatus.pending, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
