"""Endpoints and deliveries as their owner manages them. Module-level functions, session first.

Every function takes the caller's principal and reaches only its tenant's rows: another tenant's
endpoint or message answers 404. Nothing here sends; it writes rows the dispatcher picks up.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.egress import EgressPolicy
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.pagination import paginate
from hub.core.security import Principal
from hub.core.tenancy import get_owned, scoped_select
from webhooks import outbox, signing
from webhooks.errors import (
    EndpointDisabled,
    InvalidEndpoint,
    MessageNotFound,
    MessageNotRetryable,
)
from webhooks.handlers import ALL_TYPES, new_message, render_payload, wake_after_commit
from webhooks.models import MessageStatus, WebhookAttempt, WebhookEndpoint, WebhookMessage
from webhooks.schemas import EndpointCreate, EndpointUpdate

TEST_EVENT_TYPE = "webhook.test"
"""The type of the ping :func:`send_test` queues: to that one endpoint, whatever it subscribes."""


def normalise_event_types(event_types: Sequence[str]) -> list[str]:
    """Validate against the catalog; ``*`` alone stands for everything. Raises InvalidEndpoint."""
    cleaned = sorted({item.strip() for item in event_types if item.strip()})
    if not cleaned:
        raise InvalidEndpoint(
            'subscribe to at least one event type (or "*" for all)', pointer="#/event_types"
        )
    unknown = [item for item in cleaned if item != ALL_TYPES and item not in EventType.ALL]
    if unknown:
        raise InvalidEndpoint(
            f"unknown event types: {', '.join(unknown)}",
            pointer="#/event_types",
            unknown=unknown,
        )
    return [ALL_TYPES] if ALL_TYPES in cleaned else cleaned


async def check_url(url: str, policy: EgressPolicy) -> str:
    try:
        return await policy.check_url(url.strip())
    except ValueError as exc:
        raise InvalidEndpoint(str(exc), pointer="#/url") from None


async def create_endpoint(
    session: AsyncSession,
    principal: Principal,
    data: EndpointCreate,
    *,
    policy: EgressPolicy,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Create an endpoint with a fresh ``whsec_`` secret (the caller shows it once).

    Raises :class:`InvalidEndpoint` (422) for a URL that is not http(s), carries credentials,
    needs https, does not resolve or targets a private address, and for unknown event types.
    """
    now = now or utcnow()
    endpoint = WebhookEndpoint(
        tenant_id=principal.tenant_id,
        url=await check_url(data.url, policy),
        description=data.description,
        event_types=normalise_event_types(data.event_types),
        enabled=data.enabled,
        ordered=data.ordered,
        disabled_reason=None if data.enabled else "disabled by its owner",
        disabled_at=None if data.enabled else now,
        secret=signing.generate_secret(),
        created_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_endpoints(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    return await paginate(
        session,
        scoped_select(WebhookEndpoint, principal),
        WebhookEndpoint,
        limit=limit,
        cursor=cursor,
    )


async def get_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """The caller's endpoint; another tenant's (or a missing) one raises NotFound (404)."""
    return await get_owned(session, WebhookEndpoint, endpoint_id, principal)


async def update_endpoint(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    data: EndpointUpdate,
    *,
    policy: EgressPolicy,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. Disabling fails its queued messages (a replay can queue them again);
    enabling clears the reason and the failure clock."""
    now = now or utcnow()
    endpoint = await get_endpoint(session, principal, endpoint_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        endpoint.url = await check_url(changes["url"], policy)
    if changes.get("description") is not None:
        endpoint.description = changes["description"]
    if changes.get("event_types") is not None:
        endpoint.event_types = normalise_event_types(changes["event_types"])
    if changes.get("ordered") is not None:
        endpoint.ordered = changes["ordered"]
    enabled = changes.get("enabled")
    if enabled is True and not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None
    elif enabled is False and endpoint.enabled:
        endpoint.enabled = False
        endpoint.disabled_reason = "disabled by its owner"
        endpoint.disabled_at = now
        await session.flush()
        await outbox.fail_pending(session, endpoint.id)
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> None:
    """Delete an endpoint with its messages and attempts."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    grace: timedelta,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Issue a new secret; the old one keeps signing (a second signature) for ``grace``.

    A rotation during another's grace period ends the older secret at once.
    """
    now = now or utcnow()
    endpoint = await get_endpoint(session, principal, endpoint_id)
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else None
    endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    endpoint.secret = signing.generate_secret()
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def send_test(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> WebhookMessage:
    """Queue a ``webhook.test`` ping to one endpoint. Raises :class:`EndpointDisabled` (409)."""
    now = now or utcnow()
    endpoint = await get_endpoint(session, principal, endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled("enable the endpoint before testing it")
    event_id = uuid.uuid4()
    message = new_message(
        endpoint.id,
        endpoint.tenant_id,
        event_id=event_id,
        event_type=TEST_EVENT_TYPE,
        payload=render_payload(
            TEST_EVENT_TYPE,
            now,
            {
                "endpoint_id": str(endpoint.id),
                "event_id": str(event_id),
                "message": "CaseHub test delivery: your endpoint is reachable and verifies.",
            },
        ),
        now=now,
    )
    session.add(message)
    await session.flush()
    wake_after_commit(session)
    return message


# --- deliveries -----------------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    status: MessageStatus | None,
    event_type: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[WebhookMessage, list[WebhookAttempt]]], str | None]:
    """An endpoint's messages, oldest first, each with its attempts."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    statement = scoped_select(WebhookMessage, principal).where(
        col(WebhookMessage.endpoint_id) == endpoint.id
    )
    if status is not None:
        statement = statement.where(col(WebhookMessage.status) == status)
    if event_type:
        statement = statement.where(col(WebhookMessage.event_type) == event_type)
    if since is not None:
        statement = statement.where(col(WebhookMessage.created_at) >= since)
    if until is not None:
        statement = statement.where(col(WebhookMessage.created_at) < until)
    messages, next_cursor = await paginate(
        session, statement, WebhookMessage, limit=limit, cursor=cursor
    )
    attempts = await _attempts_of(session, [m.id for m in messages])
    return [(m, attempts.get(m.id, [])) for m in messages], next_cursor


async def _attempts_of(
    session: AsyncSession, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    if not message_ids:
        return {}
    rows = (
        await session.execute(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.message_id).in_(message_ids))
            .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.number))
        )
    ).scalars()
    grouped: dict[uuid.UUID, list[WebhookAttempt]] = {}
    for attempt in rows:
        grouped.setdefault(attempt.message_id, []).append(attempt)
    return grouped


async def get_delivery(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> tuple[WebhookMessage, list[WebhookAttempt]]:
    message = await _get_message(session, principal, message_id)
    return message, (await _attempts_of(session, [message.id])).get(message.id, [])


async def _get_message(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID, *, for_update: bool = False
) -> WebhookMessage:
    statement = scoped_select(WebhookMessage, principal).where(col(WebhookMessage.id) == message_id)
    if for_update:
        statement = statement.with_for_update()
    message = (await session.execute(statement)).scalar_one_or_none()
    if message is None:
        raise MessageNotFound(f"no webhook message {message_id}")
    return message


async def retry_delivery(
    session: AsyncSession,
    principal: Principal,
    message_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> WebhookMessage:
    """Send a message again now, with its ``webhook-id``, starting a new round of retries.

    Raises :class:`MessageNotRetryable` (409) while it is being sent or once its payload was
    purged, and :class:`EndpointDisabled` (409) when its endpoint is disabled.
    """
    now = now or utcnow()
    message = await _get_message(session, principal, message_id, for_update=True)
    endpoint = await session.get(WebhookEndpoint, message.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise EndpointDisabled("enable the endpoint before retrying its messages")
    if message.status == MessageStatus.delivering:
        raise MessageNotRetryable("the message is being sent right now")
    if message.payload is None:
        raise MessageNotRetryable("the message's payload was purged after the retention period")
    message.status = MessageStatus.pending
    message.next_attempt_at = now
    message.round_start = message.attempt_count
    await session.flush()
    wake_after_commit(session)
    return message


async def replay(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    since: datetime,
    until: datetime | None,
    include_succeeded: bool = False,
    now: datetime | None = None,
) -> int:
    """Queue again an endpoint's messages created in ``[since, until)`` that failed (and, with
    ``include_succeeded``, those delivered), each with its own ``webhook-id``. Returns how many.

    Raises :class:`EndpointDisabled` (409) when the endpoint is disabled: enable it first.
    """
    now = now or utcnow()
    endpoint = await get_endpoint(session, principal, endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled("enable the endpoint before replaying its messages")
    statuses = [MessageStatus.failed]
    if include_succeeded:
        statuses.append(MessageStatus.succeeded)
    conditions = [
        col(WebhookMessage.endpoint_id) == endpoint.id,
        col(WebhookMessage.tenant_id) == principal.tenant_id,
        col(WebhookMessage.status).in_(statuses),
        col(WebhookMessage.payload).is_not(None),
        col(WebhookMessage.created_at) >= since,
    ]
    if until is not None:
        conditions.append(col(WebhookMessage.created_at) < until)
    result = await session.execute(
        update(WebhookMessage)
        .where(and_(*conditions))
        .values(
            status=MessageStatus.pending,
            next_attempt_at=now,
            round_start=WebhookMessage.attempt_count,
        )
        .execution_options(synchronize_session=False)
    )
    queued = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if queued:
        wake_after_commit(session)
    return queued
