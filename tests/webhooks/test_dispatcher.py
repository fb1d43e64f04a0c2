"""The dispatcher against real loopback receivers: signatures, retries, leases, isolation."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from hub.core.db import Database
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.settings import Settings
from tenants.models import TenantKind
from tests.tenants.conftest import make_tenant
from webhooks.dispatcher import Dispatcher
from webhooks.models import AttemptOutcome, MessageStatus, WebhookEndpoint

from .conftest import (
    Receiver,
    Reply,
    attempts_of,
    make_endpoint,
    make_event,
    messages_of,
    publish,
    replies,
)

MakeReceiver = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def dispatcher(db: Database, settings: Settings) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher(db, settings, timeout=2.0, rng=random.Random(7))
    yield dispatcher
    await dispatcher.aclose()


async def _tenant(db: Database) -> uuid.UUID:
    async with db.unit_of_work() as session:
        return (await make_tenant(session, kind=TenantKind.brand)).id


async def _endpoint(db: Database, tenant_id: uuid.UUID, url: str, **kw: object) -> WebhookEndpoint:
    async with db.unit_of_work() as session:
        return await make_endpoint(session, tenant_id, url, **kw)  # type: ignore[arg-type]


async def test_delivery_verifies_with_standardwebhooks(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    receiver = await receivers()
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url)
    await publish(db, make_event({tenant: {"title": "碎了"}}))

    [outcome] = await dispatcher.run_once()
    assert outcome.succeeded
    [request] = receiver.requests
    [message] = await messages_of(db, endpoint.id)
    assert request.headers["webhook-id"] == message.webhook_id
    assert request.headers["content-type"] == "application/json"
    assert request.body == (message.payload or "").encode()
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "case.created"
    assert payload["data"] == {"title": "碎了"}
    assert message.status == MessageStatus.succeeded
    assert message.next_attempt_at is None
    [attempt] = await attempts_of(db, message.id)
    assert attempt.outcome == AttemptOutcome.succeeded
    assert attempt.status_code == 200
    assert attempt.response_body == "ok"
    assert attempt.latency_ms is not None


async def test_a_failing_receiver_gets_it_later_with_the_same_webhook_id(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    receiver = await receivers(replies(500, Reply(status=503, body=b"down")))
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url)
    await publish(db, make_event({tenant: {}}))
    t0 = utcnow()

    assert not (await dispatcher.run_once(now=t0))[0].succeeded
    [message] = await messages_of(db, endpoint.id)
    assert message.status == MessageStatus.pending
    assert message.next_attempt_at is not None
    delay = message.next_attempt_at - t0
    assert timedelta(seconds=4) <= delay <= timedelta(seconds=6)
    assert await dispatcher.run_once(now=t0 + timedelta(seconds=3)) == []

    t1 = message.next_attempt_at
    assert not (await dispatcher.run_once(now=t1))[0].succeeded
    [message] = await messages_of(db, endpoint.id)
    assert message.next_attempt_at is not None
    assert timedelta(minutes=4) <= message.next_attempt_at - t1 <= timedelta(minutes=6)

    t2 = message.next_attempt_at
    assert (await dispatcher.run_once(now=t2))[0].succeeded
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {message.webhook_id}
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert stamps == [int(t.timestamp()) for t in (t0, t1, t2)]
    for request, when in zip(receiver.requests, (t0, t1, t2), strict=True):
        expected = Webhook(endpoint.secret).sign(
            message.webhook_id,
            datetime.fromtimestamp(int(when.timestamp()), UTC),
            request.body.decode(),
        )
        assert request.headers["webhook-signature"] == expected
    attempts = await attempts_of(db, message.id)
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    assert attempts[1].response_body == "down"
    [message] = await messages_of(db, endpoint.id)
    assert message.status == MessageStatus.succeeded
    assert message.attempt_count == 3


async def test_the_schedule_runs_out_after_eight_attempts(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    receiver = await receivers(lambda _r: Reply(status=500))
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url)
    await publish(db, make_event({tenant: {}}))
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    when = utcnow()
    for seconds in expected:
        await dispatcher.run_once(now=when)
        [message] = await messages_of(db, endpoint.id)
        assert message.next_attempt_at is not None
        gap = (message.next_attempt_at - when).total_seconds()
        assert seconds * 0.8 <= gap <= seconds * 1.2
        when = message.next_attempt_at
    await dispatcher.run_once(now=when)
    [message] = await messages_of(db, endpoint.id)
    assert message.status == MessageStatus.failed
    assert message.next_attempt_at is None
    assert len(receiver.requests) == 8
    assert len(await attempts_of(db, message.id)) == 8


async def test_redirects_fail_and_are_not_followed(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    elsewhere = await receivers()
    receiver = await receivers(lambda _r: Reply(status=302, headers={"location": elsewhere.url}))
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url)
    await publish(db, make_event({tenant: {}}))
    [outcome] = await dispatcher.run_once()
    assert not outcome.succeeded
    assert outcome.status_code == 302
    assert elsewhere.requests == []
    [message] = await messages_of(db, endpoint.id)
    assert message.status == MessageStatus.pending


async def test_retry_after_is_honoured(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    receiver = await receivers(replies(Reply(status=429, headers={"retry-after": "3600"})))
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url)
    await publish(db, make_event({tenant: {}}))
    now = utcnow()
    await dispatcher.run_once(now=now)
    [message] = await messages_of(db, endpoint.id)
    assert message.next_attempt_at is not None
    assert message.next_attempt_at - now == timedelta(hours=1)


async def test_gone_disables_the_endpoint_and_tells_its_owner(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    gone = await receivers(lambda _r: Reply(status=410))
    owner_inbox = await receivers()
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, gone.url, event_types=[EventType.case_created])
    watcher = await _endpoint(
        db, tenant, owner_inbox.url, event_types=[EventType.webhook_endpoint_disabled]
    )
    await publish(db, make_event({tenant: {"n": 1}}), make_event({tenant: {"n": 2}}))

    outcomes = await dispatcher.run_once()
    assert [o.status_code for o in outcomes] == [410, 410]
    async with db.unit_of_work(write=False) as session:
        row = await session.get(WebhookEndpoint, endpoint.id, populate_existing=True)
    assert row is not None
    assert not row.enabled
    assert row.disabled_reason == "the receiver answered 410 Gone"
    assert all(m.status == MessageStatus.failed for m in await messages_of(db, endpoint.id))

    await dispatcher.run_once()
    [notice] = owner_inbox.requests
    payload = Webhook(watcher.secret).verify(notice.body, notice.headers)
    assert payload["type"] == "webhook.endpoint_disabled"
    assert payload["data"]["endpoint"]["id"] == str(endpoint.id)
    assert payload["data"]["reason"] == "the receiver answered 410 Gone"

    await publish(db, make_event({tenant: {"n": 3}}))
    assert len(await messages_of(db, endpoint.id)) == 2


async def test_five_days_of_failure_disable_and_a_success_resets_the_clock(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    flaky = await receivers(replies(500, 200))
    dead = await receivers(lambda _r: Reply(status=500))
    tenant = await _tenant(db)
    recovering = await _endpoint(db, tenant, flaky.url)
    failing = await _endpoint(db, tenant, dead.url)
    now = utcnow()
    async with db.unit_of_work() as session:
        for endpoint_id in (recovering.id, failing.id):
            row = await session.get(WebhookEndpoint, endpoint_id)
            assert row is not None
            row.failing_since = now - timedelta(days=4)
    await publish(db, make_event({tenant: {}}))
    await dispatcher.run_once(now=now)
    async with db.unit_of_work(write=False) as session:
        rows = {
            e.id: e
            for e in (
                await session.execute(
                    select(WebhookEndpoint).execution_options(populate_existing=True)
                )
            ).scalars()
        }
    assert rows[failing.id].enabled
    assert rows[failing.id].failing_since == now - timedelta(days=4)

    later = now + timedelta(days=1, seconds=1)
    await publish(db, make_event({tenant: {}}))
    [message] = [m for m in await messages_of(db, recovering.id) if m.status == "pending"][:1]
    await dispatcher.run_once(now=later)
    async with db.unit_of_work(write=False) as session:
        rows = {
            e.id: e
            for e in (
                await session.execute(
                    select(WebhookEndpoint).execution_options(populate_existing=True)
                )
            ).scalars()
        }
    assert not rows[failing.id].enabled
    assert rows[failing.id].disabled_reason == "every delivery failed for 5 days"
    assert rows[recovering.id].enabled
    assert rows[recovering.id].failing_since is None
    assert message.id


async def test_brand_b_never_receives_an_event_whose_views_lack_b(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    inbox_a, inbox_b = await receivers(), await receivers()
    a, b = await _tenant(db), await _tenant(db)
    endpoint_a = await _endpoint(db, a, inbox_a.url)
    endpoint_b = await _endpoint(db, b, inbox_b.url)
    await publish(
        db,
        make_event({a: {"only": "a"}}),
        make_event({a: {"for": "a"}, b: {"for": "b"}}),
    )
    await dispatcher.run_once()
    assert len(inbox_a.requests) == 2
    [only] = inbox_b.requests
    assert Webhook(endpoint_b.secret).verify(only.body, only.headers)["data"] == {"for": "b"}
    for request in inbox_a.requests:
        assert Webhook(endpoint_a.secret).verify(request.body, request.headers)["data"] in (
            {"only": "a"},
            {"for": "a"},
        )


async def test_hanging_huge_and_broken_receivers_do_not_stall_the_others(
    db: Database, settings: Settings, receivers: MakeReceiver
) -> None:
    hang = await receivers(lambda _r: Reply(mode="hang"))
    huge = await receivers(lambda _r: Reply(mode="huge"))
    reset = await receivers(lambda _r: Reply(mode="reset"))
    good = [await receivers() for _ in range(3)]
    tenant = await _tenant(db)
    bad_endpoints = [await _endpoint(db, tenant, r.url) for r in (hang, huge, reset)]
    for receiver in good:
        await _endpoint(db, tenant, receiver.url)

    # Published before the dispatcher runs: the test's units of work share one connection, so
    # they must not interleave with the dispatcher's (each bus handler is an await point).
    await publish(db, *(make_event({tenant: {"n": n}}) for n in range(5)))
    dispatcher = Dispatcher(db, settings, timeout=5.0, poll_seconds=0.05)
    dispatcher.start()
    try:
        for receiver in good:
            await receiver.wait_for(5, within=3.0)
        await huge.wait_for(1, within=3.0)
        assert len(hang.requests) >= 1
    finally:
        await dispatcher.stop()
    huge_message = (await messages_of(db, bad_endpoints[1].id))[0]
    attempts = await attempts_of(db, huge_message.id)
    assert attempts[0].status_code == 200
    assert len(attempts[0].response_body or "") <= 2048
    assert huge.huge_bytes_sent < 100_000_000
    reset_message = (await messages_of(db, bad_endpoints[2].id))[0]
    [reset_attempt] = (await attempts_of(db, reset_message.id))[:1]
    assert reset_attempt.status_code is None
    assert reset_attempt.error


async def test_a_hanging_receiver_times_out_as_a_failure(
    db: Database, settings: Settings, receivers: MakeReceiver
) -> None:
    hang = await receivers(lambda _r: Reply(mode="hang"))
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, hang.url)
    await publish(db, make_event({tenant: {}}))
    dispatcher = Dispatcher(db, settings, timeout=0.3)
    try:
        [outcome] = await dispatcher.run_once()
    finally:
        await dispatcher.aclose()
    assert outcome.status_code is None
    assert outcome.error == "no complete answer within 0.3 s"
    [message] = await messages_of(db, endpoint.id)
    assert message.status == MessageStatus.pending


async def test_killing_the_worker_mid_batch_loses_nothing(
    db: Database, settings: Settings, receivers: MakeReceiver
) -> None:
    release = asyncio.Event()
    first_round = True

    async def respond(_request: object) -> Reply:
        if first_round:
            await release.wait()
        return Reply()

    receiver = await receivers(respond)
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url)
    await publish(db, *(make_event({tenant: {"n": n}}) for n in range(10)))
    now = utcnow()

    doomed = Dispatcher(db, settings, timeout=30.0, worker_id="doomed")
    run = asyncio.create_task(doomed.run_once(now=now))
    await receiver.wait_for(10)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await doomed.aclose()
    first_round = False
    assert {m.status for m in await messages_of(db, endpoint.id)} == {MessageStatus.delivering}

    survivor = Dispatcher(db, settings, timeout=5.0, worker_id="survivor")
    try:
        assert await survivor.run_once(now=now + timedelta(seconds=10)) == []
        outcomes = await survivor.run_once(now=now + doomed.lease + timedelta(seconds=1))
    finally:
        await survivor.aclose()
    assert len(outcomes) == 10
    assert all(o.succeeded for o in outcomes)
    messages = await messages_of(db, endpoint.id)
    assert {m.status for m in messages} == {MessageStatus.succeeded}
    delivered = {r.headers["webhook-id"] for r in receiver.requests[10:]}
    assert delivered == {m.webhook_id for m in messages}


async def test_two_workers_never_claim_the_same_message(
    committed_db: Database, settings: Settings, receivers: MakeReceiver
) -> None:
    receiver = await receivers()
    async with committed_db.unit_of_work() as session:
        tenant = (await make_tenant(session)).id
        await make_endpoint(session, tenant, receiver.url)
    await publish(committed_db, *(make_event({tenant: {"n": n}}) for n in range(60)))
    workers = [
        Dispatcher(committed_db, settings, batch_size=7, worker_id=f"w{i}") for i in range(3)
    ]
    try:
        while True:
            rounds = await asyncio.gather(*(w.run_once() for w in workers))
            if not any(rounds):
                break
    finally:
        for worker in workers:
            await worker.aclose()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 60


async def test_ordered_endpoints_get_one_message_at_a_time_in_order(
    db: Database, dispatcher: Dispatcher, receivers: MakeReceiver
) -> None:
    receiver = await receivers(replies(500))
    tenant = await _tenant(db)
    endpoint = await _endpoint(db, tenant, receiver.url, ordered=True)
    for n in range(3):
        await publish(db, make_event({tenant: {"n": n}}))
    now = utcnow()
    assert len(await dispatcher.run_once(now=now)) == 1
    assert await dispatcher.run_once(now=now) == []
    later = now + timedelta(seconds=10)
    for _ in range(3):
        assert len(await dispatcher.run_once(now=later)) == 1
    import json

    order = [json.loads(r.body)["data"]["n"] for r in receiver.requests]
    assert order == [0, 0, 1, 2]
    assert {m.status for m in await messages_of(db, endpoint.id)} == {MessageStatus.succeeded}


async def test_a_commit_wakes_the_running_dispatcher(
    committed_db: Database, settings: Settings, receivers: MakeReceiver
) -> None:
    # The dispatcher runs beside the test, so it needs real commits on its own connections.
    db = committed_db
    receiver = await receivers()
    tenant = await _tenant(db)
    await _endpoint(db, tenant, receiver.url)
    dispatcher = Dispatcher(db, settings, poll_seconds=60.0)
    dispatcher.start()
    try:
        await asyncio.sleep(0)
        await publish(db, make_event({tenant: {}}))
        await receiver.wait_for(1, within=3.0)
    finally:
        await dispatcher.stop()
