"""Exactly once across processes: two real ``casehub worker`` processes sweep thousands of due
clocks in the same database (the suite's: a SQLite file, or PostgreSQL when the suite runs on it);
every clock warns once and breaches once."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import col

from hub.cases.models import Case, CaseEvent
from hub.core.db import Database
from hub.core.models import utcnow
from hub.core.settings import Settings
from hub.sla import jobs
from hub.sla.models import ClockState, Metric, Side, SlaClock, SlaPolicy
from tenants import service as tenants_service
from tenants.models import TenantKind

CLOCKS = 2000
WORKER = [sys.executable, "-c", "from hub.cli import app; app()", "worker"]


async def _seed(db: Database, *, warn_in: float, due_in: float) -> list[int]:
    """``CLOCKS`` running clocks on a 7x24 policy warning at 50 %: the warning ``warn_in``
    seconds from now (negative: already due), the due time ``due_in`` seconds from now."""
    now = utcnow()
    target = 2 * (due_in - warn_in)
    started = now + timedelta(seconds=due_in - target)
    async with db.unit_of_work() as session:
        host = await tenants_service.create_tenant(
            session, slug=f"host-{uuid.uuid4().hex[:8]}", kind=TenantKind.host, name="Host"
        )
        policy = SlaPolicy(
            tenant_id=host.id,
            name="7x24",
            targets={"normal": {"resolution": 1}},
            warning_thresholds=[50],
        )
        session.add(policy)
        await session.flush()
        cases = [
            {
                "id": uuid.uuid4(),
                "tenant_id": host.id,
                "number": f"T-{index:06d}",
                "type": "quality",
                "title": "due",
                "status_token": secrets.token_urlsafe(24),
                "filed_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for index in range(CLOCKS)
        ]
        await session.execute(insert(Case), cases)
        clocks = [
            {
                "case_id": case["id"],
                "host_id": host.id,
                "policy_id": policy.id,
                "metric": Metric.resolution,
                "side": Side.host,
                "state": ClockState.running,
                "target_seconds": int(target),
                "consumed_seconds": 0,
                "started_at": started,
                "resumed_at": started,
                "due_at": started + timedelta(seconds=int(target)),
                "fire_at": started + timedelta(seconds=int(target) // 2),
                "warned_pct": 0,
            }
            for case in cases
        ]
        await session.execute(insert(SlaClock), clocks)
        ids = (
            await session.execute(select(col(SlaClock.id)).where(col(SlaClock.host_id) == host.id))
        ).scalars()
        return list(ids)


async def _breached(db: Database, ids: list[int]) -> int:
    async with db.unit_of_work(write=False) as session:
        count = await session.execute(
            select(func.count()).where(
                col(SlaClock.id).in_(ids), col(SlaClock.state) == ClockState.breached
            )
        )
        return int(count.scalar_one())


async def _fired(db: Database) -> Counter[tuple[str, int]]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(col(CaseEvent.type), col(CaseEvent.data)).where(
                col(CaseEvent.type).in_(("sla.warning", "sla.breached"))
            )
        )
        return Counter((kind, int(data["sla"]["clock_id"])) for kind, data in rows.all())


def _start_worker(settings: Settings, var_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CASEHUB_DATABASE_URL": settings.database_url,
        "CASEHUB_VAR_DIR": str(var_dir),
        "CASEHUB_SLA_SWEEP_SECONDS": "0.2",
        "CASEHUB_SLA_SWEEP_BATCH": "100",
        "CASEHUB_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        WORKER, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


async def _wait_ready(worker: subprocess.Popen[str]) -> None:
    assert worker.stdout is not None
    line = await asyncio.to_thread(worker.stdout.readline)
    assert "casehub worker running" in line, line


async def test_two_workers_fire_each_warning_and_breach_exactly_once(
    committed_db: Database, settings: Settings, tmp_path: Path
) -> None:
    workers = [_start_worker(settings, tmp_path / f"w{n}") for n in range(2)]
    try:
        await asyncio.gather(*(_wait_ready(w) for w in workers))
        # Every warning is due now; the breaches fall due a few seconds later, while both run.
        ids = await _seed(committed_db, warn_in=-1, due_in=3)
        for _ in range(600):  # a generous bound, not a timing assertion
            if await _breached(committed_db, ids) == CLOCKS:
                break
            assert all(w.poll() is None for w in workers), "a worker died"
            await asyncio.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=30)[0] for w in workers]
    assert await _breached(committed_db, ids) == CLOCKS, outputs
    fired = await _fired(committed_db)
    assert {fired[("sla.warning", i)] for i in ids} == {1}
    assert {fired[("sla.breached", i)] for i in ids} == {1}
    async with committed_db.unit_of_work(write=False) as session:
        wrong = await session.execute(
            select(func.count()).where(
                col(SlaClock.id).in_(ids), col(SlaClock.breached_at) != col(SlaClock.due_at)
            )
        )
        assert wrong.scalar_one() == 0  # the due time, not the sweep's time


async def test_concurrent_sweeps_in_one_process_never_double_fire(
    committed_db: Database, settings: Settings
) -> None:
    ids = await _seed(committed_db, warn_in=-20, due_in=-10)
    others = [Database(settings.database_url, pool_size=2) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(jobs.sweep(db, batch=50, max_batches=1000) for db in [committed_db, *others])
        )
    finally:
        for db in others:
            await db.dispose()
    assert sum(r.breaches for r in results) == CLOCKS
    assert sum(r.warnings for r in results) == CLOCKS
    fired = await _fired(committed_db)
    assert {fired[("sla.breached", i)] for i in ids} == {1}
