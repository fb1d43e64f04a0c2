"""The long-running dispatcher: a commit wakes it, and it stops cleanly with sends in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.core.crypto import load_secret_box
from hub.core.db import Database
from hub.core.settings import Settings
from notifiers.dispatcher import Dispatcher

from .conftest import (
    case_view,
    create_channel,
    create_rule,
    dingtalk_judge,
    make_event,
    make_tenant_party,
    publish,
)

pytestmark = pytest.mark.anyio


async def test_a_commit_wakes_the_running_dispatcher(
    committed_http: httpx.AsyncClient,
    committed_db: Database,
    settings: Settings,
    vendors: Callable[..., Any],
) -> None:
    # The dispatcher runs beside the test, so it needs real commits on its own connections.
    http, db = committed_http, committed_db
    fake = await vendors(dingtalk_judge("tok-live-123456"))
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="dingtalk",
        webhook_url=fake.url("/robot/send?access_token=tok-live-123456"),
    )
    await create_rule(http, party, channel["id"])
    dispatcher = Dispatcher(db, settings, load_secret_box(settings), poll_seconds=60.0)
    dispatcher.start()
    try:
        await asyncio.sleep(0)
        await publish(db, make_event({party.creds.tenant.id: case_view()}))
        await fake.wait_for(1)
    finally:
        await dispatcher.stop()
    assert "LRBB-000123" in fake.requests[0].json()["markdown"]["text"]
    notices = await http.get(
        f"/v1/notifications/channels/{channel['id']}/notices", headers=party.auth
    )
    assert [n["status"] for n in notices.json()["items"]] == ["sent"]
    deliveries = await http.get(
        f"/v1/notifications/channels/{channel['id']}/deliveries", headers=party.auth
    )
    [delivery] = deliveries.json()["items"]
    assert delivery["outcome"] == "succeeded"
    assert delivery["response_body"] == '{"errcode": 0, "errmsg": "ok"}'
