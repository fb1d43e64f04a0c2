"""Waking this process's workers when a transaction that queued work for them commits.

An outbox consumer (the webhook dispatcher, the notifier dispatcher) sleeps until it is woken or
its poll interval passes. A producer calls :func:`wake_after_commit` inside its unit of work; the
consumer's :class:`Wakeup` fires only once that transaction commits (never on rollback), so a
worker never looks for rows that are not visible yet. Workers in other processes find the rows on
their next poll.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_WAKE_KEY = "casehub.wake"


class Wakeup:
    """Wakes the workers of one kind running in this process (each registers an asyncio.Event)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}

    def register(self) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters[event] = asyncio.get_running_loop()
        return event

    def unregister(self, event: asyncio.Event) -> None:
        self._waiters.pop(event, None)

    def notify(self) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for event, loop in list(self._waiters.items()):
            if loop is running:
                event.set()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def __repr__(self) -> str:
        return f"Wakeup({self.name!r})"


def _after_commit(session: Session) -> None:
    for wakeup in session.info.pop(_WAKE_KEY, ()):
        wakeup.notify()


def _after_rollback(session: Session, _transaction: object) -> None:
    session.info.pop(_WAKE_KEY, None)


_listening = False


def _listen() -> None:
    global _listening
    if not _listening:
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_rollback)
        _listening = True


def wake_after_commit(session: AsyncSession, wakeup: Wakeup) -> None:
    """Notify ``wakeup`` once ``session``'s transaction commits."""
    _listen()
    session.sync_session.info.setdefault(_WAKE_KEY, set()).add(wakeup)
