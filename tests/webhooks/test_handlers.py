"""The bus handler: one message per subscribed endpoint of each tenant in the views, in the
publishing transaction, with exactly that tenant's view as data."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from hub.core.db import Database
from hub.core.events import EventType, bus
from tenants.models import TenantKind
from tests.tenants.conftest import make_tenant
from webhooks.models import MessageStatus, WebhookMessage

from .conftest import make_endpoint, make_event, messages_of, publish


async def _tenants(db: Database, n: int) -> list[uuid.UUID]:
    async with db.unit_of_work() as session:
        return [(await make_tenant(session, kind=TenantKind.brand)).id for _ in range(n)]


async def test_each_tenant_gets_its_own_view_and_absent_tenants_nothing(db: Database) -> None:
    a, b, c = await _tenants(db, 3)
    async with db.unit_of_work() as session:
        a_all = await make_endpoint(session, a, "https://93.184.215.14/a")
        a_closed = await make_endpoint(
            session, a, "https://93.184.215.14/a2", event_types=[EventType.case_closed]
        )
        b_created = await make_endpoint(
            session, b, "https://93.184.215.14/b", event_types=[EventType.case_created]
        )
        c_all = await make_endpoint(session, c, "https://93.184.215.14/c")
    occurred = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    event = make_event({a: {"note": "host internal", "n": 1}, b: {"n": 1}}, occurred_at=occurred)
    await publish(db, event)

    [for_a] = await messages_of(db, a_all.id)
    [for_b] = await messages_of(db, b_created.id)
    assert await messages_of(db, a_closed.id) == []
    assert await messages_of(db, c_all.id) == []
    assert json.loads(for_a.payload or "") == {
        "type": "case.created",
        "timestamp": "2026-11-24T08:30:00Z",
        "data": {"note": "host internal", "n": 1},
    }
    assert json.loads(for_b.payload or "") == {
        "type": "case.created",
        "timestamp": "2026-11-24T08:30:00Z",
        "data": {"n": 1},
    }
    assert for_a.status == MessageStatus.pending
    assert for_a.next_attempt_at is not None
    assert for_a.event_id == for_b.event_id == event.id
    assert for_a.tenant_id == a
    assert for_b.tenant_id == b
    assert for_a.webhook_id.startswith("msg_")
    assert for_a.webhook_id != for_b.webhook_id


async def test_disabled_endpoints_get_nothing(db: Database) -> None:
    [a] = await _tenants(db, 1)
    async with db.unit_of_work() as session:
        endpoint = await make_endpoint(session, a, "https://93.184.215.14/a", enabled=False)
    await publish(db, make_event({a: {}}))
    assert await messages_of(db, endpoint.id) == []


async def test_messages_roll_back_with_the_publishing_transaction(db: Database) -> None:
    [a] = await _tenants(db, 1)
    async with db.unit_of_work() as session:
        endpoint = await make_endpoint(session, a, "https://93.184.215.14/a")

    async def failing_change() -> None:
        async with db.unit_of_work() as session:
            await bus.publish(session, make_event({a: {}}))
            raise RuntimeError("the case change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await messages_of(db, endpoint.id) == []


async def test_publishing_costs_one_query_when_nobody_listens(db: Database) -> None:
    [a] = await _tenants(db, 1)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async with db.unit_of_work() as session:
        sa_event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            await bus.publish(session, make_event({a: {"x": 1}}))
        finally:
            sa_event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        total = await session.scalar(select(func.count()).select_from(WebhookMessage))
    webhook_queries = [s for s in statements if "webhook_endpoint" in s]
    assert len(webhook_queries) == 1
    assert total == 0


async def test_non_json_values_in_views_are_rendered(db: Database) -> None:
    [a] = await _tenants(db, 1)
    async with db.unit_of_work() as session:
        endpoint = await make_endpoint(session, a, "https://93.184.215.14/a")
    case_id = uuid.uuid4()
    await publish(db, make_event({a: {"case_id": case_id, "标题": "破损"}}))
    [message] = await messages_of(db, endpoint.id)
    assert json.loads(message.payload or "")["data"] == {"case_id": str(case_id), "标题": "破损"}
    assert "破损" in (message.payload or "")
