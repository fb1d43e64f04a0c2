"""Periodic jobs. APScheduler is only the clock: a few interval jobs per process, each opening its
own unit of work; correctness comes from the database, so any number of processes may run them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bulk import service as bulk_service
from hub.cases.digest import digest_figures
from hub.console import sessions as console_sessions
from hub.core.db import Database
from hub.core.models import utcnow
from hub.core.settings import Settings
from hub.sla import jobs as sla_jobs
from notifiers import digest as notifier_digests
from notifiers import jobs as notifiers_jobs
from tenants import service as tenants_service
from webhooks import jobs as webhooks_jobs

log = logging.getLogger("casehub.jobs")

Job = Callable[[AsyncSession], Awaitable[object]]


async def purge_revoked_tokens(session: AsyncSession) -> int:
    """Forget revocations of tokens that have expired anyway."""
    return await tenants_service.purge_expired_revocations(session, now=utcnow())


async def purge_finished_jobs(session: AsyncSession) -> int:
    """Forget import jobs (and their per-row results) finished long ago."""
    return await bulk_service.purge_finished_jobs(session, now=utcnow())


async def purge_console_sessions(session: AsyncSession) -> int:
    """Forget expired console sessions and old sign-in throttle windows."""
    return await console_sessions.purge_expired(session, now=utcnow())


async def queue_notification_digests(session: AsyncSession) -> int:
    """Queue the daily digest of every channel whose digest hour has come."""
    return await notifier_digests.queue_due_digests(session, now=utcnow(), figures=digest_figures)


JOBS: list[tuple[str, Job, float]] = [
    ("purge-revoked-tokens", purge_revoked_tokens, 3600.0),
    ("purge-webhook-deliveries", webhooks_jobs.purge_old_deliveries, 3600.0),
    ("purge-finished-jobs", purge_finished_jobs, 3600.0),
    ("purge-console-sessions", purge_console_sessions, 3600.0),
    ("queue-notification-digests", queue_notification_digests, 60.0),
    ("purge-notifications", notifiers_jobs.purge_old_notices, 3600.0),
]
STATISTICS_SECONDS = 3600.0


def build_scheduler(db: Database, settings: Settings | None = None) -> AsyncIOScheduler:
    settings = settings or Settings()
    scheduler = AsyncIOScheduler(timezone="UTC")
    for name, job, seconds in JOBS:
        scheduler.add_job(
            _run_job,
            "interval",
            seconds=seconds,
            args=(db, name, job),
            id=name,
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        db.refresh_statistics,
        "interval",
        seconds=STATISTICS_SECONDS,
        id="refresh-statistics",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        _run_sla_sweep,
        "interval",
        seconds=settings.sla_sweep_seconds,
        args=(db, settings.sla_sweep_batch),
        id="sla-sweep",
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),  # a deadline passed while nothing ran fires at start
    )
    return scheduler


async def _run_job(db: Database, name: str, job: Job) -> None:
    try:
        async with db.unit_of_work() as session:
            result = await job(session)
        log.debug("job done", extra={"job": name, "result": result})
    except Exception:
        log.exception("job failed", extra={"job": name})


async def _run_sla_sweep(db: Database, batch: int) -> None:
    """The SLA sweep opens a unit of work per batch itself."""
    try:
        await sla_jobs.sweep(db, batch=batch)
    except Exception:
        log.exception("job failed", extra={"job": "sla-sweep"})
