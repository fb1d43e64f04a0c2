"""Running jobs: any worker claims one, works it chunk by chunk, and another carries on if it dies.

Claiming follows the outbox's discipline (see :mod:`webhooks.outbox`): a due job is selected
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers) and
taken with a conditional ``UPDATE`` that hands the worker a lease (``lease_token``, and
``next_run_at`` = the lease's end). Each chunk is one unit of work that first renews the lease
— ``UPDATE … WHERE lease_token = :mine``, which also locks the job row until the chunk commits —
then does its work. A worker whose lease was taken over finds no row to renew and rolls its
chunk back, so a chunk commits under exactly one lease and nothing is done twice. A worker that
dies loses only its uncommitted chunk; when its lease ends, any worker resumes the job.

A chunk that raises is retried after a back-off; after :data:`MAX_ATTEMPTS` claims the job
fails, and the rows it had not reached are marked failed with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.bulk import service
from hub.bulk.models import Job, JobState
from hub.core.db import Database
from hub.core.models import utcnow
from hub.core.wakeup import Wakeup
from hub.core.wakeup import wake_after_commit as wake_after_commit_of

log = logging.getLogger("casehub.jobs")

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
CHUNK = 1000
"""Rows per unit of work: big enough to share its reads, short enough not to hold the
SQLite write lock for long (about a second)."""
BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))

Runner = Callable[[AsyncSession, Job, int, datetime], Awaitable[int]]
"""Does up to ``limit`` units of a job in the caller's unit of work; returns how many (0: done)."""


async def _run_import(session: AsyncSession, job: Job, limit: int, now: datetime) -> int:
    return await service.run_import_chunk(session, job, limit=limit, now=now)


async def _finish_import(session: AsyncSession, job: Job, reason: str | None) -> None:
    if reason is not None:
        await service.give_up_rows(session, job, reason)
    await service.recount(session, job)


RUNNERS: dict[str, tuple[Runner, Callable[[AsyncSession, Job, str | None], Awaitable[None]]]] = {
    service.IMPORT: (_run_import, _finish_import),
}


class LeaseLost(Exception):
    """Another worker holds the job now; this one's chunk must not commit."""


@dataclass(frozen=True, slots=True)
class Lease:
    job_id: uuid.UUID
    token: uuid.UUID


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    worker_id: str,
    lease: timedelta = LEASE,
    job_id: uuid.UUID | None = None,
) -> Lease | None:
    """Lease the oldest due job (or ``job_id`` if it is due), or return None."""
    statement = (
        select(col(Job.id))
        .where(col(Job.next_run_at).is_not(None), col(Job.next_run_at) <= now)
        .order_by(col(Job.next_run_at))
        .limit(1)
    )
    if job_id is not None:
        statement = statement.where(col(Job.id) == job_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    found = (await session.execute(statement)).scalar_one_or_none()
    if found is None:
        return None
    token = uuid.uuid4()
    claimed = await session.execute(
        update(Job)
        .where(col(Job.id) == found, col(Job.next_run_at) <= now)
        .values(
            state=JobState.running,
            lease_token=token,
            leased_by=worker_id[:100],
            next_run_at=now + lease,
            attempts=col(Job.attempts) + 1,
            claimed_at=now,
            done_at_claim=col(Job.done),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await session.execute(
        update(Job)
        .where(col(Job.id) == found, col(Job.started_at).is_(None))
        .values(started_at=now)
        .execution_options(synchronize_session=False)
    )
    return Lease(found, token)


async def renew(
    session: AsyncSession, held: Lease, *, now: datetime, lease: timedelta = LEASE
) -> Job:
    """Extend the lease for one more chunk and return the job, or raise :class:`LeaseLost`."""
    result = await session.execute(
        update(Job)
        .where(col(Job.id) == held.job_id, col(Job.lease_token) == held.token)
        .values(next_run_at=now + lease, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(str(held.job_id))
    job = await session.get(Job, held.job_id, populate_existing=True)
    assert job is not None
    return job


async def finish(session: AsyncSession, job: Job, *, now: datetime, error: str | None) -> None:
    _, wrap_up = RUNNERS[job.kind]
    await wrap_up(session, job, error)
    job.state = JobState.failed if error else JobState.succeeded
    job.error = error
    job.next_run_at = None
    job.lease_token = None
    job.leased_by = None
    job.finished_at = now
    job.updated_at = now


async def run_chunk(
    session: AsyncSession, held: Lease, *, now: datetime, chunk: int = CHUNK
) -> bool:
    """One chunk of the job under ``held``; True while work remains."""
    job = await renew(session, held, now=now)
    if job.state != JobState.running:
        return False
    run, _ = RUNNERS[job.kind]
    if await run(session, job, chunk, now) == 0:
        await finish(session, job, now=now, error=None)
        return False
    return True


async def release_after_error(
    session: AsyncSession, held: Lease, error: BaseException, *, now: datetime
) -> None:
    """Back off after a chunk raised; fail the job once it has been tried enough."""
    job = await session.get(Job, held.job_id, populate_existing=True)
    if job is None or job.lease_token != held.token:
        return
    reason = f"{type(error).__name__}: {error}"[:2000]
    if job.attempts >= MAX_ATTEMPTS:
        await finish(session, job, now=now, error=f"stopped after {job.attempts} tries: {reason}")
        return
    job.error = reason
    job.lease_token = None
    job.leased_by = None
    job.next_run_at = now + BACKOFF[min(job.attempts, len(BACKOFF)) - 1]
    job.updated_at = now


class JobWorker:
    """Claims due jobs and works them; one per process (``casehub worker``, ``casehub serve``)."""

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str | None = None,
        chunk: int = CHUNK,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.chunk = chunk
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def run_once(
        self,
        *,
        job_id: uuid.UUID | None = None,
        on_chunk: Callable[[], Awaitable[None]] | None = None,
    ) -> bool:
        """Claim one due job (``job_id`` if given) and work it to the end; False if none was due."""
        async with self.db.unit_of_work() as session:
            held = await claim(session, now=utcnow(), worker_id=self.worker_id, job_id=job_id)
        if held is None:
            return False
        await self.work(held, on_chunk=on_chunk)
        return True

    async def work(
        self, held: Lease, *, on_chunk: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        while not self._stop.is_set():
            try:
                async with self.db.unit_of_work() as session:
                    more = await run_chunk(session, held, now=utcnow(), chunk=self.chunk)
            except LeaseLost:
                log.warning("job lease lost", extra={"job_id": str(held.job_id)})
                return
            except Exception as exc:
                log.exception("job chunk failed", extra={"job_id": str(held.job_id)})
                async with self.db.unit_of_work() as session:
                    await release_after_error(session, held, exc, now=utcnow())
                return
            if on_chunk is not None:
                await on_chunk()
            if not more:
                return

    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="job-worker")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        wake = wakeup.register()
        log.info("job worker started", extra={"worker": self.worker_id})
        try:
            while not self._stop.is_set():
                try:
                    if await self.run_once():
                        continue
                except Exception:
                    log.exception("job worker step failed")
                waiters = [asyncio.ensure_future(e.wait()) for e in (wake, self._stop)]
                try:
                    await asyncio.wait(
                        waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED"
                    )
                finally:
                    for waiter in waiters:
                        waiter.cancel()
                wake.clear()
        finally:
            wakeup.unregister(wake)
            log.info("job worker stopped", extra={"worker": self.worker_id})


wakeup = Wakeup("jobs")
"""Wakes this process's job workers when a job is queued here (others poll)."""


def wake_after_commit(session: AsyncSession) -> None:
    """Wake this process's job workers once ``session``'s transaction commits."""
    wake_after_commit_of(session, wakeup)


def progress(job: Job, *, now: datetime | None = None) -> dict[str, float | int | None]:
    """Done, total, percent, pace and the estimated seconds left (from the pace of this lease)."""
    now = now or utcnow()
    percent = 100.0 if job.total == 0 else round(100 * job.done / job.total, 1)
    rate: float | None = None
    eta: float | None = None
    if job.state == JobState.running and job.claimed_at is not None:
        elapsed = (now - job.claimed_at).total_seconds()
        moved = job.done - job.done_at_claim
        if elapsed > 0 and moved > 0:
            rate = moved / elapsed
            eta = round((job.total - job.done) / rate, 1)
    return {
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "rate_per_second": None if rate is None else round(rate, 1),
        "eta_seconds": eta,
    }
