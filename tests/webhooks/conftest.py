"""Builders for the webhook tests: loopback receivers, endpoints and synthetic domain events."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.db import Database
from hub.core.events import DomainEvent, EventType, bus
from hub.core.settings import Settings
from webhooks import signing
from webhooks.handlers import on_event
from webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

LOOPBACK = "127.0.0.0/8"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with loopback receivers allowed."""
    return settings.model_copy(update={"webhook_allowed_hosts": [LOOPBACK]})


@pytest.fixture(autouse=True)
def _subscribed() -> None:
    bus.subscribe(on_event)


# --- a tiny HTTP/1.1 receiver on 127.0.0.1 ----------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "normal"
    """normal | hang (never answer) | reset (drop the connection) | huge (endless body)"""


Responder = Callable[[Received], Reply | Awaitable[Reply]]


class Receiver:
    """An HTTP server in the test's event loop that records requests and answers as told."""

    def __init__(self, respond: Responder | None = None) -> None:
        self.respond: Responder = respond or (lambda _request: Reply())
        self.requests: list[Received] = []
        self.huge_bytes_sent = 0
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def wait_for(self, count: int, within: float = 5.0) -> list[Received]:
        """Wait (bounded) until ``count`` requests arrived."""
        async with asyncio.timeout(within):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, path, headers, body)
                async with self._arrived:
                    self.requests.append(request)
                    self._arrived.notify_all()
                reply = self.respond(request)
                if inspect.isawaitable(reply):
                    reply = await reply
                assert isinstance(reply, Reply)
                if reply.mode == "hang":
                    await asyncio.Event().wait()
                if reply.mode == "reset":
                    writer.transport.abort()
                    return
                if reply.mode == "huge":
                    await self._write_huge(writer)
                    return
                extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
                writer.write(
                    f"HTTP/1.1 {reply.status} X\r\ncontent-length: {len(reply.body)}\r\n"
                    f"{extra}\r\n".encode()
                    + reply.body
                )
                await writer.drain()
        finally:
            writer.close()

    async def _write_huge(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\r\n")
        chunk = b"x" * 65536
        try:
            while True:
                writer.write(chunk)
                await writer.drain()
                self.huge_bytes_sent += len(chunk)
        except (ConnectionError, OSError):
            return


async def start_receiver(respond: Responder | None = None) -> Receiver:
    return await Receiver(respond).start()


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    """A factory of loopback receivers, all closed when the test ends."""
    started: list[Receiver] = []

    async def make(respond: Responder | None = None) -> Receiver:
        receiver = await start_receiver(respond)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.close()


def replies(*statuses: int | Reply) -> Responder:
    """Answer with these statuses (or replies) in turn, then 200 for ever."""
    queue = [s if isinstance(s, Reply) else Reply(status=s) for s in statuses]

    def respond(_request: Received) -> Reply:
        return queue.pop(0) if queue else Reply()

    return respond


# --- rows and events ---------------------------------------------------------------------------


async def make_endpoint(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    url: str,
    *,
    event_types: list[str] | None = None,
    enabled: bool = True,
    ordered: bool = False,
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=url,
        event_types=event_types or ["*"],
        enabled=enabled,
        ordered=ordered,
        secret=signing.generate_secret(),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


def make_event(
    views: Mapping[uuid.UUID, Mapping[str, Any]],
    *,
    type: str = EventType.case_created,
    occurred_at: datetime | None = None,
) -> DomainEvent:
    return DomainEvent(
        id=uuid.uuid4(),
        type=type,
        occurred_at=occurred_at or datetime.now(UTC),
        case_id=uuid.uuid4(),
        views=views,
    )


async def publish(db: Database, *events: DomainEvent) -> None:
    """Publish events the way the case domain does: inside one unit of work."""
    async with db.unit_of_work() as session:
        for event in events:
            await bus.publish(session, event)


async def messages_of(db: Database, endpoint_id: uuid.UUID) -> list[WebhookMessage]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(WebhookMessage)
            .where(WebhookMessage.endpoint_id == endpoint_id)  # type: ignore[arg-type]
            .order_by(WebhookMessage.created_at)  # type: ignore[arg-type]
        )
        return list(rows.scalars())


async def attempts_of(db: Database, message_id: uuid.UUID) -> list[WebhookAttempt]:
    async with db.unit_of_work(write=False) as session:
        rows = await session.execute(
            select(WebhookAttempt)
            .where(WebhookAttempt.message_id == message_id)  # type: ignore[arg-type]
            .order_by(WebhookAttempt.number)  # type: ignore[arg-type]
        )
        return list(rows.scalars())
