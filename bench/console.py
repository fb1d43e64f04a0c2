"""Server time of the console's pages with 100,000 cases stored.

    .venv/bin/python -m bench.console [--cases 100000] [--rounds 20]

Builds a fresh SQLite file (Alembic), one host with three partner brands, and ``--cases`` cases
spread over 90 days with two timeline events each; then signs in as a host agent and a brand
agent and requests each page ``--rounds`` times in process (ASGI, no network), printing the median
and the 95th percentile. PostgreSQL: set CASEHUB_DATABASE_URL to an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from bench._server import scratch_dir
from hub.app import create_app
from hub.cases.models import OPEN_STATUSES, Case, CaseEvent, Status, Visibility
from hub.core import migrations
from hub.core.db import Database
from hub.core.models import utcnow
from hub.core.settings import Environment, Settings
from tenants import service as tenants_service
from tenants.models import Partnership, PartnershipStatus, Role, TenantKind
from tenants.schemas import UserCreate

PASSWORD = "bench password 1"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
TYPES = ["quality", "damaged", "wrong_item", "logistics", "size_color_change", "refund"]
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
CLOSED_SHARE = 0.7


async def seed(db: Database, cases: int) -> dict[str, Any]:
    async with db.unit_of_work() as session:
        host = await tenants_service.create_tenant(
            session, slug="bench-host", kind=TenantKind.host, name="Bench Host", case_prefix="BH"
        )
        brands = []
        for index in range(3):
            brand = await tenants_service.create_tenant(
                session, slug=f"bench-brand-{index}", kind=TenantKind.brand, name=f"Brand {index}"
            )
            session.add(
                Partnership(host_id=host.id, brand_id=brand.id, status=PartnershipStatus.active)
            )
            brands.append(brand)
        host_agent = await tenants_service.create_user(
            session,
            host.id,
            UserCreate(
                email="agent@host.bench", name="Host agent", role=Role.agent, password=PASSWORD
            ),
        )
        brand_agent = await tenants_service.create_user(
            session,
            brands[0].id,
            UserCreate(
                email="agent@brand.bench", name="Brand agent", role=Role.agent, password=PASSWORD
            ),
        )
    rng = random.Random(7)
    now = utcnow()
    batch: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    sample_case = None
    for number in range(1, cases + 1):
        created = now - timedelta(seconds=rng.randint(0, 90 * 86400))
        closed = rng.random() < CLOSED_SHARE
        status = Status.closed if closed else rng.choice(sorted(OPEN_STATUSES))
        brand = None if status == Status.triage else rng.choice(brands)
        case_id = uuid.uuid4()
        batch.append(
            {
                "id": case_id,
                "tenant_id": host.id,
                "number": f"BH-{number:06d}",
                "brand_id": brand.id if brand else None,
                "assignee_id": brand_agent.id
                if brand is brands[0] and rng.random() < 0.3
                else None,
                "type": rng.choice(TYPES),
                "priority": rng.choice(PRIORITIES),
                "status": status,
                "title": f"Complaint {number} about product {rng.randint(1, 5000)}",
                "description": "The buyer says the parcel arrived damaged.",
                "order_platform": "douyin",
                "order_id": f"DY-{number}",
                "sku": f"SKU-{rng.randint(1, 5000)}",
                "product_name": f"Product {rng.randint(1, 5000)}",
                "tags": [],
                "custom_fields": {},
                "routing": {"evidence": "catalog_sku", "reason": "SKU is in a partner's catalog"},
                "rejected_brand_ids": [],
                "status_token": uuid.uuid4().hex,
                "created_by": "Host agent",
                "created_by_id": host_agent.id if rng.random() < 0.2 else uuid.uuid4(),
                "version": 2,
                "filed_at": created,
                "created_at": created,
                "updated_at": created,
            }
        )
        for kind, visibility in (
            ("case.created", Visibility.internal),
            ("case.routed", Visibility.partners),
        ):
            events.append(
                {
                    "uid": uuid.uuid4(),
                    "case_id": case_id,
                    "host_id": host.id,
                    "brand_id": brand.id if brand else None,
                    "type": kind,
                    "visibility": visibility,
                    "author_tenant_id": host.id,
                    "actor_kind": "user",
                    "actor_id": str(host_agent.id),
                    "actor_name": "Host agent",
                    "data": {"title": "x"},
                    "created_at": created,
                }
            )
        if brand is brands[0] and sample_case is None:
            sample_case = case_id
        if len(batch) == 5000:
            await _flush(db, batch, events)
    await _flush(db, batch, events)
    return {
        "sample_case": sample_case,
        "host_email": "agent@host.bench",
        "brand_email": "agent@brand.bench",
    }


async def existing(db: Database) -> dict[str, Any]:
    async with db.unit_of_work(write=False) as session:
        brand = await tenants_service.require_tenant_by_slug(session, "bench-brand-0")
        case_id = (
            await session.execute(select(Case.id).where(Case.brand_id == brand.id).limit(1))  # type: ignore[arg-type]
        ).scalar_one()
    return {
        "sample_case": case_id,
        "host_email": "agent@host.bench",
        "brand_email": "agent@brand.bench",
    }


async def _flush(db: Database, cases: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    if not cases:
        return
    async with db.unit_of_work() as session:
        await session.execute(insert(Case), cases)
        await session.execute(insert(CaseEvent), events)
    cases.clear()
    events.clear()


async def sign_in(http: httpx.AsyncClient, email: str) -> None:
    page = await http.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    response = await http.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text


async def measure(http: httpx.AsyncClient, url: str, rounds: int) -> tuple[float, float]:
    timings = []
    for _ in range(rounds + 2):
        started = time.perf_counter()
        response = await http.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 303), (url, response.status_code, response.text[:500])
    timings = sorted(timings[2:])  # the first two warm caches
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


async def main(cases: int, rounds: int, keep: str | None) -> None:
    with scratch_dir() as var_dir:
        url = (
            os.environ.get("CASEHUB_DATABASE_URL")
            or f"sqlite+aiosqlite:///{keep or var_dir / 'bench.db'}"
        )
        reuse = keep is not None and Path(keep).exists()  # noqa: ASYNC240 (before serving)
        await asyncio.to_thread(migrations.upgrade, url)
        settings = Settings(
            env=Environment.test,
            var_dir=var_dir,
            database_url=url,
            run_scheduler=False,
            public_base_url="http://bench",
        )
        db = Database(url)
        started = time.perf_counter()
        if reuse:
            info = await existing(db)
        else:
            info = await seed(db, cases)
            elapsed = time.perf_counter() - started
            print(f"seeded {cases} cases in {elapsed:.0f} s ({db.url.split(':')[0]})")
        await db.refresh_statistics()  # what `casehub serve` does at start (SQLite)
        app = create_app(settings, database=db)
        transport = httpx.ASGITransport(app=app)
        pages_host = [
            "/console/",
            "/console/triage",
            "/console/cases",
            "/console/cases?open=1",
            "/console/cases?status=in_progress&status=waiting_on_host",
            "/console/cases?brand=bench-brand-1&priority=urgent",
            "/console/cases?mine=1&open=1",
            "/console/cases?q=BH-000123",
            "/console/cases?q=DY-4242",
            "/console/cases?q=product%204242",
            "/console/cases/new",
            f"/console/cases/{info['sample_case']}",
        ]
        pages_brand = [
            "/console/",
            "/console/queue",
            "/console/queue?tab=all",
            "/console/queue?tab=inbox",
            "/console/cases",
            f"/console/cases/{info['sample_case']}",
        ]
        print(f"{'page':62} {'median ms':>10} {'p95 ms':>8}")
        for who, email, pages in (
            ("host", info["host_email"], pages_host),
            ("brand", info["brand_email"], pages_brand),
        ):
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                await sign_in(http, email)
                for page in pages:
                    median, p95 = await measure(http, page, rounds)
                    print(f"{who + ' ' + page:62} {median:10.1f} {p95:8.1f}")
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", help="SQLite file to seed once and reuse on later runs")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.cases, arguments.rounds, arguments.keep))
