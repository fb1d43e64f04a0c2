"""Webhook deliveries to a loopback receiver: throughput, lateness, and delivery through failures.

    .venv/bin/python -m bench.webhooks [--messages 20000] [--endpoints 4] [--postgres URL]

1. Throughput: ``--messages`` events already in the outbox for ``--endpoints`` endpoints of one
   tenant; one ``casehub worker`` process delivers them to a receiver in another process.
   Target ≥ 500 deliveries/s.
2. Lateness: ``casehub serve`` (dispatcher in the same process, as on one box) while a client
   adds 100 comments a second for 20 s; the receiver measures event time → first arrival.
   Target p50 ≤ 200 ms, p99 ≤ 1 s.
3. Failures: 2,000 events to a receiver that fails 30 % of all attempts at random; a dispatcher
   in this process steps a controlled clock from one due time to the next through the whole retry
   schedule. Target: every message delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from bench._server import (
    ROOT,
    VENV_BIN,
    bench_env,
    database_url,
    demo_client,
    free_port,
    run,
    scratch_dir,
    served,
)


@contextmanager
def receiver(fail_rate: float = 0.0) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._receiver", str(port), "--fail-rate", str(fail_rate)],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def stats(base: str) -> dict[str, float]:
    return httpx.get(base).json()  # type: ignore[no-any-return]


async def _fill_outbox(url: str, target: str, messages: int, endpoints: int) -> None:
    from hub.core.db import Database
    from hub.core.events import DomainEvent, EventType, bus
    from tenants.models import Tenant, TenantKind
    from webhooks import handlers
    from webhooks.models import WebhookEndpoint
    from webhooks.signing import generate_secret

    bus.subscribe(handlers.on_event)
    db = Database(url)
    tenant = Tenant(slug=f"bench-{uuid.uuid4().hex[:6]}", kind=TenantKind.brand, name="Bench")
    async with db.unit_of_work() as session:
        session.add(tenant)
        await session.flush()
        for index in range(endpoints):
            session.add(
                WebhookEndpoint(
                    tenant_id=tenant.id,
                    url=f"{target}/hook/{index}",
                    event_types=["*"],
                    secret=generate_secret(),
                )
            )
    view = {"case": {"id": str(uuid.uuid4()), "title": "酸奶胀包", "status": "routed"}}
    per_batch = max(1, 500 // endpoints)
    for start in range(0, messages // endpoints, per_batch):
        async with db.unit_of_work() as session:
            for _ in range(min(per_batch, messages // endpoints - start)):
                await bus.publish(
                    session,
                    DomainEvent(
                        id=uuid.uuid4(),
                        type=EventType.case_comment_added,
                        occurred_at=datetime.now(UTC),
                        case_id=None,
                        views={tenant.id: view},
                    ),
                )
    await db.dispose()


async def _count_done(url: str) -> int:
    from hub.core.db import Database
    from webhooks.models import MessageStatus, WebhookMessage

    db = Database(url)
    async with db.unit_of_work(write=False) as session:
        done = await session.execute(
            select(func.count()).where(col(WebhookMessage.status) == MessageStatus.succeeded)
        )
        count = int(done.scalar_one())
    await db.dispose()
    return count


def throughput(args: argparse.Namespace) -> str:
    with scratch_dir() as var, receiver() as target:
        env = bench_env(var, database_url(var, args.postgres))
        env["CASEHUB_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
        run("casehub", "db", "upgrade", env=env)
        url = env.get("CASEHUB_DATABASE_URL") or f"sqlite:///{var / 'casehub.db'}"
        asyncio.run(_fill_outbox(url, target, args.messages, args.endpoints))
        worker = subprocess.Popen([str(VENV_BIN / "casehub"), "worker"], env=env, cwd=ROOT)
        started = time.monotonic()
        try:
            while stats(target)["delivered"] < args.messages:
                if time.monotonic() - started > 300:
                    raise SystemExit("the worker did not finish within 5 minutes")
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            time.sleep(1)  # let the last outcomes be recorded
            recorded = asyncio.run(_count_done(url))
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    return (
        f"throughput: {args.messages} messages to {args.endpoints} endpoints by one worker in "
        f"{elapsed:.1f} s = {args.messages / elapsed:.0f} deliveries/s "
        f"({recorded} recorded as succeeded)"
    )


def lateness(args: argparse.Namespace) -> str:
    with scratch_dir() as var, receiver() as target:
        env = bench_env(var, database_url(var, args.postgres))
        env["CASEHUB_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
        env["CASEHUB_RUN_SCHEDULER"] = "true"
        run("casehub", "db", "upgrade", env=env)
        run("casehub", "demo", env=env)
        with served(env, free_port()) as base:
            host, brand = (_token(base, *demo_client(var, i)) for i in (0, 1))
            hook = httpx.post(
                f"{base}/v1/webhooks/endpoints",
                json={"url": f"{target}/hook", "event_types": ["case.comment_added"]},
                headers=brand,
            )
            hook.raise_for_status()
            case = httpx.post(
                f"{base}/v1/cases",
                json={"type": "quality", "title": "酸奶胀包", "product": {"sku": "DX-YOG-12"}},
                headers=host,
            ).json()
            sent = asyncio.run(_comments(base, case["id"], host, rate=100, seconds=20))
            time.sleep(3)
            figures = stats(target)
    return (
        f"lateness at 100 events/s for 20 s ({sent} events, {figures['delivered']} delivered): "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
    )


def _token(base: str, client_id: str, secret: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _comments(
    base: str, case_id: str, headers: dict[str, str], *, rate: int, seconds: int
) -> int:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
            tasks.append(
                asyncio.create_task(
                    client.post(
                        f"/v1/cases/{case_id}/comments",
                        json={"body": f"进展 {n}", "visibility": "partners"},
                    )
                )
            )
        answers = await asyncio.gather(*tasks)
    return sum(1 for a in answers if a.status_code == 201)


def failures(args: argparse.Namespace) -> str:
    with scratch_dir() as var, receiver(fail_rate=0.3) as target:
        env = bench_env(var, database_url(var, args.postgres))
        run("casehub", "db", "upgrade", env=env)
        url = env.get("CASEHUB_DATABASE_URL") or f"sqlite:///{var / 'casehub.db'}"
        os.environ["CASEHUB_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
        asyncio.run(_fill_outbox(url, target, 2000, 1))
        rounds, simulated = asyncio.run(_step_through_schedule(url, var))
        figures = stats(target)
        delivered = asyncio.run(_count_done(url))
    return (
        f"30 % failing: {delivered}/2000 delivered after {figures['attempts']} attempts "
        f"({figures['failed']} failed) in {rounds} dispatcher steps over {simulated} of "
        "simulated time"
    )


async def _step_through_schedule(url: str, var: Path) -> tuple[int, timedelta]:
    from hub.core.db import Database
    from hub.core.settings import Settings
    from webhooks.dispatcher import Dispatcher
    from webhooks.models import WebhookMessage

    settings = Settings(var_dir=var, database_url=url)
    db = Database(url)
    dispatcher = Dispatcher(db, settings, concurrency=200, per_endpoint=200, batch_size=500)
    start = now = datetime.now(UTC)
    rounds = 0
    try:
        while True:
            await dispatcher.run_once(now=now)
            rounds += 1
            async with db.unit_of_work(write=False) as session:
                due = await session.execute(select(func.min(col(WebhookMessage.next_attempt_at))))
                next_due = due.scalar_one_or_none()
            if next_due is None:
                break
            now = max(now, next_due)
    finally:
        await dispatcher.aclose()
        await db.dispose()
    return rounds, now - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--postgres", help="a scratch PostgreSQL URL (emptied first)")
    parser.add_argument("--only", choices=["throughput", "lateness", "failures"])
    args = parser.parse_args()
    for name, part in (("throughput", throughput), ("lateness", lateness), ("failures", failures)):
        if args.only in (None, name):
            print(part(args), flush=True)


if __name__ == "__main__":
    main()
