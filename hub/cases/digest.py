"""The case figures behind the notifiers' daily digest (the notifiers cannot read case tables).

For a host: cases it filed in the period, its open cases, those at risk and those breached, by
brand. For a brand: cases routed to it in the period and its open ones, by host. "At risk" is an
open case with an ``sla.warning`` event and no ``sla.breached`` one; "breached" an open case with
an ``sla.breached`` event — the SLA engine records both on the case timeline.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.models import OPEN_STATUSES, Case, CaseEvent
from hub.core.events import EventType
from notifiers.messages import DigestFigures
from tenants.models import Tenant, TenantKind

UNASSIGNED = "—"


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has_event(event_type: str) -> Exists:
    return exists(
        select(col(CaseEvent.id)).where(
            col(CaseEvent.case_id) == col(Case.id), col(CaseEvent.type) == event_type
        )
    )


async def digest_figures(
    session: AsyncSession, tenant_id: uuid.UUID, since: datetime, until: datetime
) -> DigestFigures:
    """The tenant's figures for ``[since, until)``; open and at-risk counts are as of now."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return DigestFigures(0, 0, 0, 0)
    is_brand = tenant.kind == TenantKind.brand
    own = col(Case.brand_id) == tenant_id if is_brand else col(Case.tenant_id) == tenant_id
    partner = col(Case.tenant_id) if is_brand else col(Case.brand_id)
    arrived = col(Case.routed_at) if is_brand else col(Case.created_at)
    new = and_(arrived >= since, arrived < until)
    is_open = col(Case.status).in_(list(OPEN_STATUSES))
    breached = _has_event(EventType.sla_breached)
    warned = _has_event(EventType.sla_warning)
    rows = (
        await session.execute(
            select(
                partner,
                _flag(new),
                _flag(is_open),
                _flag(and_(is_open, warned, ~breached)),
                _flag(and_(is_open, breached)),
            )
            .where(own, new | is_open)
            .group_by(partner)
        )
    ).all()
    names = {
        row.id: row.name
        for row in (
            await session.execute(
                select(col(Tenant.id), col(Tenant.name)).where(
                    col(Tenant.id).in_([r[0] for r in rows if r[0] is not None])
                )
            )
        ).all()
    }
    partners = sorted(
        ((names.get(r[0], UNASSIGNED), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows),
        key=lambda p: (-p[2], -p[1], p[0]),
    )
    return DigestFigures(
        new=sum(p[1] for p in partners),
        open=sum(p[2] for p in partners),
        at_risk=sum(p[3] for p in partners),
        breached=sum(p[4] for p in partners),
        partners=partners[:20],
    )
