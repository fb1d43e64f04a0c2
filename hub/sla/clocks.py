"""Clock arithmetic and state changes: start, pause, resume, complete, stop, reschedule.

A clock counts business time on its policy's calendar. While it counts, ``consumed_seconds`` holds
what was used before ``resumed_at``; pausing folds the stretch since then into it. Every change
that moves a clock's deadline recomputes ``due_at`` and ``fire_at`` from the business time left,
so a pause, a priority change or a new policy never loses or double-counts time.

Only :mod:`hub.core`, :mod:`tenants` and this package are imported: the case domain reads clocks
through :mod:`hub.sla.visibility` without a cycle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.sla import calendars
from hub.sla.calendars import BusinessCalendar
from hub.sla.models import ClockState, Metric, Side, SlaCalendar, SlaClock, SlaPolicy
from tenants.models import Partnership, Tenant

LIVE_STATES = (ClockState.running, ClockState.paused, ClockState.breached)

_compiled: dict[tuple[object, ...], BusinessCalendar] = {}


def compile_calendar(row: SlaCalendar) -> BusinessCalendar:
    """The compiled calendar of ``row``, cached until the row changes."""
    key = (
        row.id,
        row.time_zone,
        row.holidays,
        repr(sorted(row.hours.items())),
        tuple(row.closed_dates),
        tuple(row.working_dates),
    )
    cached = _compiled.get(key)
    if cached is None:
        if len(_compiled) > 1024:
            _compiled.clear()
        cached = calendars.build(
            time_zone=row.time_zone,
            hours=row.hours,
            closed_dates=row.closed_set(),
            working_dates=row.working_set(),
            holidays_country=row.holidays,
        )
        _compiled[key] = cached
    return cached


async def calendar_of(session: AsyncSession, policy: SlaPolicy) -> BusinessCalendar:
    """The policy's business calendar; around the clock in the host's zone when it names none."""
    if policy.calendar_id is not None:
        row = await session.get(SlaCalendar, policy.calendar_id)
        if row is not None:
            return compile_calendar(row)
    host = await session.get(Tenant, policy.tenant_id)
    return calendars.always_open(host.time_zone if host else "UTC")


async def default_policy(session: AsyncSession, host_id: uuid.UUID) -> SlaPolicy | None:
    return (
        await session.execute(
            select(SlaPolicy).where(
                col(SlaPolicy.tenant_id) == host_id, col(SlaPolicy.is_default).is_(True)
            )
        )
    ).scalar_one_or_none()


async def partnership_policy(
    session: AsyncSession, host_id: uuid.UUID, brand_id: uuid.UUID
) -> SlaPolicy | None:
    """The policy host and brand agreed, else the host's default, else ``None``."""
    policy_id = (
        await session.execute(
            select(col(Partnership.sla_policy_id)).where(
                col(Partnership.host_id) == host_id, col(Partnership.brand_id) == brand_id
            )
        )
    ).scalar_one_or_none()
    if policy_id is not None:
        policy = await session.get(SlaPolicy, policy_id)
        if policy is not None and policy.tenant_id == host_id:
            return policy
    return await default_policy(session, host_id)


@dataclass(frozen=True, slots=True)
class Firing:
    """What is due on a clock at ``now``: warnings to send, whether it breaches, and its next
    ``warned_pct`` and ``fire_at``."""

    warnings: tuple[int, ...]
    breach: bool
    warned_pct: int
    fire_at: datetime | None

    @property
    def anything(self) -> bool:
        return bool(self.warnings) or self.breach


def threshold_at(
    cal: BusinessCalendar, resumed_at: datetime, target: int, consumed: int, pct: int
) -> datetime:
    return cal.add(resumed_at, timedelta(seconds=target * pct // 100 - consumed))


def plan(
    cal: BusinessCalendar,
    thresholds: list[int],
    *,
    target: int,
    consumed: int,
    resumed_at: datetime,
    due_at: datetime,
    warned_pct: int,
    now: datetime,
) -> Firing:
    """Which warnings fall due by ``now`` on a running clock, and whether it breached (``now``
    is past its due time)."""
    warnings: list[int] = []
    warned = warned_pct
    upcoming: datetime | None = None
    for pct in sorted(set(thresholds)):
        if pct <= warned_pct:
            continue
        at = threshold_at(cal, resumed_at, target, consumed, pct)
        if at <= now:
            warnings.append(pct)
            warned = pct
        else:
            upcoming = at
            break
    breach = due_at < now  # an answer right at the due time is on time
    fire_at = None if breach else min(due_at, upcoming or due_at)
    return Firing(tuple(warnings), breach, warned, fire_at)


def schedule(clock: SlaClock, cal: BusinessCalendar, thresholds: list[int]) -> None:
    """Set ``due_at`` and ``fire_at`` of a counting clock from the business time it has left."""
    assert clock.resumed_at is not None
    clock.due_at = cal.add(
        clock.resumed_at, timedelta(seconds=clock.target_seconds - clock.consumed_seconds)
    )
    if clock.state != ClockState.running:
        clock.fire_at = None
        return
    upcoming = [
        threshold_at(cal, clock.resumed_at, clock.target_seconds, clock.consumed_seconds, pct)
        for pct in sorted(set(thresholds))
        if pct > clock.warned_pct
    ]
    clock.fire_at = min([*upcoming[:1], clock.due_at])


def counting(clock: SlaClock) -> bool:
    return clock.state in LIVE_STATES and clock.completed_at is None and clock.paused_at is None


def live(clock: SlaClock) -> bool:
    return clock.state in LIVE_STATES and clock.completed_at is None


def used(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> int:
    """Business seconds the clock has consumed by ``now``."""
    if counting(clock) and clock.resumed_at is not None and now > clock.resumed_at:
        return clock.consumed_seconds + int(cal.between(clock.resumed_at, now).total_seconds())
    return clock.consumed_seconds


def new_clock(
    *,
    case_id: uuid.UUID,
    host_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    policy: SlaPolicy,
    metric: Metric,
    side: Side,
    target_minutes: int,
    started_at: datetime,
    cal: BusinessCalendar,
) -> SlaClock:
    clock = SlaClock(
        case_id=case_id,
        host_id=host_id,
        brand_id=brand_id,
        policy_id=policy.id,
        metric=metric,
        side=side,
        state=ClockState.running,
        target_seconds=target_minutes * 60,
        started_at=started_at,
        resumed_at=started_at,
    )
    schedule(clock, cal, policy.warning_thresholds)
    return clock


def pause(clock: SlaClock, cal: BusinessCalendar, now: datetime, reason: str) -> None:
    clock.consumed_seconds = used(clock, cal, now)
    clock.paused_at = now
    clock.pause_reason = reason[:300]
    clock.resumed_at = None
    clock.fire_at = None
    if clock.state == ClockState.running:
        clock.state = ClockState.paused
        clock.due_at = None


def resume(clock: SlaClock, cal: BusinessCalendar, thresholds: list[int], now: datetime) -> None:
    clock.paused_at = None
    clock.pause_reason = None
    clock.resumed_at = now
    if clock.state == ClockState.paused:
        clock.state = ClockState.running
        schedule(clock, cal, thresholds)


def complete(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> None:
    """The target was reached at ``now``: met, or late if it already breached."""
    clock.elapsed_seconds = used(clock, cal, now)
    clock.consumed_seconds = clock.elapsed_seconds
    clock.completed_at = now
    clock.resumed_at = clock.paused_at = clock.fire_at = None
    clock.pause_reason = None
    if clock.state != ClockState.breached:
        clock.state = ClockState.met


def reopen(clock: SlaClock, cal: BusinessCalendar, thresholds: list[int], now: datetime) -> None:
    """Resume a completed resolution clock where it stopped (the time in between not counted)."""
    clock.consumed_seconds = clock.elapsed_seconds or clock.consumed_seconds
    clock.elapsed_seconds = None
    clock.completed_at = None
    clock.resumed_at = now
    if clock.state == ClockState.met:
        clock.state = ClockState.running
        schedule(clock, cal, thresholds)


def stop(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> None:
    """No longer measured (``breached_at`` stays as evidence of a breach that happened)."""
    clock.consumed_seconds = used(clock, cal, now)
    clock.state = ClockState.stopped
    clock.resumed_at = clock.fire_at = None
    clock.completed_at = now


def retarget(
    clock: SlaClock,
    cal: BusinessCalendar,
    thresholds: list[int],
    target_minutes: int,
    now: datetime,
) -> bool:
    """Give a live clock a new target (a priority or policy change); ``True`` if it changed.

    The business time used so far is kept; a breach already recorded stands.
    """
    target = target_minutes * 60
    if target == clock.target_seconds or clock.state == ClockState.breached:
        return False
    if counting(clock):
        clock.consumed_seconds = used(clock, cal, now)
        clock.resumed_at = now
    clock.target_seconds = target
    if clock.state == ClockState.running:
        schedule(clock, cal, thresholds)
    return True


def remaining_seconds(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> int | None:
    """Business seconds left (negative once overdue); ``None`` for a completed clock."""
    if not live(clock):
        return None
    return clock.target_seconds - used(clock, cal, now)


def checkpoint(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> None:
    """Fold the business time used so far into ``consumed_seconds`` (before a calendar or policy
    change, measured on the calendar that was in force)."""
    if counting(clock) and clock.resumed_at is not None:
        clock.consumed_seconds = used(clock, cal, now)
        clock.resumed_at = max(now, clock.resumed_at)


def rebase(
    clock: SlaClock,
    policy: SlaPolicy,
    cal: BusinessCalendar,
    target_minutes: int | None,
) -> None:
    """Put a checkpointed live clock on ``policy``: its target, calendar and thresholds."""
    clock.policy_id = policy.id
    if target_minutes is not None and clock.state != ClockState.breached:
        clock.target_seconds = target_minutes * 60
    if clock.state == ClockState.running and clock.resumed_at is not None:
        schedule(clock, cal, policy.warning_thresholds)
