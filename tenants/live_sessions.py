"""Live sessions: a host's broadcasts and their line-up (SKU, brand, price, units sold).

A host registers a session with the products it sells; every product's brand must be one of its
active partners. The line-up can be replaced later (units sold settle after the broadcast). Cases
name the live session they came from; routing looks up SKUs in its line-up. Live sessions are the
host's alone: a brand neither lists nor reads them.

Module-level functions, session first; never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.pagination import decode_time_id_cursor, encode_cursor
from hub.core.security import Principal
from tenants import partnerships
from tenants.errors import InvalidField, LiveSessionNotFound, WrongTenantKind
from tenants.models import LiveSession, LiveSessionItem, Product, Tenant, TenantKind
from tenants.schemas import LiveSessionCreate, LiveSessionItemIn, LiveSessionUpdate


@dataclass(frozen=True, slots=True)
class LiveSessionSummary:
    live_session: LiveSession
    item_count: int
    units_sold: int


@dataclass(frozen=True, slots=True)
class LiveSessionView:
    """A live session with its line-up and the brands the line-up names."""

    live_session: LiveSession
    items: list[LiveSessionItem]
    brands: dict[uuid.UUID, Tenant]


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _require_host(principal: Principal) -> None:
    if principal.tenant_kind != TenantKind.host:
        raise WrongTenantKind("live sessions are a host's; brands see them through cases")


async def get_host_live_session(
    session: AsyncSession, host_id: uuid.UUID, live_session_id: uuid.UUID
) -> LiveSession | None:
    """``host_id``'s live session ``live_session_id``, or ``None`` (for cases that name one)."""
    result = await session.execute(
        select(LiveSession).where(
            col(LiveSession.id) == live_session_id, col(LiveSession.tenant_id) == host_id
        )
    )
    return result.scalar_one_or_none()


async def _own(
    session: AsyncSession, principal: Principal, live_session_id: uuid.UUID
) -> LiveSession:
    found = await get_host_live_session(session, principal.tenant_id, live_session_id)
    if found is None:
        raise LiveSessionNotFound(f"no live session {live_session_id}")
    return found


async def _line_up_brands(
    session: AsyncSession,
    host_id: uuid.UUID,
    items: Sequence[LiveSessionItemIn],
    *,
    pointer: str,
    kept: frozenset[tuple[str, uuid.UUID]] = frozenset(),
) -> dict[str, Tenant]:
    """The brand of every item by slug; 422 at the first repeated SKU or non-partner brand.

    An item already in the line-up under the same brand (``kept``) stays valid even if that
    partnership has since been suspended, so a host can still settle units sold.
    """
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.sku in seen:
            raise InvalidField(
                f"SKU {item.sku!r} is in the line-up twice, at {seen[item.sku]} and {index}",
                pointer=f"{pointer}/{index}/sku",
            )
        seen[item.sku] = index
    slugs = {item.brand for item in items}
    if not slugs:
        return {}
    result = await session.execute(select(Tenant).where(col(Tenant.slug).in_(slugs)))
    known = {tenant.slug: tenant for tenant in result.scalars()}
    active = await partnerships.active_partners_by_slug(session, host_id, slugs)
    for index, item in enumerate(items):
        tenant = known.get(item.brand)
        if tenant is None or tenant.kind != TenantKind.brand:
            raise InvalidField(
                f"there is no brand with slug {item.brand!r}", pointer=f"{pointer}/{index}/brand"
            )
        if item.brand not in active and (item.sku, tenant.id) not in kept:
            raise InvalidField(
                f"{item.brand!r} is not an active partner brand of yours",
                pointer=f"{pointer}/{index}/brand",
            )
    return known


async def _catalog_names(
    session: AsyncSession, items: Sequence[LiveSessionItemIn], brands: dict[str, Tenant]
) -> dict[tuple[uuid.UUID, str], str]:
    """Catalog names of the unnamed items, keyed by (brand id, SKU)."""
    wanted = {(brands[item.brand].id, item.sku) for item in items if not item.name}
    if not wanted:
        return {}
    result = await session.execute(
        select(col(Product.tenant_id), col(Product.sku), col(Product.name)).where(
            tuple_(col(Product.tenant_id), col(Product.sku)).in_(wanted)
        )
    )
    return {(row.tenant_id, row.sku): row.name for row in result}


async def _apply_line_up(
    session: AsyncSession,
    live_session: LiveSession,
    items: Sequence[LiveSessionItemIn],
    brands: dict[str, Tenant],
    existing: Sequence[LiveSessionItem] = (),
) -> list[LiveSessionItem]:
    names = await _catalog_names(session, items, brands)
    by_sku = {item.sku: item for item in existing}
    line_up: list[LiveSessionItem] = []
    for item in items:
        brand_id = brands[item.brand].id
        row = by_sku.pop(item.sku, None)
        if row is None:
            row = LiveSessionItem(live_session_id=live_session.id, sku=item.sku, brand_id=brand_id)
            session.add(row)
        row.brand_id = brand_id
        row.name = item.name or names.get((brand_id, item.sku), row.name)
        row.price = item.price
        row.units_sold = item.units_sold
        line_up.append(row)
    for gone in by_sku.values():
        await session.delete(gone)
    await session.flush()
    return line_up


async def create_live_session(
    session: AsyncSession, principal: Principal, data: LiveSessionCreate
) -> LiveSessionView:
    """A host registers a broadcast with its line-up.

    Raises :class:`WrongTenantKind` (403) for a brand and :class:`InvalidField` (422 at
    ``#/items/<i>/…``) for a repeated SKU or a brand that is not an active partner. An item
    without a name takes the one in its brand's catalog.
    """
    _require_host(principal)
    return await register_live_session(session, principal.tenant_id, data)


async def register_live_session(
    session: AsyncSession, host_id: uuid.UUID, data: LiveSessionCreate
) -> LiveSessionView:
    """:func:`create_live_session` for a host the caller has already checked (the demo)."""
    brands = await _line_up_brands(session, host_id, data.items, pointer="#/items")
    live_session = LiveSession(
        tenant_id=host_id,
        title=data.title,
        platform=data.platform,
        started_at=data.started_at.astimezone(UTC),
        ended_at=_utc(data.ended_at),
    )
    session.add(live_session)
    await session.flush()
    items = await _apply_line_up(session, live_session, data.items, brands)
    return LiveSessionView(live_session, items, {b.id: b for b in brands.values()})


async def list_live_sessions(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[LiveSessionSummary], str | None]:
    """The host's live sessions, newest broadcast first."""
    _require_host(principal)
    statement = select(LiveSession).where(col(LiveSession.tenant_id) == principal.tenant_id)
    if cursor:
        after_at, after_id = decode_time_id_cursor(cursor)
        statement = statement.where(
            or_(
                col(LiveSession.started_at) < after_at,
                and_(col(LiveSession.started_at) == after_at, col(LiveSession.id) < after_id),
            )
        )
    statement = statement.order_by(col(LiveSession.started_at).desc(), col(LiveSession.id).desc())
    rows = list((await session.execute(statement.limit(limit + 1))).scalars())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].started_at, rows[-1].id)
    totals: dict[uuid.UUID, tuple[int, int]] = {}
    if rows:
        result = await session.execute(
            select(
                col(LiveSessionItem.live_session_id),
                func.count(),
                func.coalesce(func.sum(col(LiveSessionItem.units_sold)), 0),
            )
            .where(col(LiveSessionItem.live_session_id).in_([row.id for row in rows]))
            .group_by(col(LiveSessionItem.live_session_id))
        )
        totals = {row[0]: (int(row[1]), int(row[2])) for row in result}
    summaries = [LiveSessionSummary(row, *totals.get(row.id, (0, 0))) for row in rows]
    return summaries, next_cursor


async def _items(session: AsyncSession, live_session_id: uuid.UUID) -> list[LiveSessionItem]:
    result = await session.execute(
        select(LiveSessionItem)
        .where(col(LiveSessionItem.live_session_id) == live_session_id)
        .order_by(col(LiveSessionItem.sku))
    )
    return list(result.scalars())


async def _view(
    session: AsyncSession, live_session: LiveSession, items: list[LiveSessionItem]
) -> LiveSessionView:
    brand_ids = {item.brand_id for item in items}
    brands: dict[uuid.UUID, Tenant] = {}
    if brand_ids:
        result = await session.execute(select(Tenant).where(col(Tenant.id).in_(brand_ids)))
        brands = {tenant.id: tenant for tenant in result.scalars()}
    return LiveSessionView(live_session, items, brands)


async def get_live_session(
    session: AsyncSession, principal: Principal, live_session_id: uuid.UUID
) -> LiveSessionView:
    """One of the caller's live sessions with its line-up; any other id is 404."""
    live_session = await _own(session, principal, live_session_id)
    return await _view(session, live_session, await _items(session, live_session.id))


async def update_live_session(
    session: AsyncSession, principal: Principal, live_session_id: uuid.UUID, data: LiveSessionUpdate
) -> LiveSessionView:
    """Rename a session, or set when it started or ended (``ended_at: null`` clears the end)."""
    live_session = await _own(session, principal, live_session_id)
    if data.title is not None:
        live_session.title = data.title
    if data.platform is not None:
        live_session.platform = data.platform
    if data.started_at is not None:
        live_session.started_at = data.started_at.astimezone(UTC)
    if "ended_at" in data.model_fields_set:
        live_session.ended_at = _utc(data.ended_at)
    if live_session.ended_at is not None and live_session.ended_at < live_session.started_at:
        raise InvalidField("ended_at is before started_at", pointer="#/ended_at")
    await session.flush()
    return await get_live_session(session, principal, live_session_id)


async def replace_line_up(
    session: AsyncSession,
    principal: Principal,
    live_session_id: uuid.UUID,
    items: Sequence[LiveSessionItemIn],
) -> LiveSessionView:
    """Make the line-up exactly ``items``: SKUs kept are updated, new ones added, others removed.

    Raises :class:`LiveSessionNotFound` (404) for another tenant's session and
    :class:`InvalidField` (422 at ``#/<i>/…``) as :func:`create_live_session` does.
    """
    live_session = await _own(session, principal, live_session_id)
    existing = await _items(session, live_session.id)
    kept = frozenset((item.sku, item.brand_id) for item in existing)
    brands = await _line_up_brands(session, principal.tenant_id, items, pointer="#", kept=kept)
    await _apply_line_up(session, live_session, items, brands, existing)
    return await get_live_session(session, principal, live_session_id)
