"""The SLA API: calendars, policies, clocks on cases, the ?sla= filter and the attainment report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from hub.core.db import Database
from hub.core.models import utcnow
from hub.core.security import Scope
from hub.sla import calendars, jobs
from tenants.models import Partnership, TenantKind
from tests.cases.conftest import World, case_body, make_party, make_world

pytestmark = pytest.mark.anyio  # marked at collection, so parametrized tests keep their params

OFFICE = {
    "name": "Office",
    "time_zone": "Asia/Shanghai",
    "hours": {d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": "CN",
}


def policy(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Standard",
        "is_default": True,
        "targets": {"normal": {"first_response": 60, "resolution": 1440}},
        "warning_thresholds": [90, 75],
        "escalation": [{"action": "raise_priority"}, {"action": "notify", "party": "host"}],
    }
    body.update(overrides)
    return body


async def partnership_ids(db: Database, world: World) -> list[str]:
    async with db.unit_of_work() as session:
        from sqlalchemy import select
        from sqlmodel import col

        rows = await session.execute(
            select(col(Partnership.id), col(Partnership.brand_id)).where(
                col(Partnership.host_id) == world.host.creds.tenant.id
            )
        )
        by_brand = {brand_id: str(pid) for pid, brand_id in rows.all()}
    return [by_brand[b.creds.tenant.id] for b in world.brands]


async def test_calendar_lists_pre_filled_holidays_and_flags_unannounced_years(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    created = await http.post("/v1/sla/calendars", json=OFFICE, headers=world.host.auth)
    assert created.status_code == 201, created.text
    last = calendars.china_announced_through()
    read = await http.get(
        f"/v1/sla/calendars/{created.json()['id']}",
        params=[("year", last), ("year", last + 1)],
        headers=world.host.auth,
    )
    body = read.json()
    announced, unannounced = body["holiday_years"]
    assert announced["announced"]
    assert announced["working"]
    assert not unannounced["announced"]
    assert unannounced["working"] == []
    assert any(str(last + 1) in warning for warning in body["warnings"])
    assert body["hours"]["mon"] == ["09:00-21:00"]
    assert "sat" not in body["hours"]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"hours": {"mon": ["21:00-09:00"]}}, "#/hours/mon/0"),
        ({"hours": {"mon": ["09:00-13:00", "12:00-18:00"]}}, "#/hours/mon"),
        ({"time_zone": "Asia/Atlantis"}, "#/time_zone"),
        ({"holidays": "XX"}, "#/holidays"),
    ],
)
async def test_bad_calendars_are_422_naming_the_field(
    http: httpx.AsyncClient, db: Database, change: dict[str, Any], pointer: str
) -> None:
    world = await make_world(http, db, brands=0)
    response = await http.post(
        "/v1/sla/calendars", json={**OFFICE, **change}, headers=world.host.auth
    )
    assert response.status_code == 422, response.text
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert any(p.startswith(pointer) for p in pointers), pointers


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"targets": {"normal": {"first_response": 0}}}, "#/targets/normal/first_response"),
        ({"targets": {"high": {"resolution": -5}}}, "#/targets/high/resolution"),
        ({"targets": {"normal": {}}}, "#/targets/normal"),
        ({"targets": {}}, "#/targets"),
        ({"warning_thresholds": [100]}, "#/warning_thresholds/0"),
        ({"calendar_id": "00000000-0000-0000-0000-000000000000"}, "#/calendar_id"),
    ],
)
async def test_bad_policies_are_422_naming_the_field(
    http: httpx.AsyncClient, db: Database, change: dict[str, Any], pointer: str
) -> None:
    world = await make_world(http, db, brands=0)
    response = await http.post("/v1/sla/policies", json=policy(**change), headers=world.host.auth)
    assert response.status_code == 422, response.text
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert any(p.startswith(pointer) for p in pointers), pointers


async def test_a_policy_on_someone_elses_partnership_is_422(
    http: httpx.AsyncClient, db: Database
) -> None:
    mine = await make_world(http, db, brands=1)
    theirs = await make_world(http, db, brands=1)
    foreign = (await partnership_ids(db, theirs))[0]
    own = (await partnership_ids(db, mine))[0]
    response = await http.post(
        "/v1/sla/policies", json=policy(partnership_ids=[own, foreign]), headers=mine.host.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/partnership_ids/1"


async def test_brands_read_the_policies_of_their_partnerships_but_cannot_write(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=2)
    pids = await partnership_ids(db, world)
    await http.post("/v1/sla/policies", json=policy(), headers=world.host.auth)
    strict = await http.post(
        "/v1/sla/policies",
        json=policy(name="Strict", is_default=False, partnership_ids=[pids[0]]),
        headers=world.host.auth,
    )
    assert strict.status_code == 201
    assert strict.json()["partnership_ids"] == [pids[0]]
    first = await http.get("/v1/sla/policies", headers=world.brands[0].auth)
    assert {p["name"] for p in first.json()} == {"Standard", "Strict"}
    second = await http.get("/v1/sla/policies", headers=world.brands[1].auth)
    assert {p["name"] for p in second.json()} == {"Standard"}
    refused = await http.post(
        "/v1/sla/policies", json=policy(name="x"), headers=world.brands[0].auth
    )
    assert refused.status_code == 403
    stranger = await make_world(http, db, brands=0)
    hidden = await http.get(f"/v1/sla/policies/{strict.json()['id']}", headers=stranger.host.auth)
    assert hidden.status_code == 404
    assert (await http.get("/v1/sla/policies", headers=stranger.host.auth)).json() == []


async def test_one_default_per_host(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=0)
    first = (await http.post("/v1/sla/policies", json=policy(), headers=world.host.auth)).json()
    second = (
        await http.post("/v1/sla/policies", json=policy(name="New"), headers=world.host.auth)
    ).json()
    listed = {
        p["name"]: p["is_default"]
        for p in (await http.get("/v1/sla/policies", headers=world.host.auth)).json()
    }
    assert listed == {"New": True, "Standard": False}
    assert first["id"] != second["id"]


async def test_scopes_are_enforced(http: httpx.AsyncClient, db: Database) -> None:
    host = await make_party(http, db, TenantKind.host, scopes=[Scope.cases_read])
    assert (await http.get("/v1/sla/policies", headers=host.auth)).status_code == 403
    response = await http.post("/v1/sla/policies", json=policy(), headers=host.auth)
    assert response.status_code == 403
    assert (await http.get("/v1/reports/sla", headers=host.auth)).status_code == 403


async def test_clocks_on_cases_filters_and_the_report(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=2)
    host, brand, other = world.host, world.brands[0], world.brands[1]
    created = await http.post(
        "/v1/sla/policies",
        json=policy(targets={"normal": {"first_response": 1, "resolution": 10}}),
        headers=host.auth,
    )
    assert created.status_code == 201, created.text
    late = (
        await http.post(
            "/v1/cases", json=case_body(product={"sku": f"SKU-0-{brand.slug}"}), headers=host.auth
        )
    ).json()
    fine = (
        await http.post(
            "/v1/cases",
            json=case_body(product={"sku": f"SKU-0-{brand.slug}"}, order={"order_id": "DY-2"}),
            headers=host.auth,
        )
    ).json()
    assert {(c["side"], c["metric"]) for c in fine["sla"]} == {
        ("host", "resolution"),
        ("brand", "first_response"),
        ("brand", "resolution"),
    }
    reply = await http.post(
        f"/v1/cases/{fine['id']}/comments",
        json={"body": "on it", "visibility": "partners"},
        headers=brand.auth,
    )
    assert reply.status_code == 201

    result = await jobs.sweep(db, now=utcnow() + timedelta(minutes=5))
    assert result.breaches == 1  # the late case's first response; the other was answered

    brand_view = (await http.get(f"/v1/cases/{late['id']}", headers=brand.auth)).json()
    assert {c["side"] for c in brand_view["sla"]} == {"brand"}  # not the host's own clock
    first = next(c for c in brand_view["sla"] if c["metric"] == "first_response")
    assert first["state"] == "breached"
    assert first["breached_at"] is not None
    assert first["due_at"] == first["breached_at"]
    host_view = (await http.get(f"/v1/cases/{late['id']}", headers=host.auth)).json()
    assert {c["side"] for c in host_view["sla"]} == {"host", "brand"}

    async def listed(who: Any, kind: str) -> list[str]:
        page = await http.get("/v1/cases", params={"sla": kind}, headers=who.auth)
        return [c["id"] for c in page.json()["items"]]

    for who in (host, brand):
        assert await listed(who, "breached") == [late["id"]]
        assert await listed(who, "at_risk") == []
    # Past 75 % of the ten-minute resolution target: both cases are at risk.
    await jobs.sweep(db, now=utcnow() + timedelta(minutes=8))
    for who in (host, brand):
        assert await listed(who, "at_risk") == [fine["id"], late["id"]]
    assert (await http.get("/v1/cases", params={"sla": "breached"}, headers=other.auth)).json()[
        "items"
    ] == []
    assert (
        await http.get("/v1/cases", params={"sla": "late"}, headers=host.auth)
    ).status_code == 422

    report = (await http.get("/v1/reports/sla", headers=host.auth)).json()
    rows = {(r["brand"], r["metric"]): r for r in report["rows"]}
    first_response = rows[(brand.slug, "first_response")]
    assert first_response["completed"] == 1
    assert first_response["met"] == 1
    assert first_response["met_pct"] == 100.0
    assert first_response["open_breached"] == 1
    assert rows[(None, "resolution")]["open"] == 2
    brand_report = (await http.get("/v1/reports/sla", headers=brand.auth)).json()
    assert {r["brand"] for r in brand_report["rows"]} == {brand.slug}
    assert (
        await http.get("/v1/reports/sla", params={"from": "2025-01-01T00:00:00"}, headers=host.auth)
    ).status_code == 422


async def test_a_policy_in_use_cannot_be_deleted(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=1)
    created = (await http.post("/v1/sla/policies", json=policy(), headers=world.host.auth)).json()
    await http.post(
        "/v1/cases",
        json=case_body(product={"sku": f"SKU-0-{world.brands[0].slug}"}),
        headers=world.host.auth,
    )
    response = await http.delete(f"/v1/sla/policies/{created['id']}", headers=world.host.auth)
    assert response.status_code == 409
    calendar = (await http.post("/v1/sla/calendars", json=OFFICE, headers=world.host.auth)).json()
    updated = await http.put(
        f"/v1/sla/policies/{created['id']}",
        json=policy(calendar_id=calendar["id"]),
        headers=world.host.auth,
    )
    assert updated.status_code == 200
    assert updated.json()["calendar_id"] == calendar["id"]
    in_use = await http.delete(f"/v1/sla/calendars/{calendar['id']}", headers=world.host.auth)
    assert in_use.status_code == 409


async def test_a_calendar_that_never_opens_is_422(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=0)
    today = utcnow().date()
    monday = today - timedelta(days=today.weekday())
    mondays = [(monday + timedelta(weeks=n)).isoformat() for n in range(170)]
    response = await http.post(
        "/v1/sla/calendars",
        json={"name": "Mondays", "hours": {"mon": ["09:00-10:00"]}, "closed_dates": mondays},
        headers=world.host.auth,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/closed_dates"
