"""Buyer status page and campaign form against one server process with 1,000,000 cases stored.

    .venv/bin/python bench/status_page.py [--cases 1000000] [--seconds 20] [--connections 64]
        [--submissions 2000] [--database-url postgresql+asyncpg://…]

1. Migrates a scratch database (SQLite under a scratch var/ unless --database-url), seeds the demo
   tenants, then bulk-inserts --cases cases (with their buyer contacts and two events each: the
   routing, partners-only, and a public reply) straight into the tables — not through the API.
2. Serves CaseHub with `casehub serve` (one process) and drives GET /s/{token} with wrk (one
   thread, the other core serves) over a random sample of 20,000 links, each request from a
   random client address (X-Forwarded-For, which uvicorn trusts from loopback), so the per-address
   and per-link rate limits stay on as in production:
     - "warm": every link of the sample was viewed in the last 10 minutes (views coalesce: no write)
     - "cold": links nobody viewed yet (every request also writes its case.status_viewed event)
   Target: ≥ 1,000 requests/s with p99 ≤ 50 ms.
3. Publishes a campaign and sends --submissions buyers through it at 2,000 a minute (each buyer
   GETs the form, then POSTs it, from its own address); then the same number as one burst.
   Target: 2,000 submissions/minute without errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bench._server import bench_env, cpu_seconds, free_port, run, scratch_dir, served, wrk
from hub.cases.models import BuyerContact, Case, CaseCounter, CaseEvent
from hub.core.db import Database, insert_for, upsert
from tenants.models import Partnership, PartnershipStatus, Tenant, TenantKind

SAMPLE = 20_000
BATCH = 5_000


async def seed_cases(url: str, count: int) -> tuple[list[str], list[str]]:
    """Insert ``count`` routed cases; return two disjoint samples of their status tokens."""
    db = Database(url, pool_size=1)
    async with db.unit_of_work() as session:
        tenants = list((await session.execute(select(Tenant))).scalars())
    host = next(t for t in tenants if t.kind == TenantKind.host)
    brands = [t for t in tenants if t.kind == TenantKind.brand]
    picks = set(random.sample(range(count), min(count, 2 * SAMPLE)))
    raw = None
    if db.is_sqlite:  # the sqlite3 module straight: ten times faster than ORM bulk inserts
        raw = sqlite3.connect(make_url(db.url).database or "")
        raw.execute("PRAGMA synchronous=OFF")
    sample: list[str] = []
    started = time.perf_counter()
    base = datetime.now(UTC) - timedelta(days=60)
    for start in range(0, count, BATCH):
        cases, contacts, events = [], [], []
        for n in range(start, min(start + BATCH, count)):
            case_id = uuid.uuid4()
            brand = brands[n % len(brands)]
            token = secrets.token_urlsafe(24)
            if n in picks:
                sample.append(token)
            at = base + timedelta(seconds=n * 5)
            cases.append(
                {
                    "id": case_id,
                    "tenant_id": host.id,
                    "number": f"{host.case_prefix}-B{n:07d}",
                    "brand_id": brand.id,
                    "type": "quality",
                    "priority": "normal",
                    "status": "in_progress",
                    "title": f"酸奶胀包 #{n}",
                    "description": "买家反映收到时杯子鼓起。",
                    "order_platform": "douyin",
                    "order_id": f"DY{n:012d}",
                    "sku": f"SKU-{n % 500}",
                    "product_name": "稻香 原味酸奶 12杯",
                    "tags": [],
                    "custom_fields": {},
                    "routing": {"evidence": "catalog_sku", "reason": "bench"},
                    "rejected_brand_ids": [],
                    "status_token": token,
                    "created_by": "bench",
                    "version": 3,
                    "filed_at": at,
                    "created_at": at,
                    "updated_at": at + timedelta(hours=3),
                    "routed_at": at,
                    "first_response_at": at + timedelta(hours=2),
                }
            )
            contacts.append(
                {
                    "case_id": case_id,
                    "name": "张三",
                    "phone": f"138{n % 100_000_000:08d}",
                    "address": "上海市浦东新区世纪大道100号",
                }
            )
            for kind, visibility, author, data, offset in (
                ("case.routed", "partners", host.id, {"routing": {"reason": "bench"}}, 0),
                (
                    "case.comment_added",
                    "public",
                    brand.id,
                    {
                        "comment": {
                            "body": "您好，已为您安排补发，请留意物流。",
                            "visibility": "public",
                        }
                    },
                    2,
                ),
            ):
                events.append(
                    {
                        "uid": uuid.uuid4(),
                        "case_id": case_id,
                        "host_id": host.id,
                        "brand_id": brand.id,
                        "type": kind,
                        "visibility": visibility,
                        "author_tenant_id": author,
                        "actor_kind": "user",
                        "actor_name": "bench",
                        "data": data,
                        "created_at": at + timedelta(hours=offset),
                    }
                )
        if raw is not None:
            _insert_sqlite(raw, cases, contacts, events)
        else:
            async with db.unit_of_work() as session:
                await session.execute(insert(Case), cases)
                await session.execute(insert(BuyerContact), contacts)
                await session.execute(insert(CaseEvent), events)
        if (start // BATCH) % 40 == 0:
            print(
                f"  seeded {start + len(cases):>9,} cases ({time.perf_counter() - started:.0f} s)"
            )
    if raw is not None:
        raw.close()
    async with db.unit_of_work() as session:  # the host's numbering goes on after the seed
        await upsert(session, CaseCounter, {"tenant_id": host.id}, {"last_number": count})
        for brand in brands:  # the campaign names a brand: the demo's brands are partners
            await session.execute(
                insert_for(session)(Partnership)
                .values(
                    id=uuid.uuid4(),
                    host_id=host.id,
                    brand_id=brand.id,
                    status=PartnershipStatus.active,
                )
                .on_conflict_do_update(
                    index_elements=["host_id", "brand_id"],
                    set_={"status": PartnershipStatus.active.value},
                )
            )
    await db.dispose()
    random.shuffle(sample)
    half = len(sample) // 2
    return sample[:half], sample[half:]


def _sqlite_value(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _insert_sqlite(
    raw: sqlite3.Connection,
    cases: list[dict[str, object]],
    contacts: list[dict[str, object]],
    events: list[dict[str, object]],
) -> None:
    with raw:
        for table, rows in (('"case"', cases), ("buyer_contact", contacts), ("case_event", events)):
            columns = list(rows[0])
            raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [[_sqlite_value(row[c]) for c in columns] for row in rows],
            )


def lua_script(path: Path, tokens: list[str]) -> Path:
    listed = ",".join(f'"{t}"' for t in tokens)
    path.write_text(
        f"tokens = {{{listed}}}\n"
        "math.randomseed(os.time())\n"
        "request = function()\n"
        "  local t = tokens[math.random(#tokens)]\n"
        '  local ip = "198." .. math.random(18, 19) .. "." .. math.random(0, 255) .. "." '
        ".. math.random(1, 254)\n"
        '  return wrk.format("GET", "/s/" .. t, {["X-Forwarded-For"] = ip})\n'
        "end\n"
    )
    return path


async def warm(base: str, tokens: list[str]) -> None:
    """View every link once (their views are then coalesced for 10 minutes)."""
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        queue = list(tokens)

        async def worker(n: int) -> None:
            while queue:
                token = queue.pop()
                ip = f"198.19.{n}.{len(queue) % 250 + 1}"
                response = await client.get(f"/s/{token}", headers={"X-Forwarded-For": ip})
                assert response.status_code == 200, response.status_code

        await asyncio.gather(*(worker(n) for n in range(16)))


async def campaign(base: str, demo: dict, submissions: int) -> list[dict[str, float]]:
    host = next(t for t in demo["tenants"] if t["kind"] == "host")
    brands = [t["slug"] for t in demo["tenants"] if t["kind"] == "brand"]
    client = host["clients"][0]
    async with httpx.AsyncClient(base_url=base, timeout=60) as api:
        issued = await api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        slugs = []
        for round_ in ("paced", "burst"):
            for brand in brands:  # the first of the demo's brands that is an active partner
                created = await api.post(
                    "/v1/campaigns",
                    headers=auth,
                    json={
                        "kind": "size_colour_change",
                        "title": f"预售改尺码 bench {round_}",
                        "brands": [brand],
                        "skus": ["TEE-01"],
                        "options": {"TEE-01": {"sizes": ["S", "M", "L"], "colours": ["黑"]}},
                    },
                )
                if created.status_code == 201:
                    slugs.append(created.json()["slug"])
                    break
            else:
                raise SystemExit(f"no active partner brand in the demo: {created.text}")
    figures = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as buyers:
        for slug, pace in ((slugs[0], submissions / 60.0), (slugs[1], None)):
            figures.append(await _submit_all(buyers, slug, submissions, pace))
    return figures


async def _submit_all(
    client: httpx.AsyncClient, slug: str, count: int, per_second: float | None
) -> dict[str, float]:
    latencies: list[float] = []
    errors = dropped = 0
    semaphore = asyncio.Semaphore(64)

    async def one(n: int) -> None:
        nonlocal errors, dropped
        ip = {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}
        async with semaphore:
            started = time.perf_counter()
            try:
                form = await client.get(f"/f/{slug}", headers=ip)
                csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
                response = await client.post(
                    f"/f/{slug}",
                    headers=ip,
                    data={
                        "csrf": csrf,
                        "order_id": f"BENCH-{n:06d}",
                        "sku": "TEE-01",
                        "size": "M",
                    },
                )
            except httpx.TransportError:
                dropped += 1  # the connection, not the server's answer: counted apart
                return
            latencies.append(time.perf_counter() - started)
            if response.status_code != 303:
                errors += 1

    started = time.perf_counter()
    tasks = []
    for n in range(count):
        if per_second:
            delay = started + n / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "count": count,
        "errors": errors,
        "dropped": dropped,
        "seconds": elapsed,
        "per_minute": count / elapsed * 60,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def measured(pid: int, run_wrk: Callable[[], dict[str, float]], seconds: float) -> dict[str, Any]:
    """wrk's figures plus the server's CPU time per request: on a machine shared with other work
    the throughput is what the server got, the CPU time what each request costs."""
    before = cpu_seconds(pid)
    figures: dict[str, Any] = dict(run_wrk())
    used = cpu_seconds(pid) - before
    requests = figures["rps"] * seconds
    figures["cpu_ms"] = used / requests * 1000 if requests else float("nan")
    figures["cpu_share"] = used / seconds
    return figures


def print_page(label: str, figures: dict[str, Any]) -> None:
    print(
        f"{label:22} {figures['rps']:8.0f} requests/s  p50 {figures['p50']}  "
        f"p99 {figures['p99']}  non-2xx {figures['non_2xx']:.0f}  "
        f"server CPU {figures['cpu_ms']:.2f} ms/request "
        f"(it got {figures['cpu_share']:.0%} of a core; "
        f"{1000 / figures['cpu_ms']:.0f} requests/s per full core)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with scratch_dir() as var:
        url = args.database_url or f"sqlite+aiosqlite:///{var / 'casehub.db'}"
        env = bench_env(var, url)
        run("casehub", "db", "upgrade", env=env)
        run("casehub", "demo", env=env)
        demo = json.loads((var / "demo.json").read_text())
        print(f"seeding {args.cases:,} cases into {url.split(':')[0]} …")
        started = time.perf_counter()
        warm_tokens, cold_tokens = asyncio.run(seed_cases(url, args.cases))
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        port = free_port()
        server: list[int] = []
        with served(env, port, started=lambda p: server.append(p.pid)) as base:
            asyncio.run(warm(base, warm_tokens))
            time.sleep(2)  # let the view log write the warm-up's views
            warm_script = lua_script(var / "warm.lua", warm_tokens)
            wrk(f"{base}/s/x", seconds=3, connections=args.connections, script=warm_script)
            hot = measured(
                server[0],
                lambda: wrk(
                    f"{base}/s/x",
                    seconds=args.seconds,
                    connections=args.connections,
                    script=warm_script,
                ),
                args.seconds,
            )
            cold = measured(
                server[0],
                lambda: wrk(
                    f"{base}/s/x",
                    seconds=min(args.seconds, 10),
                    connections=args.connections,
                    script=lua_script(var / "cold.lua", cold_tokens),
                ),
                min(args.seconds, 10),
            )
            for label, figures in (("GET /s/{token} warm", hot), ("GET /s/{token} cold", cold)):
                print_page(label, figures)
            paced, burst = asyncio.run(campaign(base, demo, args.submissions))
    print()
    for label, figures in (("campaign paced", paced), ("campaign burst", burst)):
        print(
            f"{label:22} {figures['count']:.0f} submissions in {figures['seconds']:.1f} s "
            f"= {figures['per_minute']:.0f}/min  p50 {figures['p50']:.0f} ms  "
            f"p99 {figures['p99']:.0f} ms  errors {figures['errors']:.0f}  "
            f"dropped connections {figures['dropped']:.0f}"
        )


if __name__ == "__main__":
    main()
