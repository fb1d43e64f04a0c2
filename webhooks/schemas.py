"""Input and output models of the webhooks API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from webhooks.models import (
    AttemptOutcome,
    MessageStatus,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)

DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(
        default_factory=lambda: ["*"],
        max_length=100,
        description='Event types to receive; ["*"] for all',
    )
    enabled: bool = True
    ordered: bool = Field(
        default=False,
        description="Deliver one message at a time, oldest first; a failing message holds back "
        "the ones after it until it succeeds or gives up",
    )


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, max_length=100)
    enabled: bool | None = None
    ordered: bool | None = None


class EndpointRead(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    ordered: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="While set and in the future, deliveries carry a second signature made "
        "with the secret before the last rotation"
    )
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointRead:
        return cls.model_validate(endpoint, from_attributes=True)


class EndpointWithSecret(EndpointRead):
    secret: str = Field(description="The whsec_ signing secret; shown only this once")

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointWithSecret:
        return cls.model_validate(endpoint, from_attributes=True)


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=int(DEFAULT_GRACE.total_seconds()),
        ge=0,
        le=int(MAX_GRACE.total_seconds()),
        description="How long the old secret keeps signing (a second signature)",
    )


class AttemptRead(BaseModel):
    id: uuid.UUID
    number: int
    attempted_at: datetime
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: int | None
    response_body: str | None
    error: str | None

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptRead:
        return cls.model_validate(attempt, from_attributes=True)


class MessageRead(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The webhook-id header: stable across retries")
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: MessageStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    succeeded_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] | None = Field(description="None once the retention purge ran")
    attempts: list[AttemptRead] = []

    @classmethod
    def of(
        cls, message: WebhookMessage, attempts: list[WebhookAttempt] | None = None
    ) -> MessageRead:
        return cls(
            id=message.id,
            webhook_id=message.webhook_id,
            endpoint_id=message.endpoint_id,
            event_id=message.event_id,
            event_type=message.event_type,
            status=message.status,
            attempt_count=message.attempt_count,
            next_attempt_at=message.next_attempt_at,
            last_attempt_at=message.last_attempt_at,
            succeeded_at=message.succeeded_at,
            created_at=message.created_at,
            payload=None if message.payload is None else json.loads(message.payload),
            attempts=[AttemptRead.of(a) for a in attempts or []],
        )


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime
    until: AwareDatetime | None = None
    include_succeeded: bool = Field(
        default=False, description="Also send again what was delivered (same webhook-id)"
    )


class ReplayResult(BaseModel):
    queued: int
