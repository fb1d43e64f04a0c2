"""The status page tells the buyer when to expect a reply, from the SLA engine's clocks."""

from __future__ import annotations

import httpx

from hub.core.db import Database
from tests.buyers.conftest import file_case
from tests.cases.conftest import case_body

ALWAYS_OPEN = {
    "name": "7x24",
    "time_zone": "Asia/Shanghai",
    "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


async def test_expected_reply_comes_from_the_running_response_clock(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    host = filed.world.host
    before = await http.get(filed.path, params={"lang": "en"})
    assert "Expected reply by" not in before.text  # no policy measured that case

    calendar = await http.post("/v1/sla/calendars", json=ALWAYS_OPEN, headers=host.auth)
    assert calendar.status_code == 201, calendar.text
    policy = await http.post(
        "/v1/sla/policies",
        json={
            "name": "Standard",
            "is_default": True,
            "calendar_id": calendar.json()["id"],
            "targets": {"normal": {"first_response": 60, "resolution": 1440}},
        },
        headers=host.auth,
    )
    assert policy.status_code == 201, policy.text
    brand = filed.world.brands[0]
    second = await http.post(
        "/v1/cases",
        json=case_body(product={"sku": f"SKU-0-{brand.slug}"}, order={"order_id": "DY-SLA-1"}),
        headers=host.auth,
    )
    page = await http.get(
        "/s/" + second.json()["status_url"].rsplit("/", 1)[-1], params={"lang": "en"}
    )
    assert "Expected reply by" in page.text

    await http.post(
        f"/v1/cases/{second.json()['id']}/comments",
        json={"body": "We are on it", "visibility": "public"},
        headers=brand.auth,
    )
    answered = await http.get(
        "/s/" + second.json()["status_url"].rsplit("/", 1)[-1], params={"lang": "en"}
    )
    assert "Expected reply by" not in answered.text  # the first response is met
