"""Fake vendor servers on 127.0.0.1 that check what real DingTalk, WeCom, Feishu and Slack robots
check (path, token, signature, keyword, rate) and answer with the vendors' real bodies; plus
builders for channels, rules and events."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hub.core.crypto import load_secret_box
from hub.core.db import Database
from hub.core.events import DomainEvent, EventType, bus
from hub.core.security import Scope
from hub.core.settings import Settings
from notifiers.dispatcher import Dispatcher
from notifiers.handlers import on_event
from tenants.models import TenantKind
from tests.cases.conftest import Party, make_party

LOOPBACK = "127.0.0.0/8"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with the loopback fake vendors allowed."""
    return settings.model_copy(update={"notifier_allowed_hosts": [LOOPBACK]})


@pytest.fixture(autouse=True)
def _subscribed() -> None:
    bus.subscribe(on_event)


@pytest.fixture
async def dispatcher(db: Database, settings: Settings) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher(
        db, settings, load_secret_box(settings), timeout=2.0, rng=random.Random(7)
    )
    yield dispatcher
    await dispatcher.aclose()


# --- a loopback HTTP server speaking like a vendor -------------------------------------------


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class FakeVendor:
    """An HTTP/1.1 server that records requests and answers through ``judge``."""

    def __init__(self, judge: Callable[[Request], Answer]) -> None:
        self.judge = judge
        self.requests: list[Request] = []
        self.answers: list[Answer] = []
        self.override: list[Answer] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._arrived = asyncio.Condition()
        self.port = 0

    async def wait_for(self, count: int, within: float = 5.0) -> list[Request]:
        """Wait (bounded) until ``count`` requests arrived."""
        async with asyncio.timeout(within):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> FakeVendor:
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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                _method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                parts = urlsplit(target)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                request = Request(parts.path, query, headers, body)
                async with self._arrived:
                    self.requests.append(request)
                    self._arrived.notify_all()
                answer = self.override.pop(0) if self.override else self.judge(request)
                self.answers.append(answer)
                if answer.hang:
                    await asyncio.Event().wait()
                payload = (
                    answer.body.encode()
                    if isinstance(answer.body, str)
                    else json.dumps(answer.body).encode()
                )
                extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
                writer.write(
                    f"HTTP/1.1 {answer.status} X\r\ncontent-length: {len(payload)}\r\n"
                    f"{extra}\r\n".encode()
                    + payload
                )
                await writer.drain()
        finally:
            writer.close()


DINGTALK_OK = {"errcode": 0, "errmsg": "ok"}
FEISHU_OK = {"code": 0, "data": {}, "msg": "success"}


def dingtalk_judge(
    token: str, secret: str | None = None, keyword: str | None = None, per_minute: int = 20
) -> Callable[[Request], Answer]:
    """DingTalk's checks, in its order: token, signature, keyword, then 20 a minute."""
    sent: list[int] = []

    def judge(request: Request) -> Answer:
        if request.path != "/robot/send" or request.query.get("access_token") != token:
            return Answer(body={"errcode": 300001, "errmsg": "token is not exist"})
        if secret is not None:
            timestamp = request.query.get("timestamp", "")
            expected = base64.b64encode(
                hmac.new(
                    secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256
                ).digest()
            ).decode()
            if request.query.get("sign") != expected:
                return Answer(body={"errcode": 310000, "errmsg": "sign not match, more: [...]"})
        body = request.json()
        text = body.get("markdown", {}).get("text", "")
        if keyword and keyword not in text:
            return Answer(body={"errcode": 310000, "errmsg": "keywords not in content"})
        now_ms = int(request.query.get("timestamp") or datetime.now(UTC).timestamp() * 1000)
        recent = [t for t in sent if t > now_ms - 60_000]
        if len(recent) >= per_minute:
            return Answer(
                body={"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
            )
        sent.append(now_ms)
        return Answer(body=DINGTALK_OK)

    return judge


def wecom_judge(key: str) -> Callable[[Request], Answer]:
    def judge(request: Request) -> Answer:
        if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != key:
            return Answer(body={"errcode": 93000, "errmsg": "invalid webhook url, hint: [...]"})
        body = request.json()
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
            return Answer(body={"errcode": 40008, "errmsg": "invalid message type"})
        if len(body["markdown"]["content"].encode()) > 4096:
            return Answer(body={"errcode": 40058, "errmsg": "markdown.content exceed max length"})
        return Answer(body={"errcode": 0, "errmsg": "ok"})

    return judge


def feishu_sign(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def feishu_judge(token: str, secret: str | None = None) -> Callable[[Request], Answer]:
    def judge(request: Request) -> Answer:
        if request.path != f"/open-apis/bot/v2/hook/{token}":
            return Answer(
                body={"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            )
        body = request.json()
        if secret is not None and body.get("sign") != feishu_sign(
            secret, str(body.get("timestamp"))
        ):
            return Answer(
                body={
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                }
            )
        if body.get("msg_type") != "post":
            return Answer(body={"code": 9499, "msg": "Bad Request"})
        return Answer(body=FEISHU_OK)

    return judge


def slack_judge(path: str) -> Callable[[Request], Answer]:
    def judge(request: Request) -> Answer:
        if request.path != path:
            return Answer(status=404, body="no_service")
        body = request.json()
        if not body.get("text") or not body.get("blocks"):
            return Answer(status=400, body="invalid_payload")
        return Answer(status=200, body="ok")

    return judge


@pytest.fixture
async def vendors() -> AsyncIterator[Callable[..., Any]]:
    started: list[FakeVendor] = []

    async def make(judge: Callable[[Request], Answer]) -> FakeVendor:
        vendor = await FakeVendor(judge).start()
        started.append(vendor)
        return vendor

    yield make
    for vendor in started:
        await vendor.close()


# --- parties, channels, rules and events ------------------------------------------------------


async def make_tenant_party(
    http: httpx.AsyncClient, db: Database, kind: TenantKind = TenantKind.brand
) -> Party:
    return await make_party(http, db, kind, scopes=list(Scope))


async def create_channel(http: httpx.AsyncClient, party: Party, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "售后群")
    response = await http.post("/v1/notifications/channels", json=body, headers=party.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create_rule(
    http: httpx.AsyncClient, party: Party, channel_id: str, **body: Any
) -> dict[str, Any]:
    body.setdefault("name", "all new cases")
    body.setdefault("event_types", ["*"])
    body["channel_id"] = channel_id
    response = await http.post("/v1/notifications/rules", json=body, headers=party.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def case_view(
    *,
    number: str = "LRBB-000123",
    title: str = "酸奶胀包",
    priority: str = "normal",
    case_id: uuid.UUID | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "case": {
            "id": str(case_id or uuid.uuid4()),
            "number": number,
            "title": title,
            "type": "quality",
            "priority": priority,
            "status": "routed",
            "host": {"slug": "lingxi", "name": "灵犀直播间"},
            "brand": {"slug": "daoxiang", "name": "稻香食品"},
            "product": {"sku": "DX-YOG-12", "name": "稻香 原味酸奶 12杯"},
            "order": {"platform": "douyin", "order_id": "DY-1001", "amount": "59.90"},
            "queue": None,
            "tags": [],
        },
        "actor": {"kind": "user", "name": "小王"},
        "visibility": "partners",
        **extra,
    }


def make_event(
    views: Mapping[uuid.UUID, Mapping[str, Any]],
    *,
    type: str = EventType.case_routed,
    attributes: Mapping[str, Any] | None = None,
) -> DomainEvent:
    first = next(iter(views.values()), {})
    case = first.get("case", {})
    return DomainEvent(
        id=uuid.uuid4(),
        type=type,
        occurred_at=datetime.now(UTC),
        case_id=uuid.UUID(case["id"]) if case.get("id") else None,
        views=views,
        attributes=attributes
        or {"priority": case.get("priority", "normal"), "case_type": "quality"},
    )


async def publish(db: Database, *events: DomainEvent) -> None:
    async with db.unit_of_work() as session:
        for event in events:
            await bus.publish(session, event)
