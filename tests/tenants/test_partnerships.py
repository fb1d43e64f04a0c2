"""Partnerships through the API: invitation, acceptance, terms, states and who may see what."""

from __future__ import annotations

import uuid

import httpx
import pytest

from hub.core.db import Database
from hub.core.security import Scope
from tenants import partnerships
from tenants.models import PartnershipStatus, TenantKind
from tests.tenants.conftest import Party, assert_problem, make_partnership, make_party

pytestmark = pytest.mark.anyio


async def _pair(http: httpx.AsyncClient, db: Database) -> tuple[Party, Party]:
    return await make_party(http, db, TenantKind.host), await make_party(http, db, TenantKind.brand)


async def _invite(http: httpx.AsyncClient, host: Party, brand: Party, **terms: object) -> dict:
    response = await http.post(
        "/v1/partnerships", json={"brand": brand.slug, **terms}, headers=host.auth
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_invite_accept_suspend_resume(http: httpx.AsyncClient, db: Database) -> None:
    host, brand = await _pair(http, db)
    invited = await _invite(
        http, host, brand, allowed_case_types=["quality"], share_buyer_contact=True, note="双11"
    )
    assert invited["status"] == "invited"
    assert invited["host"] == {"slug": host.slug, "name": host.creds.tenant.name}
    assert invited["brand"] == {"slug": brand.slug, "name": brand.creds.tenant.name}
    assert invited["allowed_case_types"] == ["quality"]
    assert invited["share_buyer_contact"] is True
    assert invited["note"] == "双11"
    assert invited["sla_policy_id"] is None
    assert invited["accepted_at"] is None
    assert invited["allowed_actions"] == ["update"]
    pid = invited["id"]

    seen = (await http.get(f"/v1/partnerships/{pid}", headers=brand.auth)).json()
    assert seen["allowed_actions"] == ["accept", "decline"]

    accepted = await http.post(f"/v1/partnerships/{pid}/accept", headers=brand.auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"
    assert accepted.json()["accepted_at"] is not None
    assert accepted.json()["allowed_actions"] == []

    suspended = await http.post(f"/v1/partnerships/{pid}/suspend", headers=host.auth)
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["suspended_at"] is not None
    assert suspended.json()["allowed_actions"] == ["resume", "update"]

    resumed = await http.post(f"/v1/partnerships/{pid}/resume", headers=host.auth)
    assert resumed.json()["status"] == "active"
    assert resumed.json()["suspended_at"] is None


async def test_both_sides_list_theirs_and_nobody_else_sees_them(
    http: httpx.AsyncClient, db: Database
) -> None:
    host, brand = await _pair(http, db)
    other_brand = await make_party(http, db, TenantKind.brand)
    stranger = await make_party(http, db, TenantKind.host)
    first = await _invite(http, host, brand)
    second = await _invite(http, host, other_brand)

    host_list = (await http.get("/v1/partnerships", headers=host.auth)).json()
    assert [p["id"] for p in host_list["items"]] == [first["id"], second["id"]]
    assert host_list["next_cursor"] is None
    brand_list = (await http.get("/v1/partnerships", headers=brand.auth)).json()
    assert [p["id"] for p in brand_list["items"]] == [first["id"]]
    assert brand_list["items"][0]["host"]["slug"] == host.slug
    assert (await http.get("/v1/partnerships", headers=stranger.auth)).json()["items"] == []

    page = (await http.get("/v1/partnerships?limit=1", headers=host.auth)).json()
    assert [p["id"] for p in page["items"]] == [first["id"]]
    rest = await http.get(f"/v1/partnerships?cursor={page['next_cursor']}", headers=host.auth)
    assert [p["id"] for p in rest.json()["items"]] == [second["id"]]

    await http.post(f"/v1/partnerships/{first['id']}/accept", headers=brand.auth)
    active = (await http.get("/v1/partnerships?status=active", headers=host.auth)).json()
    assert [p["id"] for p in active["items"]] == [first["id"]]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("POST", "/accept"),
        ("POST", "/decline"),
        ("POST", "/suspend"),
        ("POST", "/resume"),
    ],
)
async def test_foreign_partnership_is_not_found(
    http: httpx.AsyncClient, db: Database, method: str, suffix: str
) -> None:
    host, brand = await _pair(http, db)
    pid = (await _invite(http, host, brand))["id"]
    for stranger_kind in (TenantKind.host, TenantKind.brand):
        stranger = await make_party(http, db, stranger_kind)
        kwargs: dict = {"json": {"note": "x"}} if method == "PATCH" else {}
        response = await http.request(
            method, f"/v1/partnerships/{pid}{suffix}", headers=stranger.auth, **kwargs
        )
        assert_problem(response, 404)
    missing = await http.request(
        method, f"/v1/partnerships/{uuid.uuid4()}{suffix}", headers=host.auth, json={}
    )
    assert_problem(missing, 404)


async def test_invalid_transitions_answer_409_with_allowed_actions(
    http: httpx.AsyncClient, db: Database
) -> None:
    host, brand = await _pair(http, db)
    pid = (await _invite(http, host, brand))["id"]

    body = assert_problem(await http.post(f"/v1/partnerships/{pid}/accept", headers=host.auth), 409)
    assert body["allowed_actions"] == ["update"]
    assert body["status"] == 409
    body = assert_problem(
        await http.post(f"/v1/partnerships/{pid}/suspend", headers=host.auth), 409
    )
    assert "invited" in body["detail"]
    body = assert_problem(
        await http.post(f"/v1/partnerships/{pid}/suspend", headers=brand.auth), 409
    )
    assert body["allowed_actions"] == ["accept", "decline"]

    await http.post(f"/v1/partnerships/{pid}/accept", headers=brand.auth)
    body = assert_problem(
        await http.post(f"/v1/partnerships/{pid}/accept", headers=brand.auth), 409
    )
    assert body["allowed_actions"] == []
    body = assert_problem(await http.post(f"/v1/partnerships/{pid}/resume", headers=host.auth), 409)
    assert body["allowed_actions"] == ["suspend", "update"]
    assert_problem(await http.post(f"/v1/partnerships/{pid}/decline", headers=brand.auth), 409)


async def test_invite_bad_input(http: httpx.AsyncClient, db: Database) -> None:
    host, brand = await _pair(http, db)
    other_host = await make_party(http, db, TenantKind.host)

    unknown = await http.post(
        "/v1/partnerships", json={"brand": "no-such-brand"}, headers=host.auth
    )
    assert "no-such-brand" in assert_problem(unknown, 422, pointer="#/brand")["detail"]
    a_host = await http.post("/v1/partnerships", json={"brand": other_host.slug}, headers=host.auth)
    assert "not a brand" in assert_problem(a_host, 422, pointer="#/brand")["detail"]
    bad_slug = await http.post("/v1/partnerships", json={"brand": "Not A Slug"}, headers=host.auth)
    assert_problem(bad_slug, 422, pointer="#/brand")
    missing = await http.post("/v1/partnerships", json={}, headers=host.auth)
    assert_problem(missing, 422, pointer="#/brand")
    bad_type = await http.post(
        "/v1/partnerships",
        json={"brand": brand.slug, "allowed_case_types": ["quality", "haunted"]},
        headers=host.auth,
    )
    assert_problem(bad_type, 422, pointer="#/allowed_case_types/1")
    sla = await http.post(
        "/v1/partnerships",
        json={"brand": brand.slug, "sla_policy_id": str(uuid.uuid4())},
        headers=host.auth,
    )
    assert_problem(sla, 422, pointer="#/sla_policy_id")
    long_note = await http.post(
        "/v1/partnerships", json={"brand": brand.slug, "note": "x" * 2001}, headers=host.auth
    )
    assert_problem(long_note, 422, pointer="#/note")


async def test_a_brand_cannot_invite(http: httpx.AsyncClient, db: Database) -> None:
    host, brand = await _pair(http, db)
    other_brand = await make_party(http, db, TenantKind.brand)
    response = await http.post(
        "/v1/partnerships", json={"brand": other_brand.slug}, headers=brand.auth
    )
    assert assert_problem(response, 403)["type"].endswith("/wrong-tenant-kind")
    response = await http.post("/v1/partnerships", json={"brand": host.slug}, headers=brand.auth)
    assert_problem(response, 403)


async def test_duplicate_invitation_is_409_but_a_declined_brand_can_be_invited_again(
    http: httpx.AsyncClient, db: Database
) -> None:
    host, brand = await _pair(http, db)
    first = await _invite(http, host, brand, note="first")
    again = await http.post("/v1/partnerships", json={"brand": brand.slug}, headers=host.auth)
    body = assert_problem(again, 409)
    assert body["partnership_id"] == first["id"]
    assert body["partnership_status"] == "invited"

    declined = await http.post(f"/v1/partnerships/{first['id']}/decline", headers=brand.auth)
    assert declined.json()["status"] == "declined"
    assert declined.json()["allowed_actions"] == []
    host_view = (await http.get(f"/v1/partnerships/{first['id']}", headers=host.auth)).json()
    assert host_view["allowed_actions"] == []

    reinvited = await _invite(http, host, brand, note="second", allowed_case_types=["refund"])
    assert reinvited["id"] == first["id"]
    assert reinvited["status"] == "invited"
    assert reinvited["note"] == "second"
    assert reinvited["allowed_case_types"] == ["refund"]


async def test_host_changes_terms(http: httpx.AsyncClient, db: Database) -> None:
    host, brand = await _pair(http, db)
    pid = (await _invite(http, host, brand, note="keep"))["id"]
    response = await http.patch(
        f"/v1/partnerships/{pid}",
        json={"allowed_case_types": ["refund", "quality", "refund"], "share_buyer_contact": True},
        headers=host.auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allowed_case_types"] == ["quality", "refund"]
    assert body["share_buyer_contact"] is True
    assert body["note"] == "keep"
    assert body["status"] == "invited"

    cleared = await http.patch(
        f"/v1/partnerships/{pid}", json={"allowed_case_types": [], "note": ""}, headers=host.auth
    )
    assert cleared.json()["allowed_case_types"] == []
    assert cleared.json()["note"] == ""
    assert (await http.get(f"/v1/partnerships/{pid}", headers=brand.auth)).json()[
        "share_buyer_contact"
    ] is True


async def test_terms_bad_input_and_wrong_side(http: httpx.AsyncClient, db: Database) -> None:
    host, brand = await _pair(http, db)
    pid = (await _invite(http, host, brand))["id"]
    by_brand = await http.patch(
        f"/v1/partnerships/{pid}", json={"share_buyer_contact": True}, headers=brand.auth
    )
    assert_problem(by_brand, 403)
    bad_type = await http.patch(
        f"/v1/partnerships/{pid}", json={"allowed_case_types": ["nope"]}, headers=host.auth
    )
    assert_problem(bad_type, 422, pointer="#/allowed_case_types/0")
    sla = await http.patch(
        f"/v1/partnerships/{pid}", json={"sla_policy_id": str(uuid.uuid4())}, headers=host.auth
    )
    assert_problem(sla, 422, pointer="#/sla_policy_id")
    status = await http.patch(
        f"/v1/partnerships/{pid}", json={"status": "active"}, headers=host.auth
    )
    assert_problem(status, 422, pointer="#/status")
    bad_bool = await http.patch(
        f"/v1/partnerships/{pid}", json={"share_buyer_contact": "maybe"}, headers=host.auth
    )
    assert_problem(bad_bool, 422, pointer="#/share_buyer_contact")

    await http.post(f"/v1/partnerships/{pid}/decline", headers=brand.auth)
    declined = await http.patch(f"/v1/partnerships/{pid}", json={"note": "x"}, headers=host.auth)
    assert assert_problem(declined, 409)["allowed_actions"] == []


async def test_scopes(http: httpx.AsyncClient, db: Database) -> None:
    host = await make_party(http, db, TenantKind.host, scopes=[Scope.partners_read])
    brand = await make_party(http, db, TenantKind.brand, scopes=[Scope.cases_read])
    await make_partnership(db, host, brand, status=PartnershipStatus.invited)
    assert (await http.get("/v1/partnerships", headers=host.auth)).status_code == 200
    invite = await http.post("/v1/partnerships", json={"brand": brand.slug}, headers=host.auth)
    assert assert_problem(invite, 403)["required_scope"] == "partners:manage"
    assert_problem(await http.get("/v1/partnerships", headers=brand.auth), 403)
    assert_problem(await http.get("/v1/partnerships"), 401)


async def test_active_partner_lookups_for_other_packages(
    http: httpx.AsyncClient, db: Database
) -> None:
    host = await make_party(http, db, TenantKind.host)
    active = await make_party(http, db, TenantKind.brand)
    suspended = await make_party(http, db, TenantKind.brand)
    invited = await make_party(http, db, TenantKind.brand)
    await make_partnership(db, host, active, share_buyer_contact=True)
    await make_partnership(db, host, suspended, status=PartnershipStatus.suspended)
    await make_partnership(db, host, invited, status=PartnershipStatus.invited)
    async with db.unit_of_work() as session:
        found = await partnerships.active_partnership(session, host.tenant_id, active.tenant_id)
        assert found is not None
        assert found.share_buyer_contact is True
        assert (
            await partnerships.active_partnership(session, host.tenant_id, suspended.tenant_id)
            is None
        )
        assert (
            await partnerships.active_partnership(session, active.tenant_id, host.tenant_id) is None
        )
        brands = await partnerships.active_partner_brands(session, host.tenant_id)
        assert [(p.brand_id, t.slug) for p, t in brands] == [(active.tenant_id, active.slug)]
        by_slug = await partnerships.active_partner_by_slug(session, host.tenant_id, active.slug)
        assert by_slug is not None
        assert by_slug[1].id == active.tenant_id
        assert (
            await partnerships.active_partner_by_slug(session, host.tenant_id, invited.slug) is None
        )


async def test_both_companies_hear_of_each_step(http: httpx.AsyncClient, db: Database) -> None:
    host, brand = await _pair(http, db)
    endpoint = await http.post(
        "/v1/webhooks/endpoints",
        json={"url": "https://93.184.215.14/hook", "event_types": ["*"]},
        headers=brand.auth,
    )
    assert endpoint.status_code == 201, endpoint.text
    invited = await _invite(http, host, brand)
    await http.post(f"/v1/partnerships/{invited['id']}/accept", headers=brand.auth)
    deliveries = await http.get(
        f"/v1/webhooks/endpoints/{endpoint.json()['id']}/deliveries", headers=brand.auth
    )
    types = sorted(m["event_type"] for m in deliveries.json()["items"])
    assert types == ["partnership.accepted", "partnership.invited"]
    payload = deliveries.json()["items"][0]["payload"]
    assert payload["data"]["partnership"]["host"]["slug"] == host.slug
