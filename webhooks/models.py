"""Tables of the webhooks package: endpoints, the message outbox and the attempt log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from hub.core.models import (
    JSONType,
    StrEnumType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    id_field,
    timestamp_field,
)


class WebhookEndpoint(TenantOwned, table=True):
    """A receiver URL of one tenant, the event types it subscribes to and its signing secrets.

    ``secret`` signs every delivery; after a rotation ``previous_secret`` signs too (a second
    signature in ``webhook-signature``) until ``previous_secret_expires_at``. Secrets are kept in
    the clear because every attempt is signed anew; they are shown only at creation and rotation.
    """

    __tablename__ = "webhook_endpoint"
    __table_args__ = (sa.Index("ix_webhook_endpoint_tenant_id_enabled", "tenant_id", "enabled"),)

    id: uuid.UUID = id_field()
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(default_factory=list, sa_type=JSONType)
    """Subscribed event types; ``["*"]`` subscribes to every type."""
    enabled: bool = True
    ordered: bool = False
    """Deliver one message at a time, in creation order (see docs/webhooks.md)."""
    disabled_reason: str | None = Field(default=None, max_length=300)
    disabled_at: datetime | None = timestamp_field()
    secret: str = Field(max_length=120)
    previous_secret: str | None = Field(default=None, max_length=120)
    previous_secret_expires_at: datetime | None = timestamp_field()
    failing_since: datetime | None = timestamp_field()
    """First failed attempt since the last success; five days of it disables the endpoint."""
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class MessageStatus(StrEnum):
    pending = "pending"
    delivering = "delivering"
    succeeded = "succeeded"
    failed = "failed"


LIVE_MESSAGE = sa.text("next_attempt_at IS NOT NULL")


class WebhookMessage(TenantOwned, table=True):
    """One event for one subscribed endpoint: the outbox row the dispatcher delivers.

    Written by the bus handler inside the transaction that produced the event. ``id`` is the
    stable ``webhook-id`` (as ``msg_<hex>``). ``next_attempt_at`` is set exactly while the message
    is live: when pending it is the time of the next attempt; while a worker holds it
    (``delivering``) it is the end of that worker's lease, after which any worker may claim it
    again. ``attempt_count`` counts every attempt; ``round_start`` is its value when the current
    round began (a manual retry or a replay starts a new round), and the attempts made since then
    pick the next delay from the retry schedule.
    """

    __tablename__ = "webhook_message"
    __table_args__ = (
        sa.Index(
            "ix_webhook_message_due",
            "next_attempt_at",
            sqlite_where=LIVE_MESSAGE,
            postgresql_where=LIVE_MESSAGE,
        ),
        sa.Index(
            "ix_webhook_message_live_per_endpoint",
            "endpoint_id",
            "created_at",
            "id",
            sqlite_where=LIVE_MESSAGE,
            postgresql_where=LIVE_MESSAGE,
        ),
        sa.Index("ix_webhook_message_endpoint_id_created_at", "endpoint_id", "created_at"),
        sa.Index("ix_webhook_message_status_created_at", "status", "created_at"),
    )

    id: uuid.UUID = id_field()
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    event_id: uuid.UUID
    event_type: str = Field(max_length=64)
    payload: str | None = Field(default=None, sa_type=sa.Text)
    """The exact JSON body sent, ``{type, timestamp, data}``; emptied by the retention purge."""
    status: MessageStatus = Field(
        default=MessageStatus.pending, sa_type=StrEnumType(MessageStatus, 16)
    )
    attempt_count: int = 0
    round_start: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: uuid.UUID | None = None
    leased_by: str | None = Field(default=None, max_length=100)
    last_attempt_at: datetime | None = timestamp_field()
    succeeded_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()

    @property
    def webhook_id(self) -> str:
        return webhook_id(self.id)


def webhook_id(message_id: uuid.UUID) -> str:
    """The ``webhook-id`` header of a message: the receiver's idempotency key."""
    return f"msg_{message_id.hex}"


class AttemptOutcome(StrEnum):
    succeeded = "succeeded"
    failed = "failed"


class WebhookAttempt(TenantOwned, table=True):
    """One try at delivering a message: what the receiver answered, or why there was no answer."""

    __tablename__ = "webhook_attempt"

    id: uuid.UUID = id_field()
    message_id: uuid.UUID = Field(foreign_key="webhook_message.id", ondelete="CASCADE", index=True)
    number: int
    """1 for the first attempt of the message, counting every round."""
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    outcome: AttemptOutcome = Field(sa_type=StrEnumType(AttemptOutcome, 16))
    status_code: int | None = None
    latency_ms: int | None = None
    response_body: str | None = Field(default=None, max_length=2048)
    """The first 2 KB of the response, decoded as UTF-8 with replacement."""
    error: str | None = Field(default=None, max_length=500)
