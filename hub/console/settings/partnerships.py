"""Partnerships: a host invites brands and suspends or resumes them; a brand accepts or declines.
The forms go through ``PartnershipCreate`` and :mod:`tenants.partnerships`, as the API does."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from hub.console import forms
from hub.console.auth import Console, ConsoleDep
from hub.core.errors import CaseHubError
from hub.core.pagination import CursorQuery
from hub.core.security import Scope
from tenants import partnerships as partnerships_service
from tenants.case_types import CaseType
from tenants.partnerships import PartnershipAction, allowed_actions, side_of
from tenants.schemas import PartnershipCreate

router = APIRouter(prefix="/console/settings/partnerships")

PAGE_SIZE = 100


async def _page(
    console: Console,
    *,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    views, next_cursor = await partnerships_service.list_partnerships(
        console.db, console.principal, limit=PAGE_SIZE, cursor=cursor
    )
    rows = [
        (view, allowed_actions(view.partnership, side_of(view.partnership, console.tenant.id)))
        for view in views
    ]
    return console.render(
        "console/settings/partnerships.html",
        rows=rows,
        next_cursor=next_cursor,
        types=list(CaseType),
        can_manage=console.can(Scope.partners_manage),
        errors=errors or {},
        values=values or {},
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def partnerships(console: ConsoleDep, cursor: CursorQuery = None) -> HTMLResponse:
    console.require(Scope.partners_read)
    return await _page(console, cursor=cursor)


@router.post("", response_class=HTMLResponse)
async def invite(console: ConsoleDep) -> Response:
    """A host invites a brand by its slug."""
    console.require(Scope.partners_manage)
    items = await forms.form_items(console.request)
    data = forms.nest(
        items,
        lists=frozenset({"allowed_case_types"}),
        booleans=frozenset({"share_buyer_contact"}),
    )
    body, errors = forms.validate(PartnershipCreate, data)
    if body is not None:
        try:
            view = await partnerships_service.invite(console.db, console.principal, body)
        except CaseHubError as exc:
            if exc.status not in (409, 422):
                raise
            errors = {"brand": exc.detail} if exc.status == 409 else forms.field_errors(exc)
        else:
            return console.redirect(
                "/console/settings/partnerships",
                notice=console.t("%(brand)s is invited.") % {"brand": view.brand.name},
            )
    return await _page(console, errors=errors, values=data, status_code=422)


@router.post("/{partnership_id}/{action}", response_class=HTMLResponse)
async def act(
    console: ConsoleDep, partnership_id: uuid.UUID, action: PartnershipAction
) -> Response:
    console.require(Scope.partners_manage)
    await partnerships_service.act(
        console.db, console.principal, partnership_id, action, now=console.now
    )
    return console.redirect(
        "/console/settings/partnerships",
        notice=console.t("Done: %(action)s.") % {"action": console.t.label(action)},
    )
