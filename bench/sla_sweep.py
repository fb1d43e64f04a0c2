"""The SLA sweep under load: 1,000,000 running clocks stored, 1,000 of them due.

    .venv/bin/python -m bench.sla_sweep [--clocks 1000000] [--due 1000] [--interval 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/casehub_sla_bench --reset]

Without ``--database-url`` it runs on a fresh SQLite file in a scratch directory; a PostgreSQL
database is wiped (``DROP SCHEMA public CASCADE``) only when ``--reset`` is given. Prints:

1. the time one sweep takes to find and fire ``--due`` clocks among ``--clocks`` running ones
   (each firing a breach: a conditional update plus a timeline event, webhooks' and
   notifiers' handlers subscribed as in production), and the same for warnings;
2. lateness (commit time - due time) p50/p99/max while ``--due`` clocks fall due spread over
   30 s and a sweep runs every ``--interval`` seconds, as the scheduler runs it;
3. the process's resident memory after seeding and after sweeping (run with a tenth of the
   clocks to see it does not grow with their number).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, text

from hub.core import migrations
from hub.core.db import Database, normalise_database_url
from hub.core.events import bus
from hub.core.models import utcnow
from hub.sla import jobs
from hub.sla.models import SlaClock, SlaPolicy
from notifiers import handlers as notifiers_handlers
from tenants.models import Tenant, TenantKind
from webhooks import handlers as webhooks_handlers

CLOCKS_PER_CASE = 4  # host resolution + brand first response, resolution, next response
CHUNK = 20_000


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def reset_postgres(url: str) -> None:
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await db.dispose()


async def seed(db: Database, clocks: int) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """A host, a 7x24 policy, ``clocks / 4`` cases and ``clocks`` running clocks far from due."""
    now = utcnow()
    async with db.unit_of_work() as session:
        host = Tenant(slug=f"bench-{uuid.uuid4().hex[:6]}", kind=TenantKind.host, name="Bench")
        session.add(host)
        await session.flush()
        policy = SlaPolicy(
            tenant_id=host.id,
            name="7x24",
            is_default=True,
            targets={"normal": {"first_response": 60, "resolution": 1440}},
            warning_thresholds=[75, 90],
        )
        session.add(policy)
        await session.flush()
        host_id, policy_id = host.id, policy.id
    case_ids: list[uuid.UUID] = []
    far = now + timedelta(days=30)
    cases_total = max(1, clocks // CLOCKS_PER_CASE)
    for start in range(0, cases_total, CHUNK):
        chunk = [uuid.uuid4() for _ in range(min(CHUNK, cases_total - start))]
        case_ids += chunk
        case_rows = [
            {
                "id": case_id,
                "tenant_id": host_id,
                "number": f"B-{start + i:07d}",
                "type": "quality",
                "priority": "normal",
                "status": "in_progress",
                "title": "bench",
                "description": "",
                "tags": [],
                "custom_fields": {},
                "routing": {},
                "rejected_brand_ids": [],
                "status_token": secrets.token_urlsafe(18),
                "created_by": "bench",
                "version": 1,
                "filed_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for i, case_id in enumerate(chunk)
        ]
        clock_rows = [
            {
                "case_id": case_id,
                "host_id": host_id,
                "policy_id": policy_id,
                "metric": "resolution",
                "side": "host" if n == 0 else "brand",
                "state": "running",
                "target_seconds": 86_400,
                "consumed_seconds": 0,
                "started_at": now,
                "resumed_at": now,
                "due_at": far,
                "fire_at": far,
                "warned_pct": 0,
            }
            for case_id in chunk
            for n in range(CLOCKS_PER_CASE)
        ]
        async with db.unit_of_work() as session:
            await session.execute(insert(Tenant.metadata.tables["case"]), case_rows)
            await session.execute(insert(SlaClock.__table__), clock_rows)  # type: ignore[attr-defined]
        del case_rows, clock_rows
        gc.collect()
    async with db.unit_of_work() as session:
        if db.is_sqlite:
            await session.execute(text("ANALYZE"))
        else:
            await session.execute(text("ANALYZE sla_clock"))
            await session.execute(text('ANALYZE "case"'))
    return host_id, policy_id, case_ids


async def make_due(
    db: Database, count: int, *, offsets: list[float], warned: int, now: datetime
) -> None:
    """Turn ``count`` stored clocks into ones due at ``now + offsets[i]`` seconds: a 100 s
    target, 75 % and 90 % warnings; those up to ``warned`` % already fired."""
    async with db.unit_of_work() as session:
        ids = (
            await session.execute(
                text(
                    "SELECT id FROM sla_clock WHERE state = 'running' AND warned_pct = 0 "
                    "ORDER BY id DESC LIMIT :n"
                ),
                {"n": count},
            )
        ).scalars()
        params = []
        for clock_id, offset in zip(list(ids), offsets, strict=False):
            due = now + timedelta(seconds=offset)
            started = due - timedelta(seconds=100)
            next_warning = {0: 75, 75: 90}.get(warned)
            fire_at = started + timedelta(seconds=next_warning) if next_warning else due
            params.append(
                {"clock_id": clock_id, "started": started, "due": due, "fire_at": fire_at}
            )
        table: Any = SlaClock.__table__
        await session.execute(
            table.update()
            .where(table.c.id == bindparam("clock_id"))
            .values(
                target_seconds=100,
                started_at=bindparam("started"),
                resumed_at=bindparam("started"),
                due_at=bindparam("due"),
                fire_at=bindparam("fire_at"),
                warned_pct=warned,
            ),
            params,
        )


async def timed_sweep(db: Database) -> tuple[float, jobs.SweepResult]:
    began = time.perf_counter()
    result = await jobs.sweep(db, batch=500)
    return time.perf_counter() - began, result


async def lateness_run(db: Database, due: int, interval: float) -> list[float]:
    """Sweep every ``interval`` seconds while ``due`` clocks fall due over 30 s."""
    now = utcnow()
    spread = [30 * i / due for i in range(due)]
    await make_due(db, due, offsets=spread, warned=90, now=now)
    lateness: list[float] = []
    deadline = time.monotonic() + 30 + 2 * interval
    while time.monotonic() < deadline:
        tick = time.monotonic()
        while True:
            began = utcnow()
            async with db.unit_of_work() as session:
                result = await jobs.sweep_batch(session, now=began, limit=500)
            committed = (utcnow() - began).total_seconds()
            lateness += [late + committed for late in result.lateness]
            if result.claimed < 500:
                break
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))
    return lateness


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="wipe the PostgreSQL schema first")
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory(prefix="casehub-sla-bench-")
    url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch.name) / 'bench.db'}"
    url = normalise_database_url(url)
    if not url.startswith("sqlite"):
        if not args.reset:
            raise SystemExit("a PostgreSQL run wipes the database: pass --reset to confirm")
        await reset_postgres(url)
    await asyncio.to_thread(migrations.upgrade, url)
    # As in a served process: webhooks and notifiers queue their deliveries in the sweep's
    # transaction (one look-up each per batch).
    bus.subscribe(webhooks_handlers.on_event, many=webhooks_handlers.on_events)
    bus.subscribe(notifiers_handlers.on_event, many=notifiers_handlers.on_events)
    db = Database(url, pool_size=4)
    report: dict[str, Any] = {"database": "sqlite" if db.is_sqlite else "postgresql"}
    rss_start = rss_mib()

    began = time.perf_counter()
    await seed(db, args.clocks)
    report["seed_seconds"] = round(time.perf_counter() - began, 1)
    gc.collect()
    report["rss_mib_after_seed"] = round(rss_mib(), 1)

    now = utcnow()
    await make_due(db, args.due, offsets=[-10.0] * args.due, warned=90, now=now)
    seconds, result = await timed_sweep(db)
    report["breach_sweep"] = {
        "seconds": round(seconds, 3),
        "breaches": result.breaches,
        "per_clock_ms": round(1000 * seconds / max(1, result.breaches), 3),
    }
    await make_due(db, args.due, offsets=[20.0] * args.due, warned=0, now=utcnow())
    seconds, result = await timed_sweep(db)
    report["warning_sweep"] = {"seconds": round(seconds, 3), "warnings": result.warnings}
    began = time.perf_counter()
    idle = await jobs.sweep(db)
    report["idle_sweep_seconds"] = round(time.perf_counter() - began, 4)
    assert idle.claimed == 0

    lateness = await lateness_run(db, args.due, args.interval)
    report["lateness"] = {
        "interval_seconds": args.interval,
        "fired": len(lateness),
        "p50_seconds": round(statistics.median(lateness), 3) if lateness else None,
        "p99_seconds": round(percentile(lateness, 99), 3) if lateness else None,
        "max_seconds": round(max(lateness), 3) if lateness else None,
    }
    gc.collect()
    report["clocks"] = args.clocks
    report["rss_mib_start"] = round(rss_start, 1)
    report["rss_mib_after_sweeps"] = round(rss_mib(), 1)
    report["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    await db.dispose()
    scratch.cleanup()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
