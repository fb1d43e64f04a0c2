"""Whole flows through the HTTP API: filing, routing, working a case across companies."""

from __future__ import annotations

import asyncio

import httpx

from hub.core.db import Database
from tests.cases.conftest import case_body, make_world


async def test_filed_case_is_routed_by_sku_with_its_reason(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["6901234"], 1: ["7700001"]})
    host, food, other = world.host, world.brands[0], world.brands[1]
    response = await http.post(
        "/v1/cases", json=case_body(product={"sku": "6901234", "name": "酸奶"}), headers=host.auth
    )
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["status"] == "routed"
    assert case["brand"]["slug"] == food.slug
    assert case["routing"]["evidence"] == "catalog_sku"
    assert "6901234" in case["routing"]["reason"]
    assert case["number"].endswith("-000001")
    assert case["buyer"]["phone"] == "138****5678"
    assert case["status_url"].startswith("http://testserver/s/")
    assert response.headers["etag"] == f'"{case["version"]}"'

    # The brand sees it in its own window; the other brand gets 404.
    mine = await http.get(f"/v1/cases/{case['id']}", headers=food.auth)
    assert mine.status_code == 200
    assert mine.json()["buyer"] is None  # the partnership does not share contact details
    assert mine.json()["status_url"] is None
    brand_steps = mine.json()["routing"]["steps"]
    assert all("6901234" not in step["reason"] for step in brand_steps)  # the host's reasoning
    assert "inbox" in brand_steps[-1]["reason"]
    assert (await http.get(f"/v1/cases/{case['id']}", headers=other.auth)).status_code == 404
    listed = (await http.get("/v1/cases", headers=food.auth)).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]
    assert (await http.get("/v1/cases", headers=other.auth)).json()["items"] == []


async def test_unknown_sku_goes_to_triage_not_an_error(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    response = await http.post(
        "/v1/cases",
        json=case_body(product={"sku": "NOPE-1", "name": "mystery"}, title="Broken thing"),
        headers=world.host.auth,
    )
    assert response.status_code == 201
    assert response.json()["status"] == "triage"
    assert response.json()["brand"] is None
    assert response.json()["routing"]["evidence"] == "triage"


async def test_explicit_brand_must_be_an_active_partner(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    stranger = await make_world(http, db, brands=1)
    response = await http.post(
        "/v1/cases",
        json=case_body(brand=stranger.brands[0].slug, product={"sku": "X"}),
        headers=world.host.auth,
    )
    assert response.status_code == 422
    assert "partner" in response.json()["detail"]


async def test_internal_note_hidden_public_reply_shared(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    host, brand = world.host, world.brands[0]
    case = (
        await http.post(
            "/v1/cases", json=case_body(product={"sku": f"SKU-0-{brand.slug}"}), headers=host.auth
        )
    ).json()
    note = await http.post(
        f"/v1/cases/{case['id']}/comments",
        json={"body": "VIP buyer, <b>handle</b> gently", "visibility": "internal"},
        headers=host.auth,
    )
    assert note.status_code == 201
    reply = await http.post(
        f"/v1/cases/{case['id']}/comments",
        json={"body": "我们将补发 We will resend", "visibility": "public"},
        headers=brand.auth,
    )
    assert reply.status_code == 201

    brand_events = (await http.get(f"/v1/cases/{case['id']}/events", headers=brand.auth)).json()
    bodies = [e["data"].get("comment", {}).get("body") for e in brand_events["items"]]
    assert "VIP buyer, <b>handle</b> gently" not in bodies
    assert "我们将补发 We will resend" in bodies

    host_events = (await http.get(f"/v1/cases/{case['id']}/events", headers=host.auth)).json()
    host_bodies = [e["data"].get("comment", {}).get("body") for e in host_events["items"]]
    assert "VIP buyer, <b>handle</b> gently" in host_bodies  # stored as text, verbatim
    assert "我们将补发 We will resend" in host_bodies

    read = (await http.get(f"/v1/cases/{case['id']}", headers=host.auth)).json()
    assert read["first_response_at"] is not None


async def test_not_ours_goes_back_to_triage_then_reroute(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    host, first, second = world.host, world.brands[0], world.brands[1]
    case = (
        await http.post(
            "/v1/cases", json=case_body(product={"sku": f"SKU-0-{first.slug}"}), headers=host.auth
        )
    ).json()
    assert case["brand"]["slug"] == first.slug

    rejected = await http.post(
        f"/v1/cases/{case['id']}/actions/reject",
        json={"reason": "Not our product: we never sold this SKU on Douyin"},
        headers=first.auth,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "triage"
    assert (await http.get(f"/v1/cases/{case['id']}", headers=first.auth)).status_code == 404

    host_view = (await http.get(f"/v1/cases/{case['id']}", headers=host.auth)).json()
    assert host_view["status"] == "triage"
    assert "reroute" in host_view["allowed_actions"]

    rerouted = await http.post(
        f"/v1/cases/{case['id']}/actions/reroute", json={"brand": second.slug}, headers=host.auth
    )
    assert rerouted.status_code == 200, rerouted.text
    assert rerouted.json()["brand"]["slug"] == second.slug
    assert rerouted.json()["filed_at"] == case["filed_at"]
    assert (await http.get(f"/v1/cases/{case['id']}", headers=second.auth)).status_code == 200

    # the second brand does not see the first brand's "not ours"
    events = (await http.get(f"/v1/cases/{case['id']}/events", headers=second.auth)).json()["items"]
    assert "case.rejected" not in [e["type"] for e in events]


async def test_invalid_transition_is_409_with_allowed_actions(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    host, brand = world.host, world.brands[0]
    case = (
        await http.post(
            "/v1/cases", json=case_body(product={"sku": f"SKU-0-{brand.slug}"}), headers=host.auth
        )
    ).json()
    response = await http.post(f"/v1/cases/{case['id']}/actions/close", headers=host.auth)
    assert response.status_code == 409
    assert "cancel" in response.json()["allowed_actions"]
    brand_try = await http.post(
        f"/v1/cases/{case['id']}/actions/cancel", json={"reason": "x"}, headers=brand.auth
    )
    assert brand_try.status_code == 409


async def test_full_resolution_flow(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    host, brand = world.host, world.brands[0]
    case = (
        await http.post(
            "/v1/cases", json=case_body(product={"sku": f"SKU-0-{brand.slug}"}), headers=host.auth
        )
    ).json()
    url = f"/v1/cases/{case['id']}/actions"
    steps = [
        (brand, "acknowledge", {}, "in_progress"),
        (
            brand,
            "request-info",
            {"from": "buyer", "question": "请提供批次号 Batch number?"},
            "waiting_on_buyer",
        ),
        (host, "provide-info", {"answer": "Batch 20261101"}, "in_progress"),
        (
            brand,
            "propose-resolution",
            {"kind": "refund", "amount": "59.90", "note": "Full refund"},
            "resolution_proposed",
        ),
        (host, "accept-resolution", {}, "in_progress"),
        (brand, "resolve", {"note": "Refunded"}, "resolved"),
        (host, "reopen", {"reason": "Buyer says refund not received"}, "reopened"),
        (brand, "acknowledge", {}, "in_progress"),
        (brand, "resolve", {"note": "Refund re-sent"}, "resolved"),
        (host, "close", {}, "closed"),
    ]
    for party, action, body, expected in steps:
        response = await http.post(f"{url}/{action}", json=body, headers=party.auth)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == expected, action
    events = (await http.get(f"/v1/cases/{case['id']}/events", headers=host.auth)).json()["items"]
    types = [e["type"] for e in events]
    assert types.count("case.resolved") == 2
    assert "case.closed" in types


async def test_refund_proposal_needs_an_amount(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    brand = world.brands[0]
    case = (
        await http.post(
            "/v1/cases",
            json=case_body(product={"sku": f"SKU-0-{brand.slug}"}),
            headers=world.host.auth,
        )
    ).json()
    response = await http.post(
        f"/v1/cases/{case['id']}/actions/propose-resolution",
        json={"kind": "refund"},
        headers=brand.auth,
    )
    assert response.status_code == 422
    assert response.json()["pointer"] == "#/amount"


async def test_idempotent_retry_yields_one_case(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    headers = {**world.host.auth, "Idempotency-Key": "rpa-run-42-row-7"}
    body = case_body(order={"platform": "douyin", "order_id": "DY-IDEM"})
    first = await http.post("/v1/cases", json=body, headers=headers)
    second = await http.post("/v1/cases", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    listed = (await http.get("/v1/cases", headers=world.host.auth)).json()["items"]
    assert len(listed) == 1
    other = await http.post("/v1/cases", json=case_body(title="Something else"), headers=headers)
    assert other.status_code == 422


async def test_duplicate_order_is_linked_unless_forced(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    body = case_body(order={"platform": "douyin", "order_id": "DY-DUP"})
    first = (await http.post("/v1/cases", json=body, headers=world.host.auth)).json()
    again = await http.post("/v1/cases", json=body, headers=world.host.auth)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == first["id"]
    forced = await http.post("/v1/cases", json={**body, "force_new": True}, headers=world.host.auth)
    assert forced.status_code == 201
    assert forced.json()["id"] != first["id"]


async def test_patch_needs_if_match_and_refuses_stale(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    created = await http.post("/v1/cases", json=case_body(), headers=world.host.auth)
    case, tag = created.json(), created.headers["etag"]
    url = f"/v1/cases/{case['id']}"
    missing = await http.patch(url, json={"priority": "high"}, headers=world.host.auth)
    assert missing.status_code == 428
    ok = await http.patch(
        url, json={"priority": "high"}, headers={**world.host.auth, "If-Match": tag}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["priority"] == "high"
    stale = await http.patch(
        url, json={"priority": "low"}, headers={**world.host.auth, "If-Match": tag}
    )
    assert stale.status_code == 412


async def test_event_feed_gives_each_tenant_its_window(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    host, a, b = world.host, world.brands[0], world.brands[1]
    for brand in (a, b):
        await http.post(
            "/v1/cases",
            json=case_body(
                product={"sku": f"SKU-0-{a.slug}" if brand is a else f"SKU-1-{b.slug}"},
                order={"order_id": f"O-{brand.slug}"},
            ),
            headers=host.auth,
        )
    feed_a = (await http.get("/v1/events", headers=a.auth)).json()
    feed_b = (await http.get("/v1/events", headers=b.auth)).json()
    feed_host = (await http.get("/v1/events", headers=host.auth)).json()
    assert {e["type"] for e in feed_a["items"]} == {"case.routed"}
    assert len(feed_a["items"]) == len(feed_b["items"]) == 1
    assert feed_a["items"][0]["case_id"] != feed_b["items"][0]["case_id"]
    assert len(feed_host["items"]) == 4
    again = (await http.get(f"/v1/events?after={feed_a['next_cursor']}", headers=a.auth)).json()
    assert again["items"] == []


async def test_html_is_stored_as_text(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    title = "<script>alert('x')</script> 坏了"
    case = (
        await http.post("/v1/cases", json=case_body(title=title), headers=world.host.auth)
    ).json()
    assert case["title"] == title


async def test_concurrent_filings_get_distinct_numbers(
    committed_http: httpx.AsyncClient, committed_db: Database
) -> None:
    world = await make_world(committed_http, committed_db)
    responses = await asyncio.gather(
        *(
            committed_http.post(
                "/v1/cases", json=case_body(order={"order_id": f"C-{i}"}), headers=world.host.auth
            )
            for i in range(8)
        )
    )
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["number"] for r in responses}) == 8


async def test_two_concurrent_patches_exactly_one_412(
    committed_http: httpx.AsyncClient, committed_db: Database
) -> None:
    world = await make_world(committed_http, committed_db)
    created = await committed_http.post("/v1/cases", json=case_body(), headers=world.host.auth)
    url, tag = f"/v1/cases/{created.json()['id']}", created.headers["etag"]
    headers = {**world.host.auth, "If-Match": tag}
    first, second = await asyncio.gather(
        committed_http.patch(url, json={"priority": "high"}, headers=headers),
        committed_http.patch(url, json={"priority": "urgent"}, headers=headers),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]


async def test_concurrent_idempotent_retries_make_one_case(
    committed_http: httpx.AsyncClient, committed_db: Database
) -> None:
    world = await make_world(committed_http, committed_db)
    headers = {**world.host.auth, "Idempotency-Key": "same-key"}
    body = case_body(order={"order_id": "IDEM-CONC"})
    responses = await asyncio.gather(
        *(committed_http.post("/v1/cases", json=body, headers=headers) for _ in range(4))
    )
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {201, 409}
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
