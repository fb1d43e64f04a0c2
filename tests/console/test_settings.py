"""Settings pages: partnerships, the catalog CSV, API clients, routing rules, users and teams."""

from __future__ import annotations

import re

import httpx

from hub.core.db import Database
from tenants import service as tenants_service
from tenants.models import Role, TenantKind
from tests.console.conftest import Browser, make_console_world, make_person


def _second(http: httpx.AsyncClient) -> Browser:
    return Browser(httpx.AsyncClient(transport=http._transport, base_url="http://testserver"))


async def test_a_host_invites_and_the_brand_accepts(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    async with db.unit_of_work() as session:
        newcomer = await tenants_service.create_tenant(
            session,
            slug=f"{world.brands[0].slug}-new",
            kind=TenantKind.brand,
            name="Newcomer 新品牌",
        )
    brand_admin = await make_person(db, newcomer, Role.admin)
    host = Browser(http)
    await host.sign_in(world.people["host_admin"])
    await host.get("/console/settings/partnerships")
    invited = await host.post(
        "/console/settings/partnerships",
        {"brand": newcomer.slug, "allowed_case_types": "quality", "share_buyer_contact": "true"},
    )
    assert invited.status_code == 303, invited.text
    again = await host.post("/console/settings/partnerships", {"brand": newcomer.slug})
    assert again.status_code == 422
    assert "already have a partnership" in again.text

    brand = _second(http)
    await brand.sign_in(brand_admin)
    page = await brand.get("/console/settings/partnerships")
    assert "Invited" in page.text
    action = re.search(r'action="(/console/settings/partnerships/[0-9a-f-]+/accept)"', page.text)
    assert action is not None
    assert (await brand.post(action.group(1))).status_code == 303
    assert "Active" in (await brand.get("/console/settings/partnerships")).text
    # A brand invites nobody.
    assert (await brand.post("/console/settings/partnerships", {"brand": "x"})).status_code == 403
    await brand.http.aclose()


async def test_catalog_csv_upload(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    brand = Browser(http)
    await brand.sign_in(world.people["brand0_admin"])
    await brand.get("/console/catalog")
    bad = "sku,name,category,aliases,barcode\nYOG-1,原味酸奶,食品,稻香|DX,690123\n,No SKU,,,\n"
    response = await brand.post(
        "/console/catalog/upload", files={"file": ("c.csv", bad.encode(), "text/csv")}
    )
    assert response.status_code == 422
    assert "line 3" in response.text
    assert "YOG-1" not in (await brand.get("/console/catalog")).text  # all or nothing

    good = (
        "sku,name,category,aliases,barcode\n"
        "YOG-1,原味酸奶,食品,稻香|DX,690123\nYOG-2,<b>Bold</b>,,,\n"
    )
    response = await brand.post(
        "/console/catalog/upload", files={"file": ("c.csv", good.encode("gb18030"), "text/csv")}
    )
    assert response.status_code == 303
    page = await brand.get("/console/catalog")
    assert "2 added" in page.text
    assert "原味酸奶" in page.text
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page.text
    assert "YOG-1" in (await brand.get("/console/catalog?q=690123")).text


async def test_an_api_client_secret_is_shown_once(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    admin = Browser(http)
    await admin.sign_in(world.people["host_admin"])
    await admin.get("/console/settings/clients")
    created = await admin.post(
        "/console/settings/clients", {"name": "RPA robot", "scopes": ["cases:write", "cases:read"]}
    )
    assert created.status_code == 201
    secret = re.search(r'<code class="copyable">([^<]+)</code>', created.text)
    assert secret is not None
    page = await admin.get("/console/settings/clients")
    assert "RPA robot" in page.text
    assert secret.group(1) not in page.text
    missing = await admin.post("/console/settings/clients", {"name": "No scopes"})
    assert missing.status_code == 422


async def test_routing_rules_and_their_preview(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    admin = Browser(http)
    await admin.sign_in(world.people["host_admin"])
    await admin.get("/console/settings/routing")
    created = await admin.post(
        "/console/settings/routing",
        {
            "name": "Appliances to brand 0",
            "enabled": "true",
            "conditions.keywords": "电饭煲, rice cooker",
            "actions.brand": world.brands[0].slug,
            "actions.priority": "high",
        },
    )
    assert created.status_code == 303, created.text
    page = await admin.get("/console/settings/routing")
    assert "Appliances to brand 0" in page.text
    preview = await admin.post(
        "/console/cases/preview", {"type": "quality", "title": "Rice cooker broke"}
    )
    assert world.brands[0].name in preview.text
    assert "Appliances to brand 0" in preview.text
    invalid = await admin.post(
        "/console/settings/routing",
        {
            "name": "Bad",
            "conditions.amount_min": "10",
            "conditions.amount_max": "1",
            "actions.priority": "high",
        },
    )
    assert invalid.status_code == 422
    assert "amount_min must not exceed amount_max" in invalid.text


async def test_users_and_teams(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    admin = Browser(http)
    await admin.sign_in(world.people["brand0_admin"])
    await admin.get("/console/settings/users")
    short = await admin.post(
        "/console/settings/users",
        {"name": "New agent", "email": "new@brand.example", "role": "agent", "password": "short"},
    )
    assert short.status_code == 422
    created = await admin.post(
        "/console/settings/users",
        {
            "name": "New agent",
            "email": f"new-{world.brands[0].slug}@brand.example",
            "role": "agent",
            "password": "long enough password",
        },
    )
    assert created.status_code == 303
    team = await admin.post("/console/settings/teams", {"name": "食品售后", "slug": "food"})
    assert team.status_code == 303
    duplicate = await admin.post("/console/settings/teams", {"name": "Again", "slug": "food"})
    assert duplicate.status_code == 422
    page = await admin.get("/console/settings/teams")
    assert "食品售后" in page.text
    team_id = re.search(r'/console/settings/teams/([0-9a-f-]+)/members"', page.text).group(1)  # type: ignore[union-attr]
    added = await admin.post(
        f"/console/settings/teams/{team_id}/members",
        {"user_id": str(world.people["brand0_agent"].id)},
    )
    assert added.status_code == 303
    assert world.people["brand0_agent"].name in (await admin.get("/console/settings/teams")).text
    foreign = await admin.post(
        f"/console/settings/teams/{team_id}/members",
        {"user_id": str(world.people["host_agent"].id)},
    )
    assert foreign.status_code == 404


async def test_a_webhook_url_is_checked_like_the_api(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    admin = Browser(http)
    await admin.sign_in(world.people["host_admin"])
    await admin.get("/console/settings/webhooks")
    response = await admin.post(
        "/console/settings/webhooks",
        {"url": "ftp://example.com/hook", "event_types": "case.routed"},
    )
    assert response.status_code == 422
    assert "http" in response.text
