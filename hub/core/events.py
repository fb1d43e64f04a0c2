"""The event interface between the case domain and its consumers (webhooks, notifiers, SLA).

The case domain appends an event row and then publishes a :class:`DomainEvent` on the same
session. Consumers register handlers at start-up; each handler writes its own outbox rows with that
session, so what must be sent commits (or rolls back) together with the change that caused it.
Handlers must not commit, sleep or do network I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One thing that happened, with what each tenant who may see it is allowed to see.

    ``views`` maps a tenant id to the event data filtered for that tenant; a tenant absent from it
    may not see the event at all.
    """

    id: uuid.UUID
    type: str
    occurred_at: datetime
    case_id: uuid.UUID | None
    views: Mapping[uuid.UUID, Mapping[str, Any]]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """Facts for rule matching (priority, type, queue, brand slug …); never sent as such."""


EventHandler = Callable[[AsyncSession, DomainEvent], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[DomainEvent]], Awaitable[None]]
"""Takes many events at once, in publishing order (one query for all instead of one each)."""

_HELD = "core.events.held"


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []
        self._batch: dict[EventHandler, BatchHandler] = {}

    def subscribe(self, handler: EventHandler, *, many: BatchHandler | None = None) -> None:
        """Call ``handler`` for each event; ``many``, if given, takes a whole batch of them at
        once (see :meth:`publish_many`) and must do what ``handler`` would do for each."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        if many is not None:
            self._batch[handler] = many

    async def publish(self, session: AsyncSession, event: DomainEvent) -> None:
        held: list[DomainEvent] | None = session.info.get(_HELD)
        if held is not None:
            held.append(event)
            return
        for handler in self._handlers:
            await handler(session, event)

    @asynccontextmanager
    async def holding(self, session: AsyncSession) -> AsyncIterator[None]:
        """Hold what is published with ``session`` inside the block and :meth:`publish_many` it
        when the block ends (still inside the same transaction, in publishing order).

        Bulk filing uses it so that consumers write their outbox rows for a whole batch at once.
        Nothing is delivered when the block raises: the transaction is going to roll back.
        """
        if session.info.get(_HELD) is not None:
            yield
            return
        held: list[DomainEvent] = []
        session.info[_HELD] = held
        try:
            yield
        finally:
            session.info.pop(_HELD, None)
        await self.publish_many(session, held)

    async def publish_many(self, session: AsyncSession, events: Sequence[DomainEvent]) -> None:
        """Publish ``events`` in order: each handler gets them all (one call if it takes
        batches) before the next handler does."""
        if not events:
            return
        held: list[DomainEvent] | None = session.info.get(_HELD)
        if held is not None:
            held.extend(events)
            return
        for handler in self._handlers:
            many = self._batch.get(handler)
            if many is not None:
                await many(session, events)
            else:
                for event in events:
                    await handler(session, event)


bus = EventBus()
"""The process's bus; the app factory subscribes the consumers before serving."""


class EventType:
    """The catalog of event types: case timeline events and the alarms raised about them.

    Webhook subscriptions and notification rules name these; ``ALL`` lists them for validation.
    """

    case_created = "case.created"
    case_routed = "case.routed"
    case_held_for_review = "case.held_for_review"
    case_assigned = "case.assigned"
    case_updated = "case.updated"
    case_acknowledged = "case.acknowledged"
    case_comment_added = "case.comment_added"
    case_attachment_added = "case.attachment_added"
    case_info_requested = "case.info_requested"
    case_info_provided = "case.info_provided"
    case_resolution_proposed = "case.resolution_proposed"
    case_resolution_accepted = "case.resolution_accepted"
    case_resolution_declined = "case.resolution_declined"
    case_resolved = "case.resolved"
    case_closed = "case.closed"
    case_reopened = "case.reopened"
    case_cancelled = "case.cancelled"
    case_rejected = "case.rejected"
    case_rerouted = "case.rerouted"
    case_escalated = "case.escalated"
    case_merged = "case.merged"
    case_duplicate_linked = "case.duplicate_linked"
    case_external_ref_set = "case.external_ref_set"
    case_status_viewed = "case.status_viewed"
    case_rated = "case.rated"
    case_campaign_outcome = "case.campaign_outcome"
    sla_paused = "sla.paused"
    sla_resumed = "sla.resumed"
    sla_warning = "sla.warning"
    sla_breached = "sla.breached"
    partnership_invited = "partnership.invited"
    partnership_accepted = "partnership.accepted"
    partnership_declined = "partnership.declined"
    partnership_suspended = "partnership.suspended"
    partnership_resumed = "partnership.resumed"
    partnership_updated = "partnership.updated"
    webhook_endpoint_disabled = "webhook.endpoint_disabled"
    notification_channel_disabled = "notification.channel_disabled"
    quality_alert = "quality.alert"

    ALL: frozenset[str] = frozenset()


EventType.ALL = frozenset(
    value for name, value in vars(EventType).items() if not name.startswith("_") and name != "ALL"
)
