"""Campaign forms: defining them, validating submissions, refusing late or flooding ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from hub.app import create_app
from hub.core.db import Database
from hub.core.settings import Settings
from tests.campaigns.conftest import campaign_body, create_campaign, submit
from tests.cases.conftest import make_world


async def test_host_defines_a_campaign_brand_cannot(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=1)
    host, brand = world.host, world.brands[0]
    created = await create_campaign(http, host, campaign_body(brand))
    assert created["state"] == "open"
    assert created["url"] == f"http://testserver/f/{created['slug']}"
    assert [f["key"] for f in created["fields"]] == ["order_id", "sku", "size", "colour"]
    assert created["brands"] == [brand.slug]
    refused = await http.post("/v1/campaigns", json=campaign_body(brand), headers=brand.auth)
    assert refused.status_code == 403
    stranger = await make_world(http, db, brands=1)
    bad = await http.post(
        "/v1/campaigns",
        json=campaign_body(stranger.brands[0]),
        headers=host.auth,
    )
    assert bad.status_code == 422
    assert bad.json()["pointer"] == "#/brands/0"
    taken = await http.post(
        "/v1/campaigns", json=campaign_body(brand, slug=created["slug"]), headers=host.auth
    )
    assert taken.status_code == 409
    other_host = await http.get(f"/v1/campaigns/{created['id']}", headers=stranger.host.auth)
    assert other_host.status_code == 404


async def test_submission_becomes_a_routed_case_and_the_buyer_gets_the_link(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=2)
    host, brand = world.host, world.brands[1]
    campaign = await create_campaign(http, host, campaign_body(brand))
    response = await submit(
        http,
        f"/f/{campaign['slug']}",
        {"order_id": "DY-7788", "sku": "TEE-01", "size": "M", "colour": "白"},
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/s/")
    assert location.endswith("?done=new")
    page = await http.get(location)
    assert "登记成功" in page.text
    assert "已转交品牌处理" in page.text

    cases = (await http.get("/v1/cases", headers=brand.auth)).json()["items"]
    assert len(cases) == 1
    case = cases[0]
    assert case["type"] == "size_color_change"
    assert case["order"]["order_id"] == "DY-7788"
    assert "尺码: M" in case["description"]
    assert f"campaign:{campaign['slug']}" in case["tags"]
    events = (await http.get(f"/v1/cases/{case['id']}/events", headers=host.auth)).json()
    created = [e for e in events["items"] if e["type"] == "case.created"]
    assert created[0]["actor"]["kind"] == "buyer"  # the buyer filed it through the host's form


async def test_invalid_answers_are_shown_again_as_text(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    campaign = await create_campaign(http, world.host, campaign_body(world.brands[0]))
    path = f"/f/{campaign['slug']}"
    wrong_size = await submit(
        http, path, {"order_id": "<script>alert(1)</script>", "sku": "TEE-02", "size": "S"}
    )
    assert wrong_size.status_code == 422
    assert "该商品没有这个选项" in wrong_size.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in wrong_size.text
    assert "<script>alert(1)</script>" not in wrong_size.text
    missing = await submit(http, path, {"sku": "NOT-IN", "size": "M"})
    assert missing.status_code == 422
    assert "请填写此项" in missing.text
    assert "该商品不在本次登记范围内" in missing.text
    assert (await http.get("/v1/cases", headers=world.host.auth)).json()["items"] == []


async def test_closed_late_and_early_campaigns_refuse_kindly(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    host, brand = world.host, world.brands[0]
    now = datetime.now(UTC)
    soon = await create_campaign(
        http, host, campaign_body(brand, opens_at=(now + timedelta(days=1)).isoformat())
    )
    early = await http.get(f"/f/{soon['slug']}")
    assert early.status_code == 403
    assert "登记尚未开始" in early.text

    campaign = await create_campaign(http, host, campaign_body(brand))
    path = f"/f/{campaign['slug']}"
    page = await http.get(path)  # the buyer opened the form before the cutoff …
    past = (now - timedelta(minutes=1)).isoformat()
    changed = await http.patch(
        f"/v1/campaigns/{campaign['id']}", json={"closes_at": past}, headers=host.auth
    )
    assert changed.status_code == 422  # … a cutoff before the opening is refused
    await http.patch(f"/v1/campaigns/{campaign['id']}", json={"closed": True}, headers=host.auth)
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    late = await http.post(
        path, data={"csrf": token, "order_id": "DY-1", "sku": "TEE-01", "size": "S"}
    )
    assert late.status_code == 410
    assert "登记已结束" in late.text
    assert (await http.get(path)).status_code == 410
    assert (await http.get("/f/no-such-campaign")).status_code == 404


async def test_per_order_links_lock_the_order_and_can_be_required(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    host = world.host
    campaign = await create_campaign(
        http, host, campaign_body(world.brands[0], kind="address_change", require_link=True)
    )
    path = f"/f/{campaign['slug']}"
    public = await http.get(path)
    assert public.status_code == 403
    assert "专属链接" in public.text
    links = await http.post(
        f"/v1/campaigns/{campaign['id']}/links",
        json={"orders": [{"order_id": "DY-5001"}, {"order_id": "DY-5002"}]},
        headers=host.auth,
    )
    assert links.status_code == 200
    url = links.json()[0]["url"].replace("http://testserver", "")
    tampered = await http.get(url[:-3] + "xyz")
    assert tampered.status_code == 403
    response = await submit(
        http,
        url,
        {"order_id": "DY-9999", "name": "李四", "phone": "13900001111", "address": "杭州市西湖区"},
    )
    assert response.status_code == 303, response.text
    cases = (await http.get("/v1/cases", headers=host.auth)).json()["items"]
    assert [c["order"]["order_id"] for c in cases] == ["DY-5001"]  # the link's, not the form's
    assert cases[0]["buyer"]["phone"] == "139****1111"
    again = await submit(
        http,
        url,
        {"name": "李四", "phone": "13900001111", "address": "杭州市西湖区"},
    )
    assert again.status_code == 303  # the same order again: back to its status page
    assert again.headers["location"].split("?")[0] == response.headers["location"].split("?")[0]


async def test_duplicate_order_on_the_public_link_is_refused(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    campaign = await create_campaign(http, world.host, campaign_body(world.brands[0]))
    path = f"/f/{campaign['slug']}"
    fields = {"order_id": "DY-42", "sku": "TEE-01", "size": "L"}
    assert (await submit(http, path, fields)).status_code == 303
    twice = await submit(http, path, fields)
    assert twice.status_code == 409
    assert "该订单已经登记过" in twice.text
    assert "/s/" not in twice.text  # the public link never hands out someone's status page


async def test_a_flood_from_one_address_is_rate_limited(
    settings: Settings, db: Database, http: httpx.AsyncClient
) -> None:
    world = await make_world(http, db, brands=1)
    campaign = await create_campaign(http, world.host, campaign_body(world.brands[0]))
    strict = settings.model_copy(update={"campaign_rate_per_ip": 2})
    app = create_app(strict, database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        path = f"/f/{campaign['slug']}"
        codes = [
            (await submit(client, path, {"order_id": f"DY-{n}", "sku": "TEE-01"})).status_code
            for n in range(3)
        ]
    assert codes == [303, 303, 429]
