"""Bulk actions: many cases at once, each one on its own."""

from __future__ import annotations

import httpx

from hub.core.db import Database
from tests.cases.conftest import World, case_body, make_world


async def _file(http: httpx.AsyncClient, world: World, n: int, sku: str) -> list[str]:
    ids = []
    for i in range(n):
        body = case_body(order={"order_id": f"O-{sku}-{i}"}, product={"sku": sku})
        response = await http.post("/v1/cases", json=body, headers=world.host.auth)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_each_case_succeeds_or_fails_on_its_own(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1, skus={0: ["SKU-A"]})
    brand = world.brands[0]
    routed = await _file(http, world, 3, "SKU-A")
    triage = await _file(http, world, 1, "UNKNOWN")
    first = await http.post(
        "/v1/cases/bulk-actions",
        json={"action": "acknowledge", "case_ids": [routed[0], routed[1]]},
        headers=brand.auth,
    )
    assert first.status_code == 200, first.text
    assert first.json()["succeeded"] == 2

    response = await http.post(
        "/v1/cases/bulk-actions",
        json={
            "action": "acknowledge",
            "case_ids": [routed[0], routed[2], triage[0], routed[2]],
            "body": {"note": "收到"},
        },
        headers=brand.auth,
    )
    assert response.status_code == 200
    result = response.json()
    assert (result["succeeded"], result["failed"]) == (1, 2)
    outcomes = {r["case_id"]: r for r in result["results"]}
    assert len(result["results"]) == 3  # each case once
    assert outcomes[routed[0]]["status"] == 409
    assert outcomes[routed[0]]["problem"]["allowed_actions"]
    assert outcomes[routed[2]]["ok"] is True
    assert outcomes[routed[2]]["case_status"] == "in_progress"
    assert outcomes[triage[0]]["status"] == 404  # not the brand's case

    read = (await http.get(f"/v1/cases/{routed[0]}", headers=brand.auth)).json()
    assert read["status"] == "in_progress"
    assert read["version"] == 2  # the refused second acknowledge changed nothing


async def test_bulk_comment_and_host_actions(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=1, skus={0: ["SKU-A"]})
    ids = await _file(http, world, 2, "SKU-A")
    response = await http.post(
        "/v1/cases/bulk-actions",
        json={
            "action": "comment",
            "case_ids": ids,
            "body": {"body": "直播间已统一补发", "visibility": "partners"},
        },
        headers=world.host.auth,
    )
    assert response.json()["succeeded"] == 2
    events = (await http.get(f"/v1/cases/{ids[1]}/events", headers=world.brands[0].auth)).json()
    assert events["items"][-1]["data"]["comment"]["body"] == "直播间已统一补发"

    cancel = await http.post(
        "/v1/cases/bulk-actions",
        json={"action": "cancel", "case_ids": ids},
        headers=world.host.auth,
    )
    assert cancel.json()["failed"] == 2
    assert {r["status"] for r in cancel.json()["results"]} == {422}  # cancel needs a reason


async def test_a_body_the_action_cannot_use_and_too_many_cases_are_refused(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    bad = await http.post(
        "/v1/cases/bulk-actions",
        json={"action": "comment", "case_ids": [world.host.creds.tenant.id.hex], "body": {}},
        headers=world.host.auth,
    )
    assert bad.status_code == 422
    many = await http.post(
        "/v1/cases/bulk-actions",
        json={
            "action": "escalate",
            "case_ids": [f"00000000-0000-0000-0000-{n:012d}" for n in range(501)],
        },
        headers=world.host.auth,
    )
    assert many.status_code == 422
    assert "at most 500" in many.json()["detail"]
