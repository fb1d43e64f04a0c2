"""E-mail to a local SMTP server (aiosmtpd), in both languages, HTML escaped."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from hub.core.db import Database
from notifiers.dispatcher import Dispatcher
from notifiers.models import DeliveryOutcome

from .conftest import case_view, create_channel, create_rule, make_event, make_tenant_party, publish

pytestmark = pytest.mark.anyio


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


async def test_email_is_delivered_in_both_languages_with_escaped_html(
    http: httpx.AsyncClient,
    db: Database,
    dispatcher: Dispatcher,
    smtp: tuple[Sink, int],
    vendors: Callable[..., Any],
) -> None:
    sink, port = smtp
    party = await make_tenant_party(http, db)
    for locale, recipient in (("zh-CN", "shouhou@example.com"), ("en", "ops@example.com")):
        channel = await create_channel(
            http,
            party,
            kind="email",
            locale=locale,
            smtp={"host": "127.0.0.1", "port": port, "security": "none"},
            from_address="casehub@example.com",
            recipients=[recipient],
        )
        await create_rule(http, party, channel["id"])
    view = case_view(title="<script>alert(1)</script> 胀包")
    await publish(db, make_event({party.creds.tenant.id: view}))

    outcomes = await dispatcher.run_once()

    assert [o.result.outcome for o in outcomes] == [DeliveryOutcome.succeeded] * 2
    by_recipient = {rcpts[0]: (sender, message) for sender, rcpts, message in sink.messages}
    link = f"http://testserver/console/cases/{view['case']['id']}"
    for recipient, headline in (
        ("shouhou@example.com", "新工单已分派"),
        ("ops@example.com", "New case routed"),
    ):
        sender, message = by_recipient[recipient]
        assert sender == "casehub@example.com"
        assert message["Subject"].startswith(f"{headline} LRBB-000123")
        assert message["To"] == recipient
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None
        assert html is not None
        plain_body, html_body = text.get_content(), html.get_content()
        assert "<script>alert(1)</script> 胀包" in plain_body
        assert link in plain_body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_body
        assert "<script>" not in html_body
        assert f'<a href="{link}">' in html_body
        assert "13812345678" not in plain_body + html_body
