"""Slack incoming webhooks: mrkdwn section blocks with a plain fallback ``text``.

Slack answers HTTP 200 ``ok`` on success and a 4xx with a short error string otherwise; a 429
carries ``Retry-After``. About one message a second per webhook.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from hub.core.egress import EgressPolicy
from notifiers.channels.base import (
    Adapter,
    SendResult,
    Target,
    fitting,
    post_json,
    transport_failure,
)
from notifiers.messages import Message
from notifiers.models import ChannelKind, DeliveryOutcome
from notifiers.ratelimit import Pace, RateLimit
from notifiers.templating import render_message

SECTION_MAX_CHARS = 3000
BODY_MAX_CHARS = 12_000
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "channel_is_archived",
        "no_service",
        "no_service_id",
        "no_team",
        "team_not_found",
        "team_disabled",
        "invalid_token",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "no_active_hooks",
    }
)
"""The webhook, its channel or its workspace is gone or forbids posting."""
REJECTED = frozenset(
    {"invalid_payload", "user_not_found", "too_many_attachments", "no_text", "invalid_blocks"}
)
"""Slack refused this message; the next one may well pass (``invalid_payload`` is about the
message, and can come from its content), so the webhook is not suspended for it."""
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
SPECIAL = {"all": "<!channel>", "channel": "<!channel>", "here": "<!here>"}


def sections(text: str) -> list[str]:
    """Split mrkdwn at line ends into pieces Slack accepts in one section each."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = line[:SECTION_MAX_CHARS]
        if current and len(current) + 1 + len(line) > SECTION_MAX_CHARS:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current.strip():
        pieces.append(current)
    return pieces


class Slack(Adapter):
    kind = ChannelKind.slack
    pace = Pace(limits=(RateLimit(1, timedelta(seconds=1)),))

    def body(self, message: Message) -> dict[str, Any]:
        message = fitting(
            message, lambda m: len(render_message("slack", m)["body"]), BODY_MAX_CHARS
        )
        blocks = render_message("slack", message)
        text = blocks["body"][:BODY_MAX_CHARS]
        mentions = " ".join(SPECIAL.get(m, f"<@{m}>") for m in message.mentions)
        if mentions:
            text = f"{mentions}\n{text}"
        return {
            "text": blocks["title"],
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
                for piece in sections(text)
            ],
        }

    async def send(
        self,
        target: Target,
        message: Message,
        *,
        client: httpx.AsyncClient,
        egress: EgressPolicy,
        now: datetime,
        deadline: float,
    ) -> SendResult:
        exchange = await post_json(
            client, target.secrets["url"], self.body(message), deadline=deadline
        )
        error = exchange.body.strip()
        if exchange.status is not None and 400 <= exchange.status < 500 and exchange.status != 429:
            outcome = (
                DeliveryOutcome.channel_error
                if error in CHANNEL_ERRORS
                else DeliveryOutcome.rejected
                if error in REJECTED
                else DeliveryOutcome.failed
            )
            return SendResult(
                outcome,
                status_code=exchange.status,
                vendor_code=error[:64] or None,
                response_body=exchange.body,
                error=f"HTTP {exchange.status}: {error}"[:500],
            )
        failure = transport_failure(exchange)
        if failure is not None:
            return failure
        if error != "ok":
            return SendResult(
                DeliveryOutcome.failed,
                status_code=exchange.status,
                response_body=exchange.body,
                error="Slack answered 2xx without ok",
            )
        return SendResult(
            DeliveryOutcome.succeeded, status_code=exchange.status, response_body=exchange.body
        )

    def mention_error(self, mention: str) -> str | None:
        if mention in SPECIAL or USER_ID.match(mention):
            return None
        return "Slack mentions are member ids (U…/W…), here or channel"
