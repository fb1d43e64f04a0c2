"""Partnerships between a host and a brand: invitation, acceptance, terms and their states.

A host invites a brand (``invited``); the brand accepts (``active``) or declines (``declined``); the
host suspends and resumes an active one. Only an ``active`` partnership lets the host's cases,
catalog look-ups and live-session line-ups reach the brand. Both sides read it; the host alone
sets the terms. A declined brand may be invited again, which reopens the same partnership.

Module-level functions, session first; never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.events import DomainEvent, EventType, bus
from hub.core.models import utcnow
from hub.core.pagination import paginate
from hub.core.security import Principal
from tenants.case_types import CaseType
from tenants.errors import (
    InvalidField,
    InvalidPartnershipTransition,
    NotPartnershipHost,
    PartnershipExists,
    PartnershipNotFound,
    WrongTenantKind,
)
from tenants.models import Partnership, PartnershipStatus, Tenant, TenantKind
from tenants.schemas import PartnershipCreate, PartnershipUpdate

P = PartnershipStatus


class PartnershipAction(StrEnum):
    accept = "accept"
    decline = "decline"
    suspend = "suspend"
    resume = "resume"


@dataclass(frozen=True, slots=True)
class Transition:
    side: TenantKind
    from_statuses: frozenset[PartnershipStatus]
    to: PartnershipStatus


TRANSITIONS: dict[PartnershipAction, Transition] = {
    PartnershipAction.accept: Transition(TenantKind.brand, frozenset({P.invited}), P.active),
    PartnershipAction.decline: Transition(TenantKind.brand, frozenset({P.invited}), P.declined),
    PartnershipAction.suspend: Transition(TenantKind.host, frozenset({P.active}), P.suspended),
    PartnershipAction.resume: Transition(TenantKind.host, frozenset({P.suspended}), P.active),
}


@dataclass(frozen=True, slots=True)
class PartnershipView:
    """A partnership with both of its tenants loaded, as the API shows it."""

    partnership: Partnership
    host: Tenant
    brand: Tenant


def side_of(partnership: Partnership, tenant_id: uuid.UUID) -> TenantKind | None:
    if tenant_id == partnership.host_id:
        return TenantKind.host
    if tenant_id == partnership.brand_id:
        return TenantKind.brand
    return None


def allowed_actions(partnership: Partnership, side: TenantKind | None) -> list[str]:
    """The actions ``side`` may take now, in a stable order (``update`` = change the terms)."""
    actions = [
        action.value
        for action, rule in TRANSITIONS.items()
        if rule.side == side and partnership.status in rule.from_statuses
    ]
    if side == TenantKind.host and partnership.status != P.declined:
        actions.append("update")
    return actions


def normalise_case_types(types: Iterable[CaseType | str]) -> list[str]:
    """Distinct case types in their declared order (so equal sets compare and read the same)."""
    wanted = {CaseType(t) for t in types}
    return [t.value for t in CaseType if t in wanted]


EVENT_OF_ACTION = {
    PartnershipAction.accept: EventType.partnership_accepted,
    PartnershipAction.decline: EventType.partnership_declined,
    PartnershipAction.suspend: EventType.partnership_suspended,
    PartnershipAction.resume: EventType.partnership_resumed,
}


async def _announce(
    session: AsyncSession, view: PartnershipView, event_type: str, principal: Principal
) -> None:
    """Tell both companies (webhooks, notifications) what happened to their partnership."""
    partnership = view.partnership
    data = {
        "partnership": {
            "id": str(partnership.id),
            "status": partnership.status.value,
            "host": {"slug": view.host.slug, "name": view.host.name},
            "brand": {"slug": view.brand.slug, "name": view.brand.name},
            "allowed_case_types": list(partnership.allowed_case_types),
            "share_buyer_contact": partnership.share_buyer_contact,
        },
        "actor": {"kind": principal.kind.value, "name": principal.display_name},
    }
    await bus.publish(
        session,
        DomainEvent(
            id=uuid.uuid4(),
            type=event_type,
            occurred_at=utcnow(),
            case_id=None,
            views={partnership.host_id: data, partnership.brand_id: data},
            attributes={"brand_slug": view.brand.slug},
        ),
    )


def _involving(tenant_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(col(Partnership.host_id) == tenant_id, col(Partnership.brand_id) == tenant_id)


async def _tenants(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Tenant]:
    wanted = set(ids)
    if not wanted:
        return {}
    result = await session.execute(select(Tenant).where(col(Tenant.id).in_(wanted)))
    return {tenant.id: tenant for tenant in result.scalars()}


async def _views(session: AsyncSession, rows: Sequence[Partnership]) -> list[PartnershipView]:
    tenants = await _tenants(session, [i for p in rows for i in (p.host_id, p.brand_id)])
    return [PartnershipView(p, tenants[p.host_id], tenants[p.brand_id]) for p in rows]


async def list_partnerships(
    session: AsyncSession,
    principal: Principal,
    *,
    status: PartnershipStatus | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[PartnershipView], str | None]:
    """The caller's partnerships, on whichever side it stands, oldest first."""
    statement = select(Partnership).where(_involving(principal.tenant_id))
    if status is not None:
        statement = statement.where(col(Partnership.status) == status)
    rows, next_cursor = await paginate(session, statement, Partnership, limit=limit, cursor=cursor)
    return await _views(session, rows), next_cursor


async def _load(
    session: AsyncSession, principal: Principal, partnership_id: uuid.UUID, *, for_update: bool
) -> Partnership:
    statement = select(Partnership).where(
        col(Partnership.id) == partnership_id, _involving(principal.tenant_id)
    )
    if for_update:
        statement = statement.with_for_update()
    partnership = (await session.execute(statement)).scalar_one_or_none()
    if partnership is None:
        raise PartnershipNotFound(f"no partnership {partnership_id}")
    return partnership


async def get_partnership(
    session: AsyncSession, principal: Principal, partnership_id: uuid.UUID
) -> PartnershipView:
    """One partnership of the caller's; any other id is :class:`PartnershipNotFound` (404)."""
    partnership = await _load(session, principal, partnership_id, for_update=False)
    return (await _views(session, [partnership]))[0]


async def invite(
    session: AsyncSession, principal: Principal, data: PartnershipCreate
) -> PartnershipView:
    """A host invites a brand by slug.

    Raises :class:`WrongTenantKind` (403) for a brand caller, :class:`InvalidField` (422 at
    ``#/brand``) for a slug that names no brand, and :class:`PartnershipExists` (409) when the
    two already have a partnership that was not declined. Inviting a brand that declined reopens
    that partnership with the new terms.
    """
    if principal.tenant_kind != TenantKind.host:
        raise WrongTenantKind("only a host invites brands; a brand accepts their invitations")
    result = await session.execute(select(Tenant).where(col(Tenant.slug) == data.brand))
    brand = result.scalar_one_or_none()
    if brand is None:
        raise InvalidField(f"there is no brand with slug {data.brand!r}", pointer="#/brand")
    if brand.kind != TenantKind.brand:
        raise InvalidField(f"{data.brand!r} is a host, not a brand", pointer="#/brand")
    existing = (
        await session.execute(
            select(Partnership)
            .where(
                col(Partnership.host_id) == principal.tenant_id,
                col(Partnership.brand_id) == brand.id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.status != P.declined:
            raise _exists(existing, data.brand)
        existing.status = P.invited
        existing.accepted_at = existing.suspended_at = None
        partnership = existing
    else:
        partnership = Partnership(host_id=principal.tenant_id, brand_id=brand.id)
    partnership.allowed_case_types = normalise_case_types(data.allowed_case_types)
    partnership.share_buyer_contact = data.share_buyer_contact
    partnership.note = data.note
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(partnership)
        except IntegrityError:
            # Another request invited the same brand between our read and our write.
            raise PartnershipExists(f"you already have a partnership with {data.brand!r}") from None
    await session.flush()
    view = (await _views(session, [partnership]))[0]
    await _announce(session, view, EventType.partnership_invited, principal)
    return view


def _exists(existing: Partnership, slug: str) -> PartnershipExists:
    return PartnershipExists(
        f"you already have a partnership with {slug!r} ({existing.status.value})",
        partnership_id=str(existing.id),
        partnership_status=existing.status.value,
    )


async def act(
    session: AsyncSession,
    principal: Principal,
    partnership_id: uuid.UUID,
    action: PartnershipAction,
    *,
    now: datetime,
) -> PartnershipView:
    """Accept or decline (the brand), suspend or resume (the host).

    Raises :class:`PartnershipNotFound` (404) for another tenant's partnership and
    :class:`InvalidPartnershipTransition` (409, with ``allowed_actions``) when the caller's side may
    not take ``action`` from the current status.
    """
    partnership = await _load(session, principal, partnership_id, for_update=True)
    side = side_of(partnership, principal.tenant_id)
    rule = TRANSITIONS[action]
    if side != rule.side or partnership.status not in rule.from_statuses:
        who = side.value if side else "caller"
        raise InvalidPartnershipTransition(
            f"the {who} cannot {action.value} a partnership that is {partnership.status.value}",
            partnership_status=partnership.status.value,
            allowed_actions=allowed_actions(partnership, side),
        )
    partnership.status = rule.to
    if action == PartnershipAction.accept:
        partnership.accepted_at = now
    elif action == PartnershipAction.suspend:
        partnership.suspended_at = now
    elif action == PartnershipAction.resume:
        partnership.suspended_at = None
    await session.flush()
    view = (await _views(session, [partnership]))[0]
    await _announce(session, view, EVENT_OF_ACTION[action], principal)
    return view


async def update_terms(
    session: AsyncSession,
    principal: Principal,
    partnership_id: uuid.UUID,
    data: PartnershipUpdate,
) -> PartnershipView:
    """The host changes the terms; the brand reads them.

    Raises :class:`NotPartnershipHost` (403) for the brand and
    :class:`InvalidPartnershipTransition` (409) for a declined partnership (invite again instead).
    """
    partnership = await _load(session, principal, partnership_id, for_update=True)
    side = side_of(partnership, principal.tenant_id)
    if side != TenantKind.host:
        raise NotPartnershipHost("the host sets the terms; ask it to change them")
    if partnership.status == P.declined:
        raise InvalidPartnershipTransition(
            "the brand declined this partnership; invite it again with the new terms",
            partnership_status=partnership.status.value,
            allowed_actions=allowed_actions(partnership, side),
        )
    if data.allowed_case_types is not None:
        partnership.allowed_case_types = normalise_case_types(data.allowed_case_types)
    if data.share_buyer_contact is not None:
        partnership.share_buyer_contact = data.share_buyer_contact
    if data.note is not None:
        partnership.note = data.note
    await session.flush()
    view = (await _views(session, [partnership]))[0]
    await _announce(session, view, EventType.partnership_updated, principal)
    return view


# --- for other packages ---------------------------------------------------------------------


def _active_brands_of(host_id: uuid.UUID) -> ColumnElement[bool]:
    return (col(Partnership.host_id) == host_id) & (col(Partnership.status) == P.active)


async def active_partnership(
    session: AsyncSession, host_id: uuid.UUID, brand_id: uuid.UUID
) -> Partnership | None:
    """The active partnership between ``host_id`` and ``brand_id``, or ``None``."""
    result = await session.execute(
        select(Partnership).where(_active_brands_of(host_id), col(Partnership.brand_id) == brand_id)
    )
    return result.scalar_one_or_none()


async def active_partner_brands(
    session: AsyncSession, host_id: uuid.UUID
) -> list[tuple[Partnership, Tenant]]:
    """Every brand that may receive ``host_id``'s cases now, with its partnership, by slug."""
    result = await session.execute(
        select(Partnership, Tenant)
        .join(Tenant, col(Tenant.id) == col(Partnership.brand_id))
        .where(_active_brands_of(host_id))
        .order_by(col(Tenant.slug))
    )
    return [(partnership, brand) for partnership, brand in result.all()]


async def active_partners_by_slug(
    session: AsyncSession, host_id: uuid.UUID, slugs: Iterable[str]
) -> dict[str, tuple[Partnership, Tenant]]:
    """Of the brands named by ``slugs``, those that are ``host_id``'s active partners."""
    wanted = set(slugs)
    if not wanted:
        return {}
    result = await session.execute(
        select(Partnership, Tenant)
        .join(Tenant, col(Tenant.id) == col(Partnership.brand_id))
        .where(_active_brands_of(host_id), col(Tenant.slug).in_(wanted))
    )
    return {brand.slug: (partnership, brand) for partnership, brand in result.all()}


async def active_partner_by_slug(
    session: AsyncSession, host_id: uuid.UUID, slug: str
) -> tuple[Partnership, Tenant] | None:
    """The brand ``slug`` and its partnership if it is an active partner of ``host_id``."""
    return (await active_partners_by_slug(session, host_id, [slug])).get(slug)
