"""What the console's pages read beyond the domain's own services: light list rows, counts for the
dashboard, saved views, SKU look-ups. Module-level functions, session first; never commits.

Lists show tens of cases per page, so rows are built with batched look-ups (one query for the
tenants' names, one for the agents'), never :func:`hub.cases.reading.case_read` per case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.access import Party, party_of, visible_cases
from hub.cases.models import OPEN_STATUSES, Case, Priority, Status
from hub.console.models import SavedView
from hub.core.errors import NotFound
from hub.core.security import Principal
from routing import service as routing_service
from tenants.case_types import CaseType
from tenants.models import Product, Team, TeamMember, Tenant, User


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One line of a case list, as its reader may see it."""

    id: uuid.UUID
    number: str
    title: str
    status: Status
    priority: Priority
    type: CaseType
    host_name: str
    brand_name: str | None
    assignee_name: str | None
    sku: str | None
    product_name: str | None
    routing_reason: str
    created_at: datetime
    updated_at: datetime


async def case_rows(
    session: AsyncSession, principal: Principal, cases: list[Case]
) -> list[CaseRow]:
    """Rows for ``cases`` with two batched look-ups. A brand's agents are shown only to the
    brand, and the routing reason is the reader's own (the host's or the brand's steps)."""
    tenant_ids = {c.tenant_id for c in cases} | {c.brand_id for c in cases if c.brand_id}
    names: dict[uuid.UUID, str] = {}
    if tenant_ids:
        rows = await session.execute(
            select(col(Tenant.id), col(Tenant.name)).where(col(Tenant.id).in_(tenant_ids))
        )
        names = dict(rows.all())
    agents: dict[uuid.UUID, str] = {}
    agent_ids = {
        c.assignee_id for c in cases if c.assignee_id and c.brand_id == principal.tenant_id
    }
    if agent_ids:
        rows = await session.execute(
            select(col(User.id), col(User.name)).where(col(User.id).in_(agent_ids))
        )
        agents = dict(rows.all())
    result = []
    for case in cases:
        party = party_of(case, principal.tenant_id)
        reason = str((case.routing or {}).get("reason", ""))
        if party == Party.brand:
            steps = (case.routing or {}).get("brand_steps") or []
            reason = steps[-1]["reason"] if steps else ""
        result.append(
            CaseRow(
                id=case.id,
                number=case.number,
                title=case.title,
                status=case.status,
                priority=case.priority,
                type=case.type,
                host_name=names.get(case.tenant_id, ""),
                brand_name=names.get(case.brand_id) if case.brand_id else None,
                assignee_name=agents.get(case.assignee_id) if case.assignee_id else None,
                sku=case.sku,
                product_name=case.product_name,
                routing_reason=reason,
                created_at=case.created_at,
                updated_at=case.updated_at,
            )
        )
    return result


# --- dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    """The dashboard's counts: cases per status, and open cases per brand (host) or per queue
    (brand). ``None`` groups the cases in no brand yet (triage) or in no queue (the inbox)."""

    by_status: dict[Status, int]
    open_by_group: dict[uuid.UUID | None, int]


async def workload(session: AsyncSession, principal: Principal) -> Workload:
    """One grouped query over a covering index (``ix_case_tenant_status_brand`` for a host,
    ``ix_case_brand_status_team`` for a brand): the table itself is never read."""
    group = col(Case.brand_id) if principal.tenant_kind == "host" else col(Case.brand_team_id)
    rows = await session.execute(
        select(col(Case.status), group, func.count())
        .where(visible_cases(principal))
        .group_by(col(Case.status), group)
    )
    by_status: dict[Status, int] = {}
    open_by_group: dict[uuid.UUID | None, int] = {}
    for status, group_id, count in rows.all():
        by_status[Status(status)] = by_status.get(Status(status), 0) + int(count)
        if status in OPEN_STATUSES:
            open_by_group[group_id] = open_by_group.get(group_id, 0) + int(count)
    return Workload(by_status, open_by_group)


async def open_by_brand(session: AsyncSession, load: Workload) -> list[tuple[str, int]]:
    """A host's open cases per brand name, most first; those in triage under ``""``."""
    brand_ids = [brand_id for brand_id in load.open_by_group if brand_id is not None]
    names: dict[uuid.UUID, str] = {}
    if brand_ids:
        named = await session.execute(
            select(col(Tenant.id), col(Tenant.name)).where(col(Tenant.id).in_(brand_ids))
        )
        names = dict(named.all())
    result = [(names.get(b, "") if b else "", n) for b, n in load.open_by_group.items()]
    return sorted(result, key=lambda item: (-item[1], item[0]))


async def open_by_team(
    session: AsyncSession, principal: Principal, load: Workload
) -> list[tuple[Team | None, int]]:
    """A brand's open cases per queue, most first; ``None``: not in a queue yet."""
    teams = {team.id: team for team in await list_teams(session, principal)}
    result: list[tuple[Team | None, int]] = [
        (teams[team_id], n) for team_id, n in load.open_by_group.items() if team_id in teams
    ]
    result.sort(key=lambda item: -item[1])
    if None in load.open_by_group:
        result.append((None, load.open_by_group[None]))
    return result


# --- teams and agents -----------------------------------------------------------------------------


async def list_teams(session: AsyncSession, principal: Principal) -> list[Team]:
    rows = await session.execute(
        select(Team).where(col(Team.tenant_id) == principal.tenant_id).order_by(col(Team.name))
    )
    return list(rows.scalars())


async def teams_of(session: AsyncSession, user: User) -> list[Team]:
    rows = await session.execute(
        select(Team)
        .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
        .where(col(TeamMember.user_id) == user.id)
        .order_by(col(Team.name))
    )
    return list(rows.scalars())


async def active_users(session: AsyncSession, principal: Principal) -> list[User]:
    rows = await session.execute(
        select(User)
        .where(col(User.tenant_id) == principal.tenant_id, col(User.active))
        .order_by(col(User.name))
    )
    return list(rows.scalars())


async def team_members(
    session: AsyncSession, team_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[User]]:
    if not team_ids:
        return {}
    rows = await session.execute(
        select(col(TeamMember.team_id), User)
        .join(User, col(User.id) == col(TeamMember.user_id))
        .where(col(TeamMember.team_id).in_(team_ids))
        .order_by(col(User.name))
    )
    members: dict[uuid.UUID, list[User]] = {team_id: [] for team_id in team_ids}
    for team_id, user in rows.all():
        members[team_id].append(user)
    return members


# --- partners and the catalog ---------------------------------------------------------------------


async def partner_brands(session: AsyncSession, principal: Principal) -> list[Tenant]:
    """The host's active partner brands, by name (an empty list for a brand)."""
    if principal.tenant_kind != "host":
        return []
    partners = await routing_service.active_partners(session, principal.tenant_id)
    return sorted((p.brand for p in partners.values()), key=lambda brand: brand.name)


@dataclass(frozen=True, slots=True)
class SkuMatch:
    sku: str
    name: str
    category: str
    brand: Tenant


async def lookup_sku(session: AsyncSession, principal: Principal, sku: str) -> list[SkuMatch]:
    """Products of the host's active partners whose SKU or barcode is ``sku``."""
    partners = await routing_service.active_partners(session, principal.tenant_id)
    if not partners or not sku.strip():
        return []
    rows = await session.execute(
        select(Product).where(
            or_(col(Product.sku) == sku.strip(), col(Product.barcode) == sku.strip()),
            col(Product.tenant_id).in_(list(partners)),
        )
    )
    return [
        SkuMatch(p.sku, p.name, p.category, partners[p.tenant_id].brand) for p in rows.scalars()
    ]


async def find_case_number(session: AsyncSession, principal: Principal, text: str) -> Case | None:
    """One of the caller's cases whose human number (``LX-000123``) is ``text``, if any.

    A host's numbers are unique; a brand sees several hosts' cases, so the newest match wins.
    """
    number = text.strip().upper()
    if not number or len(number) > 32:
        return None
    statement = (
        select(Case)
        .where(visible_cases(principal), col(Case.number) == number)
        .order_by(col(Case.created_at).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def case_by_number(session: AsyncSession, principal: Principal, number: str) -> Case:
    """One of the caller's cases by its human number, else 404."""
    case = await find_case_number(session, principal, number)
    if case is None:
        raise NotFound(f"no case {number}")
    return case


# --- saved views ----------------------------------------------------------------------------------


async def saved_views(session: AsyncSession, principal: Principal) -> list[SavedView]:
    """The caller's own views and the ones shared in their tenant."""
    rows = await session.execute(
        select(SavedView)
        .where(
            col(SavedView.tenant_id) == principal.tenant_id,
            or_(col(SavedView.user_id) == principal.subject_id, col(SavedView.shared)),
        )
        .order_by(col(SavedView.name))
    )
    return list(rows.scalars())


async def save_view(
    session: AsyncSession, principal: Principal, *, name: str, query: str, shared: bool
) -> SavedView:
    view = SavedView(
        tenant_id=principal.tenant_id,
        user_id=principal.subject_id,
        name=name.strip()[:100],
        query=query[:2000],
        shared=shared,
    )
    session.add(view)
    await session.flush()
    return view


async def delete_view(session: AsyncSession, principal: Principal, view_id: uuid.UUID) -> None:
    """Delete one of the caller's own views (a shared view of someone else answers 404)."""
    view = (
        await session.execute(
            select(SavedView).where(
                col(SavedView.id) == view_id,
                col(SavedView.tenant_id) == principal.tenant_id,
                col(SavedView.user_id) == principal.subject_id,
            )
        )
    ).scalar_one_or_none()
    if view is None:
        raise NotFound(f"no saved view {view_id}")
    await session.delete(view)
    await session.flush()
