"""DingTalk custom robots: markdown messages, optional HMAC signing, optional keyword.

Signing (when the robot's security setting is "加签"): ``timestamp`` (milliseconds) and ``sign`` =
urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))) as query parameters.
A robot with a keyword setting accepts only messages containing the keyword, so it is appended.
Limit: 20 messages a minute per robot, after which DingTalk throttles it for ten minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

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
from notifiers.templating import escape_markdown, render_message

TEXT_MAX_BYTES = 18_000
THROTTLED = frozenset({130101, 660026})
CHANNEL_ERRORS = frozenset({300001, 300005, 310000, 400101, 400102})
"""Invalid or removed robot token, signature/keyword/IP check failed, robot stopped."""


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, base64 (not yet urlencoded)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(url: str, secret: str | None, now: datetime) -> str:
    if not secret:
        return url
    timestamp = int(now.timestamp() * 1000)
    return f"{url}&timestamp={timestamp}&sign={quote_plus(sign(secret, timestamp))}"


def mention_fields(mentions: list[str]) -> tuple[dict[str, Any], str]:
    """The ``at`` object and the ``@…`` text DingTalk needs to show the mentions."""
    mobiles = [m for m in mentions if m.lstrip("+").isdigit()]
    users = [m for m in mentions if m != "all" and m not in mobiles]
    at: dict[str, Any] = {"isAtAll": "all" in mentions}
    if mobiles:
        at["atMobiles"] = mobiles
    if users:
        at["atUserIds"] = users
    text = " ".join(f"@{m}" for m in [*mobiles, *users])
    return at, text


class DingTalk(Adapter):
    kind = ChannelKind.dingtalk
    pace = Pace(limits=(RateLimit(20, timedelta(minutes=1)),))
    throttle_pause = timedelta(minutes=10)

    def body(self, target: Target, message: Message) -> dict[str, Any]:
        def render(m: Message) -> dict[str, str]:
            return render_message("dingtalk", m)

        message = fitting(message, lambda m: len(render(m)["body"].encode()), TEXT_MAX_BYTES)
        blocks = render(message)
        text = cut_bytes(blocks["body"], TEXT_MAX_BYTES)
        at, mention_text = mention_fields(list(message.mentions))
        if mention_text:
            text += f"\n\n{mention_text}"
        keyword = str(target.config.get("keyword") or "")
        if keyword and keyword not in text:
            text += f"\n\n{escape_markdown(keyword)}"
        return {
            "msgtype": "markdown",
            "markdown": {"title": cut_bytes(blocks["title"], 200), "text": text},
            "at": at,
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
        url = signed_url(target.secrets["url"], target.secrets.get("secret"), now)
        exchange = await post_json(client, url, self.body(target, message), deadline=deadline)
        return judge_coded(
            exchange,
            code_keys=("errcode",),
            message_keys=("errmsg",),
            throttled=THROTTLED,
            channel_errors=CHANNEL_ERRORS,
        )

    def mention_error(self, mention: str) -> str | None:
        return None
