"""Webhook endpoints: create (the secret is shown once), enable or disable, test, rotate the
secret, and the delivery log with every attempt and a retry button."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from hub.console import forms
from hub.console.auth import Console, ConsoleDep
from hub.core.errors import CaseHubError
from hub.core.events import EventType
from hub.core.pagination import CursorQuery
from hub.core.security import Scope
from webhooks import service as webhooks_service
from webhooks.api import egress_policy
from webhooks.models import MessageStatus, WebhookEndpoint
from webhooks.schemas import DEFAULT_GRACE, EndpointCreate, EndpointUpdate

router = APIRouter(prefix="/console/settings/webhooks")

PAGE_SIZE = 50


async def _page(
    console: Console,
    *,
    created: WebhookEndpoint | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    endpoints, _next = await webhooks_service.list_endpoints(
        console.db, console.principal, limit=200, cursor=None
    )
    return console.render(
        "console/settings/webhooks.html",
        endpoints=endpoints,
        created=created,
        event_types=sorted(EventType.ALL),
        errors=errors or {},
        values=values or {},
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def endpoints(console: ConsoleDep) -> HTMLResponse:
    console.require(Scope.webhooks_manage)
    return await _page(console)


@router.post("", response_class=HTMLResponse)
async def create_endpoint(console: ConsoleDep) -> Response:
    console.require(Scope.webhooks_manage)
    items = await forms.form_items(console.request)
    data = forms.nest(items, lists=frozenset({"event_types"}), booleans=frozenset({"ordered"}))
    body, errors = forms.validate(EndpointCreate, data)
    if body is not None:
        try:
            endpoint = await webhooks_service.create_endpoint(
                console.db, console.principal, body, policy=egress_policy(console.request)
            )
        except CaseHubError as exc:
            if exc.status != 422:
                raise
            errors = forms.field_errors(exc)
        else:
            return await _page(console, created=endpoint, status_code=201)
    return await _page(console, errors=errors, values=data, status_code=422)


@router.post("/{endpoint_id}/enabled", response_class=HTMLResponse)
async def set_enabled(
    console: ConsoleDep, endpoint_id: uuid.UUID, enabled: Annotated[bool, Form()]
) -> Response:
    console.require(Scope.webhooks_manage)
    await webhooks_service.update_endpoint(
        console.db,
        console.principal,
        endpoint_id,
        EndpointUpdate(enabled=enabled),
        policy=egress_policy(console.request),
    )
    notice = console.t("Endpoint enabled.") if enabled else console.t("Endpoint disabled.")
    return console.redirect(f"/console/settings/webhooks/{endpoint_id}", notice=notice)


@router.post("/{endpoint_id}/test", response_class=HTMLResponse)
async def send_test(console: ConsoleDep, endpoint_id: uuid.UUID) -> Response:
    console.require(Scope.webhooks_manage)
    await webhooks_service.send_test(console.db, console.principal, endpoint_id)
    return console.redirect(
        f"/console/settings/webhooks/{endpoint_id}", notice=console.t("Test delivery queued.")
    )


@router.post("/{endpoint_id}/rotate-secret", response_class=HTMLResponse)
async def rotate_secret(console: ConsoleDep, endpoint_id: uuid.UUID) -> Response:
    console.require(Scope.webhooks_manage)
    endpoint = await webhooks_service.rotate_secret(
        console.db, console.principal, endpoint_id, grace=DEFAULT_GRACE
    )
    return await _detail(console, endpoint, rotated=True)


@router.post("/{endpoint_id}/delete", response_class=HTMLResponse)
async def delete_endpoint(console: ConsoleDep, endpoint_id: uuid.UUID) -> Response:
    console.require(Scope.webhooks_manage)
    await webhooks_service.delete_endpoint(console.db, console.principal, endpoint_id)
    return console.redirect("/console/settings/webhooks", notice=console.t("Endpoint deleted."))


async def _detail(
    console: Console,
    endpoint: WebhookEndpoint,
    *,
    status: MessageStatus | None = None,
    cursor: str | None = None,
    rotated: bool = False,
) -> HTMLResponse:
    deliveries, next_cursor = await webhooks_service.list_deliveries(
        console.db,
        console.principal,
        endpoint.id,
        status=status,
        event_type=None,
        since=None,
        until=None,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    return console.render(
        "console/settings/webhook.html",
        endpoint=endpoint,
        deliveries=deliveries,
        next_cursor=next_cursor,
        status=status,
        statuses=list(MessageStatus),
        rotated=rotated,
        grace_hours=int(DEFAULT_GRACE / timedelta(hours=1)),
    )


@router.get("/{endpoint_id}", response_class=HTMLResponse)
async def endpoint_detail(
    console: ConsoleDep,
    endpoint_id: uuid.UUID,
    status: Annotated[MessageStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    console.require(Scope.webhooks_manage)
    endpoint = await webhooks_service.get_endpoint(console.db, console.principal, endpoint_id)
    return await _detail(console, endpoint, status=status, cursor=cursor)


@router.post("/deliveries/{message_id}/retry", response_class=HTMLResponse)
async def retry(console: ConsoleDep, message_id: uuid.UUID) -> Response:
    console.require(Scope.webhooks_manage)
    message = await webhooks_service.retry_delivery(console.db, console.principal, message_id)
    return console.redirect(
        f"/console/settings/webhooks/{message.endpoint_id}",
        notice=console.t("Delivery queued again."),
    )
