from __future__ import annotations

import httpx

from hub.core.db import Database
from tests.console.conftest import Browser, make_console_world


async def test_pages_render(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    host = Browser(http)
    assert (await host.sign_in(world.people["host_admin"])).status_code == 303
    for url in [
        "/console/",
        "/console/triage",
        "/console/cases",
        "/console/cases/new",
        "/console/settings/users",
        "/console/settings/teams",
        "/console/settings/clients",
        "/console/settings/partnerships",
        "/console/settings/routing",
        "/console/settings/webhooks",
        "/console/profile",
    ]:
        response = await host.get(url)
        assert response.status_code == 200, (url, response.text[:2000])
