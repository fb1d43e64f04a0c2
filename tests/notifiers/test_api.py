"""The channels and rules API: secrets stored sealed and shown masked, bad input, tenancy."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from hub.core.crypto import SecretBox, SecretUnreadable
from hub.core.db import Database
from hub.core.security import Scope
from hub.core.settings import Settings
from notifiers import service
from notifiers.models import NotificationChannel
from tenants.models import TenantKind
from tests.cases.conftest import make_party

from .conftest import create_channel, create_rule, make_tenant_party

pytestmark = pytest.mark.anyio

DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/2b1d46c0-5c10-4a8e-b2b7-11aa22bb33cc"
SLACK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.fixture(autouse=True)
def _offline_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vendors' real host names resolve to a public address without the network."""
    from hub.core import egress

    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        return [egress.ipaddress.ip_address("93.184.215.14")]

    monkeypatch.setattr(egress, "resolve", resolve)


async def test_each_kind_is_created_with_its_secret_sealed_and_masked(
    http: httpx.AsyncClient, db: Database
) -> None:
    party = await make_tenant_party(http, db)
    created = [
        await create_channel(http, party, kind="dingtalk", webhook_url=DINGTALK, secret="SECxyz"),
        await create_channel(http, party, kind="wecom", webhook_url=WECOM),
        await create_channel(http, party, kind="feishu", webhook_url=FEISHU, keyword="CaseHub"),
        await create_channel(http, party, kind="slack", webhook_url=SLACK),
        await create_channel(
            http,
            party,
            kind="email",
            smtp={"host": "smtp.example.com", "username": "bot", "password": "hunter2-pass"},
            from_address="casehub@example.com",
            recipients=["a@example.com", "b@example.com", "c@example.com"],
        ),
    ]
    assert [c["target"] for c in created] == [
        "https://oapi.dingtalk.com/robot/send?access_token=…0123",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…5aaa",
        "https://open.feishu.cn/open-apis/bot/v2/hook/…33cc",
        "https://hooks.slack.com/services/…/…/…XXXX",
        "smtp://smtp.example.com:587 → a@example.com, b@example.com +1",
    ]
    assert created[0]["signing_secret_set"] is True
    assert created[2]["settings"] == {"keyword": "CaseHub"}
    assert created[4]["settings"]["username"] == "bot"
    assert created[4]["signing_secret_set"] is True
    listed = (await http.get("/v1/notifications/channels", headers=party.auth)).json()
    everything = json.dumps(created) + json.dumps(listed)
    for secret in (
        "0123456789abcdef",
        "sifa5",
        "2b1d46c0",
        "XXXXXXXXXXXXXXXXXXXX",
        "SECxyz",
        "hunter2-pass",
    ):
        assert secret not in everything
    async with db.unit_of_work(write=False) as session:
        stored = await session.get(NotificationChannel, uuid.UUID(created[0]["id"]))
        assert stored is not None
        assert "0123456789abcdef" not in stored.sealed_secrets + json.dumps(stored.config)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            {"kind": "dingtalk", "webhook_url": "https://example.com/robot/send?access_token=x"},
            "#/webhook_url",
        ),
        (
            {"kind": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send"},
            "#/webhook_url",
        ),
        (
            {
                "kind": "wecom",
                "webhook_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            },
            "#/webhook_url",
        ),
        ({"kind": "feishu", "webhook_url": "not a url at all"}, "#/webhook_url"),
        ({"kind": "slack", "webhook_url": "https://hooks.slack.com/services/T0"}, "#/webhook_url"),
        ({"kind": "pigeon", "webhook_url": SLACK}, "#"),
        (
            {"kind": "email", "from_address": "a@example.com", "recipients": ["b@example.com"]},
            "#/email/smtp",
        ),
        (
            {
                "kind": "email",
                "smtp": {"host": "smtp.example.com"},
                "from_address": "nope",
                "recipients": ["b@example.com"],
            },
            "#/email/from_address",
        ),
        (
            {
                "kind": "email",
                "smtp": {"host": "smtp.example.com", "username": "u"},
                "from_address": "a@example.com",
                "recipients": ["b@example.com"],
            },
            "#/smtp/password",
        ),
        (
            {
                "kind": "email",
                "smtp": {"host": "10.1.2.3", "port": 25},
                "from_address": "a@example.com",
                "recipients": ["b@example.com"],
            },
            "#/smtp/host",
        ),
        ({"kind": "slack", "webhook_url": SLACK, "time_zone": "Mars/Olympus"}, "#/time_zone"),
    ],
)
async def test_bad_channels_answer_422_with_a_pointer(
    http: httpx.AsyncClient, db: Database, body: dict[str, Any], pointer: str
) -> None:
    party = await make_party(http, db, TenantKind.brand, scopes=[Scope.notifiers_manage])
    response = await http.post(
        "/v1/notifications/channels", json={"name": "x", **body}, headers=party.auth
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    pointers = [problem.get("pointer")] + [e["pointer"] for e in problem.get("errors", [])]
    assert any(p and p.startswith(pointer) for p in pointers), problem


async def test_patch_keeps_secrets_and_refuses_fields_of_another_kind(
    http: httpx.AsyncClient, db: Database
) -> None:
    party = await make_tenant_party(http, db)
    channel = await create_channel(http, party, kind="slack", webhook_url=SLACK)
    url = f"/v1/notifications/channels/{channel['id']}"
    renamed = await http.patch(url, json={"name": "品牌群", "digest_hour": 9}, headers=party.auth)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["target"] == channel["target"]
    assert renamed.json()["next_digest_at"] is not None
    wrong = await http.patch(url, json={"keyword": "x"}, headers=party.auth)
    assert wrong.status_code == 422
    muted = await http.patch(url, json={"enabled": False}, headers=party.auth)
    assert muted.json()["disabled_by"] == "owner"
    test = await http.post(f"{url}/test", headers=party.auth)
    assert test.status_code == 409


async def test_rules_validate_event_types_mentions_and_channel(
    http: httpx.AsyncClient, db: Database
) -> None:
    party = await make_tenant_party(http, db)
    other = await make_tenant_party(http, db)
    wecom = await create_channel(http, party, kind="wecom", webhook_url=WECOM)
    foreign = await create_channel(http, other, kind="slack", webhook_url=SLACK)
    cases = [
        ({"event_types": ["case.exploded"]}, "#/event_types"),
        ({"event_types": ["*"], "mentions": ["13800000000"]}, "#/mentions/0"),
        ({"event_types": ["*"], "conditions": {"priorities": ["asap"]}}, "#/conditions"),
        (
            {"event_types": ["*"], "conditions": {"brands": ["no-such-brand"]}},
            "#/conditions/brands",
        ),
        ({"event_types": ["*"], "conditions": {"queues": ["no-such-team"]}}, "#/conditions/queues"),
        ({"event_types": ["*"], "channel_id": foreign["id"]}, "#/channel_id"),
    ]
    for body, pointer in cases:
        response = await http.post(
            "/v1/notifications/rules",
            json={"name": "r", "channel_id": wecom["id"], **body},
            headers=party.auth,
        )
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        pointers = [problem.get("pointer")] + [e["pointer"] for e in problem.get("errors", [])]
        assert any(p and p.startswith(pointer) for p in pointers), problem
    rule = await create_rule(
        http,
        party,
        wecom["id"],
        event_types=["case.routed", "sla.breached", "case.routed"],
        conditions={"priorities": ["urgent", "high"], "sla_states": ["breached"]},
        mentions=["zhangsan"],
        locale="en",
    )
    assert rule["event_types"] == ["case.routed", "sla.breached"]
    assert rule["conditions"]["priorities"] == ["urgent", "high"]


async def test_another_tenants_channels_and_rules_answer_404(
    http: httpx.AsyncClient, db: Database
) -> None:
    owner = await make_tenant_party(http, db)
    stranger = await make_tenant_party(http, db)
    channel = await create_channel(http, owner, kind="slack", webhook_url=SLACK)
    rule = await create_rule(http, owner, channel["id"])
    base = "/v1/notifications"
    for method, path, body in [
        ("GET", f"{base}/channels/{channel['id']}", None),
        ("PATCH", f"{base}/channels/{channel['id']}", {"name": "mine"}),
        ("DELETE", f"{base}/channels/{channel['id']}", None),
        ("POST", f"{base}/channels/{channel['id']}/test", None),
        ("GET", f"{base}/channels/{channel['id']}/notices", None),
        ("GET", f"{base}/channels/{channel['id']}/deliveries", None),
        ("GET", f"{base}/rules/{rule['id']}", None),
        ("PATCH", f"{base}/rules/{rule['id']}", {"name": "mine"}),
        ("DELETE", f"{base}/rules/{rule['id']}", None),
        ("POST", f"{base}/rules/{rule['id']}/test", None),
    ]:
        response = await http.request(method, path, json=body, headers=stranger.auth)
        assert response.status_code == 404, (method, path, response.text)
    listed = await http.get(f"{base}/channels", headers=stranger.auth)
    assert listed.json()["items"] == []
    assert (await http.get(f"{base}/rules", headers=stranger.auth)).json()["items"] == []


async def test_the_routes_need_the_notifiers_scope(http: httpx.AsyncClient, db: Database) -> None:
    party = await make_party(http, db, TenantKind.host, scopes=[Scope.cases_read])
    response = await http.get("/v1/notifications/channels", headers=party.auth)
    assert response.status_code == 403
    assert response.json()["required_scope"] == "notifiers:manage"


async def test_secrets_reseal_under_a_rotated_data_key(
    http: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    party = await make_tenant_party(http, db)
    created = await create_channel(http, party, kind="slack", webhook_url=SLACK)
    assert settings.data_key_file is not None
    old_key, new_key = settings.data_key_file.read_bytes().strip(), Fernet.generate_key()
    async with db.unit_of_work() as session:
        assert await service.reseal_secrets(session, SecretBox([new_key, old_key])) >= 1
        stored = await session.get(NotificationChannel, uuid.UUID(created["id"]))
        assert stored is not None
        assert json.loads(SecretBox([new_key]).open(stored.sealed_secrets))["url"] == SLACK
        with pytest.raises(SecretUnreadable):
            SecretBox([old_key]).open(stored.sealed_secrets)
