"""The one interface every channel kind implements, and the HTTP exchange robots share.

An adapter turns a :class:`~notifiers.messages.Message` into its vendor's request, sends it and
judges the answer: success, a failure worth retrying, the vendor's throttle, a rejection of this
message, or an error that means the channel itself is broken. All vendors but Slack report
business errors inside HTTP 200 bodies, so the body decides, not the status alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from hub.core.egress import EgressPolicy, refused
from notifiers.messages import Message
from notifiers.models import ChannelKind, DeliveryOutcome
from notifiers.ratelimit import Pace

RESPONSE_BODY_MAX_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Target:
    """A channel as a send needs it: its settings and its secrets in the clear."""

    kind: ChannelKind
    config: Mapping[str, Any]
    secrets: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: DeliveryOutcome
    status_code: int | None = None
    vendor_code: str | None = None
    response_body: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    """How long the vendor asked us to wait (throttling)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """What came back from one HTTP request (``status`` None: no answer, ``error`` says why)."""

    status: int | None
    body: str = ""
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    error: str | None = None

    def json(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


class Adapter(ABC):
    """One channel kind. Adapters hold no state; the dispatcher shares one of each."""

    kind: ClassVar[ChannelKind]
    pace: ClassVar[Pace]
    throttle_pause: ClassVar[timedelta] = timedelta(minutes=1)
    """How long to pause after the vendor's own throttle when it says nothing more precise."""

    @abstractmethod
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
        """Deliver ``message``; never raises for anything the network or the vendor does."""

    def mention_error(self, mention: str) -> str | None:
        """Why ``mention`` cannot be used on this kind, or None when it can."""
        return f"{self.kind.value} channels cannot mention anyone"


def shrink(message: Message, keep: int) -> Message:
    """The same burst listing only its first ``keep`` cases (the counts stay whole)."""
    keep = max(0, min(keep, len(message.shown)))
    dropped = len(message.shown) - keep
    return dataclasses.replace(message, shown=message.shown[:keep], more=message.more + dropped)


def cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes on a character boundary, marked with …."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: max(0, limit - 3)].decode("utf-8", errors="ignore") + "…"


def fitting(
    message: Message, size: Any, limit: int, steps: Sequence[int] = (10, 5, 3, 1, 0)
) -> Message:
    """The longest version of ``message`` whose rendered ``size(message)`` fits ``limit``."""
    if size(message) <= limit or message.kind != "burst":
        return message
    for keep in steps:
        smaller = shrink(message, keep)
        if size(smaller) <= limit:
            return smaller
    return shrink(message, 0)


async def post_json(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any], *, deadline: float
) -> Exchange:
    """POST ``body`` as compact UTF-8 JSON; read at most 2 KB back; never raises."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"content-type": "application/json; charset=utf-8", "accept-encoding": "identity"}
    try:
        async with asyncio.timeout(deadline):
            async with client.stream("POST", url, content=content, headers=headers) as response:
                collected = bytearray()
                async for chunk in response.aiter_raw():
                    collected += chunk[: RESPONSE_BODY_MAX_BYTES - len(collected)]
                    if len(collected) >= RESPONSE_BODY_MAX_BYTES:
                        break
                return Exchange(
                    status=response.status_code,
                    body=collected.decode("utf-8", errors="replace"),
                    headers=dict(response.headers),
                )
    except TimeoutError:
        return Exchange(None, error=f"no complete answer within {deadline:g} s")
    except httpx.HTTPError as exc:
        # The robot URL is the credential: never let it into an error that is stored or shown.
        reason = (str(exc) or type(exc).__name__).replace(url, "<robot URL>")
        return Exchange(
            None, error=f"refused: {reason}" if refused(exc) else f"{type(exc).__name__}: {reason}"
        )


def retry_after(headers: Mapping[str, str]) -> timedelta | None:
    value = headers.get("retry-after", "").strip()
    return timedelta(seconds=int(value)) if value.isdigit() else None


def transport_failure(exchange: Exchange) -> SendResult | None:
    """The result for an exchange that got no usable HTTP answer, or None to judge the body."""
    if exchange.status is None:
        return SendResult(DeliveryOutcome.failed, error=exchange.error)
    if exchange.status == 429:
        return SendResult(
            DeliveryOutcome.throttled,
            status_code=429,
            response_body=exchange.body,
            retry_after=retry_after(exchange.headers),
            error="the vendor answered 429 Too Many Requests",
        )
    if exchange.status >= 300:
        return SendResult(
            DeliveryOutcome.failed,
            status_code=exchange.status,
            response_body=exchange.body,
            error=f"HTTP {exchange.status}",
        )
    return None


def judge_coded(
    exchange: Exchange,
    *,
    code_keys: Sequence[str],
    message_keys: Sequence[str],
    throttled: frozenset[int],
    channel_errors: frozenset[int],
    rejected: frozenset[int] = frozenset(),
) -> SendResult:
    """Judge a vendor that answers ``{"<code>": 0, "<message>": "ok"}`` inside HTTP 200."""
    failure = transport_failure(exchange)
    if failure is not None:
        return failure
    body = exchange.json()
    code = None if body is None else next((body[k] for k in code_keys if k in body), None)
    if not isinstance(code, int):
        return SendResult(
            DeliveryOutcome.failed,
            status_code=exchange.status,
            response_body=exchange.body,
            error="the vendor's answer is not the JSON it documents",
        )
    assert body is not None
    text = next((str(body[k]) for k in message_keys if k in body), "")

    def result(outcome: DeliveryOutcome) -> SendResult:
        return SendResult(
            outcome,
            status_code=exchange.status,
            vendor_code=str(code),
            response_body=exchange.body,
            error=None if code == 0 else f"{code}: {text}"[:500],
        )

    if code == 0:
        return result(DeliveryOutcome.succeeded)
    if code in throttled:
        return result(DeliveryOutcome.throttled)
    if code in channel_errors:
        return result(DeliveryOutcome.channel_error)
    if code in rejected:
        return result(DeliveryOutcome.rejected)
    return result(DeliveryOutcome.failed)
