"""A burst of 100 events to one DingTalk robot: within 20 a minute, coalesced, nothing lost."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from hub.core.db import Database
from hub.core.models import utcnow
from notifiers.dispatcher import Dispatcher
from notifiers.models import NoticeStatus, NotificationNotice

from .conftest import (
    case_view,
    create_channel,
    create_rule,
    dingtalk_judge,
    make_event,
    make_tenant_party,
    publish,
)

NEW_CASES = re.compile(r"(\d+) 个新工单")


async def _statuses(db: Database, channel_id: str) -> dict[NoticeStatus, int]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(NotificationNotice.status, func.count())
            .where(NotificationNotice.channel_id == uuid.UUID(channel_id))  # type: ignore[arg-type]
            .group_by(NotificationNotice.status)
        )
        return {status: count for status, count in rows.all()}


async def test_a_burst_of_100_events_arrives_within_the_limit_as_coalesced_messages(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(dingtalk_judge("tok-burst-123456", secret="SECburst", per_minute=20))
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="dingtalk",
        webhook_url=fake.url("/robot/send?access_token=tok-burst-123456"),
        secret="SECburst",
        locale="zh-CN",
    )
    await create_rule(http, party, channel["id"])
    tenant = party.creds.tenant.id
    # A controlled clock ahead of the real one (so every notice is due): 100 cases filed over
    # 30 seconds right after a broadcast, the dispatcher stepping along.
    start = utcnow() + timedelta(hours=1)
    numbers = [f"LRBB-{n:06d}" for n in range(1, 101)]
    for index, number in enumerate(numbers):
        await publish(db, make_event({tenant: case_view(number=number)}))
        await dispatcher.run_once(now=start + timedelta(seconds=0.3 * index))
    now = start + timedelta(seconds=30)
    while (await _statuses(db, channel["id"])).get(NoticeStatus.pending):
        await dispatcher.run_once(now=now)
        now += timedelta(seconds=1)
        assert now < start + timedelta(minutes=10), "the burst never drained"

    assert await _statuses(db, channel["id"]) == {NoticeStatus.sent: 100}
    answers = [a.body["errcode"] for a in fake.answers]
    assert set(answers) == {0}, "the robot throttled us"
    stamps = [int(r.query["timestamp"]) for r in fake.requests]
    for first in stamps:
        assert sum(1 for s in stamps if first <= s < first + 60_000) <= 20
    assert len(fake.requests) < 30
    counted = 0
    for request in fake.requests:
        markdown = request.json()["markdown"]
        match = NEW_CASES.search(markdown["title"])
        if match:
            counted += int(match.group(1))
            assert "个新工单" in markdown["text"]
        else:
            assert markdown["title"].startswith("新工单已分派 LRBB-")
            counted += 1
    assert counted == 100
    assert len(fake.requests) > 5, "quiet sends go one by one, then the burst coalesces"
