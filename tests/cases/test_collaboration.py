"""Comments, attachments, external references and custom fields, each in its reader's window."""

from __future__ import annotations

import hashlib

import httpx

from hub.core.db import Database
from tests.cases.conftest import World, case_body, make_world
from tests.tenants.conftest import assert_problem

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


async def routed_case(http: httpx.AsyncClient, world: World) -> dict:
    brand = world.brands[0]
    response = await http.post(
        "/v1/cases",
        json=case_body(product={"sku": f"SKU-0-{brand.slug}"}),
        headers=world.host.auth,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def upload(
    http: httpx.AsyncClient,
    case_id: str,
    headers: dict[str, str],
    data: bytes,
    *,
    name: str = "photo.png",
    content_type: str = "image/png",
    visibility: str = "partners",
) -> httpx.Response:
    return await http.post(
        f"/v1/cases/{case_id}/attachments",
        files={"file": (name, data, content_type)},
        data={"visibility": visibility},
        headers=headers,
    )


async def test_evidence_is_stored_with_its_digest_and_served_safely(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    case = await routed_case(http, world)
    response = await upload(http, case["id"], world.host.auth, PNG, name="../../etc/破损.png")
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert attachment["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert attachment["size"] == len(PNG)
    assert attachment["filename"] == "破损.png"
    brand = world.brands[0]
    download = await http.get(
        f"/v1/cases/{case['id']}/attachments/{attachment['id']}/content", headers=brand.auth
    )
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_internal_evidence_stays_with_its_author(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    case = await routed_case(http, world)
    brand = world.brands[0]
    internal = (
        await upload(
            http,
            case["id"],
            world.host.auth,
            PDF,
            name="notes.pdf",
            content_type="application/pdf",
            visibility="internal",
        )
    ).json()
    shared = (await upload(http, case["id"], world.host.auth, PNG)).json()
    seen = await http.get(f"/v1/cases/{case['id']}/attachments", headers=brand.auth)
    assert [a["id"] for a in seen.json()] == [shared["id"]]
    hidden = await http.get(
        f"/v1/cases/{case['id']}/attachments/{internal['id']}/content", headers=brand.auth
    )
    assert_problem(hidden, 404)
    events = (await http.get(f"/v1/cases/{case['id']}/events", headers=brand.auth)).json()
    names = [e["data"].get("attachment", {}).get("filename") for e in events["items"]]
    assert "notes.pdf" not in names


async def test_content_must_match_an_allowed_type(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    case = await routed_case(http, world)
    disguised = await upload(http, case["id"], world.host.auth, b"MZ\x90\x00" + b"\x00" * 60)
    assert_problem(disguised, 415)
    html = await upload(
        http,
        case["id"],
        world.host.auth,
        b"<html><script>x</script>",
        name="a.html",
        content_type="text/html",
    )
    assert_problem(html, 415)
    mismatch = await upload(
        http, case["id"], world.host.auth, PDF, name="a.png", content_type="image/png"
    )
    assert_problem(mismatch, 415)


async def test_attachments_over_the_limit_are_413(
    http: httpx.AsyncClient, db: Database, settings: object
) -> None:
    world = await make_world(http, db)
    case = await routed_case(http, world)
    limit = settings.attachment_max_bytes  # type: ignore[attr-defined]
    big = PNG + b"\x00" * (limit - len(PNG) + 1)
    response = await upload(http, case["id"], world.host.auth, big)
    assert_problem(response, 413)


async def test_a_brand_links_its_own_ticket(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    case = await routed_case(http, world)
    brand = world.brands[0]
    linked = await http.put(
        f"/v1/cases/{case['id']}/external-refs",
        json={"system": "zendesk", "ref": "ZD-4711", "url": "https://brand.example/t/4711"},
        headers=brand.auth,
    )
    assert linked.status_code == 200, linked.text
    mine = (await http.get(f"/v1/cases/{case['id']}", headers=brand.auth)).json()
    assert mine["external_refs"] == [
        {"system": "zendesk", "ref": "ZD-4711", "url": "https://brand.example/t/4711"}
    ]
    host_view = (await http.get(f"/v1/cases/{case['id']}", headers=world.host.auth)).json()
    assert host_view["external_refs"] == []
    found = await http.get("/v1/cases?external_ref=ZD-4711", headers=brand.auth)
    assert [c["id"] for c in found.json()["items"]] == [case["id"]]
    bad = await http.put(
        f"/v1/cases/{case['id']}/external-refs",
        json={"system": "zendesk", "ref": "x", "url": "javascript:alert(1)"},
        headers=brand.auth,
    )
    assert_problem(bad, 422, pointer="#/url")


async def test_a_brands_required_fields_are_asked_for_by_name(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    brand = world.brands[0]
    defined = await http.put(
        "/v1/custom-fields",
        json=[
            {
                "key": "batch_no",
                "label": "批次号",
                "kind": "text",
                "case_type": "quality",
                "required": True,
            },
            {"key": "opened", "label": "Opened", "kind": "boolean"},
        ],
        headers=brand.auth,
    )
    assert defined.status_code == 200, defined.text
    body = case_body(product={"sku": f"SKU-0-{brand.slug}"})
    missing = await http.post("/v1/cases", json=body, headers=world.host.auth)
    problem = assert_problem(missing, 422, pointer="#/custom_fields/batch_no")
    assert "批次号" in problem["detail"]
    wrong = await http.post(
        "/v1/cases",
        json={**body, "custom_fields": {"batch_no": "B1", "opened": "maybe"}},
        headers=world.host.auth,
    )
    assert_problem(wrong, 422, pointer="#/custom_fields/opened")
    ok = await http.post(
        "/v1/cases",
        json={**body, "custom_fields": {"batch_no": "B20261101", "opened": True}},
        headers=world.host.auth,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["custom_fields"] == {"batch_no": "B20261101", "opened": True}
    other_type = await http.post(
        "/v1/cases",
        json={**body, "type": "logistics", "order": {"order_id": "LOG-1"}},
        headers=world.host.auth,
    )
    assert other_type.status_code == 201


async def test_comments_need_a_known_visibility(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db)
    case = await routed_case(http, world)
    response = await http.post(
        f"/v1/cases/{case['id']}/comments",
        json={"body": "hi", "visibility": "everyone"},
        headers=world.host.auth,
    )
    assert_problem(response, 422, pointer="#/visibility")


async def test_a_case_names_only_its_own_hosts_live_session(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db)
    other = await make_world(http, db, brands=1)
    theirs = await http.post(
        "/v1/live-sessions",
        json={"title": "别家直播", "started_at": "2026-11-11T12:00:00Z", "items": []},
        headers=other.host.auth,
    )
    assert theirs.status_code == 201, theirs.text
    for live_session_id in (theirs.json()["id"], "00000000-0000-4000-8000-000000000000"):
        response = await http.post(
            "/v1/cases",
            json=case_body(live_session_id=live_session_id),
            headers=world.host.auth,
        )
        assert_problem(response, 422)
        assert response.json()["pointer"] == "#/live_session_id"
