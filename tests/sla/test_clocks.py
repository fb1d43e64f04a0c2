"""Clocks driven by the case workflow, on a controlled clock (business hours 09:00-21:00 on
weekdays in Shanghai, China's holidays)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases import actions, collaboration
from hub.cases import service as cases_service
from hub.cases.models import Visibility
from hub.cases.schemas import ActionBody, CaseUpdate
from hub.cases.workflow import Action
from hub.sla import jobs
from hub.sla import service as sla_service
from hub.sla.models import ClockState, Metric, Side
from tenants import service as tenants_service
from tenants.models import Role
from tenants.schemas import UserCreate
from tests.sla.conftest import (
    MONDAY_10,
    all_clocks,
    clocks_of,
    events_of,
    file,
    make_sla_world,
    policy_body,
)

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
M = timedelta(minutes=1)

HOST_RES = (Side.host, Metric.resolution)
FIRST = (Side.brand, Metric.first_response)
NEXT = (Side.brand, Metric.next_response)
RES = (Side.brand, Metric.resolution)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


async def test_filing_starts_host_and_brand_clocks_in_business_time(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    clocks = await clocks_of(session, case)
    assert set(clocks) == {HOST_RES, FIRST, RES}
    assert clocks[FIRST].due_at == sh(2025, 3, 3, 11)
    assert clocks[FIRST].fire_at == sh(2025, 3, 3, 10, 45)  # the 75 % warning comes first
    # 24 business hours: 11 on Monday, 12 on Tuesday, 1 on Wednesday.
    assert clocks[RES].due_at == sh(2025, 3, 5, 10)
    assert clocks[HOST_RES].started_at == case.filed_at
    assert clocks[RES].brand_id == world.brands[0].id
    assert clocks[HOST_RES].brand_id is None


async def test_filing_without_any_policy_starts_nothing(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    await sla_service.delete_policy(session, world.host_p, world.policy_id)  # type: ignore[arg-type]
    case = await file(session, world, MONDAY_10)
    assert await all_clocks(session, case) == []


async def test_first_response_needs_a_shared_reply_from_the_brand(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    brand = world.brand_p[0]
    await collaboration.add_comment(
        session,
        brand,
        case.id,
        "checking with the warehouse",
        Visibility.internal,
        now=MONDAY_10 + 10 * M,
    )
    assert (await clocks_of(session, case))[FIRST].state == ClockState.running
    await collaboration.add_comment(
        session, world.host_p, case.id, "any news?", Visibility.partners, now=MONDAY_10 + 15 * M
    )
    assert NEXT not in await clocks_of(session, case)  # first response still owed
    await collaboration.add_comment(
        session, brand, case.id, "We will resend", Visibility.public, now=MONDAY_10 + 20 * M
    )
    first = (await clocks_of(session, case))[FIRST]
    assert first.state == ClockState.met
    assert first.elapsed_seconds == 20 * 60
    assert first.completed_at == MONDAY_10 + 20 * M


async def test_next_response_restarts_on_each_host_or_buyer_message(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    brand, host = world.brand_p[0], world.host_p
    await collaboration.add_comment(session, brand, case.id, "hi", Visibility.public, now=MONDAY_10)
    await collaboration.add_comment(
        session, host, case.id, "note to self", Visibility.internal, now=MONDAY_10 + H
    )
    assert NEXT not in await clocks_of(session, case)  # the brand cannot see an internal note
    await collaboration.add_comment(
        session, host, case.id, "buyer asks when", Visibility.partners, now=MONDAY_10 + 2 * H
    )
    await collaboration.add_comment(
        session, host, case.id, "and again", Visibility.partners, now=MONDAY_10 + 3 * H
    )
    cycles = [c for c in await all_clocks(session, case) if c.metric == Metric.next_response]
    assert len(cycles) == 1  # one answer owed, from the oldest unanswered message
    assert cycles[0].started_at == MONDAY_10 + 2 * H
    await collaboration.add_comment(
        session, brand, case.id, "today", Visibility.public, now=MONDAY_10 + 4 * H
    )
    assert (await clocks_of(session, case))[NEXT].state == ClockState.met
    assert (await clocks_of(session, case))[NEXT].elapsed_seconds == 2 * 3600
    await collaboration.add_comment(
        session, host, case.id, "buyer unhappy", Visibility.partners, now=MONDAY_10 + 5 * H
    )
    cycles = [c for c in await all_clocks(session, case) if c.metric == Metric.next_response]
    assert [c.state for c in cycles] == [ClockState.met, ClockState.running]


async def test_waiting_on_the_buyer_pauses_with_a_reason_both_sides_see(
    session: AsyncSession,
) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    brand = world.brand_p[0]
    await actions.perform(
        session,
        brand,
        case.id,
        Action.request_info,
        ActionBody(question="Photo of the batch number, please"),
        now=MONDAY_10 + 30 * M,
    )
    clocks = await clocks_of(session, case)
    assert clocks[FIRST].state == ClockState.met  # asking is answering
    for key in (RES, HOST_RES):
        assert clocks[key].state == ClockState.paused
        assert clocks[key].consumed_seconds == 30 * 60
        assert clocks[key].due_at is None
        assert clocks[key].fire_at is None
    assert clocks[RES].pause_reason == "Waiting on the buyer: Photo of the batch number, please"
    paused = await events_of(session, case, "sla.paused")
    brand_pause = next(e for e in paused if e.data["sla"]["side"] == "brand")
    assert brand_pause.visibility == Visibility.partners  # the host sees why the brand stopped
    assert "batch number" in brand_pause.data["sla"]["reason"]

    # The buyer answers through the host on Thursday at 15:00: 23.5 business hours left.
    await actions.perform(
        session,
        world.host_p,
        case.id,
        Action.provide_info,
        ActionBody(answer="photo attached"),
        now=sh(2025, 3, 6, 15),
    )
    clocks = await clocks_of(session, case)
    assert clocks[RES].state == ClockState.running
    assert clocks[RES].pause_reason is None
    # Thursday 15:00 + 23.5 h: 6 h on Thursday, 12 h on Friday, then Monday 09:00 + 5.5 h.
    assert clocks[RES].due_at == sh(2025, 3, 10, 14, 30)
    assert len(await events_of(session, case, "sla.resumed")) == 2


async def test_waiting_on_the_host_pauses_only_when_the_policy_says_so(
    session: AsyncSession,
) -> None:
    for agreed in (False, True):
        world = await make_sla_world(session, pause_when_waiting_on_host=agreed)
        case = await file(session, world, MONDAY_10)
        await actions.perform(
            session,
            world.brand_p[0],
            case.id,
            Action.request_info,
            ActionBody(question="order screenshot?", info_from="host"),
            now=MONDAY_10 + H,
        )
        clocks = await clocks_of(session, case)
        assert clocks[RES].state == (ClockState.paused if agreed else ClockState.running)
        assert clocks[HOST_RES].state == ClockState.running  # the buyer is not being waited on


async def test_resolve_meets_and_reopen_resumes_where_it_stopped(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    brand = world.brand_p[0]
    await actions.perform(
        session, brand, case.id, Action.acknowledge, ActionBody(), now=MONDAY_10 + M
    )
    await actions.perform(
        session, brand, case.id, Action.resolve, ActionBody(note="resent"), now=MONDAY_10 + 5 * H
    )
    clocks = await clocks_of(session, case)
    assert clocks[RES].state == ClockState.met
    assert clocks[RES].elapsed_seconds == 5 * 3600
    assert clocks[HOST_RES].state == ClockState.met
    # Acknowledging is not answering: resolving after 5 h is a late first response.
    assert clocks[FIRST].state == ClockState.breached
    assert clocks[FIRST].breached_at == MONDAY_10 + H
    assert clocks[FIRST].completed_at == MONDAY_10 + 5 * H

    # Reopened next Monday at 10:00: a week of waiting does not count.
    reopen_at = MONDAY_10 + timedelta(days=7)
    await actions.perform(
        session,
        world.host_p,
        case.id,
        Action.reopen,
        ActionBody(reason="the resend never arrived"),
        now=reopen_at,
    )
    clocks = await clocks_of(session, case)
    for key in (RES, HOST_RES):
        assert clocks[key].state == ClockState.running
        assert clocks[key].consumed_seconds == 5 * 3600
        assert clocks[key].completed_at is None
    # 19 business hours left from Monday 10:00: 11 on Monday, 8 on Tuesday.
    assert clocks[RES].due_at == sh(2025, 3, 11, 17)
    assert clocks[NEXT].state == ClockState.running  # the reopen reason needs an answer


async def test_not_ours_restarts_brand_clocks_and_keeps_the_buyer_facing_clock(
    session: AsyncSession,
) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    filed_at = case.filed_at
    host_clock = (await clocks_of(session, case))[HOST_RES]
    await actions.perform(
        session,
        world.brand_p[0],
        case.id,
        Action.reject,
        ActionBody(reason="not our SKU"),
        now=MONDAY_10 + 3 * H,
    )
    first_brand = [c for c in await all_clocks(session, case) if c.side == Side.brand]
    assert {c.state for c in first_brand} == {ClockState.stopped}
    assert (await clocks_of(session, case))[HOST_RES].state == ClockState.running

    await actions.perform(
        session,
        world.host_p,
        case.id,
        Action.reroute,
        ActionBody(brand=world.brands[1].slug),
        now=MONDAY_10 + 4 * H,
    )
    clocks = await clocks_of(session, case)
    assert clocks[RES].brand_id == world.brands[1].id
    assert clocks[RES].started_at == MONDAY_10 + 4 * H
    assert clocks[FIRST].due_at == MONDAY_10 + 5 * H
    assert clocks[HOST_RES].id == host_clock.id
    assert clocks[HOST_RES].started_at == filed_at == case.filed_at
    assert clocks[HOST_RES].due_at == host_clock.due_at


async def test_priority_change_recomputes_due_times(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    await cases_service.update_case(
        session,
        world.host_p,
        case.id,
        CaseUpdate(priority="urgent"),
        if_match=case.version,
        now=MONDAY_10 + H,
    )
    clocks = await clocks_of(session, case)
    assert clocks[RES].target_seconds == 4 * 3600
    assert clocks[RES].due_at == MONDAY_10 + 4 * H  # 1 h used before, 3 h left from 11:00
    assert clocks[FIRST].target_seconds == 15 * 60


async def test_escalate_action_recomputes_due_times(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    await actions.perform(
        session, world.host_p, case.id, Action.escalate, ActionBody(reason="VIP"), now=MONDAY_10 + H
    )
    assert (await clocks_of(session, case))[RES].target_seconds == 8 * 3600


async def test_policy_change_keeps_time_used_and_recomputes(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    body = policy_body(
        calendar_id=None,  # around the clock from now on
        targets={"normal": {"first_response": 120, "resolution": 30 * 60}},
    )
    await sla_service.update_policy(
        session,
        world.host_p,
        world.policy_id,
        body,
        now=MONDAY_10 + 10 * H,  # type: ignore[arg-type]
    )
    clocks = await clocks_of(session, case)
    assert clocks[RES].consumed_seconds == 10 * 3600
    assert clocks[RES].target_seconds == 30 * 3600
    assert clocks[RES].due_at == MONDAY_10 + 30 * H  # 20 h left, 7x24
    assert clocks[FIRST].due_at == MONDAY_10 + 10 * H  # already used up: due now
    assert clocks[FIRST].state == ClockState.running  # the sweep fires it, once


async def test_attaching_another_policy_to_the_partnership_moves_its_clocks(
    session: AsyncSession,
) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    strict = await sla_service.create_policy(
        session,
        world.host_p,
        policy_body(
            name="Strict",
            is_default=False,
            calendar_id=None,
            targets={"normal": {"first_response": 30, "resolution": 120}},
            partnership_ids=[world.partnerships[0].id],
        ),
        now=MONDAY_10 + 10 * M,
    )
    clocks = await clocks_of(session, case)
    assert clocks[RES].policy_id == strict.id
    assert clocks[RES].due_at == MONDAY_10 + 120 * M
    assert clocks[HOST_RES].policy_id == world.policy_id  # the host's own promise is unchanged


async def test_sweep_warns_at_each_threshold_and_breaches_once(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    for minute in (44, 45, 46, 54, 59, 60, 61, 120):
        await jobs.sweep_batch(session, now=MONDAY_10 + minute * M)
    warnings = [
        e.data["sla"]["threshold_pct"]
        for e in await events_of(session, case, "sla.warning")
        if e.data["sla"]["metric"] == "first_response"
    ]
    assert warnings == [75, 90]
    breaches = await events_of(session, case, "sla.breached")
    assert len(breaches) == 1
    assert breaches[0].data["sla"]["breached_at"] == (MONDAY_10 + H).isoformat()
    first = (await clocks_of(session, case))[FIRST]
    assert first.state == ClockState.breached
    assert first.breached_at == MONDAY_10 + H
    assert first.fire_at is None

    # A late reply completes the breached clock without unbreaching it.
    await collaboration.add_comment(
        session, world.brand_p[0], case.id, "sorry", Visibility.public, now=MONDAY_10 + 3 * H
    )
    first = (await clocks_of(session, case))[FIRST]
    assert first.state == ClockState.breached
    assert first.elapsed_seconds == 3 * 3600


async def test_downtime_fires_everything_once_with_the_true_breach_time(
    session: AsyncSession,
) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    later = MONDAY_10 + timedelta(days=10)  # nothing ran for ten days
    first = await jobs.sweep_batch(session, now=later)
    again = await jobs.sweep_batch(session, now=later + M)
    assert first.breaches == 3
    assert again.claimed == 0
    clocks = await clocks_of(session, case)
    assert clocks[RES].breached_at == sh(2025, 3, 5, 10)
    assert clocks[HOST_RES].breached_at == sh(2025, 3, 5, 10)
    assert len(await events_of(session, case, "sla.breached")) == 3
    assert len(await events_of(session, case, "sla.warning")) == 6


async def test_pausing_an_overdue_clock_fires_its_breach_first(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    await collaboration.add_comment(
        session, world.brand_p[0], case.id, "on it", Visibility.public, now=MONDAY_10 + M
    )
    # No sweep ran; the brand asks the buyer two days after the resolution clock ran out.
    await actions.perform(
        session,
        world.brand_p[0],
        case.id,
        Action.request_info,
        ActionBody(question="address?"),
        now=sh(2025, 3, 7, 10),
    )
    res = (await clocks_of(session, case))[RES]
    assert res.breached_at == sh(2025, 3, 5, 10)
    assert res.state == ClockState.breached
    assert res.paused_at is not None
    assert await jobs.sweep_batch(session, now=sh(2025, 3, 7, 11)) is not None
    breaches = [
        e
        for e in await events_of(session, case, "sla.breached")
        if e.data["sla"]["side"] == "brand"
    ]
    assert len(breaches) == 1


async def test_cancel_stops_every_clock(session: AsyncSession) -> None:
    world = await make_sla_world(session)
    case = await file(session, world, MONDAY_10)
    await actions.perform(
        session,
        world.host_p,
        case.id,
        Action.cancel,
        ActionBody(reason="buyer withdrew"),
        now=MONDAY_10 + H,
    )
    assert {c.state for c in await all_clocks(session, case)} == {ClockState.stopped}
    assert (await jobs.sweep_batch(session, now=MONDAY_10 + timedelta(days=30))).claimed == 0


async def test_breach_escalates_per_the_policy_steps(session: AsyncSession) -> None:
    world = await make_sla_world(
        session,
        escalation=[
            {"action": "raise_priority", "metrics": ["resolution"]},
            {"action": "reassign_to_lead_queue"},
            {"action": "notify", "party": "host"},
        ],
    )
    brand = world.brands[0]
    agents = await tenants_service.create_team(session, brand.id, slug="agents", name="Agents")
    leads = await tenants_service.create_team(session, brand.id, slug="leads", name="Leads")
    lead = await tenants_service.create_user(
        session,
        brand.id,
        UserCreate(
            email=f"lead-{brand.slug}@example.com",
            name="Lead",
            role=Role.lead,
            password="a long enough password",
        ),
    )
    await tenants_service.add_team_member(session, leads, lead)
    case = await file(session, world, MONDAY_10)
    case.brand_team_id = agents.id
    await collaboration.add_comment(
        session, world.brand_p[0], case.id, "on it", Visibility.public, now=MONDAY_10 + M
    )
    version = case.version

    await jobs.sweep_batch(session, now=sh(2025, 3, 5, 10, 1))
    assert case.priority == "high"
    assert case.brand_team_id == leads.id
    assert case.assignee_id is None
    assert case.version > version
    escalations = await events_of(session, case, "case.escalated")
    # Both resolution clocks breached at once: the priority goes up one step, not two.
    raised = [e.data["priority"] for e in escalations if "priority" in e.data]
    assert raised == [{"from": "normal", "to": "high"}]
    brand_side = next(e for e in escalations if e.data["sla"]["side"] == "brand")
    assert brand_side.visibility == Visibility.partners
    assert brand_side.data["notify"] == [
        {"party": "host", "tenant": world.host.slug, "role": "lead"}
    ]
    assert "reassign_to_lead_queue" in brand_side.data["steps"]
    assert "notify_host_lead" in brand_side.data["steps"]
    assigned = await events_of(session, case, "case.assigned")
    assert assigned[-1].visibility == Visibility.internal
    assert assigned[-1].author_tenant_id == brand.id  # the brand's queues stay the brand's
    # The higher priority tightened the clocks still running: none left here but the breached.
    clocks = await clocks_of(session, case)
    assert clocks[RES].state == ClockState.breached
