"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput and breaks contextvars).

``RequestContext`` gives every request an id (echoed as ``X-Request-ID``), logs one line per
request, counts it for Prometheus and refuses bodies over the configured size with 413.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.core.logging import request_id_var

log = logging.getLogger("casehub.http")

REQUESTS = Counter("casehub_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "casehub_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLarge(Exception):
    pass


def _problem(status: int, title: str, detail: str, request_id: str) -> tuple[bytes, list[Any]]:
    body = json.dumps(
        {
            "type": "https://casehub.dev/problems/payload-too-large",
            "title": title,
            "status": status,
            "detail": detail,
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    return body, headers


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        large_bodies: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_bodies = large_bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = [500]
        limit = self.max_body_bytes
        path: str = scope["path"]
        for pattern, larger in self.large_bodies:
            if pattern.match(path):
                limit = larger

        declared = dict(scope["headers"]).get(b"content-length")
        if limit and declared and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, request_id, limit)
            status_holder[0] = 413
            self._record(scope, 413, started)
            request_id_var.reset(token)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if limit and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if not response_started:
                await self._too_large(send, request_id, limit)
            status_holder[0] = 413
        finally:
            self._record(scope, status_holder[0], started)
            request_id_var.reset(token)

    async def _too_large(self, send: Send, request_id: str, limit: int) -> None:
        body, headers = _problem(
            413, "Content too large", f"the body exceeds {limit} bytes", request_id
        )
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        route_path = getattr(route, "path", "unmatched")
        method = scope["method"]
        REQUESTS.labels(method, route_path, str(status)).inc()
        LATENCY.labels(method, route_path).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": method,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
