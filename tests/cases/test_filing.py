"""Filing in batches: the same outcome as filing the cases one after another."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlmodel import col

from hub.cases import filing
from hub.cases.models import Case, CaseEvent
from hub.cases.schemas import CaseCreate
from hub.core.db import Database
from hub.core.security import Principal, PrincipalKind, Scope
from routing.errors import NotAPartner
from tenants import service as tenants_service
from tenants.models import Role
from tenants.schemas import UserCreate
from tests.cases.conftest import World, case_body, make_world


def _principal(world: World) -> Principal:
    return Principal(
        PrincipalKind.client,
        uuid.uuid4(),
        world.host.creds.tenant.id,
        "host",
        frozenset(Scope),
        "RPA robot",
    )


def _case(order: str, sku: str, **overrides: object) -> CaseCreate:
    return CaseCreate.model_validate(
        case_body(order={"order_id": order}, product={"sku": sku}, **overrides)
    )


async def test_a_batch_links_duplicates_refuses_alone_and_numbers_in_order(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1, skus={0: ["SKU-A"]})
    items = [
        _case("O-1", "SKU-A"),
        _case("O-1", "SKU-A", title="again, the same order"),
        _case("O-2", "SKU-A", brand="not-a-partner"),
        _case("O-2", "SKU-A", title="same order as the refused one"),
        _case("O-3", "SKU-A"),
    ]
    async with db.unit_of_work() as session:
        results = await filing.file_cases(session, _principal(world), items)
        cases = list((await session.execute(select(Case).order_by(col(Case.number)))).scalars())
        first_events = list(
            (await session.execute(
                select(col(CaseEvent.type)).where(col(CaseEvent.case_id) == cases[0].id)
                .order_by(col(CaseEvent.id))
            )).scalars()
        )  # fmt: skip
    assert isinstance(results[2], NotAPartner)
    filed = [r for r in results if isinstance(r, filing.Filing)]
    assert [f.duplicate for f in filed] == [False, True, False, False]
    assert filed[1].case.id == filed[0].case.id
    assert [c.order_id for c in cases] == ["O-1", "O-2", "O-3"]
    assert [c.number[-6:] for c in cases] == ["000001", "000002", "000003"]
    assert {c.status.value for c in cases} == {"routed"}
    assert first_events == ["case.created", "case.routed", "case.duplicate_linked"]


async def test_round_robin_takes_consecutive_turns_within_a_batch(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, brands=1, skus={0: ["SKU-A"]})
    brand = world.brands[0]
    async with db.unit_of_work() as session:
        team = await tenants_service.create_team(
            session, brand.creds.tenant.id, slug="apparel", name="服装组"
        )
        agents = []
        for n in range(3):
            user = await tenants_service.create_user(
                session,
                brand.creds.tenant.id,
                UserCreate(
                    email=f"agent{n}-{uuid.uuid4().hex[:6]}@brand.example",
                    name=f"Agent {n}",
                    role=Role.agent,
                    password="correct horse battery staple",
                ),
            )
            await tenants_service.add_team_member(session, team, user)
            agents.append(user.id)
    rule = await http.post(
        "/v1/routing/rules",
        json={
            "name": "all to apparel",
            "actions": {"team": "apparel", "assignment": "round_robin"},
        },
        headers=brand.auth,
    )
    assert rule.status_code == 201, rule.text
    single = await http.post(
        "/v1/cases",
        json=case_body(order={"order_id": "X"}, product={"sku": "SKU-A"}),
        headers=world.host.auth,
    )
    assert single.status_code == 201
    async with db.unit_of_work() as session:
        results = await filing.file_cases(
            session, _principal(world), [_case(f"O-{n}", "SKU-A") for n in range(5)]
        )
    assignees = [r.case.assignee_id for r in results if isinstance(r, filing.Filing)]
    order = sorted(agents)
    first = order.index(assignees[0])
    assert assignees == [order[(first + k) % 3] for k in range(5)]
    single_assignee = (
        await http.get(f"/v1/cases/{single.json()['id']}", headers=brand.auth)
    ).json()["assignee_id"]
    assert order.index(uuid.UUID(single_assignee)) == (first - 1) % 3
