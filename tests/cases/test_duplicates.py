"""A second open case for the same order and SKU is linked to the first, even when both race."""

from __future__ import annotations

import asyncio

import httpx

from hub.core.db import Database
from tests.cases.conftest import case_body, make_world


async def test_simultaneous_filings_of_one_order_make_one_case(
    committed_http: httpx.AsyncClient, committed_db: Database
) -> None:
    world = await make_world(committed_http, committed_db)
    body = case_body(order={"platform": "douyin", "order_id": "DY-RACE"})
    answers = await asyncio.gather(
        *(committed_http.post("/v1/cases", json=body, headers=world.host.auth) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    events = await committed_http.get(
        f"/v1/cases/{answers[0].json()['id']}/events", headers=world.host.auth
    )
    linked = [e for e in events.json()["items"] if e["type"] == "case.duplicate_linked"]
    assert len(linked) == 5
