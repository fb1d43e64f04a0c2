"""JSON API of the brand catalog and the host's live sessions."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from hub.core.deps import SessionDep
from hub.core.models import utcnow
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from tenants import catalog, live_sessions
from tenants.auth import CatalogRead, CatalogWrite, LiveSessionsRead, LiveSessionsWrite
from tenants.live_sessions import LiveSessionSummary, LiveSessionView
from tenants.schemas import (
    CatalogUpsertResult,
    LineUp,
    LiveSessionCreate,
    LiveSessionDetail,
    LiveSessionItemRead,
    LiveSessionRead,
    LiveSessionUpdate,
    ProductIn,
    ProductRead,
    TenantRef,
)

router = APIRouter()

CATALOG_UPLOAD = re.compile(r"^/v1/catalog/products$")
CATALOG_UPLOAD_MAX_BYTES = 8_000_000
"""10,000 products with Chinese names, aliases and barcodes take about 1.7 MB of JSON, more than
the default body limit, so the app factory gives this path a limit of its own
(``RequestContext.large_bodies``)."""

BrandQuery = Annotated[
    str | None,
    Query(
        max_length=63,
        description="A host reads the catalog of this active partner brand (slug)",
    ),
]


@router.put(
    "/catalog/products",
    tags=["catalog"],
    summary="Add or update up to 10,000 products by SKU (brand); products not sent stay",
    responses={413: {"description": "More than 10,000 products in one call"}},
)
async def upsert_products(
    session: SessionDep,
    principal: CatalogWrite,
    body: Annotated[list[ProductIn], Body(description="Products keyed by SKU")],
) -> CatalogUpsertResult:
    counts = await catalog.upsert_products(session, principal, body, now=utcnow())
    return CatalogUpsertResult(
        created=counts.created, updated=counts.updated, unchanged=counts.unchanged
    )


@router.get(
    "/catalog/products",
    tags=["catalog"],
    summary="List a catalog in SKU order: the brand's own, or a partner brand's (?brand=)",
)
async def list_products(
    session: SessionDep,
    principal: CatalogRead,
    brand: BrandQuery = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of a SKU, name or alias; a barcode")
    ] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[ProductRead]:
    products, next_cursor = await catalog.list_products(
        session, principal, brand_slug=brand, q=q, category=category, limit=limit, cursor=cursor
    )
    return Page(items=[ProductRead.model_validate(p) for p in products], next_cursor=next_cursor)


@router.get("/catalog/products/{sku:path}", tags=["catalog"], summary="Read one product by SKU")
async def read_product(
    session: SessionDep, principal: CatalogRead, sku: str, brand: BrandQuery = None
) -> ProductRead:
    product = await catalog.get_product(session, principal, sku, brand_slug=brand)
    return ProductRead.model_validate(product)


@router.delete(
    "/catalog/products/{sku:path}",
    tags=["catalog"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove one product from the catalog (brand)",
)
async def delete_product(session: SessionDep, principal: CatalogWrite, sku: str) -> Response:
    await catalog.delete_product(session, principal, sku)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- live sessions --------------------------------------------------------------------------


def _summary(summary: LiveSessionSummary) -> LiveSessionRead:
    live_session = summary.live_session
    return LiveSessionRead(
        id=live_session.id,
        title=live_session.title,
        platform=live_session.platform,
        started_at=live_session.started_at,
        ended_at=live_session.ended_at,
        created_at=live_session.created_at,
        item_count=summary.item_count,
        units_sold=summary.units_sold,
    )


def _detail(view: LiveSessionView) -> LiveSessionDetail:
    items = [
        LiveSessionItemRead(
            sku=item.sku,
            brand=TenantRef.model_validate(view.brands[item.brand_id]),
            name=item.name,
            price=item.price,
            units_sold=item.units_sold,
        )
        for item in sorted(view.items, key=lambda item: item.sku)
    ]
    summary = LiveSessionSummary(
        view.live_session, len(items), sum(item.units_sold for item in items)
    )
    return LiveSessionDetail(**_summary(summary).model_dump(), items=items)


@router.post(
    "/live-sessions",
    tags=["live sessions"],
    status_code=status.HTTP_201_CREATED,
    summary="Register a broadcast and its line-up (host)",
)
async def create_live_session(
    session: SessionDep, principal: LiveSessionsWrite, body: LiveSessionCreate
) -> LiveSessionDetail:
    return _detail(await live_sessions.create_live_session(session, principal, body))


@router.get(
    "/live-sessions", tags=["live sessions"], summary="List the host's live sessions, newest first"
)
async def list_live_sessions(
    session: SessionDep,
    principal: LiveSessionsRead,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[LiveSessionRead]:
    summaries, next_cursor = await live_sessions.list_live_sessions(
        session, principal, limit=limit, cursor=cursor
    )
    return Page(items=[_summary(s) for s in summaries], next_cursor=next_cursor)


@router.get(
    "/live-sessions/{live_session_id}",
    tags=["live sessions"],
    summary="Read a live session with its line-up",
)
async def read_live_session(
    session: SessionDep, principal: LiveSessionsRead, live_session_id: uuid.UUID
) -> LiveSessionDetail:
    return _detail(await live_sessions.get_live_session(session, principal, live_session_id))


@router.patch(
    "/live-sessions/{live_session_id}",
    tags=["live sessions"],
    summary="Change a live session's title, platform or times",
)
async def update_live_session(
    session: SessionDep,
    principal: LiveSessionsWrite,
    live_session_id: uuid.UUID,
    body: LiveSessionUpdate,
) -> LiveSessionDetail:
    view = await live_sessions.update_live_session(session, principal, live_session_id, body)
    return _detail(view)


@router.put(
    "/live-sessions/{live_session_id}/items",
    tags=["live sessions"],
    summary="Replace the line-up: SKUs sent are added or updated, SKUs not sent are removed",
)
async def replace_line_up(
    session: SessionDep,
    principal: LiveSessionsWrite,
    live_session_id: uuid.UUID,
    body: Annotated[LineUp, Body()],
) -> LiveSessionDetail:
    view = await live_sessions.replace_line_up(session, principal, live_session_id, body)
    return _detail(view)
