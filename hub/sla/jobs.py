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

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.models import Case
from hub.core.db import Database
from hub.core.models import utcnow
from hub.sla import clocks, firing
from hub.sla.models import ClockState, SlaClock, SlaPolicy

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
    rows = (
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
            .with_for_update(of=[SlaClock, Case], skip_locked=True)  # type: ignore[list-item]
        )
    ).all()
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
    by_case: dict[uuid.UUID, list[firing.ClockFacts]] = {}
    plans: dict[int, tuple[clocks.Firing, SlaPolicy]] = {}
    for row in rows:
        policy = await session.get(SlaPolicy, row.policy_id)
        if policy is None or row.resumed_at is None or row.due_at is None:
            continue
        cal = await clocks.calendar_of(session, policy)
        due = clocks.plan(
            cal,
            policy.warning_thresholds,
            target=row.target_seconds,
            consumed=row.consumed_seconds,
            resumed_at=row.resumed_at,
            due_at=row.due_at,
            warned_pct=row.warned_pct,
            now=now,
        )
        values: dict[str, object] = {"warned_pct": due.warned_pct, "fire_at": due.fire_at}
        if due.breach:
            values.update(state=ClockState.breached, breached_at=row.due_at)
        moved = (
            await session.execute(
                update(SlaClock)
                .where(
                    col(SlaClock.id) == row.id,
                    col(SlaClock.state) == ClockState.running,
                    col(SlaClock.warned_pct) == row.warned_pct,
                    col(SlaClock.fire_at) <= now,
                )
                .values(**values)
                .returning(col(SlaClock.id))
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if moved is None or not due.anything:
            continue
        facts = firing.ClockFacts(row.id, row.metric, row.side, row.target_seconds, row.due_at)
        by_case.setdefault(row.case_id, []).append(facts)
        plans[row.id] = (due, policy)
        result.warnings += len(due.warnings)
        result.breaches += int(due.breach)
        result.lateness.append((now - row.fire_at).total_seconds())
    for case_id, fired in by_case.items():
        case = cases[case_id]
        for facts in fired:
            due, policy = plans[facts.id]
            await firing.announce(session, case, facts, due, policy, now)
    return result


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
