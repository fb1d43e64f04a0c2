"""The routing API: rules in order, validation, tenancy, and the host's preview."""

from __future__ import annotations

import httpx

from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import TenantKind
from tests.cases.conftest import make_party, make_world
from tests.tenants.conftest import assert_problem


async def test_rules_keep_their_order_when_added_moved_and_deleted(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    host = world.host
    ids = []
    for name in ("a", "b", "c"):
        response = await http.post(
            "/v1/routing/rules",
            json={"name": name, "actions": {"priority": "high"}},
            headers=host.auth,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    first = await http.post(
        "/v1/routing/rules",
        json={"name": "first", "position": 1, "actions": {"queue": "vip"}},
        headers=host.auth,
    )
    assert first.json()["position"] == 1

    def names(response: httpx.Response) -> list[str]:
        return [rule["name"] for rule in response.json()]

    assert names(await http.get("/v1/routing/rules", headers=host.auth)) == ["first", "a", "b", "c"]
    moved = await http.patch(f"/v1/routing/rules/{ids[2]}", json={"position": 2}, headers=host.auth)
    assert moved.status_code == 200
    assert names(await http.get("/v1/routing/rules", headers=host.auth)) == ["first", "c", "a", "b"]
    deleted = await http.delete(f"/v1/routing/rules/{ids[0]}", headers=host.auth)
    assert deleted.status_code == 204
    listed = (await http.get("/v1/routing/rules", headers=host.auth)).json()
    assert [(r["name"], r["position"]) for r in listed] == [("first", 1), ("c", 2), ("b", 3)]


async def test_bad_rules_get_422_naming_the_field(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=1)
    host, brand = world.host, world.brands[0]
    cases = [
        ({"name": "x", "actions": {"brand": "not-a-partner"}}, "#/actions/brand"),
        ({"name": "x", "actions": {}}, "#/actions"),
        ({"name": "x", "actions": {"team": "food"}}, "#/actions/team"),
        (
            {"name": "x", "actions": {"priority": "high"}, "conditions": {"types": ["bogus"]}},
            "#/conditions/types/0",
        ),
        (
            {
                "name": "x",
                "actions": {"priority": "high"},
                "conditions": {"amount_min": "10", "amount_max": "1"},
            },
            "#/conditions",
        ),
        ({"name": "x", "actions": {"priority": "high"}, "when": {}}, "#/when"),
    ]
    for body, pointer in cases:
        response = await http.post("/v1/routing/rules", json=body, headers=host.auth)
        problem = assert_problem(response, 422)
        pointers = [e["pointer"] for e in problem.get("errors", [])] or [problem.get("pointer")]
        assert pointer in pointers, (body, problem)
    brand_rule = await http.post(
        "/v1/routing/rules", json={"name": "x", "actions": {"team": "nope"}}, headers=brand.auth
    )
    assert assert_problem(brand_rule, 422)["pointer"] == "#/actions/team"
    brand_tries_host_action = await http.post(
        "/v1/routing/rules", json={"name": "x", "actions": {"priority": "high"}}, headers=brand.auth
    )
    assert_problem(brand_tries_host_action, 422)


async def test_rules_are_the_tenants_own(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    other = await make_world(http, db)
    created = await http.post(
        "/v1/routing/rules",
        json={"name": "mine", "actions": {"priority": "low"}},
        headers=world.host.auth,
    )
    rule_id = created.json()["id"]
    for method, body in (("GET", None), ("PATCH", {"name": "theirs"}), ("DELETE", None)):
        response = await http.request(
            method, f"/v1/routing/rules/{rule_id}", json=body, headers=other.host.auth
        )
        assert_problem(response, 404)
    assert (await http.get("/v1/routing/rules", headers=other.host.auth)).json() == []


async def test_rules_need_the_routing_scope(http: httpx.AsyncClient, db: Database) -> None:
    host = await make_party(http, db, TenantKind.host, scopes=[Scope.cases_write])
    response = await http.get("/v1/routing/rules", headers=host.auth)
    assert_problem(response, 403)
    assert "routing:manage" in response.headers["www-authenticate"]


async def test_preview_explains_without_filing(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, skus={0: ["6901234"]})
    host, food = world.host, world.brands[0]
    response = await http.post(
        "/v1/routing/preview",
        json={"type": "quality", "title": "酸奶胀包", "product": {"sku": "6901234"}},
        headers=host.auth,
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["brand"] == {"slug": food.slug, "name": food.creds.tenant.name}
    assert preview["evidence"] == "catalog_sku"
    assert "6901234" in preview["reason"]
    assert preview["steps"][-1]["reason"] == preview["reason"]
    assert (await http.get("/v1/cases", headers=host.auth)).json()["items"] == []

    unknown = await http.post(
        "/v1/routing/preview", json={"type": "quality", "brand": "nobody"}, headers=host.auth
    )
    assert assert_problem(unknown, 422)["pointer"] == "#/brand"
    brand_preview = await http.post(
        "/v1/routing/preview", json={"type": "quality"}, headers=food.auth
    )
    assert_problem(brand_preview, 403)
