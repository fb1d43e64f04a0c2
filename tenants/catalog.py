"""The brand product catalog: bulk upsert by SKU, listing, look-up and removal.

A brand owns its catalog and writes it; a host reads the catalog of a brand that is its active
partner (to find the brand behind a SKU while filing a case). ``PUT /v1/catalog/products`` adds
and updates the products it names and leaves the others alone.

Module-level functions, session first; never commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    String,
    Table,
    cast,
    column,
    delete,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.pagination import decode_cursor, encode_cursor
from hub.core.security import Principal
from tenants import partnerships
from tenants.errors import (
    CatalogNotFound,
    InvalidField,
    ProductNotFound,
    TooManyProducts,
    WrongTenantKind,
)
from tenants.models import Product, Tenant, TenantKind
from tenants.schemas import ProductIn

MAX_PRODUCTS_PER_CALL = 10_000
MAX_BOUND_PARAMETERS = 32_766
"""SQLite's default limit since 3.32 (PostgreSQL's wire protocol allows 32,767)."""

_TABLE: Table = Product.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "id",
    "tenant_id",
    "sku",
    "name",
    "category",
    "aliases",
    "barcode",
    "created_at",
    "updated_at",
)
_WRITTEN = ("name", "category", "aliases", "barcode")
_RAW = table("product", *(column(name) for name in _COLUMNS))
"""An untyped twin of the product table for bulk writes: the rows handed to it already hold what
the driver takes (each value converted by the real column's type, constants only once), which
halves the time 10,000 products take compared with binding them through the typed table."""


def _driver_value(name: str, dialect: Dialect) -> Callable[[Any], Any]:
    """The conversion the product table's column ``name`` applies to a value bound to it."""
    process = _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


def _id_key(value: Any) -> str:
    """One spelling for an id, whether the driver gives a UUID or its hex digits."""
    return str(value).replace("-", "")


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    created: int
    updated: int
    unchanged: int


def _require_brand(principal: Principal, doing: str) -> None:
    if principal.tenant_kind != TenantKind.brand:
        raise WrongTenantKind(f"only a brand {doing} its catalog; a host reads its partners'")


def check_products(items: Sequence[ProductIn]) -> None:
    """Refuse an oversize call (413) or a SKU sent twice (422 pointing at the second one)."""
    if len(items) > MAX_PRODUCTS_PER_CALL:
        raise TooManyProducts(
            f"{len(items)} products in one call; send at most {MAX_PRODUCTS_PER_CALL:,} per call",
            max_items=MAX_PRODUCTS_PER_CALL,
            received_items=len(items),
        )
    first_at: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.sku in first_at:
            raise InvalidField(
                f"SKU {item.sku!r} is sent twice, at index {first_at[item.sku]} and {index}",
                pointer=f"#/{index}/sku",
            )
        first_at[item.sku] = index


async def upsert_products(
    session: AsyncSession, principal: Principal, items: Sequence[ProductIn], *, now: datetime
) -> UpsertCounts:
    """Insert new SKUs and update known ones of the calling brand, in a few statements.

    ``INSERT … ON CONFLICT (tenant_id, sku) DO UPDATE … RETURNING id`` in chunks that stay under
    the database's bound-parameter limit (SQLAlchemy sends each chunk as multi-row VALUES); the
    returned ids tell inserted rows from updated ones. A product sent exactly as stored is not
    written (its ``updated_at`` stays). Raises :class:`WrongTenantKind` (403) for a host,
    :class:`TooManyProducts` (413) over 10,000 products and :class:`InvalidField` (422) for a
    repeated SKU.
    """
    _require_brand(principal, "writes")
    return await upsert_brand_products(session, principal.tenant_id, items, now=now)


async def upsert_brand_products(
    session: AsyncSession, brand_id: uuid.UUID, items: Sequence[ProductIn], *, now: datetime
) -> UpsertCounts:
    """:func:`upsert_products` for a brand the caller has already checked (the demo, imports)."""
    check_products(items)
    if not items:
        return UpsertCounts(0, 0, 0)
    dialect = session.get_bind().dialect
    convert = {name: _driver_value(name, dialect) for name in _COLUMNS}
    # Values that are the same on every row are converted once.
    tenant_id, stamp = convert["tenant_id"](brand_id), convert["created_at"](now)
    to_id, to_aliases = convert["id"], convert["aliases"]
    new_ids = [to_id(uuid.uuid4()) for _ in items]
    rows = [
        {
            "id": row_id,
            "tenant_id": tenant_id,
            "sku": item.sku,
            "name": item.name,
            "category": item.category,
            "aliases": to_aliases(item.aliases),
            "barcode": item.barcode or None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for row_id, item in zip(new_ids, items, strict=True)
    ]
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    values = insert(_RAW)
    excluded = values.excluded
    changed = or_(*(_RAW.c[name].is_distinct_from(excluded[name]) for name in _WRITTEN))
    upsert = values.on_conflict_do_update(
        index_elements=[_RAW.c.tenant_id, _RAW.c.sku],
        set_={name: excluded[name] for name in (*_WRITTEN, "updated_at")},
        where=changed,
    ).returning(_RAW.c.id)
    inserted = {_id_key(row_id) for row_id in new_ids}
    chunk_size = MAX_BOUND_PARAMETERS // len(_COLUMNS)
    created = written = 0
    for start in range(0, len(rows), chunk_size):
        returned = (await session.execute(upsert, rows[start : start + chunk_size])).scalars().all()
        written += len(returned)
        created += sum(1 for row_id in returned if _id_key(row_id) in inserted)
    return UpsertCounts(created=created, updated=written - created, unchanged=len(rows) - written)


async def catalog_owner(
    session: AsyncSession, principal: Principal, brand_slug: str | None
) -> uuid.UUID:
    """Whose catalog the caller reads: its own (a brand) or an active partner's (a host).

    A host must name the brand (422 at ``query:brand``); a brand that is not the caller and not
    its active partner answers :class:`CatalogNotFound` (404), whether or not it exists.
    """
    if principal.tenant_kind == TenantKind.brand:
        if brand_slug is None:
            return principal.tenant_id
        own = await session.get(Tenant, principal.tenant_id)
        if own is not None and own.slug == brand_slug:
            return own.id
        raise CatalogNotFound(f"no catalog of {brand_slug!r} that you may read")
    if brand_slug is None:
        raise InvalidField(
            "name the partner brand whose catalog you read: ?brand=<slug>", pointer="query:brand"
        )
    partner = await partnerships.active_partner_by_slug(session, principal.tenant_id, brand_slug)
    if partner is None:
        raise CatalogNotFound(f"{brand_slug!r} is not an active partner brand of yours")
    return partner[1].id


def _alias_matches(pattern: str) -> ColumnElement[bool]:
    # SQLite keeps JSON as text written by json.dumps, non-ASCII as \\uXXXX escapes; the jsonb text
    # of PostgreSQL keeps the characters. Matching both spellings works on either.
    aliases = cast(col(Product.aliases), String)
    escaped = json.dumps(pattern)[1:-1]
    return or_(
        aliases.icontains(pattern, autoescape=True), aliases.icontains(escaped, autoescape=True)
    )


async def list_products(
    session: AsyncSession,
    principal: Principal,
    *,
    brand_slug: str | None = None,
    q: str | None = None,
    category: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Product], str | None]:
    """A page of a catalog in SKU order; ``q`` matches SKU, name, barcode or an alias."""
    owner_id = await catalog_owner(session, principal, brand_slug)
    statement = select(Product).where(col(Product.tenant_id) == owner_id)
    if q:
        statement = statement.where(
            or_(
                col(Product.sku).icontains(q, autoescape=True),
                col(Product.name).icontains(q, autoescape=True),
                col(Product.barcode) == q,
                _alias_matches(q),
            )
        )
    if category:
        statement = statement.where(col(Product.category) == category)
    if cursor:
        values = decode_cursor(cursor)
        if len(values) != 1:
            raise InvalidField("the cursor is not one this API issued", pointer="query:cursor")
        statement = statement.where(col(Product.sku) > values[0])
    statement = statement.order_by(col(Product.sku)).limit(limit + 1)
    rows = list((await session.execute(statement)).scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].sku)


async def get_product(
    session: AsyncSession, principal: Principal, sku: str, *, brand_slug: str | None = None
) -> Product:
    owner_id = await catalog_owner(session, principal, brand_slug)
    result = await session.execute(
        select(Product).where(col(Product.tenant_id) == owner_id, col(Product.sku) == sku)
    )
    product = result.scalar_one_or_none()
    if product is None:
        raise ProductNotFound(f"no product with SKU {sku!r} in this catalog")
    return product


async def delete_product(session: AsyncSession, principal: Principal, sku: str) -> None:
    """Remove one SKU from the calling brand's catalog; :class:`ProductNotFound` if absent."""
    _require_brand(principal, "deletes from")
    result = await session.execute(
        delete(Product).where(
            col(Product.tenant_id) == principal.tenant_id, col(Product.sku) == sku
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ProductNotFound(f"no product with SKU {sku!r} in your catalog")
