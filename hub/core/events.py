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
