"""A campaign end to end: buyers submit, the brand exports and acknowledges in bulk, and each
buyer's status link shows the result."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from hub.core.db import Database
from hub.core.security import Scope
from tenants import service as tenants_service
from tenants.schemas import ClientCreate
from tests.campaigns.conftest import campaign_body, create_campaign, submit
from tests.cases.conftest import make_world
from tests.tenants.conftest import Credentials, fetch_token


async def test_campaign_submissions_acknowledged_in_bulk_reach_every_buyer(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=2)
    host, brand, other = world.host, world.brands[0], world.brands[1]
    campaign = await create_campaign(http, host, campaign_body(brand))
    path = f"/f/{campaign['slug']}"
    status_pages = {}
    formula = '=HYPERLINK("http://evil.example","DY-003")'  # typed by a buyer as an order id
    for order, size in (("DY-001", "S"), ("DY-002", "M"), (formula, "L")):
        fields = {"order_id": order, "sku": "TEE-01", "size": size, "colour": "黑"}
        response = await submit(http, path, fields)
        assert response.status_code == 303, response.text
        status_pages[order] = response.headers["location"].split("?")[0]

    # the brand finds the campaign through its submissions and works them as a batch
    listed = (await http.get("/v1/campaigns", headers=brand.auth)).json()["items"]
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert listed[0]["submissions"]["pending"] == 3
    assert (await http.get("/v1/campaigns", headers=other.auth)).json()["items"] == []
    foreign = await http.get(f"/v1/campaigns/{campaign['id']}/submissions", headers=other.auth)
    assert foreign.status_code == 404
    rows = (
        await http.get(f"/v1/campaigns/{campaign['id']}/submissions", headers=brand.auth)
    ).json()["items"]
    assert [r["order_id"] for r in rows] == ["DY-001", "DY-002", formula]
    assert rows[0]["answers"] == {"size": "S", "colour": "黑", "sku": "TEE-01"}

    exported = await http.get(
        f"/v1/campaigns/{campaign['id']}/submissions/export?format=csv", headers=brand.auth
    )
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][:5] == ["submission_id", "case_number", "case_status", "order_id", "sku"]
    assert [r[3] for r in table[1:]] == ["DY-001", "DY-002", "'" + formula]  # stays text
    xlsx = await http.get(
        f"/v1/campaigns/{campaign['id']}/submissions/export?format=xlsx", headers=brand.auth
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][3] == "DY-001"
    assert values[3][3] == "'" + formula
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row if c.value)

    ack = await http.post(
        f"/v1/campaigns/{campaign['id']}/submissions/acknowledge",
        json={
            "items": [
                {"order_id": "DY-001", "outcome": "applied"},
                {"submission_id": rows[1]["id"], "outcome": "rejected", "reason": "M 码已售罄"},
                {"order_id": formula, "outcome": "too_late"},
                {"order_id": "DY-404", "outcome": "applied"},
            ]
        },
        headers=brand.auth,
    )
    assert ack.status_code == 200, ack.text
    result = ack.json()
    assert (result["acknowledged"], result["failed"]) == (3, 1)
    assert result["results"][3]["error"] == "no such submission in this campaign"

    expected = {
        "DY-001": "已按你的登记处理完成",
        "DY-002": "你的登记未通过",
        formula: "已过截止时间",
    }
    for order, words in expected.items():
        page = await http.get(status_pages[order])
        assert words in page.text, order
        assert "已处理，请确认" in page.text
    assert "M 码已售罄" in (await http.get(status_pages["DY-002"])).text

    # the host sees every outcome; acknowledging again the same way changes nothing
    again = await http.post(
        f"/v1/campaigns/{campaign['id']}/submissions/acknowledge",
        json={
            "items": [
                {"order_id": "DY-001", "outcome": "applied"},
                {"order_id": "DY-002", "outcome": "applied"},
            ]
        },
        headers=brand.auth,
    )
    assert [r["ok"] for r in again.json()["results"]] == [True, False]
    assert "already acknowledged as rejected" in again.json()["results"][1]["error"]
    read = (await http.get(f"/v1/campaigns/{campaign['id']}", headers=host.auth)).json()
    assert read["submissions"] == {"pending": 0, "applied": 1, "rejected": 1, "too_late": 1}
    cases = (await http.get("/v1/cases", headers=host.auth)).json()["items"]
    assert {c["status"] for c in cases} == {"resolved"}
    outcomes = []
    for case in cases:
        events = (await http.get(f"/v1/cases/{case['id']}/events", headers=host.auth)).json()
        outcomes += [
            e["data"]["outcome"] for e in events["items"] if e["type"] == "case.campaign_outcome"
        ]
    assert sorted(outcomes) == ["applied", "rejected", "too_late"]


async def test_bulk_acknowledgement_needs_the_resolve_scope(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1)
    brand = world.brands[0]
    campaign = await create_campaign(http, world.host, campaign_body(brand))
    await submit(http, f"/f/{campaign['slug']}", {"order_id": "DY-1", "sku": "TEE-01"})
    async with db.unit_of_work() as session:
        client, secret = await tenants_service.create_client(
            session, brand.creds.tenant.id, ClientCreate(name="sync", scopes=[Scope.cases_write])
        )
    writer = Credentials(brand.creds.tenant, client.client_id, secret)
    token = await fetch_token(http, writer)
    body = {"items": [{"order_id": "DY-1", "outcome": "applied"}]}
    url = f"/v1/campaigns/{campaign['id']}/submissions/acknowledge"
    denied = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
    assert denied.json()["required_scope"] == "cases:resolve"
    allowed = await http.post(url, json=body, headers=brand.auth)
    assert allowed.json()["acknowledged"] == 1
