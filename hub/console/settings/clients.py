"""API clients of the tenant: create (the secret is shown once), rotate the secret, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from hub.console import forms
from hub.console.auth import Console, ConsoleDep
from hub.core.pagination import CursorQuery
from hub.core.security import Scope
from tenants import service as tenants_service
from tenants.models import ApiClient
from tenants.schemas import ClientCreate

router = APIRouter(prefix="/console/settings/clients")

PAGE_SIZE = 100


async def _page(
    console: Console,
    *,
    cursor: str | None = None,
    created: tuple[ApiClient, str] | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    clients, next_cursor = await tenants_service.list_clients(
        console.db, console.principal, limit=PAGE_SIZE, cursor=cursor
    )
    return console.render(
        "console/settings/clients.html",
        clients=clients,
        next_cursor=next_cursor,
        created=created,
        scopes=list(Scope),
        errors=errors or {},
        values=values or {},
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def clients(console: ConsoleDep, cursor: CursorQuery = None) -> HTMLResponse:
    console.require(Scope.clients_manage)
    return await _page(console, cursor=cursor)


@router.post("", response_class=HTMLResponse)
async def create_client(console: ConsoleDep) -> Response:
    """Create a client and show its secret on this response only (never stored, never again)."""
    console.require(Scope.clients_manage)
    items = await forms.form_items(console.request)
    body, errors = forms.validate(ClientCreate, forms.nest(items, lists=frozenset({"scopes"})))
    if body is None:
        values: dict[str, object] = {
            "name": dict(items).get("name", ""),
            "scopes": [v for k, v in items if k == "scopes"],
        }
        return await _page(console, errors=errors, values=values, status_code=422)
    created = await tenants_service.create_client(console.db, console.tenant.id, body)
    return await _page(console, created=created, status_code=201)


@router.post("/{client_id}/rotate-secret", response_class=HTMLResponse)
async def rotate_secret(console: ConsoleDep, client_id: uuid.UUID) -> Response:
    console.require(Scope.clients_manage)
    rotated = await tenants_service.rotate_client_secret(console.db, console.principal, client_id)
    return await _page(console, created=rotated)


@router.post("/{client_id}/revoke", response_class=HTMLResponse)
async def revoke(console: ConsoleDep, client_id: uuid.UUID) -> Response:
    console.require(Scope.clients_manage)
    client = await tenants_service.revoke_client(console.db, console.principal, client_id)
    return console.redirect(
        "/console/settings/clients",
        notice=console.t("%(name)s is revoked; its tokens stop working now.")
        % {"name": client.name},
    )
