"""JSON API of webhooks: endpoints, secrets, test sends, the delivery log, retry and replay."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime

from hub.core.deps import SessionDep
from hub.core.egress import EgressPolicy
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from webhooks import service
from webhooks.auth import WebhooksManage
from webhooks.models import MessageStatus
from webhooks.schemas import (
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    MessageRead,
    Replay,
    ReplayResult,
    RotateSecret,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def egress_policy(request: Request) -> EgressPolicy:
    policy: EgressPolicy | None = getattr(request.app.state, "egress_policy", None)
    if policy is None:
        policy = EgressPolicy.from_settings(
            request.app.state.settings, request.app.state.settings.webhook_allowed_hosts
        )
        request.app.state.egress_policy = policy
    return policy


@router.get("/endpoints", summary="List the tenant's webhook endpoints")
async def list_endpoints(
    session: SessionDep,
    principal: WebhooksManage,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[EndpointRead]:
    endpoints, next_cursor = await service.list_endpoints(
        session, principal, limit=limit, cursor=cursor
    )
    return Page(items=[EndpointRead.of(e) for e in endpoints], next_cursor=next_cursor)


@router.post(
    "/endpoints",
    status_code=status.HTTP_201_CREATED,
    summary="Create an endpoint; the response holds its whsec_ secret, shown only this once",
)
async def create_endpoint(
    request: Request, session: SessionDep, principal: WebhooksManage, body: EndpointCreate
) -> EndpointWithSecret:
    endpoint = await service.create_endpoint(
        session, principal, body, policy=egress_policy(request)
    )
    return EndpointWithSecret.of(endpoint)


@router.get("/endpoints/{endpoint_id}", summary="Read an endpoint")
async def read_endpoint(
    session: SessionDep, principal: WebhooksManage, endpoint_id: uuid.UUID
) -> EndpointRead:
    return EndpointRead.of(await service.get_endpoint(session, principal, endpoint_id))


@router.patch(
    "/endpoints/{endpoint_id}",
    summary="Change an endpoint; enabled=false stops its queued messages, enabled=true resumes",
)
async def update_endpoint(
    request: Request,
    session: SessionDep,
    principal: WebhooksManage,
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
) -> EndpointRead:
    endpoint = await service.update_endpoint(
        session, principal, endpoint_id, body, policy=egress_policy(request)
    )
    return EndpointRead.of(endpoint)


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an endpoint with its delivery log",
)
async def delete_endpoint(
    session: SessionDep, principal: WebhooksManage, endpoint_id: uuid.UUID
) -> Response:
    await service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    summary="Issue a new secret; the old one keeps signing for the grace period",
)
async def rotate_secret(
    session: SessionDep,
    principal: WebhooksManage,
    endpoint_id: uuid.UUID,
    body: RotateSecret | None = None,
) -> EndpointWithSecret:
    grace = timedelta(seconds=(body or RotateSecret()).grace_seconds)
    endpoint = await service.rotate_secret(session, principal, endpoint_id, grace=grace)
    return EndpointWithSecret.of(endpoint)


@router.post(
    "/endpoints/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a webhook.test delivery to this endpoint",
)
async def test_endpoint(
    session: SessionDep, principal: WebhooksManage, endpoint_id: uuid.UUID
) -> MessageRead:
    return MessageRead.of(await service.send_test(session, principal, endpoint_id))


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    summary="The endpoint's messages with every attempt, oldest first",
)
async def list_deliveries(
    session: SessionDep,
    principal: WebhooksManage,
    endpoint_id: uuid.UUID,
    status_: Annotated[MessageStatus | None, Query(alias="status")] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[MessageRead]:
    rows, next_cursor = await service.list_deliveries(
        session,
        principal,
        endpoint_id,
        status=status_,
        event_type=event_type,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[MessageRead.of(m, a) for m, a in rows], next_cursor=next_cursor)


@router.post(
    "/endpoints/{endpoint_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue again the messages of a time range that failed (or all, if asked)",
)
async def replay(
    session: SessionDep, principal: WebhooksManage, endpoint_id: uuid.UUID, body: Replay
) -> ReplayResult:
    queued = await service.replay(
        session,
        principal,
        endpoint_id,
        since=body.since,
        until=body.until,
        include_succeeded=body.include_succeeded,
    )
    return ReplayResult(queued=queued)


@router.get("/deliveries/{message_id}", summary="One message with every attempt")
async def read_delivery(
    session: SessionDep, principal: WebhooksManage, message_id: uuid.UUID
) -> MessageRead:
    message, attempts = await service.get_delivery(session, principal, message_id)
    return MessageRead.of(message, attempts)


@router.post(
    "/deliveries/{message_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a message again now, with the same webhook-id",
)
async def retry_delivery(
    session: SessionDep, principal: WebhooksManage, message_id: uuid.UUID
) -> MessageRead:
    message = await service.retry_delivery(session, principal, message_id)
    message, attempts = await service.get_delivery(session, principal, message.id)
    return MessageRead.of(message, attempts)
