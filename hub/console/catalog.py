"""A brand's catalog: search it, and upload a CSV of products that goes through ``ProductIn`` and
:func:`tenants.catalog.upsert_products`, exactly like ``PUT /v1/catalog/products``."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import HTMLResponse, Response

from hub.console.auth import Console, ConsoleDep
from hub.core.errors import CaseHubError, Forbidden, PayloadTooLarge
from hub.core.pagination import CursorQuery
from hub.core.security import Scope
from tenants import catalog
from tenants.catalog import MAX_PRODUCTS_PER_CALL
from tenants.schemas import ProductIn

router = APIRouter(prefix="/console/catalog")

PAGE_SIZE = 50
CSV_MAX_BYTES = 8_000_000
COLUMNS = ("sku", "name", "category", "aliases", "barcode")
ALIAS_SEPARATOR = "|"


def parse_csv(data: bytes) -> tuple[list[ProductIn], list[str]]:
    """Products from a CSV with a header row (``sku,name`` required; ``category``, ``aliases``
    separated by ``|``, ``barcode`` optional), with one error per bad line (line numbers as a
    spreadsheet shows them). UTF-8 (with or without BOM) or GB18030, as Excel in China saves."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("sku", "name") if name not in header]
    if missing:
        return [], [f"the header row lacks: {', '.join(missing)}"]
    reader.fieldnames = header
    products: list[ProductIn] = []
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        raw = {key: (row.get(key) or "").strip() for key in COLUMNS}
        aliases = [a.strip() for a in raw["aliases"].split(ALIAS_SEPARATOR) if a.strip()]
        try:
            products.append(
                ProductIn(
                    sku=raw["sku"],
                    name=raw["name"],
                    category=raw["category"],
                    aliases=aliases,
                    barcode=raw["barcode"] or None,
                )
            )
        except ValueError as exc:
            errors.append(f"line {line}: {_first_error(exc)}")
    return products, errors


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}"
    return str(exc)


def _require_brand(console: Console) -> None:
    if not console.is_brand:
        raise Forbidden("the catalog page is a brand's; hosts see partners' SKUs when filing")


async def _page(
    console: Console,
    *,
    q: str | None = None,
    cursor: str | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    products, next_cursor = await catalog.list_products(
        console.db, console.principal, q=q or None, limit=PAGE_SIZE, cursor=cursor
    )
    return console.render(
        "console/catalog.html",
        products=products,
        next_cursor=next_cursor,
        q=q or "",
        errors=errors or [],
        can_write=console.can(Scope.catalog_write),
        max_products=MAX_PRODUCTS_PER_CALL,
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def products(
    console: ConsoleDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    console.require(Scope.catalog_read)
    _require_brand(console)
    return await _page(console, q=q, cursor=cursor)


@router.post("/upload", response_class=HTMLResponse)
async def upload(console: ConsoleDep, file: Annotated[UploadFile, File()]) -> Response:
    """Add or update the products of a CSV; products not in it stay. All or nothing."""
    console.require(Scope.catalog_write)
    _require_brand(console)
    data = await file.read(CSV_MAX_BYTES + 1)
    if len(data) > CSV_MAX_BYTES:
        raise PayloadTooLarge(f"a catalog CSV is at most {CSV_MAX_BYTES // 1_000_000} MB")
    items, errors = parse_csv(data)
    if not errors and not items:
        errors = [console.t("The file has no products.")]
    if errors:
        return await _page(console, errors=errors, status_code=422)
    try:
        counts = await catalog.upsert_products(
            console.db, console.principal, items, now=console.now
        )
    except CaseHubError as exc:
        if exc.status not in (413, 422):
            raise
        return await _page(console, errors=[exc.detail], status_code=exc.status)
    notice = console.t("%(created)s added, %(updated)s updated, %(unchanged)s unchanged.") % {
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
    }
    return console.redirect("/console/catalog", notice=notice)
