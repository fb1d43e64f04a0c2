"""A filed case reaches the brand's DingTalk group and the host's e-mail digest, with no buyer
contact details anywhere."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest

from hub.cases.digest import digest_figures
from hub.core.crypto import load_secret_box
from hub.core.db import Database
from hub.core.events import bus
from hub.core.models import utcnow
from hub.core.settings import Settings
from notifiers.digest import queue_due_digests
from notifiers.dispatcher import Dispatcher
from notifiers.handlers import on_event
from tests.cases.conftest import case_body, make_world
from tests.notifiers.conftest import FakeVendor, create_channel, create_rule, dingtalk_judge

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"notifier_allowed_hosts": ["127.0.0.0/8"]})


async def test_a_routed_case_reaches_the_brands_group_and_the_hosts_digest(
    http: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    bus.subscribe(on_event)
    fake = await FakeVendor(dingtalk_judge("brand-robot-token-1")).start()
    host_robot = await FakeVendor(dingtalk_judge("host-robot-token-1")).start()
    dispatcher = Dispatcher(db, settings, load_secret_box(settings), rng=random.Random(1))
    try:
        world = await make_world(http, db, brands=1)
        host, brand = world.host, world.brands[0]
        group = await create_channel(
            http,
            brand,
            kind="dingtalk",
            webhook_url=fake.url("/robot/send?access_token=brand-robot-token-1"),
            locale="zh-CN",
        )
        await create_rule(http, brand, group["id"], event_types=["case.routed"])
        leads = await create_channel(
            http,
            host,
            kind="dingtalk",
            webhook_url=host_robot.url("/robot/send?access_token=host-robot-token-1"),
            locale="en",
            digest_hour=9,
        )
        filed = await http.post(
            "/v1/cases",
            json=case_body(product={"sku": f"SKU-0-{brand.slug}", "name": "酸奶"}),
            headers=host.auth,
        )
        assert filed.status_code == 201, filed.text
        case = filed.json()
        assert case["status"] == "routed"

        [outcome] = await dispatcher.run_once()
        assert outcome.result.outcome == "succeeded"
        text = fake.requests[0].json()["markdown"]["text"]
        assert case["number"] in text
        assert f"http://testserver/console/cases/{case['id']}" in text
        for personal in ("张三", "13812345678", "5678", "世纪大道"):
            assert personal not in text

        # The host's digest: queued once by the scheduler job, then sent like any notice.
        read = await http.get(f"/v1/notifications/channels/{leads['id']}", headers=host.auth)
        due = read.json()["next_digest_at"]
        assert due is not None
        at = utcnow() + timedelta(days=1, hours=1)
        async with db.unit_of_work() as session:
            assert await queue_due_digests(session, now=at, figures=digest_figures) == 1
        async with db.unit_of_work() as session:
            assert await queue_due_digests(session, now=at, figures=digest_figures) == 0
        [digest] = await dispatcher.run_once(now=at)
        assert digest.result.outcome == "succeeded"
        markdown = host_robot.requests[0].json()["markdown"]
        assert markdown["title"].startswith("CaseHub daily digest")
        assert "Open **1**" in markdown["text"]
        assert brand.creds.tenant.name in markdown["text"]
        read = await http.get(f"/v1/notifications/channels/{leads['id']}", headers=host.auth)
        assert read.json()["next_digest_at"] > due
    finally:
        await dispatcher.aclose()
        await fake.close()
        await host_robot.close()
