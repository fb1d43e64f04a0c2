"""Bulk import of a host's half-month and a streamed export of a million cases.

    .venv/bin/python bench/bulk.py [--database-url URL] [--rows 21000] [--export-cases 1000000]

Import: one CSV of 16,000 size/colour changes, 4,000 address changes and 1,000 exchanges (5 %
with SKUs in no catalog, so they go to triage), for a host with 20 partner brands (200 SKUs each;
half of them with a round-robin queue of 3 agents). Timed from the uploaded bytes to the last
row filed: read, check every row, store the job, then the job worker files it in chunks through
the same path as POST /v1/cases (routing, numbers, events, outbox). Target ≤ 15 s.

Export: a million cases are generated with multi-row inserts (not filed: that is not what is
measured), then streamed as CSV the way GET /v1/cases/export.csv does. Target ≥ 50,000 rows/s
with flat memory (the resident set is sampled as batches go out).

The database is a fresh SQLite file under a scratch directory, or the PostgreSQL database at
``--database-url`` — whose public schema is DROPPED and rebuilt: give it a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import io
import os
import pstats
import random
import resource
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.bulk import checking, jobs, service
from hub.bulk.export import Exporter, csv_stream
from hub.bulk.parsing import read_sheet
from hub.cases.models import BuyerContact, Case, CaseCounter, CaseEvent, Status
from hub.cases.service import CaseFilter
from hub.core import migrations
from hub.core.db import Database, normalise_database_url
from hub.core.events import bus
from hub.core.models import utcnow
from hub.core.security import Principal, PrincipalKind, Scope
from notifiers import handlers as notifiers_handlers
from routing.models import RoutingRule, RuleSet
from tenants import service as tenants_service
from tenants.models import Partnership, PartnershipStatus, Product, Role, TenantKind
from tenants.schemas import UserCreate
from webhooks import handlers as webhooks_handlers

BRANDS = 20
SKUS_PER_BRAND = 200
MIX = (("换尺码", 16_000), ("改地址", 4_000), ("换货", 1_000))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
CITIES = ("上海市浦东新区", "北京市朝阳区", "杭州市西湖区", "广州市天河区", "成都市武侯区")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def seed(db: Database) -> tuple[Principal, list[str]]:
    """A host with partner brands, catalogs and queues; returns its principal and the SKUs."""
    skus: list[str] = []
    async with db.unit_of_work() as session:
        host = await tenants_service.create_tenant(
            session, slug="bench-host", kind=TenantKind.host, name="灵犀直播间", case_prefix="LX"
        )
        admin = await tenants_service.create_user(
            session,
            host.id,
            UserCreate(
                email="lead@bench.example", name="陈晓", role=Role.admin, password="bench-pass-123"
            ),
        )
        for b in range(BRANDS):
            brand = await tenants_service.create_tenant(
                session, slug=f"brand-{b:02d}", kind=TenantKind.brand, name=f"品牌{b:02d}"
            )
            session.add(
                Partnership(host_id=host.id, brand_id=brand.id, status=PartnershipStatus.active)
            )
            for n in range(SKUS_PER_BRAND):
                sku = f"69{b:02d}{n:05d}"
                skus.append(sku)
                session.add(
                    Product(tenant_id=brand.id, sku=sku, name=f"商品{sku}", category="服饰")
                )
            if b % 2 == 0:
                team = await tenants_service.create_team(
                    session, brand.id, slug="apparel", name="服饰售后"
                )
                for a in range(3):
                    agent = await tenants_service.create_user(
                        session,
                        brand.id,
                        UserCreate(
                            email=f"agent{a}@brand-{b:02d}.example",
                            name=f"客服{a}",
                            role=Role.agent,
                            password="bench-pass-123",
                        ),
                    )
                    await tenants_service.add_team_member(session, team, agent)
                session.add(
                    RoutingRule(
                        tenant_id=brand.id,
                        position=1,
                        name="服饰",
                        enabled=True,
                        conditions={},
                        actions={"team": "apparel", "assignment": "round_robin"},
                    )
                )
                session.add(RuleSet(tenant_id=brand.id, revision=uuid.uuid4()))
    principal = Principal(
        PrincipalKind.user,
        admin.id,
        host.id,
        "host",
        frozenset({Scope.cases_write}),
        admin.name,
    )
    return principal, skus


def half_month_csv(rows: int, skus: list[str], rng: random.Random) -> bytes:
    scale = rows / sum(count for _, count in MIX)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["订单号", "商品编码", "商品名称", "问题类型", "买家姓名", "手机号", "地址", "金额", "备注"]
    )
    n = 0
    for kind, count in MIX:
        for _ in range(round(count * scale)):
            n += 1
            sku = rng.choice(skus) if rng.random() > 0.05 else f"UNKNOWN-{n}"
            writer.writerow(
                [
                    f"DY{4_000_000_000 + n}",
                    sku,
                    f"直播间爆款 连衣裙 {sku[-3:]}",
                    kind,
                    rng.choice(SURNAMES) + "女士",
                    f"13{rng.randrange(10**9):09d}",
                    f"{rng.choice(CITIES)}世纪大道{rng.randrange(1, 999)}号",
                    f"{rng.randrange(3_000, 90_000) / 100:.2f}",
                    "M 换 L" if kind == "换尺码" else "",
                ]
            )
    return buffer.getvalue().encode("utf-8-sig")


async def bench_import(db: Database, principal: Principal, data: bytes) -> None:
    bus.subscribe(webhooks_handlers.on_event, many=webhooks_handlers.on_events)
    bus.subscribe(notifiers_handlers.on_event, many=notifiers_handlers.on_events)
    started = time.perf_counter()
    cpu = time.process_time()
    sheet = read_sheet(data, filename="half-month.csv", max_bytes=10**9, max_rows=10**6)
    parsed = time.perf_counter()
    async with db.unit_of_work() as session:
        plan = await checking.plan_import(session, principal, sheet, preview=False)
        checked = time.perf_counter()
        job = await service.start_import(session, principal, plan, detail={"filename": "bench"})
    stored = time.perf_counter()
    worker = jobs.JobWorker(db)
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    if os.environ.get("BENCH_STATEMENTS"):
        from collections import Counter

        from sqlalchemy import event

        statements: Counter[str] = Counter()
        began: dict[int, float] = {}

        def before(c, cur, sql, p, ctx, many):  # type: ignore[no-untyped-def]
            began[id(cur)] = time.perf_counter()

        def after(c, cur, sql, p, ctx, many):  # type: ignore[no-untyped-def]
            key = " ".join(sql.split()[:3])
            statements[key] += round((time.perf_counter() - began.pop(id(cur))) * 1000)

        event.listen(db.engine.sync_engine, "before_cursor_execute", before)
        event.listen(db.engine.sync_engine, "after_cursor_execute", after)
    if profiler:
        profiler.enable()
    assert await worker.run_once(job_id=job.id)
    finished = time.perf_counter()
    cpu = time.process_time() - cpu
    if os.environ.get("BENCH_STATEMENTS"):
        print(statements.most_common(12))
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(40)
    async with db.unit_of_work(write=False) as session:
        cases = (await session.execute(select(func.count()).select_from(Case))).scalar_one()
        events = (await session.execute(select(func.count()).select_from(CaseEvent))).scalar_one()
        triage = (
            await session.execute(
                select(func.count()).select_from(Case).where(col_status() == Status.triage)
            )
        ).scalar_one()
        done = await session.get(type(job), job.id)
    total = finished - started
    rows = len(sheet.rows)
    print(f"import of {rows:,} rows: {total:.1f} s ({rows / total:,.0f} rows/s), CPU {cpu:.1f} s")
    print(f"  read {parsed - started:.2f} s · check {checked - parsed:.2f} s · "
          f"store {stored - checked:.2f} s · file {finished - stored:.2f} s")  # fmt: skip
    print(f"  cases {cases:,} (triage {triage:,}) · events {events:,} · job {done.state.value} "  # type: ignore[union-attr]
          f"{done.counts}")  # type: ignore[union-attr]  # fmt: skip


def col_status() -> Any:
    return Case.__table__.c.status  # type: ignore[attr-defined]


async def generate_cases(db: Database, principal: Principal, count: int, skus: list[str]) -> None:
    """Insert ``count`` cases (with buyer contacts) in multi-row statements."""
    rng = random.Random(7)
    now = utcnow()
    async with db.unit_of_work() as session:
        brand_ids = list(
            (
                await session.execute(
                    select(Partnership.brand_id).where(Partnership.host_id == principal.tenant_id)  # type: ignore[arg-type]
                )
            ).scalars()
        )
        start = (
            await session.execute(
                select(CaseCounter.last_number).where(  # type: ignore[arg-type]
                    CaseCounter.tenant_id == principal.tenant_id  # type: ignore[arg-type]
                )
            )
        ).scalar_one_or_none() or 0
    batch = 10_000
    for offset in range(0, count, batch):
        cases, contacts = [], []
        for n in range(offset, min(offset + batch, count)):
            case_id = uuid.uuid4()
            at = now - timedelta(seconds=count - n)
            cases.append(
                {
                    "id": case_id, "tenant_id": principal.tenant_id,
                    "number": f"LX-{start + n + 1:07d}", "brand_id": rng.choice(brand_ids),
                    "brand_team_id": None, "assignee_id": None, "host_queue": None,
                    "type": "size_color_change", "priority": "normal", "status": "routed",
                    "title": f"换尺码 · 连衣裙 {n}", "description": "M 换 L, 急",
                    "order_platform": "douyin", "order_id": f"DY{5_000_000_000 + n}",
                    "order_amount": rng.randrange(3_000, 90_000) / 100, "sku": rng.choice(skus),
                    "product_name": "直播间爆款 连衣裙", "product_category": "服饰",
                    "live_session_id": None, "tags": ["直播"], "custom_fields": {},
                    "routing": {"evidence": "catalog_sku", "reason": "SKU 在品牌目录中"},
                    "rejected_brand_ids": [], "resolution": None, "duplicate_of_id": None,
                    "merged_into_id": None, "status_token": uuid.uuid4().hex,
                    "created_by": "bench", "version": 1, "filed_at": at, "created_at": at,
                    "updated_at": at, "routed_at": at, "first_response_at": None,
                    "resolved_at": None, "closed_at": None,
                }
            )  # fmt: skip
            contacts.append(
                {
                    "case_id": case_id,
                    "name": "王女士",
                    "phone": f"13{rng.randrange(10**9):09d}",
                    "address": "上海市浦东新区世纪大道100号",
                    "purged_at": None,
                }
            )
        async with db.unit_of_work() as session:
            await session.execute(insert(Case.__table__), cases)  # type: ignore[attr-defined]
            await session.execute(insert(BuyerContact.__table__), contacts)  # type: ignore[attr-defined]


async def bench_export(db: Database, principal: Principal, count: int) -> None:
    exporter = Exporter(db, principal, CaseFilter(), batch=5000)
    rows = 0
    size = 0
    samples: list[float] = []
    started = time.perf_counter()
    cpu = time.process_time()
    async for chunk in csv_stream(exporter):
        size += len(chunk)
        rows += chunk.count(b"\r\n")
        if len(samples) < 1 or rows // 100_000 > (rows - chunk.count(b"\r\n")) // 100_000:
            samples.append(rss_mb())
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rows -= 1  # the header
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000
    print(f"export of {rows:,} cases as CSV: {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s), "
          f"{size / 1e6:,.0f} MB")  # fmt: skip
    print(f"  CPU {cpu:.1f} s ({rows / cpu:,.0f} rows per CPU second)")
    print("  resident memory per 100,000 rows (MB): " + " ".join(f"{s:.0f}" for s in samples))
    print(f"  peak resident {peak:.0f} MB")
    assert rows == count, (rows, count)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rows", type=int, default=21_000)
    parser.add_argument("--export-cases", type=int, default=1_000_000)
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="export the cases a previous run left at --database-url (no reset, no import)",
    )
    args = parser.parse_args()
    if args.export_only:
        db = Database(normalise_database_url(args.database_url))
        try:
            async with db.unit_of_work(write=False) as session:
                host = await tenants_service.require_tenant_by_slug(session, "bench-host")
                count = (await session.execute(select(func.count()).select_from(Case))).scalar_one()
            principal = Principal(
                PrincipalKind.user, uuid.uuid4(), host.id, "host", frozenset(), "bench"
            )
            await bench_export(db, principal, count)
        finally:
            await db.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="casehub-bulk-bench-") as scratch:
        var = Path(scratch)
        url = args.database_url
        if url:
            url = normalise_database_url(url)
            await reset_postgres(url)
        else:
            url = f"sqlite+aiosqlite:///{var / 'bench.db'}"
        await asyncio.to_thread(migrations.upgrade, url)
        db = Database(url)
        try:
            principal, skus = await seed(db)
            data = half_month_csv(args.rows, skus, random.Random(42))
            print(f"database: {url.split('://')[0]} · CSV {len(data) / 1e6:.1f} MB")
            await bench_import(db, principal, data)
            if args.export_cases:
                imported = args.rows
                started = time.perf_counter()
                await generate_cases(db, principal, args.export_cases - imported, skus)
                print(f"(generated {args.export_cases - imported:,} more cases in "
                      f"{time.perf_counter() - started:.0f} s)")  # fmt: skip
                await bench_export(db, principal, args.export_cases)
        finally:
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
