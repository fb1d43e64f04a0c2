"""A host's live sessions through the API: registering, the line-up, listing, who sees them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from hub.core.db import Database
from hub.core.security import Scope
from tenants import live_sessions
from tenants.models import PartnershipStatus, TenantKind
from tests.tenants.conftest import Party, assert_problem, make_partnership, make_party

pytestmark = pytest.mark.anyio


async def _world(http: httpx.AsyncClient, db: Database) -> tuple[Party, Party, Party]:
    """A host with two active partner brands; the food brand has a catalog."""
    host = await make_party(http, db, TenantKind.host)
    food = await make_party(http, db, TenantKind.brand)
    beauty = await make_party(http, db, TenantKind.brand)
    await make_partnership(db, host, food)
    await make_partnership(db, host, beauty)
    response = await http.put(
        "/v1/catalog/products",
        json=[{"sku": "DX-YOG-12", "name": "稻香 原味酸奶 12杯"}],
        headers=food.auth,
    )
    assert response.status_code == 200, response.text
    return host, food, beauty


def _session(food: Party, beauty: Party, **overrides: object) -> dict:
    body: dict = {
        "title": "年货节专场",
        "platform": "douyin",
        "started_at": "2026-11-20T19:00:00+08:00",
        "ended_at": "2026-11-20T23:30:00+08:00",
        "items": [
            {"sku": "DX-YOG-12", "brand": food.slug, "price": "59.90", "units_sold": 3200},
            {"sku": "QY-SER-30", "brand": beauty.slug, "name": "青妍 精华液 30ml"},
        ],
    }
    body.update(overrides)
    return body


async def _create(http: httpx.AsyncClient, host: Party, body: dict) -> dict:
    response = await http.post("/v1/live-sessions", json=body, headers=host.auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_register_and_read_a_live_session(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)
    created = await _create(http, host, _session(food, beauty))
    assert created["title"] == "年货节专场"
    assert created["started_at"].startswith("2026-11-20T11:00:00")
    assert created["ended_at"].startswith("2026-11-20T15:30:00")
    assert created["item_count"] == 2
    assert created["units_sold"] == 3200
    yoghurt, serum = created["items"]
    assert yoghurt == {
        "sku": "DX-YOG-12",
        "brand": {"slug": food.slug, "name": food.creds.tenant.name},
        "name": "稻香 原味酸奶 12杯",
        "price": "59.90",
        "units_sold": 3200,
    }
    assert serum["name"] == "青妍 精华液 30ml"
    assert serum["price"] is None
    assert serum["units_sold"] == 0
    read = await http.get(f"/v1/live-sessions/{created['id']}", headers=host.auth)
    assert read.json() == created


async def test_list_newest_first_with_pages(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)
    other_host = await make_party(http, db, TenantKind.host)
    ids = []
    for day in (18, 20, 19):
        body = _session(food, beauty, started_at=f"2026-11-{day}T19:00:00Z", ended_at=None)
        ids.append((day, (await _create(http, host, body))["id"]))
    newest_first = [i for _, i in sorted(ids, reverse=True)]

    page = (await http.get("/v1/live-sessions?limit=2", headers=host.auth)).json()
    assert [s["id"] for s in page["items"]] == newest_first[:2]
    assert page["items"][0]["item_count"] == 2
    assert page["items"][0]["units_sold"] == 3200
    assert "items" not in page["items"][0]
    rest = await http.get(
        f"/v1/live-sessions?limit=2&cursor={page['next_cursor']}", headers=host.auth
    )
    assert [s["id"] for s in rest.json()["items"]] == newest_first[2:]
    assert rest.json()["next_cursor"] is None
    assert (await http.get("/v1/live-sessions", headers=other_host.auth)).json()["items"] == []
    assert_problem(await http.get("/v1/live-sessions?cursor=bogus", headers=host.auth), 422)


async def test_line_up_brands_must_be_active_partners(
    http: httpx.AsyncClient, db: Database
) -> None:
    host, food, beauty = await _world(http, db)
    suspended = await make_party(http, db, TenantKind.brand)
    await make_partnership(db, host, suspended, status=PartnershipStatus.suspended)
    stranger = await make_party(http, db, TenantKind.brand)
    other_host = await make_party(http, db, TenantKind.host)

    for slug, words in (
        (suspended.slug, "not an active partner"),
        (stranger.slug, "not an active partner"),
        ("no-such-brand", "no brand"),
        (other_host.slug, "no brand"),
    ):
        body = _session(food, beauty)
        body["items"].append({"sku": "X-1", "brand": slug})
        response = await http.post("/v1/live-sessions", json=body, headers=host.auth)
        assert words in assert_problem(response, 422, pointer="#/items/2/brand")["detail"]
    assert (await http.get("/v1/live-sessions", headers=host.auth)).json()["items"] == []


async def test_bad_input(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)

    async def post(body: dict) -> httpx.Response:
        return await http.post("/v1/live-sessions", json=body, headers=host.auth)

    twice = _session(food, beauty)
    twice["items"].append({"sku": "DX-YOG-12", "brand": beauty.slug})
    assert_problem(await post(twice), 422, pointer="#/items/2/sku")
    assert_problem(
        await post(_session(food, beauty, ended_at="2026-11-20T18:00:00+08:00")),
        422,
        pointer="#/ended_at",
    )
    assert_problem(
        await post(_session(food, beauty, started_at="2026-11-20T19:00:00")),
        422,
        pointer="#/started_at",
    )
    assert_problem(await post(_session(food, beauty, title="")), 422, pointer="#/title")
    no_start = _session(food, beauty)
    del no_start["started_at"]
    assert_problem(await post(no_start), 422, pointer="#/started_at")
    bad_item = _session(food, beauty)
    bad_item["items"][0].update(price="-1", units_sold=-5)
    response = await post(bad_item)
    assert_problem(response, 422, pointer="#/items/0/price")
    assert_problem(response, 422, pointer="#/items/0/units_sold")
    fen = _session(food, beauty)
    fen["items"][0]["price"] = "59.999"
    assert_problem(await post(fen), 422, pointer="#/items/0/price")
    extra = _session(food, beauty, audience=10_000)
    assert_problem(await post(extra), 422, pointer="#/audience")


async def test_replace_the_line_up(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)
    created = await _create(http, host, _session(food, beauty))
    sid = created["id"]
    line_up = [
        {"sku": "DX-YOG-12", "brand": food.slug, "price": "55.00", "units_sold": 3350},
        {"sku": "QY-MASK-10", "brand": beauty.slug, "units_sold": 12},
    ]
    response = await http.put(f"/v1/live-sessions/{sid}/items", json=line_up, headers=host.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["sku"], i["units_sold"]) for i in body["items"]] == [
        ("DX-YOG-12", 3350),
        ("QY-MASK-10", 12),
    ]
    assert body["items"][0]["price"] == "55.00"
    assert body["items"][0]["name"] == "稻香 原味酸奶 12杯"
    assert body["units_sold"] == 3362
    assert (await http.get(f"/v1/live-sessions/{sid}", headers=host.auth)).json() == body

    empty = await http.put(f"/v1/live-sessions/{sid}/items", json=[], headers=host.auth)
    assert empty.json()["items"] == []
    assert empty.json()["item_count"] == 0


async def test_line_up_kept_after_a_suspension_but_not_extended(
    http: httpx.AsyncClient, db: Database
) -> None:
    host, food, beauty = await _world(http, db)
    sid = (await _create(http, host, _session(food, beauty)))["id"]
    partnerships = (await http.get("/v1/partnerships", headers=host.auth)).json()["items"]
    food_pid = next(p["id"] for p in partnerships if p["brand"]["slug"] == food.slug)
    await http.post(f"/v1/partnerships/{food_pid}/suspend", headers=host.auth)

    settled = [
        {"sku": "DX-YOG-12", "brand": food.slug, "units_sold": 3300},
        {"sku": "QY-SER-30", "brand": beauty.slug},
    ]
    response = await http.put(f"/v1/live-sessions/{sid}/items", json=settled, headers=host.auth)
    assert response.status_code == 200, response.text
    added = [*settled, {"sku": "DX-MILK-24", "brand": food.slug}]
    response = await http.put(f"/v1/live-sessions/{sid}/items", json=added, headers=host.auth)
    assert_problem(response, 422, pointer="#/2/brand")
    twice = [*settled, {"sku": "QY-SER-30", "brand": beauty.slug}]
    response = await http.put(f"/v1/live-sessions/{sid}/items", json=twice, headers=host.auth)
    assert_problem(response, 422, pointer="#/2/sku")


async def test_change_title_and_end(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)
    sid = (await _create(http, host, _session(food, beauty, ended_at=None)))["id"]
    ended = await http.patch(
        f"/v1/live-sessions/{sid}",
        json={"ended_at": "2026-11-21T00:10:00+08:00", "title": "年货节专场 加播"},
        headers=host.auth,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_at"].startswith("2026-11-20T16:10:00")
    assert ended.json()["title"] == "年货节专场 加播"
    assert ended.json()["item_count"] == 2
    too_late = await http.patch(
        f"/v1/live-sessions/{sid}", json={"started_at": "2026-11-22T00:00:00Z"}, headers=host.auth
    )
    assert_problem(too_late, 422, pointer="#/ended_at")
    cleared = await http.patch(
        f"/v1/live-sessions/{sid}", json={"ended_at": None}, headers=host.auth
    )
    assert cleared.json()["ended_at"] is None


async def test_live_sessions_are_the_hosts_alone(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)
    other_host = await make_party(http, db, TenantKind.host)
    sid = (await _create(http, host, _session(food, beauty)))["id"]
    line_up = [{"sku": "DX-YOG-12", "brand": food.slug}]

    for outsider in (food, other_host):
        assert_problem(await http.get(f"/v1/live-sessions/{sid}", headers=outsider.auth), 404)
        assert_problem(
            await http.put(f"/v1/live-sessions/{sid}/items", json=line_up, headers=outsider.auth),
            404,
        )
        assert_problem(
            await http.patch(
                f"/v1/live-sessions/{sid}", json={"title": "x"}, headers=outsider.auth
            ),
            404,
        )
    assert_problem(await http.get(f"/v1/live-sessions/{uuid.uuid4()}", headers=host.auth), 404)
    assert_problem(await http.get("/v1/live-sessions", headers=food.auth), 403)
    created_by_brand = await http.post(
        "/v1/live-sessions", json=_session(food, beauty), headers=food.auth
    )
    assert assert_problem(created_by_brand, 403)["type"].endswith("/wrong-tenant-kind")


async def test_scopes(http: httpx.AsyncClient, db: Database) -> None:
    reader = await make_party(http, db, TenantKind.host, scopes=[Scope.cases_read])
    assert (await http.get("/v1/live-sessions", headers=reader.auth)).status_code == 200
    body = {"title": "t", "started_at": "2026-11-20T19:00:00Z"}
    response = await http.post("/v1/live-sessions", json=body, headers=reader.auth)
    assert assert_problem(response, 403)["required_scope"] == "cases:write"
    outsider = await make_party(http, db, TenantKind.host, scopes=[Scope.catalog_read])
    assert_problem(await http.get("/v1/live-sessions", headers=outsider.auth), 403)


async def test_host_lookup_for_cases(http: httpx.AsyncClient, db: Database) -> None:
    host, food, beauty = await _world(http, db)
    other_host = await make_party(http, db, TenantKind.host)
    sid = uuid.UUID((await _create(http, host, _session(food, beauty)))["id"])
    async with db.unit_of_work() as session:
        found = await live_sessions.get_host_live_session(session, host.tenant_id, sid)
        assert found is not None
        assert found.title == "年货节专场"
        assert await live_sessions.get_host_live_session(session, other_host.tenant_id, sid) is None
