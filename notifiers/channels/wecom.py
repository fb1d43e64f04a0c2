"""WeCom (企业微信) group robots: markdown messages up to 4096 bytes; the key in the URL is the
secret. Mentions are ``<@userid>`` inside the markdown (mobiles and @all work only in plain text
messages, so they are refused when a rule is saved). Limit: 20 messages a minute per robot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from hub.core.egress import EgressPolicy
from notifiers.channels.base import (
    Adapter,
    SendResult,
    Target,
    cut_bytes,
    fitting,
    judge_coded,
    post_json,
)
from notifiers.messages import Message
from notifiers.models import ChannelKind
from notifiers.ratelimit import Pace, RateLimit
from notifiers.templating import render_message

CONTENT_MAX_BYTES = 4096
THROTTLED = frozenset({45009})
CHANNEL_ERRORS = frozenset({93000})
"""93000: invalid webhook URL (the robot was removed or the key is wrong)."""
REJECTED = frozenset({40008, 44004, 40058})
"""Invalid message type, empty content, invalid parameter: this message, not the robot."""


class WeCom(Adapter):
    kind = ChannelKind.wecom
    pace = Pace(limits=(RateLimit(20, timedelta(minutes=1)),))

    def body(self, message: Message) -> dict[str, Any]:
        mentions = "".join(f"<@{m}>" for m in message.mentions)
        room = CONTENT_MAX_BYTES - len(mentions.encode()) - 2

        def size(m: Message) -> int:
            return len(render_message("wecom", m)["body"].encode())

        message = fitting(message, size, room)
        content = cut_bytes(render_message("wecom", message)["body"], room)
        if mentions:
            content += f"\n\n{mentions}"
        return {"msgtype": "markdown", "markdown": {"content": content}}

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
        return judge_coded(
            exchange,
            code_keys=("errcode",),
            message_keys=("errmsg",),
            throttled=THROTTLED,
            channel_errors=CHANNEL_ERRORS,
            rejected=REJECTED,
        )

    def mention_error(self, mention: str) -> str | None:
        if mention == "all" or mention.lstrip("+").isdigit():
            return "WeCom markdown messages can mention user ids only (not mobiles or all)"
        return None
