"""Telling the world a clock warned or breached, and escalating a breach per the policy's steps.

Callers first move the clock with a conditional update (the sweep) or under the case's row lock
(a case change that finds a deadline passed), then call :func:`announce` in the same transaction:
the events are recorded through :func:`hub.cases.events.record`, so webhooks and notifiers queue
their deliveries in that transaction too, and a breach is announced exactly once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events
from hub.cases.events import Actor, Pending
from hub.cases.models import PRIORITY_ORDER, ActorKind, Case, Visibility
from hub.core.events import EventType
from hub.sla import clocks
from hub.sla.models import Metric, Side, SlaClock, SlaPolicy
from tenants.models import Role, Team, TeamMember, User

ENGINE_NAME = "CaseHub SLA"


def engine_actor(side: Side, case: Case) -> tuple[Actor, Visibility]:
    """Who an SLA event is by, and who may read it: a brand clock's events are shared with both
    parties; the host's buyer-facing clock is the host's own business."""
    if side == Side.host:
        return Actor(ActorKind.system, None, ENGINE_NAME, case.tenant_id), Visibility.internal
    return Actor(ActorKind.system, None, ENGINE_NAME, None), Visibility.partners


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class ClockFacts:
    """What an announcement says about a clock (a snapshot; the sweep has no ORM object)."""

    id: int
    metric: Metric
    side: Side
    target_seconds: int
    due_at: datetime

    @classmethod
    def of(cls, clock: SlaClock) -> ClockFacts:
        assert clock.id is not None
        assert clock.due_at is not None
        return cls(clock.id, clock.metric, clock.side, clock.target_seconds, clock.due_at)

    def data(self) -> dict[str, Any]:
        return {
            "clock_id": self.id,
            "metric": self.metric.value,
            "side": self.side.value,
            "target_minutes": self.target_seconds // 60,
            "due_at": iso(self.due_at),
        }


def announcements(
    case: Case, facts: ClockFacts, firing: clocks.Firing, now: datetime
) -> list[Pending]:
    """The ``sla.warning`` events of ``firing``, then its ``sla.breached``, to record."""
    actor, visibility = engine_actor(facts.side, case)
    out = [
        Pending(
            case,
            EventType.sla_warning,
            actor,
            visibility,
            {"sla": {**facts.data(), "threshold_pct": pct}},
        )
        for pct in firing.warnings
    ]
    if firing.breach:
        late = int((now - facts.due_at).total_seconds())
        data = {"sla": {**facts.data(), "breached_at": iso(facts.due_at), "late_seconds": late}}
        out.append(Pending(case, EventType.sla_breached, actor, visibility, data))
    return out


async def announce(
    session: AsyncSession,
    case: Case,
    facts: ClockFacts,
    firing: clocks.Firing,
    policy: SlaPolicy | None,
    now: datetime,
) -> None:
    """Record each warning in ``firing``, then the breach and its escalation."""
    await events.record_many(session, announcements(case, facts, firing, now))
    if firing.breach and policy is not None:
        await escalate(session, case, facts, policy, now)


def _applies(step: dict[str, Any], facts: ClockFacts) -> bool:
    metrics = step.get("metrics") or []
    sides = step.get("sides") or []
    return (not metrics or facts.metric.value in metrics) and (
        not sides or facts.side.value in sides
    )


async def escalate(
    session: AsyncSession, case: Case, facts: ClockFacts, policy: SlaPolicy, now: datetime
) -> None:
    """Carry out the policy's escalation steps for a breach of ``facts``' clock.

    ``raise_priority`` moves the case one priority up (and recomputes its other clocks) unless a
    breach of the same moment already did; ``reassign_to_lead_queue`` moves the case, on a
    brand clock's breach, to the team of the brand's lead;
    ``notify`` names who must be told. One ``case.escalated`` event carries it all, for the
    notifiers to deliver.
    """
    steps = [step for step in policy.escalation if _applies(step, facts)]
    if not steps:
        return
    done: list[str] = []
    data: dict[str, Any] = {"reason": "sla_breached", "sla": facts.data()}
    notify: list[dict[str, str]] = []
    changed = False
    for step in steps:
        action = step.get("action")
        if action == "raise_priority":
            index = PRIORITY_ORDER.index(case.priority)
            if index + 1 < len(PRIORITY_ORDER) and not _raised_since(case, facts, policy):
                before, case.priority = case.priority, PRIORITY_ORDER[index + 1]
                data["priority"] = {"from": before.value, "to": case.priority.value}
                done.append("raise_priority")
                changed = True
        elif action == "reassign_to_lead_queue":
            # Only a brand's own breach moves work inside the brand.
            if facts.side == Side.brand and await _reassign_to_lead_queue(session, case):
                done.append("reassign_to_lead_queue")
                changed = True
        elif action == "notify":
            party = step.get("party", "host")
            tenant_id = case.tenant_id if party == "host" else case.brand_id
            if tenant_id is not None and (party == "host" or facts.side == Side.brand):
                tenant = await events.tenant(session, tenant_id)
                notify.append(
                    {"party": party, "tenant": tenant.slug if tenant else "", "role": "lead"}
                )
                done.append(f"notify_{party}_lead")
    if not done:
        return
    if changed:
        case.version += 1
        case.updated_at = now
    if notify:
        data["notify"] = notify
    data["steps"] = done
    actor, visibility = engine_actor(facts.side, case)
    await events.record(
        session, case, EventType.case_escalated, actor, visibility=visibility, data=data
    )
    if "priority" in data:
        await retarget_case(session, case, now)


def _raised_since(case: Case, facts: ClockFacts, policy: SlaPolicy) -> bool:
    """Whether the case's priority already went up since this clock was measured (another
    breach of the same moment raised it): one breach, one step up, no cascade."""
    minutes = policy.target_minutes(facts.metric, case.priority.value)
    return minutes is not None and minutes * 60 < facts.target_seconds


async def lead_team(session: AsyncSession, brand_id: uuid.UUID) -> Team | None:
    """The brand's team with the most active leads in it (ties: by slug)."""
    leads = func.count(col(User.id))
    row = (
        await session.execute(
            select(Team)
            .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
            .join(User, col(User.id) == col(TeamMember.user_id))
            .where(
                col(Team.tenant_id) == brand_id,
                col(User.role) == Role.lead,
                col(User.active).is_(True),
            )
            .group_by(col(Team.id))
            .order_by(leads.desc(), col(Team.slug))
            .limit(1)
        )
    ).scalar_one_or_none()
    return row


async def _reassign_to_lead_queue(session: AsyncSession, case: Case) -> bool:
    if case.brand_id is None:
        return False
    team = await lead_team(session, case.brand_id)
    if team is None or case.brand_team_id == team.id:
        return False
    case.brand_team_id = team.id
    case.assignee_id = None
    # The brand's queues are its own business: the event is internal to the brand.
    actor = Actor(ActorKind.system, None, ENGINE_NAME, case.brand_id)
    await events.record(
        session,
        case,
        EventType.case_assigned,
        actor,
        visibility=Visibility.internal,
        data={"assignee_id": None, "team_id": str(team.id), "reason": "sla_breached"},
    )
    return True


async def live_clocks(session: AsyncSession, case_id: uuid.UUID) -> list[SlaClock]:
    """Every clock of the case, read afresh (the sweep may have moved some with plain updates)."""
    result = await session.execute(
        select(SlaClock)
        .where(col(SlaClock.case_id) == case_id)
        .order_by(col(SlaClock.id))
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def retarget_case(session: AsyncSession, case: Case, now: datetime) -> None:
    """Recompute the targets of the case's live clocks from its priority and their policies."""
    for clock in await live_clocks(session, case.id):
        if not clocks.live(clock):
            continue
        policy = await session.get(SlaPolicy, clock.policy_id)
        if policy is None:
            continue
        minutes = policy.target_minutes(clock.metric, case.priority.value)
        if minutes is None:
            continue
        cal = await clocks.calendar_of(session, policy)
        clocks.retarget(clock, cal, policy.warning_thresholds, minutes, now)
