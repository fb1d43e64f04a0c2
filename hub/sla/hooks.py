"""How the case workflow drives the clocks: the case domain calls :func:`case_changed` once per
change, inside its unit of work, after the change and its events are recorded.

The clocks are then brought in line with the case as it now is:

- the host's buyer-facing resolution clock runs from filing (``filed_at``) and survives re-routing;
- a brand's first-response and resolution clocks start when the case reaches it; a "not ours" or
  a re-route stops that brand's clocks, and the next brand's start afresh;
- the brand's first partner- or public-visible reply (a comment, a request for information, a
  proposal, a resolution) meets first response; every later host or buyer message starts a
  next-response clock that the brand's next reply meets;
- waiting on the buyer pauses the brand's clocks and the host's; waiting on the host (or a
  proposal awaiting the host's answer) pauses the brand's when its policy says so; each pause
  is an ``sla.paused`` event with its reason, which the other side sees in the timeline;
- resolving meets the resolution clocks, reopening resumes them where they stopped;
- cancelling, merging or closing stops whatever still runs;
- a priority change recomputes every live clock's due time.

A deadline that has passed but that no sweep has fired yet is fired first, so a pause or a
resolution can never swallow a breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases import events
from hub.cases.models import OPEN_STATUSES, Case, Status
from hub.sla import clocks, firing
from hub.sla.calendars import BusinessCalendar
from hub.sla.models import ClockState, Metric, Side, SlaClock, SlaPolicy

BRAND_REPLIES = frozenset({"request-info", "propose-resolution", "resolve"})
"""Actions by which a brand answers (shared with the host, and the buyer where public)."""
HOST_MESSAGES = frozenset({"provide-info", "decline-resolution", "reopen"})
"""Actions by which the host (or buyer, through the host) says something the brand must answer."""
STOPPING = frozenset({Status.cancelled, Status.closed})


@dataclass(frozen=True, slots=True)
class Change:
    """What just happened to a case, as far as the clocks care.

    ``kind`` is ``filed``, ``updated``, ``action``, ``comment`` or ``attachment``; ``action`` the
    workflow action's name; ``party`` who did it (``host``, ``brand`` or ``buyer``); ``shared``
    whether the other side can see it (not an internal note); ``note`` the question asked, shown
    as the reason of a pause.
    """

    kind: str
    action: str | None = None
    party: str | None = None
    shared: bool = True
    note: str | None = None

    @property
    def brand_reply(self) -> bool:
        if self.party != "brand" or not self.shared:
            return False
        return self.kind == "comment" or self.action in BRAND_REPLIES

    @property
    def host_message(self) -> bool:
        if self.party not in ("host", "buyer") or not self.shared:
            return False
        return self.kind in ("comment", "attachment") or self.action in HOST_MESSAGES


class _Context:
    """The policies and calendars one reconciliation needs, each loaded once."""

    def __init__(self, session: AsyncSession, case: Case) -> None:
        self.session = session
        self.case = case
        self._calendars: dict[Any, BusinessCalendar] = {}

    async def policy(self, clock: SlaClock) -> SlaPolicy | None:
        return await self.session.get(SlaPolicy, clock.policy_id)

    async def calendar(self, policy: SlaPolicy) -> BusinessCalendar:
        if policy.id not in self._calendars:
            self._calendars[policy.id] = await clocks.calendar_of(self.session, policy)
        return self._calendars[policy.id]


async def case_changed(session: AsyncSession, case: Case, change: Change, *, now: datetime) -> None:
    """Bring the case's clocks in line with the case after ``change`` (see the module doc).

    Call it inside the unit of work that changed the case, with the case row locked, after its
    events were recorded. Writes only with ``session``; may record ``sla.*`` and
    ``case.escalated`` events.
    """
    ctx = _Context(session, case)
    all_clocks = await firing.live_clocks(session, case.id)
    for clock in all_clocks:
        if clocks.live(clock):
            await settle(ctx, clock, now)
    live = [c for c in all_clocks if clocks.live(c)]
    is_open = case.status in OPEN_STATUSES
    stopped = [c for c in live if _taken_away(c, case) or case.status in STOPPING]
    for clock in stopped:
        await _stop(ctx, clock, now)
    live = [c for c in live if c not in stopped]
    if is_open:
        live += await _start(ctx, all_clocks, now)
    mine = [c for c in live if c.side == Side.host or c.brand_id == case.brand_id]
    if change.brand_reply:
        for clock in [c for c in mine if c.metric != Metric.resolution]:
            await _complete(ctx, clock, now)
    if case.status == Status.resolved:
        for clock in [c for c in mine if clocks.live(c)]:
            if clock.metric == Metric.resolution:
                await _complete(ctx, clock, now)
            else:
                await _stop(ctx, clock, now)
    if change.action == "reopen":
        await _reopen(ctx, all_clocks, now)
    if is_open and change.host_message and case.brand_id is not None:
        await _start_next_response(ctx, all_clocks, now)
    await _pause_or_resume(ctx, await firing.live_clocks(session, case.id), change, now)
    if change.kind == "updated" or change.action == "escalate":
        await firing.retarget_case(session, case, now)


def _taken_away(clock: SlaClock, case: Case) -> bool:
    return clock.side == Side.brand and clock.brand_id != case.brand_id


async def settle(ctx: _Context, clock: SlaClock, now: datetime) -> None:
    """Fire what fell due on a running clock before anything else moves it."""
    if clock.state != ClockState.running or clock.fire_at is None or clock.fire_at > now:
        return
    policy = await ctx.policy(clock)
    if policy is None or clock.resumed_at is None or clock.due_at is None:
        return
    cal = await ctx.calendar(policy)
    due = clocks.plan(
        cal,
        policy.warning_thresholds,
        target=clock.target_seconds,
        consumed=clock.consumed_seconds,
        resumed_at=clock.resumed_at,
        due_at=clock.due_at,
        warned_pct=clock.warned_pct,
        now=now,
    )
    clock.warned_pct = due.warned_pct
    clock.fire_at = due.fire_at
    if due.breach:
        clock.state = ClockState.breached
        clock.breached_at = clock.due_at
    await ctx.session.flush()
    await firing.announce(ctx.session, ctx.case, firing.ClockFacts.of(clock), due, policy, now)


async def _stop(ctx: _Context, clock: SlaClock, now: datetime) -> None:
    policy = await ctx.policy(clock)
    if policy is not None:
        clocks.stop(clock, await ctx.calendar(policy), now)


async def _complete(ctx: _Context, clock: SlaClock, now: datetime) -> None:
    policy = await ctx.policy(clock)
    if policy is not None and clocks.live(clock):
        await settle(ctx, clock, now)
        clocks.complete(clock, await ctx.calendar(policy), now)


async def _start(ctx: _Context, existing: list[SlaClock], now: datetime) -> list[SlaClock]:
    """Start the host's clock once, and the current brand's first-response and resolution."""
    case, session = ctx.case, ctx.session
    started: list[SlaClock] = []
    if not any(c.side == Side.host for c in existing):
        policy = await clocks.default_policy(session, case.tenant_id)
        started += await _new(ctx, policy, Side.host, (Metric.resolution,), case.filed_at)
    brand_id = case.brand_id
    if brand_id is not None and not any(
        c.side == Side.brand and c.brand_id == brand_id for c in existing
    ):
        policy = await clocks.partnership_policy(session, case.tenant_id, brand_id)
        metrics = (Metric.first_response, Metric.resolution)
        started += await _new(ctx, policy, Side.brand, metrics, case.routed_at or now)
    return started


async def _new(
    ctx: _Context,
    policy: SlaPolicy | None,
    side: Side,
    metrics: tuple[Metric, ...],
    started_at: datetime,
) -> list[SlaClock]:
    if policy is None:
        return []
    case = ctx.case
    cal = await ctx.calendar(policy)
    made = []
    for metric in metrics:
        minutes = policy.target_minutes(metric, case.priority.value)
        if minutes is None:
            continue
        clock = clocks.new_clock(
            case_id=case.id,
            host_id=case.tenant_id,
            brand_id=case.brand_id if side == Side.brand else None,
            policy=policy,
            metric=metric,
            side=side,
            target_minutes=minutes,
            started_at=started_at,
            cal=cal,
        )
        ctx.session.add(clock)
        made.append(clock)
    await ctx.session.flush()
    return made


async def _start_next_response(ctx: _Context, existing: list[SlaClock], now: datetime) -> None:
    """A host or buyer message the brand has to answer, unless an answer is already owed."""
    brand_id = ctx.case.brand_id
    assert brand_id is not None
    owed = [
        c
        for c in existing
        if c.side == Side.brand
        and c.brand_id == brand_id
        and c.metric in (Metric.first_response, Metric.next_response)
        and clocks.live(c)
    ]
    if owed:
        return
    policy = await clocks.partnership_policy(ctx.session, ctx.case.tenant_id, brand_id)
    await _new(ctx, policy, Side.brand, (Metric.next_response,), now)


async def _reopen(ctx: _Context, existing: list[SlaClock], now: datetime) -> None:
    """Resume the latest resolution clock of the host and of the current brand."""
    latest: dict[Side, SlaClock] = {}
    for clock in existing:
        if clock.metric != Metric.resolution:
            continue
        if clock.side == Side.brand and clock.brand_id != ctx.case.brand_id:
            continue
        latest[clock.side] = clock
    for clock in latest.values():
        if clock.completed_at is None or clock.state not in (ClockState.met, ClockState.breached):
            continue
        policy = await ctx.policy(clock)
        if policy is not None:
            clocks.reopen(clock, await ctx.calendar(policy), policy.warning_thresholds, now)


def _pause_reason(case: Case, side: Side, policy: SlaPolicy, change: Change) -> str | None:
    """Why the clock of ``side`` should stand still now, or ``None`` if it should run."""
    if case.status == Status.waiting_on_buyer:
        reason = "Waiting on the buyer"
        return f"{reason}: {change.note}" if change.note else reason
    host_turn = case.status in (Status.waiting_on_host, Status.resolution_proposed)
    if side == Side.brand and host_turn and policy.pause_when_waiting_on_host:
        if case.status == Status.resolution_proposed:
            return "Waiting on the host to answer the proposed resolution"
        return f"Waiting on the host: {change.note}" if change.note else "Waiting on the host"
    return None


async def _pause_or_resume(
    ctx: _Context, all_clocks: list[SlaClock], change: Change, now: datetime
) -> None:
    paused: dict[Side, list[SlaClock]] = {}
    resumed: dict[Side, list[SlaClock]] = {}
    reasons: dict[Side, str] = {}
    for clock in all_clocks:
        if not clocks.live(clock):
            continue
        policy = await ctx.policy(clock)
        if policy is None:
            continue
        cal = await ctx.calendar(policy)
        reason = _pause_reason(ctx.case, clock.side, policy, change)
        if reason is not None and clock.paused_at is None:
            await settle(ctx, clock, now)
            clocks.pause(clock, cal, now, reason)
            paused.setdefault(clock.side, []).append(clock)
            reasons[clock.side] = reason
        elif reason is None and clock.paused_at is not None:
            clocks.resume(clock, cal, policy.warning_thresholds, now)
            resumed.setdefault(clock.side, []).append(clock)
    await ctx.session.flush()
    for side, moved in paused.items():
        await _record(ctx, "sla.paused", side, moved, {"reason": reasons[side]})
    for side, moved in resumed.items():
        await _record(ctx, "sla.resumed", side, moved, {})


async def _record(
    ctx: _Context, event_type: str, side: Side, moved: list[SlaClock], extra: dict[str, Any]
) -> None:
    actor, visibility = firing.engine_actor(side, ctx.case)
    data = {
        "sla": {
            **extra,
            "side": side.value,
            "clocks": [
                {
                    "clock_id": c.id,
                    "metric": c.metric.value,
                    "due_at": firing.iso(c.due_at),
                    "remaining_seconds": c.target_seconds - c.consumed_seconds,
                }
                for c in moved
            ],
        }
    }
    await events.record(ctx.session, ctx.case, event_type, actor, visibility=visibility, data=data)
