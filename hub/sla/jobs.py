"""The sweep: find the clocks whose next warning or due time has come, and fire them once.

Each batch is its own unit of work. It claims due rows in ``fire_at`` order — with
``FOR UPDATE … SKIP LOCKED`` on PostgreSQL (of the clock and its case, so a case being changed
right now is left for the next sweep and no two workers take the same row), inside the
``BEGIN IMMEDIATE`` write transaction on SQLite — and moves each with a conditional
``UPDATE … WHERE state = 'running' AND warned_pct = :seen AND fire_at <= :now RETURNING``.
Only a row that update returns is announced, in the same transaction, so a warning or a breach
fires exactly once however many processes sweep and whatever crashed in between; a deadline
that passed while nothing ran fires on the first sweep after start, with ``breached_at`` the due
time itself.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events
from hub.cases.events import Pending
from hub.cases.models import Case
from hub.core.db import Database
from hub.core.models import UTCDateTime, utcnow
from hub.sla import clocks, firing
from hub.sla.calendars import CalendarError
from hub.sla.models import ClockState, SlaClock, SlaPolicy
from tenants.models import Tenant

log = logging.getLogger("casehub.sla")

DEFAULT_BATCH = 500
DEFAULT_MAX_BATCHES = 40


@dataclass(slots=True)
class SweepResult:
    claimed: int = 0
    warnings: int = 0
    breaches: int = 0
    lateness: list[float] = field(default_factory=list)
    """Seconds from each fired moment (threshold or due time) to when it fired."""

    def add(self, other: SweepResult) -> None:
        self.claimed += other.claimed
        self.warnings += other.warnings
        self.breaches += other.breaches
        self.lateness.extend(other.lateness)


async def sweep_batch(
    session: AsyncSession, *, now: datetime | None = None, limit: int = DEFAULT_BATCH
) -> SweepResult:
    """Claim up to ``limit`` due clocks and fire them, in ``session``'s transaction."""
    now = now or utcnow()
    result = SweepResult()
    rows: list[Any] = list(
        (
            await session.execute(
                select(
                    col(SlaClock.id),
                    col(SlaClock.case_id),
                    col(SlaClock.policy_id),
                    col(SlaClock.metric),
                    col(SlaClock.side),
                    col(SlaClock.target_seconds),
                    col(SlaClock.consumed_seconds),
                    col(SlaClock.resumed_at),
                    col(SlaClock.due_at),
                    col(SlaClock.fire_at),
                    col(SlaClock.warned_pct),
                )
                .join(Case, col(Case.id) == col(SlaClock.case_id))
                .where(col(SlaClock.state) == ClockState.running, col(SlaClock.fire_at) <= now)
                .order_by(col(SlaClock.fire_at))
                .limit(limit)
                .with_for_update(of=[SlaClock, Case], skip_locked=True)
            )
        ).all()
    )
    result.claimed = len(rows)
    if not rows:
        return result
    case_ids = list({row.case_id for row in rows})
    cases = {
        case.id: case
        for case in (await session.execute(select(Case).where(col(Case.id).in_(case_ids))))
        .scalars()
        .all()
    }
    # Held for the whole batch: the session's identity map only keeps what someone references,
    # and every announcement reads these tenants again.
    tenant_ids = {c.tenant_id for c in cases.values()} | {
        c.brand_id for c in cases.values() if c.brand_id is not None
    }
    tenants = list(
        (await session.execute(select(Tenant).where(col(Tenant.id).in_(tenant_ids)))).scalars()
    )
    policies = {
        p.id: p
        for p in (
            await session.execute(
                select(SlaPolicy).where(col(SlaPolicy.id).in_({row.policy_id for row in rows}))
            )
        ).scalars()
    }
    calendars = {p.id: await clocks.calendar_of(session, p) for p in policies.values()}
    planned: list[tuple[Any, clocks.Firing, SlaPolicy]] = []
    for row in rows:
        policy = policies[row.policy_id]
        try:
            due = clocks.plan(
                calendars[policy.id],
                policy.warning_thresholds,
                target=row.target_seconds,
                consumed=row.consumed_seconds,
                resumed_at=row.resumed_at,
                due_at=row.due_at,
                warned_pct=row.warned_pct,
                now=now,
            )
        except CalendarError:
            # A calendar closed for years: park the clock rather than fail every sweep on it.
            log.exception("sla clock parked", extra={"clock_id": row.id})
            due = clocks.Firing((), False, row.warned_pct, None)
        planned.append((row, due, policy))
    moved = await _move(session, planned, now)
    announced: list[Pending] = []
    escalations: list[tuple[Case, firing.ClockFacts, SlaPolicy]] = []
    for row, due, policy in planned:
        if row.id not in moved or not due.anything:
            continue
        case = cases[row.case_id]
        facts = firing.ClockFacts(row.id, row.metric, row.side, row.target_seconds, row.due_at)
        announced += firing.announcements(case, facts, due, now)
        if due.breach and policy.escalation:
            escalations.append((case, facts, policy))
        result.warnings += len(due.warnings)
        result.breaches += int(due.breach)
        result.lateness.append((now - row.fire_at).total_seconds())
    await events.record_many(session, announced)
    for case, facts, policy in escalations:
        await firing.escalate(session, case, facts, policy, now)
    del tenants
    return result


_MOVE_SQLITE = text(
    """
    UPDATE sla_clock
    SET warned_pct = v.warned,
        fire_at = v.fire_at,
        state = CASE WHEN v.breach THEN 'breached' ELSE sla_clock.state END,
        breached_at = CASE WHEN v.breach THEN sla_clock.due_at ELSE sla_clock.breached_at END
    FROM (
        SELECT json_extract(value, '$.id') AS id,
               json_extract(value, '$.seen') AS seen,
               json_extract(value, '$.warned') AS warned,
               json_extract(value, '$.fire_at') AS fire_at,
               json_extract(value, '$.breach') AS breach
        FROM json_each(:payload)
    ) AS v
    WHERE sla_clock.id = v.id
      AND +sla_clock.state = 'running'
      AND +sla_clock.fire_at <= :now
      AND sla_clock.warned_pct = v.seen
    RETURNING sla_clock.id
    """
)
"""The unary ``+`` keeps SQLite from scanning every running clock by the (state, fire_at) index
and probing the plan for each: the plan is the outer loop, each row found by its primary key."""
_MOVE_POSTGRES = text(
    """
    UPDATE sla_clock
    SET warned_pct = v.warned,
        fire_at = v.fire_at,
        state = CASE WHEN v.breach THEN 'breached' ELSE sla_clock.state END,
        breached_at = CASE WHEN v.breach THEN sla_clock.due_at ELSE sla_clock.breached_at END
    FROM jsonb_to_recordset(CAST(:payload AS jsonb))
        AS v(id bigint, seen int, warned int, fire_at timestamptz, breach boolean)
    WHERE sla_clock.id = v.id
      AND sla_clock.state = 'running'
      AND sla_clock.fire_at <= :now
      AND sla_clock.warned_pct = v.seen
    RETURNING sla_clock.id
    """
)


def _stored(value: datetime | None, sqlite: bool) -> str | None:
    """A timestamp as the column stores it: SQLite keeps naive UTC text that compares as text."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    if sqlite:
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value.isoformat()


async def _move(
    session: AsyncSession, planned: list[tuple[Any, clocks.Firing, SlaPolicy]], now: datetime
) -> set[int]:
    """Move every planned clock in one conditional UPDATE; return the ids it really moved.

    A row moves only while it is still running, due, and at the ``warned_pct`` the plan was made
    from: a clock another transaction fired or changed meanwhile is left alone (and not
    announced). The plan travels as one JSON parameter, however many rows it covers.
    """
    if not planned:
        return set()
    sqlite = session.get_bind().dialect.name == "sqlite"
    payload = json.dumps(
        [
            {
                "id": row.id,
                "seen": row.warned_pct,
                "warned": due.warned_pct,
                "fire_at": _stored(due.fire_at, sqlite),
                "breach": due.breach,
            }
            for row, due, _ in planned
        ]
    )
    statement = (_MOVE_SQLITE if sqlite else _MOVE_POSTGRES).bindparams(
        bindparam("payload", type_=String()), bindparam("now", type_=UTCDateTime())
    )
    result = await session.execute(statement, {"payload": payload, "now": now})
    return {int(moved) for moved in result.scalars()}


async def sweep(
    db: Database,
    *,
    now: datetime | None = None,
    batch: int = DEFAULT_BATCH,
    max_batches: int = DEFAULT_MAX_BATCHES,
) -> SweepResult:
    """Sweep batch after batch, each its own unit of work, until fewer than ``batch`` are due.

    A batch that fails rolls back alone (its clocks stay due for the next sweep).
    """
    total = SweepResult()
    for _ in range(max_batches):
        async with db.unit_of_work() as session:
            result = await sweep_batch(session, now=now or utcnow(), limit=batch)
        total.add(result)
        if result.claimed < batch:
            break
    if total.warnings or total.breaches:
        log.info(
            "sla sweep fired",
            extra={"warnings": total.warnings, "breaches": total.breaches},
        )
    return total
