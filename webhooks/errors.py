"""Errors of the webhooks package."""

from __future__ import annotations

from hub.core.errors import Conflict, NotFound, Unprocessable


class MessageNotFound(NotFound):
    slug = "webhook-message-not-found"


class InvalidEndpoint(Unprocessable):
    """A URL or subscription that cannot be accepted (the detail says why)."""

    slug = "invalid-webhook-endpoint"


class EndpointDisabled(Conflict):
    slug = "webhook-endpoint-disabled"
    title = "Webhook endpoint disabled"


class MessageNotRetryable(Conflict):
    slug = "webhook-message-not-retryable"
    title = "Message cannot be retried now"
