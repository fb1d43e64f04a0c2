"""Every route, walked with a stranger's token: nothing of another company comes back.

A host and a brand build up data of every kind; then another host and another brand, holding
every scope, call every ``/v1`` route. Routes that name a resource must answer 403, 404, 405 or a
request-shape 422 (which is decided before anything is looked up); lists must not contain any of
the first companies' ids. A new route whose path parameter this test cannot fill fails the test,
so whoever adds one adds it here too.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import TenantKind
from tests.cases.conftest import case_body, make_party, make_world

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FIXED_PARAMS = {"action": "acknowledge"}


async def _their_data(http: httpx.AsyncClient, db: Database) -> tuple[dict[str, str], list[str]]:
    """Data of every kind owned by one host and one brand; returns path ids and secrets."""
    world = await make_world(http, db, brands=1)
    host, brand = world.host, world.brands[0]
    ids: dict[str, str] = {}
    endpoint = await http.post(
        "/v1/webhooks/endpoints",
        json={"url": "https://93.184.215.14/hook", "event_types": ["*"]},
        headers=brand.auth,
    )
    assert endpoint.status_code == 201, endpoint.text
    ids["endpoint_id"] = endpoint.json()["id"]
    case = await http.post(
        "/v1/cases",
        json=case_body(product={"sku": f"SKU-0-{brand.slug}"}),
        headers=host.auth,
    )
    assert case.status_code == 201, case.text
    ids["case_id"] = case.json()["id"]
    attachment = await http.post(
        f"/v1/cases/{ids['case_id']}/attachments",
        files={"file": ("p.png", PNG, "image/png")},
        headers=host.auth,
    )
    ids["attachment_id"] = attachment.json()["id"]
    deliveries = await http.get(
        f"/v1/webhooks/endpoints/{ids['endpoint_id']}/deliveries", headers=brand.auth
    )
    ids["message_id"] = deliveries.json()["items"][0]["id"]
    rule = await http.post(
        "/v1/routing/rules",
        json={"name": "vip", "actions": {"priority": "high"}},
        headers=host.auth,
    )
    ids["rule_id"] = rule.json()["id"]
    users = await http.get("/v1/users", headers=host.auth)
    client = await http.post(
        "/v1/clients", json={"name": "rpa", "scopes": ["cases:read"]}, headers=host.auth
    )
    ids["client_id"] = client.json()["id"]
    ids["user_id"] = (users.json()["items"] or [{"id": ids["client_id"]}])[0]["id"]
    partnerships = await http.get("/v1/partnerships", headers=host.auth)
    if partnerships.status_code == 200:
        ids["partnership_id"] = partnerships.json()["items"][0]["id"]
    live = await http.post(
        "/v1/live-sessions",
        json={
            "title": "双11",
            "started_at": "2026-11-11T12:00:00Z",
            "items": [{"sku": f"SKU-0-{brand.slug}", "brand": brand.slug}],
        },
        headers=host.auth,
    )
    if live.status_code == 201:
        ids["live_session_id"] = live.json()["id"]
    calendar = await http.post(
        "/v1/sla/calendars",
        json={"name": "Office", "hours": {"mon": ["09:00-21:00"]}, "holidays": "CN"},
        headers=host.auth,
    )
    assert calendar.status_code == 201, calendar.text
    ids["calendar_id"] = calendar.json()["id"]
    policy = await http.post(
        "/v1/sla/policies",
        json={
            "name": "Standard",
            "is_default": True,
            "calendar_id": ids["calendar_id"],
            "targets": {"normal": {"first_response": 60}},
        },
        headers=host.auth,
    )
    assert policy.status_code == 201, policy.text
    ids["policy_id"] = policy.json()["id"]
    channel = await http.post(
        "/v1/notifications/channels",
        json={
            "name": "ops mailbox",
            "kind": "email",
            "smtp": {"host": "93.184.215.14"},
            "from_address": "casehub@example.com",
            "recipients": ["ops@example.com"],
        },
        headers=brand.auth,
    )
    assert channel.status_code == 201, channel.text
    ids["channel_id"] = channel.json()["id"]
    notification_rule = await http.post(
        "/v1/notifications/rules",
        json={"name": "all", "channel_id": ids["channel_id"], "event_types": ["*"]},
        headers=brand.auth,
    )
    assert notification_rule.status_code == 201, notification_rule.text
    ids["notification_rule_id"] = notification_rule.json()["id"]
    campaign = await http.post(
        "/v1/campaigns",
        json={"kind": "address_change", "title": "改地址", "brands": [brand.slug]},
        headers=host.auth,
    )
    assert campaign.status_code == 201, campaign.text
    ids["campaign_id"] = campaign.json()["id"]
    upload = await http.post(
        "/v1/imports",
        files={"file": ("orders.csv", "订单号,问题类型\nDY-WALK-1,换货\n".encode())},
        headers=host.auth,
    )
    assert upload.status_code == 202, upload.text
    ids["job_id"] = upload.json()["job"]["id"]
    ids["sku"] = f"SKU-0-{brand.slug}"
    secrets = [value for key, value in ids.items() if key != "sku"] + [case.json()["number"]]
    ids["brand"] = brand.slug
    return ids, secrets


def _routes(app: Any) -> list[tuple[str, set[str]]]:
    """Every ``/v1`` path and its methods, from the OpenAPI document (routers may nest)."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [
        (path, {method.upper() for method in operations})
        for path, operations in paths.items()
        if path.startswith("/v1/")
    ]


async def test_a_stranger_gets_nothing_from_any_route(
    app: Any, http: httpx.AsyncClient, db: Database
) -> None:
    ids, secrets = await _their_data(http, db)
    strangers = [
        await make_party(http, db, TenantKind.host, scopes=list(Scope)),
        await make_party(http, db, TenantKind.brand, scopes=list(Scope)),
    ]
    unfillable: list[str] = []
    leaks: list[str] = []
    walked = 0
    routes = _routes(app)
    for route_path, methods in routes:
        params = re.findall(r"{(\w+)}", route_path)
        missing = [p for p in params if p not in ids and p not in FIXED_PARAMS]
        if missing:
            unfillable.append(f"{route_path} needs {missing}")
            continue
        path = route_path.format(**{**ids, **FIXED_PARAMS})
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            if not params and method != "GET":
                continue  # creating one's own things is no leak
            for stranger in strangers:
                body = {} if method in ("POST", "PUT", "PATCH") else None
                # Name their brand and a version, so that no answer is decided by a missing
                # parameter before the resource is looked up.
                response = await http.request(
                    method,
                    path,
                    params={"brand": ids["brand"]},
                    json=body,
                    headers={**stranger.auth, "If-Match": '"1"'},
                )
                walked += 1
                label = f"{method} {route_path} as {stranger.creds.tenant.kind.value}"
                if params:
                    shape_only = response.status_code == 422 and response.json().get(
                        "type", ""
                    ).endswith("/validation")
                    if response.status_code not in (403, 404, 405) and not shape_only:
                        leaks.append(f"{label}: {response.status_code} {response.text[:200]}")
                elif any(secret in response.text for secret in secrets):
                    leaks.append(f"{label}: lists another company's data")
    assert walked >= len(routes)
    assert not unfillable, "add ids for these routes to the walk: " + "; ".join(unfillable)
    assert not leaks, "\n".join(leaks)
