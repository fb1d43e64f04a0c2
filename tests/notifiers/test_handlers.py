"""The bus handler: rules see only their tenant's view; conditions; one notice per channel."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from hub.core.db import Database
from hub.core.events import EventType
from notifiers.models import NoticeStatus, NotificationNotice
from tenants.models import Team

from .conftest import case_view, create_channel, create_rule, make_event, make_tenant_party, publish

pytestmark = pytest.mark.anyio

SLACK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.fixture(autouse=True)
def _offline_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.core import egress

    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        return [egress.ipaddress.ip_address("93.184.215.14")]

    monkeypatch.setattr(egress, "resolve", resolve)


async def _notices(db: Database) -> list[NotificationNotice]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(select(NotificationNotice))
        return list(rows.scalars())


async def test_each_tenant_gets_its_own_view_and_absent_tenants_nothing(
    http: httpx.AsyncClient, db: Database
) -> None:
    host = await make_tenant_party(http, db)
    brand = await make_tenant_party(http, db)
    outsider = await make_tenant_party(http, db)
    for party in (host, brand, outsider):
        channel = await create_channel(http, party, kind="slack", webhook_url=SLACK)
        await create_rule(http, party, channel["id"])
    host_view = case_view(note="host only")
    brand_view = case_view()
    await publish(
        db,
        make_event({host.creds.tenant.id: host_view, brand.creds.tenant.id: brand_view}),
    )

    by_tenant = {n.tenant_id: n for n in await _notices(db)}
    assert set(by_tenant) == {host.creds.tenant.id, brand.creds.tenant.id}
    assert by_tenant[host.creds.tenant.id].payload == host_view
    assert by_tenant[brand.creds.tenant.id].payload == brand_view
    assert all(n.status == NoticeStatus.pending for n in by_tenant.values())


async def test_conditions_select_events_and_rules_on_one_channel_make_one_notice(
    http: httpx.AsyncClient, db: Database
) -> None:
    brand = await make_tenant_party(http, db)
    async with db.unit_of_work() as session:
        team = Team(tenant_id=brand.creds.tenant.id, slug="food", name="食品")
        session.add(team)
        await session.flush()
        team_id = str(team.id)
    channel = await create_channel(http, brand, kind="slack", webhook_url=SLACK)
    urgent = await create_rule(
        http,
        brand,
        channel["id"],
        conditions={"priorities": ["urgent"], "queues": ["food"]},
        mentions=["U024BE7LH"],
    )
    assert urgent["conditions"]["queues"] == [team_id]
    await create_rule(
        http,
        brand,
        channel["id"],
        event_types=[EventType.sla_warning, EventType.sla_breached],
        conditions={"sla_states": ["breached"]},
        mentions=["here"],
    )
    tenant = brand.creds.tenant.id

    def view(priority: str, queue: str | None) -> dict[str, object]:
        data = case_view(priority=priority)
        data["case"]["queue"] = queue  # type: ignore[index]
        return data

    urgent_food = make_event(
        {tenant: view("urgent", team_id)},
        attributes={"priority": "urgent", "sla_state": "breached"},
    )
    await publish(
        db,
        make_event({tenant: view("normal", team_id)}, attributes={"priority": "normal"}),
        make_event({tenant: view("urgent", None)}, attributes={"priority": "urgent"}),
        make_event(
            {tenant: view("urgent", None)},
            type=EventType.sla_warning,
            attributes={"priority": "urgent"},
        ),
        urgent_food,
    )
    breach = make_event(
        {tenant: view("low", None)}, type=EventType.sla_breached, attributes={"priority": "low"}
    )
    await publish(db, breach)

    notices = {n.event_id: n for n in await _notices(db)}
    assert set(notices) == {urgent_food.id, breach.id}
    assert notices[urgent_food.id].mentions == ["U024BE7LH"]
    assert notices[breach.id].mentions == ["here"]
    assert notices[urgent_food.id].rule_id == uuid.UUID(urgent["id"])


async def test_a_muted_channel_queues_nothing_and_a_disabled_rule_matches_nothing(
    http: httpx.AsyncClient, db: Database
) -> None:
    party = await make_tenant_party(http, db)
    muted = await create_channel(http, party, kind="slack", webhook_url=SLACK, enabled=False)
    live = await create_channel(http, party, kind="slack", webhook_url=SLACK)
    await create_rule(http, party, muted["id"])
    await create_rule(http, party, live["id"], enabled=False)
    await publish(db, make_event({party.creds.tenant.id: case_view()}))
    assert await _notices(db) == []
