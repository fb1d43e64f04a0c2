"""Logging the buyer's views without slowing the page: counted in memory, written in batches.

A view only marks its link as due; a background task of the serving process writes every due link
once a second in one unit of work (:func:`hub.buyers.service.log_view`: a conditional upsert and a
``case.status_viewed`` event, host-only). So a burst of first views costs one write transaction a
second instead of one per request — on SQLite, many concurrent writers would queue on the lock and
a page view would wait for it. The database still decides whether a link is due, so several
processes record at most one event per link per interval between them.

What it costs: views seen in the last second before a crash are not logged. A view log is a record
for the host, not a notice that must reach anyone, so that is the right trade for this one event;
everything a buyer *does* is written in the request's own unit of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime, timedelta

from hub.buyers import service
from hub.core.db import Database
from hub.core.models import utcnow

log = logging.getLogger("casehub.buyers")

BATCH = 500
"""Links written per unit of work: keeps each write transaction (and the lock it holds) short."""


class ViewLog:
    def __init__(self, interval: timedelta, *, max_links: int = 200_000) -> None:
        self.interval = interval
        self.max_links = max_links
        self._logged: dict[uuid.UUID, datetime] = {}
        self._counts: dict[uuid.UUID, int] = {}
        self._due: set[uuid.UUID] = set()
        self._task: asyncio.Task[None] | None = None

    def saw(self, case_id: uuid.UUID, now: datetime) -> None:
        """Count one view of a link (no I/O)."""
        if case_id not in self._counts and len(self._counts) >= self.max_links:
            return  # a flood of distinct links: shed the count, never the page
        self._counts[case_id] = self._counts.get(case_id, 0) + 1
        last = self._logged.get(case_id)
        if last is None or now - last >= self.interval:
            self._due.add(case_id)

    @property
    def pending(self) -> int:
        return len(self._due)

    async def flush(self, db: Database, *, now: datetime | None = None) -> int:
        """Write up to :data:`BATCH` due links in one unit of work; returns how many events
        were recorded."""
        if not self._due:
            return 0
        now = now or utcnow()
        due = [self._due.pop() for _ in range(min(len(self._due), BATCH))]
        batch = [(case_id, self._counts.pop(case_id, 1)) for case_id in due]
        if len(self._logged) > self.max_links:
            self._logged.clear()  # forgetting costs one more conditional upsert per link
        recorded = 0
        async with db.unit_of_work() as session:
            for case_id, views in batch:
                if await service.log_view(
                    session, case_id, views=views, now=now, interval=self.interval
                ):
                    recorded += 1
                self._logged[case_id] = now
        return recorded

    async def run(self, db: Database, *, every: float = 1.0) -> None:
        while True:
            # a backlog (a burst of first views) drains batch after batch, yielding in between
            await asyncio.sleep(every if len(self._due) < BATCH else 0.05)
            try:
                await self.flush(db)
            except Exception:  # a failed batch is dropped; the page goes on, the log says why
                log.exception("buyer view log batch failed")

    def start(self, db: Database) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(db), name="buyer-view-log")

    async def stop(self, db: Database) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush(db)
