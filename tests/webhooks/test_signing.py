"""Signatures follow Standard Webhooks: the official library verifies what we sign."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from webhooks import signing


def test_secret_is_whsec_with_32_random_bytes() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != signing.generate_secret()


def test_signature_matches_the_reference_library() -> None:
    secret = signing.generate_secret()
    now = datetime.now(UTC).replace(microsecond=0)
    body = '{"type":"case.created","data":{"title":"破损"}}'.encode()
    ours = signing.sign(secret, "msg_1", int(now.timestamp()), body)
    assert ours == Webhook(secret).sign("msg_1", now, body.decode())


def test_headers_verify_with_standardwebhooks() -> None:
    secret = signing.generate_secret()
    body = b'{"type":"case.created","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    headers = signing.headers([secret], "msg_abc", int(datetime.now(UTC).timestamp()), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "case.created",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)


def test_rotation_sends_both_signatures_and_each_secret_verifies() -> None:
    old, new = signing.generate_secret(), signing.generate_secret()
    now = datetime.now(UTC)
    active = signing.active_secrets(new, old, now + timedelta(hours=1), now=now)
    assert active == [new, old]
    body = b"{}"
    headers = signing.headers(active, "msg_x", int(now.timestamp()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_previous_secret_stops_signing_when_its_grace_ends() -> None:
    now = datetime.now(UTC)
    assert signing.active_secrets("whsec_a", "whsec_b", now, now=now) == ["whsec_a"]
    assert signing.active_secrets("whsec_a", None, None, now=now) == ["whsec_a"]
