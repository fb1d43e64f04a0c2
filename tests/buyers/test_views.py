"""The status page: only public items, masked contact, one 404 for every dead link, limits."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from hub.app import create_app
from hub.core.db import Database
from hub.core.settings import Settings
from tests.buyers.conftest import act, csrf_of, events_of, file_case


async def test_page_shows_only_public_items_and_masked_contact(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    host, brand = filed.world.host, filed.world.brands[0]
    for who, body, visibility in (
        (host, "SECRET-HOST-NOTE VIP handle gently", "internal"),
        (brand, "SECRET-BRAND-NOTE supplier batch 7", "internal"),
        (brand, "PARTNER-ONLY refund would cost us", "partners"),
        (brand, "我们将补发 <script>alert(1)</script>", "public"),
    ):
        response = await http.post(
            f"/v1/cases/{filed.id}/comments",
            json={"body": body, "visibility": visibility},
            headers=who.auth,
        )
        assert response.status_code == 201
    await act(http, filed, "request-info", question="请拍一张胀包的照片 Photo please")

    page = await http.get(filed.path)
    assert page.status_code == 200
    html = page.text
    assert filed.case["number"] in html
    assert "等待你补充信息" in html  # the status in plain words
    assert "请拍一张胀包的照片" in html
    assert "我们将补发 &lt;script&gt;alert(1)&lt;/script&gt;" in html  # text, never markup
    assert "<script>" not in html
    for secret in ("SECRET-HOST-NOTE", "SECRET-BRAND-NOTE", "PARTNER-ONLY"):
        assert secret not in html
    # the buyer's own contact, masked; nothing of routing's reasoning or the companies' staff
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "张三" not in html
    assert "世纪大道100号" not in html
    assert "catalog" not in html.lower()
    # the brand, not its API client's name ("test")
    assert "品牌" in html
    assert "test" not in html.replace("data-testid", "")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]

    english = await http.get(filed.path + "?lang=en")
    assert "Waiting for your information" in english.text
    assert "The brand replied" in english.text


async def test_unknown_revoked_and_rotated_links_answer_the_same_404(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    host, brand = filed.world.host, filed.world.brands[0]
    unknown = await http.get(f"/s/{secrets.token_urlsafe(24)}")
    junk = await http.get("/s/..%2f..%2fetc")
    assert unknown.status_code == junk.status_code == 404
    assert (await http.get(filed.path)).status_code == 200

    denied = await http.post(f"/v1/cases/{filed.id}/status-link/revoke", headers=brand.auth)
    assert denied.status_code == 404  # the link is the host's alone
    revoked = await http.post(f"/v1/cases/{filed.id}/status-link/revoke", headers=host.auth)
    assert revoked.status_code == 200
    assert revoked.json()["status_url"] is None
    assert revoked.json()["revoked_at"]
    gone = await http.get(filed.path)
    assert gone.status_code == 404
    assert gone.text == unknown.text  # no oracle: a revoked link looks like a made-up one
    read = await http.get(f"/v1/cases/{filed.id}", headers=host.auth)
    assert read.json()["status_url"] is None

    rotated = await http.post(f"/v1/cases/{filed.id}/status-link/rotate", headers=host.auth)
    new_url = rotated.json()["status_url"]
    assert new_url
    assert not new_url.endswith(filed.path)
    assert (await http.get(new_url.replace("http://testserver", ""))).status_code == 200
    assert (await http.get(filed.path)).status_code == 404
    host_events = await events_of(http, filed, "host")
    changes = [e["data"].get("status_link") for e in host_events if e["type"] == "case.updated"]
    assert changes == ["revoked", "rotated"]
    assert not any(e["data"].get("status_link") for e in await events_of(http, filed, "brand"))


async def test_views_are_logged_for_the_host_only_and_coalesced(
    app: Any, http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    for _ in range(3):
        assert (await http.get(filed.path)).status_code == 200
    await app.state.buyer_runtime.views.flush(db)  # the serving process does it every second
    viewed = [e for e in await events_of(http, filed, "host") if e["type"] == "case.status_viewed"]
    assert len(viewed) == 1
    assert viewed[0]["actor"]["kind"] == "buyer"
    brand_events = await events_of(http, filed, "brand")
    assert not [e for e in brand_events if e["type"] == "case.status_viewed"]
    link = await http.get(f"/v1/cases/{filed.id}/status-link", headers=filed.world.host.auth)
    assert link.json()["views"] == 3  # one event standing for three views
    assert viewed[0]["data"]["views"] == 3
    assert link.json()["last_viewed_at"]


async def test_second_factor_guards_everything_but_the_status(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    host = filed.world.host
    response = await http.patch(
        "/v1/buyer-page/settings", json={"require_second_factor": True}, headers=host.auth
    )
    assert response.status_code == 200
    assert response.json()["require_second_factor"] is True
    await http.post(
        f"/v1/cases/{filed.id}/comments",
        json={"body": "PUBLIC-DETAIL resend on Monday", "visibility": "public"},
        headers=filed.world.brands[0].auth,
    )
    bare = await http.get(filed.path)
    assert bare.status_code == 200
    assert filed.case["number"] in bare.text
    assert "已转交品牌处理" in bare.text
    assert "PUBLIC-DETAIL" not in bare.text
    assert "138****5678" not in bare.text

    token = csrf_of(bare.text)
    wrong = await http.post(f"{filed.path}/verify", data={"code": "0000", "csrf": token})
    assert wrong.status_code == 303
    assert "error=verify_wrong" in wrong.headers["location"]
    right = await http.post(f"{filed.path}/verify", data={"code": "5678", "csrf": token})
    assert right.status_code == 303
    shown = await http.get(filed.path)
    assert "PUBLIC-DETAIL" in shown.text
    # the order id's last 4 work too, from a browser that has no cookie yet
    async with httpx.AsyncClient(transport=http._transport, base_url="http://testserver") as other:
        page = await other.get(filed.path)
        await other.post(f"{filed.path}/verify", data={"code": "1001", "csrf": csrf_of(page.text)})
        assert "PUBLIC-DETAIL" in (await other.get(filed.path)).text


async def test_second_factor_locks_after_repeated_failures(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    await http.patch(
        "/v1/buyer-page/settings",
        json={"require_second_factor": True},
        headers=filed.world.host.auth,
    )
    token = csrf_of((await http.get(filed.path)).text)
    answers = []
    for _ in range(5):
        response = await http.post(f"{filed.path}/verify", data={"code": "9999", "csrf": token})
        answers.append(response.headers["location"])
    assert "verify_locked" in answers[-1]
    locked = await http.post(f"{filed.path}/verify", data={"code": "5678", "csrf": token})
    assert "verify_locked" in locked.headers["location"]  # even the right answer, for now
    assert "138****5678" not in (await http.get(filed.path)).text


async def test_rate_limited_per_token_and_per_address(
    settings: Settings, db: Database, http: httpx.AsyncClient
) -> None:
    filed = await file_case(http, db)
    strict = settings.model_copy(update={"buyer_rate_per_token": 3, "buyer_rate_per_ip": 5})
    app = create_app(strict, database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        codes = [(await client.get(filed.path)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await client.get(filed.path)
        assert int(limited.headers["retry-after"]) >= 1
        # another link from the same address: the address's bucket runs out next
        other = await client.get(f"/s/{secrets.token_urlsafe(24)}")
        assert other.status_code == 429
