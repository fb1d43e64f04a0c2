"""Feishu / Lark custom bots: ``post`` (rich text) messages, optional signing, optional keyword.

Signing: ``timestamp`` (seconds) and ``sign`` = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
msg=b"")) in the JSON body. Text goes in plain text elements, which Feishu never parses as
markup; links and mentions are elements of their own. Limits: 5 a second and 100 a minute per
bot, request body at most 20 KB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from hub.core.egress import EgressPolicy
from notifiers.channels.base import (
    Adapter,
    SendResult,
    Target,
    fitting,
    judge_coded,
    post_json,
)
from notifiers.messages import Message
from notifiers.models import ChannelKind
from notifiers.ratelimit import Pace, RateLimit
from notifiers.templating import feishu_elements, plain, render_message

BODY_MAX_BYTES = 19_000
THROTTLED = frozenset({11232})
CHANNEL_ERRORS = frozenset({19001, 19021, 19022, 19024})
"""Invalid bot token, signature or timestamp check failed, IP not allowed, keyword missing."""
REJECTED = frozenset({9499})
POST_LOCALES = {"zh-CN": "zh_cn", "en": "en_us"}


def sign(secret: str, timestamp: int) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class Feishu(Adapter):
    kind = ChannelKind.feishu
    pace = Pace(limits=(RateLimit(5, timedelta(seconds=1)), RateLimit(100, timedelta(minutes=1))))

    def post(self, target: Target, message: Message) -> dict[str, Any]:
        blocks = render_message("feishu", message)
        rows: list[list[dict[str, str]]] = [
            list(feishu_elements(line)) for line in blocks["body"].split("\n") if line.strip()
        ]
        if message.mentions:
            rows.append([{"tag": "at", "user_id": m} for m in message.mentions])
        keyword = str(target.config.get("keyword") or "")
        if keyword and keyword not in blocks["title"] + blocks["body"]:
            rows.append([{"tag": "text", "text": plain(keyword)}])
        locale = POST_LOCALES.get(message.locale, "zh_cn")
        return {
            "msg_type": "post",
            "content": {"post": {locale: {"title": blocks["title"][:200], "content": rows}}},
        }

    def body(self, target: Target, message: Message, now: datetime) -> dict[str, Any]:
        def size(m: Message) -> int:
            return len(json.dumps(self.post(target, m), ensure_ascii=False).encode())

        body = self.post(target, fitting(message, size, BODY_MAX_BYTES))
        secret = target.secrets.get("secret")
        if secret:
            timestamp = int(now.timestamp())
            body = {"timestamp": str(timestamp), "sign": sign(secret, timestamp), **body}
        return body

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
            client, target.secrets["url"], self.body(target, message, now), deadline=deadline
        )
        return judge_coded(
            exchange,
            code_keys=("code", "StatusCode"),
            message_keys=("msg", "StatusMessage"),
            throttled=THROTTLED,
            channel_errors=CHANNEL_ERRORS,
            rejected=REJECTED,
        )

    def mention_error(self, mention: str) -> str | None:
        return None
