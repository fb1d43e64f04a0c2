"""The event interface between the case domain and its consumers (webhooks, notifiers, SLA).

The case domain appends an event row and then publishes a :class:`DomainEvent` on the same
session. Consumers register handlers at start-up; each handler writes its own outbox rows with that
session, so what must be sent commits (or rolls back) together with the change that caused it.
Handlers must not commit, sleep or do network I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
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


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []

    def subscribe(self, handler: EventHandler) -> None:
        if handler not in self._handlers:
            self._handlers.append(handler)

    async def publish(self, session: AsyncSession, event: DomainEvent) -> None:
        for handler in self._handlers:
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
