"""Each vendor against its fake: the exact request and signature, and how each answer is judged."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.core.db import Database
from hub.core.events import EventType
from hub.core.models import utcnow
from notifiers.dispatcher import Dispatcher
from notifiers.models import (
    DeliveryOutcome,
    NoticeStatus,
    NotificationChannel,
    NotificationDelivery,
    NotificationNotice,
)

from .conftest import (
    Answer,
    case_view,
    create_channel,
    create_rule,
    dingtalk_judge,
    feishu_judge,
    feishu_sign,
    make_event,
    make_tenant_party,
    publish,
    slack_judge,
    wecom_judge,
)

pytestmark = pytest.mark.anyio


async def _notices(db: Database, channel_id: str) -> list[NotificationNotice]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(NotificationNotice)
            .where(NotificationNotice.channel_id == uuid.UUID(channel_id))  # type: ignore[arg-type]
            .order_by(NotificationNotice.created_at)  # type: ignore[arg-type]
        )
        return list(rows.scalars())


async def _channel(db: Database, channel_id: str) -> NotificationChannel:
    async with db.unit_of_work(write=False) as session:
        channel = await session.get(NotificationChannel, uuid.UUID(channel_id))
        assert channel is not None
        return channel


async def _deliveries(db: Database, channel_id: str) -> list[NotificationDelivery]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(NotificationDelivery)
            .where(NotificationDelivery.channel_id == uuid.UUID(channel_id))  # type: ignore[arg-type]
            .order_by(NotificationDelivery.attempted_at)  # type: ignore[arg-type]
        )
        return list(rows.scalars())


async def test_dingtalk_signs_the_query_and_sends_markdown_with_keyword_and_mentions(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(dingtalk_judge("tok-0123456789", secret="SECsecret", keyword="CaseHub"))
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="dingtalk",
        webhook_url=fake.url("/robot/send?access_token=tok-0123456789"),
        secret="SECsecret",
        keyword="CaseHub",
        locale="zh-CN",
    )
    await create_rule(http, party, channel["id"], mentions=["13800000000"])
    view = case_view(title="酸奶 [胀包](http://evil.example) <b>", priority="urgent")
    await publish(db, make_event({party.creds.tenant.id: view}))
    now = utcnow()

    [outcome] = await dispatcher.run_once(now=now)

    assert outcome.result.outcome == DeliveryOutcome.succeeded, outcome.result
    [request] = fake.requests
    assert request.query["access_token"] == "tok-0123456789"
    assert request.query["timestamp"] == str(int(now.timestamp() * 1000))
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["at"] == {"isAtAll": False, "atMobiles": ["13800000000"]}
    text = body["markdown"]["text"]
    assert "LRBB-000123" in text
    assert f"(http://testserver/console/cases/{view['case']['id']})" in text
    assert "@13800000000" in text
    assert "CaseHub" in text
    assert "[胀包]" not in text
    assert "<b>" not in text
    assert "紧急" in text
    assert "新工单已分派" in body["markdown"]["title"]
    [notice] = await _notices(db, channel["id"])
    assert notice.status == NoticeStatus.sent
    [delivery] = await _deliveries(db, channel["id"])
    assert delivery.vendor_code == "0"
    assert delivery.notice_count == 1


async def test_wecom_sends_markdown_with_user_mentions(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(wecom_judge("key-abcdef123456"))
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="wecom",
        webhook_url=fake.url("/cgi-bin/webhook/send?key=key-abcdef123456"),
        locale="en",
    )
    await create_rule(http, party, channel["id"], mentions=["zhangsan"])
    await publish(db, make_event({party.creds.tenant.id: case_view()}))

    [outcome] = await dispatcher.run_once()

    assert outcome.result.outcome == DeliveryOutcome.succeeded
    body = fake.requests[0].json()
    assert set(body) == {"msgtype", "markdown"}
    content = body["markdown"]["content"]
    assert content.startswith("#### New case routed")
    assert "<@zhangsan>" in content
    assert len(content.encode()) <= 4096


async def test_feishu_signs_the_body_and_sends_a_post(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(feishu_judge("hook-token-1234", secret="fs-secret"))
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="feishu",
        webhook_url=fake.url("/open-apis/bot/v2/hook/hook-token-1234"),
        secret="fs-secret",
        locale="zh-CN",
    )
    await create_rule(http, party, channel["id"], mentions=["ou_abc123"])
    view = case_view(title='<at user_id="all">所有人</at> 破损')
    await publish(db, make_event({party.creds.tenant.id: view}))
    now = utcnow()

    [outcome] = await dispatcher.run_once(now=now)

    assert outcome.result.outcome == DeliveryOutcome.succeeded, outcome.result
    body = fake.requests[0].json()
    assert body["timestamp"] == str(int(now.timestamp()))
    assert body["sign"] == feishu_sign("fs-secret", body["timestamp"])
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert "LRBB-000123" in post["title"]
    elements = [e for row in post["content"] for e in row]
    assert {"tag": "at", "user_id": "ou_abc123"} in elements
    links = [e for e in elements if e["tag"] == "a"]
    assert links == [
        {
            "tag": "a",
            "text": "在 CaseHub 中查看",
            "href": f"http://testserver/console/cases/{view['case']['id']}",
        }
    ]
    assert all(e["tag"] != "at" or e["user_id"] != "all" for e in elements)
    assert any('<at user_id="all">' in e.get("text", "") for e in elements)  # inert text


async def test_slack_sends_blocks_with_escaped_text(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(slack_judge("/services/T000/B000/XXXXXXXXXXXX"))
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="slack",
        webhook_url=fake.url("/services/T000/B000/XXXXXXXXXXXX"),
        locale="en",
    )
    await create_rule(http, party, channel["id"], mentions=["U024BE7LH"])
    await publish(db, make_event({party.creds.tenant.id: case_view(title="A & B <!channel>")}))

    [outcome] = await dispatcher.run_once()

    assert outcome.result.outcome == DeliveryOutcome.succeeded
    body = fake.requests[0].json()
    assert body["blocks"][0]["type"] == "section"
    text = body["blocks"][0]["text"]["text"]
    assert text.startswith("<@U024BE7LH>")
    assert "A &amp; B &lt;!channel&gt;" in text
    assert "<!channel>" not in text.replace("&lt;!channel&gt;", "")
    assert "New case routed" in body["text"]


async def test_a_business_error_inside_http_200_is_a_failure_retried_later(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(dingtalk_judge("tok-0123456789"))
    fake.override = [Answer(body={"errcode": -1, "errmsg": "系统繁忙"})]
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="dingtalk",
        webhook_url=fake.url("/robot/send?access_token=tok-0123456789"),
    )
    await create_rule(http, party, channel["id"])
    await publish(db, make_event({party.creds.tenant.id: case_view()}))
    t0 = utcnow()

    [first] = await dispatcher.run_once(now=t0)

    assert first.result.outcome == DeliveryOutcome.failed
    assert first.result.error == "-1: 系统繁忙"
    [notice] = await _notices(db, channel["id"])
    assert notice.status == NoticeStatus.pending
    assert notice.attempt_count == 1
    assert notice.next_attempt_at is not None
    assert timedelta(seconds=7) <= notice.next_attempt_at - t0 <= timedelta(seconds=13)
    assert await dispatcher.run_once(now=t0 + timedelta(seconds=5)) == []
    [second] = await dispatcher.run_once(now=notice.next_attempt_at)
    assert second.result.outcome == DeliveryOutcome.succeeded
    [notice] = await _notices(db, channel["id"])
    assert notice.status == NoticeStatus.sent
    assert (await _channel(db, channel["id"])).failing_since is None


async def test_the_vendors_throttle_pauses_the_channel_without_costing_a_try(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(dingtalk_judge("tok-0123456789"))
    fake.override = [
        Answer(body={"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
    ]
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http,
        party,
        kind="dingtalk",
        webhook_url=fake.url("/robot/send?access_token=tok-0123456789"),
    )
    await create_rule(http, party, channel["id"])
    await publish(db, make_event({party.creds.tenant.id: case_view()}))
    t0 = utcnow()

    [first] = await dispatcher.run_once(now=t0)

    assert first.result.outcome == DeliveryOutcome.throttled
    stored = await _channel(db, channel["id"])
    assert stored.send_after == t0 + timedelta(minutes=10)
    [notice] = await _notices(db, channel["id"])
    assert (notice.status, notice.attempt_count) == (NoticeStatus.pending, 0)
    assert await dispatcher.run_once(now=t0 + timedelta(minutes=5)) == []
    [second] = await dispatcher.run_once(now=t0 + timedelta(minutes=10))
    assert second.result.outcome == DeliveryOutcome.succeeded


async def test_a_permanent_error_suspends_the_channel_tells_its_owner_and_holds_the_notices(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    wecom = await vendors(wecom_judge("the-right-key-1234"))
    slack = await vendors(slack_judge("/services/T000/B000/XXXXXXXXXXXX"))
    party = await make_tenant_party(http, db)
    broken = await create_channel(
        http, party, kind="wecom", webhook_url=wecom.url("/cgi-bin/webhook/send?key=wrong-key-99")
    )
    alarm = await create_channel(
        http, party, kind="slack", webhook_url=slack.url("/services/T000/B000/XXXXXXXXXXXX")
    )
    await create_rule(http, party, broken["id"])
    await create_rule(
        http, party, alarm["id"], event_types=[EventType.notification_channel_disabled]
    )
    tenant = party.creds.tenant.id
    await publish(db, make_event({tenant: case_view()}))

    [outcome] = await dispatcher.run_once()

    assert outcome.result.outcome == DeliveryOutcome.channel_error
    assert outcome.result.vendor_code == "93000"
    read = (await http.get(f"/v1/notifications/channels/{broken['id']}", headers=party.auth)).json()
    assert read["enabled"] is False
    assert read["disabled_by"] == "vendor"
    assert read["disabled_reason"].startswith("93000: invalid webhook url")
    [held] = await _notices(db, broken["id"])
    assert held.status == NoticeStatus.held
    # The owner is told on its other channel; the broken one never gets told about itself.
    [told] = await dispatcher.run_once()
    assert told.claimed.channel_id == uuid.UUID(alarm["id"])
    assert "Notification channel suspended" in slack.requests[0].json()["text"] or (
        "通知渠道已暂停" in slack.requests[0].json()["text"]
    )
    # Events while suspended are held too; fixing and enabling sends them, coalesced.
    await publish(db, make_event({tenant: case_view(number="LRBB-000124")}))
    fixed = await http.patch(
        f"/v1/notifications/channels/{broken['id']}",
        json={
            "webhook_url": wecom.url("/cgi-bin/webhook/send?key=the-right-key-1234"),
            "enabled": True,
        },
        headers=party.auth,
    )
    assert fixed.status_code == 200, fixed.text
    [resumed] = await dispatcher.run_once()
    assert resumed.result.outcome == DeliveryOutcome.succeeded
    assert len(resumed.claimed.notices) == 2
    content = wecom.requests[-1].json()["markdown"]["content"]
    assert "LRBB-000123" in content
    assert "LRBB-000124" in content


async def test_slack_invalid_payload_fails_the_message_not_the_channel(
    http: httpx.AsyncClient, db: Database, dispatcher: Dispatcher, vendors: Callable[..., Any]
) -> None:
    fake = await vendors(slack_judge("/services/T000/B000/XXXXXXXXXXXX"))
    fake.override = [Answer(status=400, body="invalid_payload")]
    party = await make_tenant_party(http, db)
    channel = await create_channel(
        http, party, kind="slack", webhook_url=fake.url("/services/T000/B000/XXXXXXXXXXXX")
    )
    await create_rule(http, party, channel["id"])
    await publish(db, make_event({party.creds.tenant.id: case_view()}))

    [outcome] = await dispatcher.run_once()

    assert outcome.result.outcome == DeliveryOutcome.rejected
    [notice] = await _notices(db, channel["id"])
    assert notice.status == NoticeStatus.failed
    assert notice.error == "HTTP 400: invalid_payload"
    assert (await _channel(db, channel["id"])).enabled is True


REPLIES = {
    "garbage": Answer(body="<html>502 Bad Gateway</html>"),
    "unavailable": Answer(status=503, body="busy"),
    "silence": Answer(hang=True),
}


@pytest.mark.parametrize("reply", sorted(REPLIES))
async def test_garbage_errors_and_silence_never_lose_the_notice_or_block_others(
    http: httpx.AsyncClient,
    db: Database,
    dispatcher: Dispatcher,
    vendors: Callable[..., Any],
    reply: str,
) -> None:
    bad = await vendors(dingtalk_judge("tok-bad-123456"))
    bad.override = [REPLIES[reply]]
    good = await vendors(wecom_judge("key-good-123456"))
    party = await make_tenant_party(http, db)
    bad_channel = await create_channel(
        http, party, kind="dingtalk", webhook_url=bad.url("/robot/send?access_token=tok-bad-123456")
    )
    good_channel = await create_channel(
        http, party, kind="wecom", webhook_url=good.url("/cgi-bin/webhook/send?key=key-good-123456")
    )
    await create_rule(http, party, bad_channel["id"])
    await create_rule(http, party, good_channel["id"])
    await publish(db, make_event({party.creds.tenant.id: case_view()}))

    outcomes = {o.claimed.channel_id: o.result for o in await dispatcher.run_once()}

    assert outcomes[uuid.UUID(good_channel["id"])].outcome == DeliveryOutcome.succeeded
    assert outcomes[uuid.UUID(bad_channel["id"])].outcome == DeliveryOutcome.failed
    [notice] = await _notices(db, bad_channel["id"])
    assert notice.status == NoticeStatus.pending
    assert notice.next_attempt_at is not None
