"""What notifications cost: the bus handler inside the emitting transaction, and delivery.

    .venv/bin/python -m bench.notifiers [--channels 50] [--events 2000] [--database-url URL]

Builds a scratch database (SQLite unless --database-url) with one tenant whose CHANNELS DingTalk
channels each have a rule taking every event, then:

1. publishes EVENTS case events one per unit of work (as filing does) and reports the added cost
   of the notifier handler per event (it writes one notice per channel);
2. runs the dispatcher against a local fake robot that answers ``{"errcode":0}`` and reports
   messages and notices per second until everything is sent (bursts coalesce, so messages are far
   fewer than notices: the point of the pacing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench._server import scratch_dir
from hub.core import migrations
from hub.core.crypto import load_secret_box
from hub.core.db import Database
from hub.core.events import DomainEvent, EventType, bus
from hub.core.models import utcnow
from hub.core.security import Principal, PrincipalKind
from hub.core.settings import Environment, Settings
from notifiers import rules as notifier_rules
from notifiers import service
from notifiers.dispatcher import Dispatcher
from notifiers.handlers import on_event
from notifiers.schemas import DingTalkCreate, RuleCreate
from tenants import service as tenants_service
from tenants.models import TenantKind


async def fake_robot() -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                body = b'{"errcode":0,"errmsg":"ok"}'
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 27\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()  # the client hung up, or the bench is over

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def view(number: int) -> dict[str, object]:
    return {
        "case": {
            "id": str(uuid.uuid4()),
            "number": f"LRBB-{number:06d}",
            "title": "酸奶胀包 买家要求退款",
            "type": "quality",
            "priority": "high",
            "status": "routed",
            "brand": {"slug": "daoxiang", "name": "稻香食品"},
            "product": {"sku": "DX-YOG-12", "name": "稻香 原味酸奶 12杯"},
            "queue": None,
        },
        "actor": {"kind": "user", "name": "小王"},
    }


async def bench(channels: int, events: int, settings: Settings) -> None:
    if True:
        url = settings.database_url
        db = Database(url, pool_size=4)
        box = load_secret_box(settings)
        server, port = await fake_robot()
        async with db.unit_of_work() as session:
            tenant = await tenants_service.create_tenant(
                session, slug=f"bench-{uuid.uuid4().hex[:6]}", kind=TenantKind.host, name="Bench"
            )
            principal = Principal(
                PrincipalKind.client, uuid.uuid4(), tenant.id, "host", frozenset()
            )
            from hub.core.egress import EgressPolicy

            policy = EgressPolicy.from_settings(settings, settings.notifier_allowed_hosts)
            for n in range(channels):
                channel = await service.create_channel(
                    session,
                    principal,
                    DingTalkCreate(
                        kind="dingtalk",  # type: ignore[arg-type]
                        name=f"group {n}",
                        webhook_url=f"http://127.0.0.1:{port}/robot/send?access_token=t{n}",
                    ),
                    policy=policy,
                    box=box,
                )
                await notifier_rules.create_rule(
                    session,
                    principal,
                    RuleCreate(name="all", channel_id=channel.id, event_types=["*"]),
                )

        async def publish(number: int, subscribed: bool) -> float:
            event = DomainEvent(
                id=uuid.uuid4(),
                type=EventType.case_routed,
                occurred_at=datetime.now(UTC),
                case_id=None,
                views={tenant.id: view(number)},
                attributes={"priority": "high", "case_type": "quality"},
            )
            started = time.perf_counter()
            async with db.unit_of_work() as session:
                if subscribed:
                    await on_event(session, event)
                else:
                    await bus.publish(session, event)
            return time.perf_counter() - started

        baseline = [await publish(n, False) for n in range(min(events, 500))]
        with_handler = [await publish(n, True) for n in range(events)]
        extra = statistics.median(with_handler) - statistics.median(baseline)
        print(f"handler: {channels} channels, {events} events")
        print(
            f"  unit of work median {statistics.median(with_handler) * 1000:.2f} ms "
            f"(empty {statistics.median(baseline) * 1000:.2f} ms): "
            f"+{extra * 1000:.2f} ms per event for {channels} notices"
        )

        dispatcher = Dispatcher(db, settings, box, rng=random.Random(1))
        now = utcnow() + timedelta(minutes=1)
        messages = notices = 0
        started = time.perf_counter()
        while True:
            outcomes = await dispatcher.run_once(now=now)
            if not outcomes:
                break
            messages += len(outcomes)
            notices += sum(len(o.claimed.notices) for o in outcomes)
        elapsed = time.perf_counter() - started
        print(f"dispatch: {notices} notices as {messages} messages in {elapsed:.2f} s")
        print(f"  {messages / elapsed:.0f} messages/s, {notices / elapsed:.0f} notices/s")
        await dispatcher.aclose()
        server.close()
        await db.dispose()
        print(json.dumps({"channels": channels, "events": events, "database": url.split(":")[0]}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with scratch_dir() as var:
        url = args.database_url or f"sqlite+aiosqlite:///{var / 'bench.db'}"
        settings = Settings(
            env=Environment.test,
            var_dir=var,
            database_url=url,
            notifier_allowed_hosts=["127.0.0.0/8"],
            log_json=False,
        )
        migrations.upgrade(url)
        asyncio.run(bench(args.channels, args.events, settings))


if __name__ == "__main__":
    main()
