"""Attainment per partnership: how many targets were met, and how long reaching them took.

Times are business seconds from a clock's start to the moment its target was reached, pauses
left out; ``breached_at`` is the due time itself, so downtime of CaseHub never skews them.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.security import Principal
from hub.sla.models import ClockState, Metric, Side, SlaClock
from hub.sla.schemas import AttainmentReport, AttainmentRow
from tenants.models import Tenant

Key = tuple[uuid.UUID, uuid.UUID | None, Metric]


def percentile(ordered: list[int], pct: float) -> int | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


async def attainment(
    session: AsyncSession,
    principal: Principal,
    *,
    started_from: datetime | None = None,
    started_to: datetime | None = None,
    metric: Metric | None = None,
) -> AttainmentReport:
    """Rows per (host, brand, metric) over the clocks the caller may see: a host all of its own,
    its buyer-facing clock as ``brand: None``; a brand only its own clocks with each host."""
    conditions = []
    if principal.tenant_kind == "host":
        conditions.append(col(SlaClock.host_id) == principal.tenant_id)
    else:
        conditions += [
            col(SlaClock.brand_id) == principal.tenant_id,
            col(SlaClock.side) == Side.brand,
        ]
    if started_from is not None:
        conditions.append(col(SlaClock.started_at) >= started_from)
    if started_to is not None:
        conditions.append(col(SlaClock.started_at) < started_to)
    if metric is not None:
        conditions.append(col(SlaClock.metric) == metric)
    brand_key = col(SlaClock.brand_id)
    counts = await session.execute(
        select(
            col(SlaClock.host_id),
            brand_key,
            col(SlaClock.side),
            col(SlaClock.metric),
            col(SlaClock.state),
            col(SlaClock.completed_at).is_(None),
            func.count(),
        )
        .where(*conditions)
        .group_by(
            col(SlaClock.host_id),
            brand_key,
            col(SlaClock.side),
            col(SlaClock.metric),
            col(SlaClock.state),
            col(SlaClock.completed_at).is_(None),
        )
    )
    tally: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for host_id, brand_id, side, row_metric, state, unfinished, count in counts.all():
        if state == ClockState.stopped:
            continue
        bucket = tally[(host_id, brand_id if side == Side.brand else None, row_metric)]
        if not unfinished:
            bucket["completed"] += count
            bucket["met"] += count if state == ClockState.met else 0
        else:
            bucket["open"] += count
            bucket["open_breached"] += count if state == ClockState.breached else 0
    times: dict[Key, list[int]] = defaultdict(list)
    finished = await session.execute(
        select(
            col(SlaClock.host_id),
            brand_key,
            col(SlaClock.side),
            col(SlaClock.metric),
            col(SlaClock.elapsed_seconds),
        ).where(
            *conditions,
            col(SlaClock.elapsed_seconds).is_not(None),
            col(SlaClock.state).in_((ClockState.met, ClockState.breached)),
        )
    )
    for host_id, brand_id, side, row_metric, seconds in finished.all():
        times[(host_id, brand_id if side == Side.brand else None, row_metric)].append(
            int(seconds or 0)
        )
    slugs = await _slugs(session, {k[0] for k in tally} | {k[1] for k in tally if k[1]})
    rows = []
    for key in sorted(
        tally, key=lambda k: (slugs[k[0]], slugs.get(k[1], "") if k[1] else "", k[2])
    ):
        bucket, elapsed = tally[key], sorted(times.get(key, []))
        completed = bucket["completed"]
        rows.append(
            AttainmentRow(
                host=slugs[key[0]],
                brand=slugs[key[1]] if key[1] else None,
                metric=key[2],
                completed=completed,
                met=bucket["met"],
                met_pct=round(100 * bucket["met"] / completed, 1) if completed else None,
                median_seconds=percentile(elapsed, 50),
                p90_seconds=percentile(elapsed, 90),
                open=bucket["open"],
                open_breached=bucket["open_breached"],
            )
        )
    return AttainmentReport(started_from=started_from, started_to=started_to, rows=rows)


async def _slugs(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(col(Tenant.id), col(Tenant.slug)).where(col(Tenant.id).in_(ids))
    )
    return {tenant_id: slug for tenant_id, slug in rows.all()}
