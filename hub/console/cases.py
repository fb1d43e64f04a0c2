"""Case pages: every case with filters and saved views, filing a new one (SKU look-up and routing
preview first), and the SKU look-up. The case page itself is in :mod:`hub.console.case_page`.

Each view parses the form into the API's own schema (``CaseCreate``, ``PreviewRequest``), calls
the same service, and re-renders with the errors or redirects (303).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from hub.cases import service as cases_service
from hub.cases.models import OPEN_STATUSES, Priority, Status
from hub.cases.schemas import CaseCreate
from hub.console import forms, service
from hub.console.auth import Console, ConsoleDep
from hub.console.rendering import query
from hub.core.errors import CaseHubError, Forbidden, Unprocessable
from hub.core.pagination import CursorQuery
from hub.core.security import Scope
from routing import service as routing_service
from routing.schemas import PreviewRequest
from tenants import live_sessions
from tenants.case_types import CaseType

router = APIRouter(prefix="/console")

PAGE_SIZE = 50
FILTER_KEYS = ("status", "type", "priority", "brand", "q", "mine", "open", "from", "to", "sku")


# --- the list -----------------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
async def list_cases(
    console: ConsoleDep,
    status: Annotated[list[Status] | None, Query()] = None,
    type: Annotated[list[CaseType] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    brand: Annotated[str | None, Query(max_length=63)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    mine: bool = False,
    open: bool = False,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    cursor: CursorQuery = None,
) -> Response:
    console.require(Scope.cases_read)
    statuses = {s.value for s in status or []}
    if open:
        statuses |= {s.value for s in OPEN_STATUSES}
    filters = cases_service.CaseFilter(
        status=sorted(statuses) or None,
        type=[t.value for t in type] if type else None,
        priority=[p.value for p in priority] if priority else None,
        brand=(brand or None) if console.is_host else None,
        sku=sku or None,
        q=q or None,
        assignee_id=console.user.id if mine and console.is_brand else None,
        created_by_id=console.user.id if mine and console.is_host else None,
        created_from=_day_start(console, from_),
        created_to=_day_start(console, to + timedelta(days=1) if to else None),
    )
    if filters.created_from and filters.created_to and filters.created_from >= filters.created_to:
        raise Unprocessable("the first day must come before the last", pointer="#/from")
    if q and not cursor:
        # Agents mostly paste a case number or an order id: answer those from the indexes.
        numbered = await service.find_case_number(console.db, console.principal, q)
        if numbered is not None:
            return console.redirect(f"/console/cases/{numbered.id}")
        by_order = replace(filters, q=None, order_id=q.strip())
        cases, next_cursor = await cases_service.list_cases(
            console.db, console.principal, by_order, limit=PAGE_SIZE, cursor=None
        )
        if not cases:
            cases, next_cursor = await cases_service.list_cases(
                console.db, console.principal, filters, limit=PAGE_SIZE, cursor=None
            )
    else:
        cases, next_cursor = await cases_service.list_cases(
            console.db, console.principal, filters, limit=PAGE_SIZE, cursor=cursor
        )
    params: dict[str, Any] = {
        "status": sorted(s.value for s in status or []),
        "type": [t.value for t in type or []],
        "priority": [p.value for p in priority or []],
        "brand": brand,
        "sku": sku,
        "q": q,
        "mine": "1" if mine else None,
        "open": "1" if open else None,
        "from": from_.isoformat() if from_ else None,
        "to": to.isoformat() if to else None,
    }
    context: dict[str, Any] = {
        "rows": await service.case_rows(console.db, console.principal, cases),
        "next_cursor": next_cursor,
        "params": params,
        "filtered": any(params.values()),
        "views": await service.saved_views(console.db, console.principal),
        "brands": await service.partner_brands(console.db, console.principal),
        "statuses": list(Status),
        "types": list(CaseType),
        "priorities": list(Priority),
        "current_query": query(params),
    }
    if (
        console.request.headers.get("HX-Request")
        and console.request.headers.get("HX-Target") == "case-results"
    ):
        return console.render("console/_case_results.html", **context)
    return console.render("console/cases.html", **context)


def _day_start(console: Console, day: date | None) -> datetime | None:
    """Midnight of ``day`` in the tenant's time zone: filters speak the agents' calendar."""
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(console.tenant.time_zone))


@router.post("/views", response_class=HTMLResponse)
async def save_view(
    console: ConsoleDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    query_string: Annotated[str, Form(alias="query", max_length=2000)] = "",
    shared: Annotated[bool, Form()] = False,
) -> Response:
    console.require(Scope.cases_read)
    kept = "&".join(
        part for part in query_string.split("&") if part.split("=", 1)[0] in FILTER_KEYS
    )
    await service.save_view(console.db, console.principal, name=name, query=kept, shared=shared)
    return console.redirect(
        f"/console/cases?{kept}", notice=console.t("View “%(name)s” saved.") % {"name": name}
    )


@router.post("/views/{view_id}/delete", response_class=HTMLResponse)
async def delete_view(console: ConsoleDep, view_id: uuid.UUID) -> Response:
    await service.delete_view(console.db, console.principal, view_id)
    return console.redirect("/console/cases", notice=console.t("View deleted."))


# --- filing -------------------------------------------------------------------------------------

CASE_LISTS = frozenset({"tags"})
LIVE_SESSIONS_OFFERED = 20


async def _new_case_page(
    console: Console,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    live, _more = await live_sessions.list_live_sessions(
        console.db, console.principal, limit=LIVE_SESSIONS_OFFERED, cursor=None
    )
    return console.render(
        "console/case_new.html",
        values=values or {},
        errors=errors or {},
        live_sessions=[summary.live_session for summary in live],
        brands=await service.partner_brands(console.db, console.principal),
        types=list(CaseType),
        priorities=list(Priority),
        status_code=status_code,
    )


def _require_host_filer(console: Console) -> None:
    console.require(Scope.cases_write)
    if not console.is_host:
        raise Forbidden("only a host files cases")


@router.get("/cases/new", response_class=HTMLResponse)
async def new_case(console: ConsoleDep) -> HTMLResponse:
    _require_host_filer(console)
    return await _new_case_page(console, values={"priority": "normal", "type": "quality"})


@router.post("/cases", response_class=HTMLResponse)
async def file_case(console: ConsoleDep) -> Response:
    _require_host_filer(console)
    items = await forms.form_items(console.request)
    values = dict(items)
    data = forms.nest(items, lists=CASE_LISTS, booleans=frozenset({"force_new"}))
    body, errors = forms.validate(CaseCreate, data)
    if body is None:
        return await _new_case_page(console, values=values, errors=errors, status_code=422)
    try:
        filing = await cases_service.file_case(console.db, console.principal, body)
    except CaseHubError as exc:
        if exc.status != 422:
            raise
        return await _new_case_page(
            console, values=values, errors=forms.field_errors(exc), status_code=422
        )
    case = filing.case
    if filing.duplicate:
        notice = console.t(
            "An open case for this order and SKU exists: the filing was added to %(number)s."
        ) % {"number": case.number}
    elif case.brand_id is not None:
        rows = await service.case_rows(console.db, console.principal, [case])
        notice = console.t("%(number)s filed and routed to %(brand)s.") % {
            "number": case.number,
            "brand": rows[0].brand_name or "",
        }
    else:
        notice = console.t("%(number)s filed; it waits in triage.") % {"number": case.number}
    return console.redirect(f"/console/cases/{case.id}", notice=notice)


@router.post("/cases/preview", response_class=HTMLResponse)
async def preview(console: ConsoleDep) -> HTMLResponse:
    """Where the case in the form would go and why, without filing it (htmx fragment)."""
    _require_host_filer(console)
    data = forms.nest(await forms.form_items(console.request), lists=CASE_LISTS)
    data.setdefault("type", CaseType.other.value)
    request, errors = forms.validate(PreviewRequest, data)
    result = error = None
    if request is not None:
        try:
            result = await routing_service.preview(console.db, console.principal, request)
        except CaseHubError as exc:
            if exc.status != 422:
                raise
            error = exc.detail
    else:
        error = "; ".join(f"{k}: {v}" for k, v in errors.items())
    return console.render("console/_preview.html", result=result, error=error)


@router.get("/cases/sku", response_class=HTMLResponse)
async def sku_lookup(
    console: ConsoleDep, sku: Annotated[str, Query(alias="product.sku", max_length=64)] = ""
) -> HTMLResponse:
    """Which partner sells this SKU (htmx fragment under the SKU field)."""
    _require_host_filer(console)
    matches = await service.lookup_sku(console.db, console.principal, sku) if sku.strip() else []
    return console.render("console/_sku.html", sku=sku.strip(), matches=matches)
