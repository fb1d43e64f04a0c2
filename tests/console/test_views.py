"""The console's pages through a browser-like client: forms reach the same services as the API."""

from __future__ import annotations

import re

import httpx

from hub.core.db import Database
from tests.console.conftest import PASSWORD, Browser, csrf_of, make_console_world, make_person


async def _file(host: Browser, sku: str, **fields: str) -> str:
    page = await host.get("/console/cases/new")
    assert page.status_code == 200
    response = await host.post(
        "/console/cases",
        {
            "type": "quality",
            "priority": "normal",
            "title": fields.get("title", "Yoghurt bloated"),
            "description": fields.get("description", "The cup was swollen."),
            "product.sku": sku,
            "product.name": "Yoghurt 12 cups",
            "order.platform": "douyin",
            "order.order_id": fields.get("order_id", "DY-1"),
            "order.amount": "59.90",
            "buyer.name": "张三",
            "buyer.phone": "13812345678",
        },
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/console/cases/[0-9a-f-]{36}", location)
    return location


async def test_a_case_from_filing_to_accepted_refund(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    host, brand = (
        Browser(http),
        Browser(httpx.AsyncClient(transport=http._transport, base_url="http://testserver")),
    )
    await host.sign_in(world.people["host_agent"])
    case_url = await _file(host, f"SKU-0-{world.brands[0].slug.split('-')[-1]}")
    page = await host.get(case_url)
    assert world.brands[0].name in page.text
    assert "catalog" in page.text  # the routing reason

    await host.post(
        f"{case_url}/comments", {"body": "Host-only: VIP buyer", "visibility": "internal"}
    )

    await brand.sign_in(world.people["brand0_agent"])
    queue = await brand.get("/console/queue?tab=all")
    assert "Yoghurt bloated" in queue.text
    page = await brand.get(case_url)
    assert "Host-only: VIP buyer" not in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    assert (
        await brand.post(f"{case_url}/actions/acknowledge", {"version": version})
    ).status_code == 303
    reply = await brand.post(
        f"{case_url}/comments", {"body": "We will refund you.", "visibility": "public"}
    )
    assert reply.status_code == 303
    page = await brand.get(case_url)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    proposed = await brand.post(
        f"{case_url}/actions/propose-resolution",
        {"version": version, "kind": "refund", "amount": "59.90", "note": "Full refund"},
    )
    assert proposed.status_code == 303, proposed.text

    page = await host.get(case_url)
    assert "We will refund you." in page.text
    assert "accept-resolution" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    accepted = await host.post(f"{case_url}/actions/accept-resolution", {"version": version})
    assert accepted.status_code == 303
    page = await host.get(case_url)
    assert "Resolution accepted" in page.text

    page = await brand.get(case_url)
    assert "Host-only: VIP buyer" not in page.text
    await brand.http.aclose()


async def test_a_form_without_csrf_token_is_refused(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    host = Browser(http)
    await host.sign_in(world.people["host_agent"])
    response = await http.post("/console/cases", data={"type": "quality", "title": "x"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    forged = await http.post(
        "/console/cases", data={"type": "quality", "title": "x", "csrf_token": "0" * 64}
    )
    assert forged.status_code == 403


async def test_sign_in_without_csrf_is_refused(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    await http.get("/login")
    response = await http.post(
        "/login", data={"email": world.people["host_agent"].email, "password": PASSWORD}
    )
    assert response.status_code == 403


async def test_wrong_password_and_unknown_email_get_the_same_message(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_console_world(db)
    person = world.people["host_agent"]
    wrong = await Browser(http).sign_in(person, password="not the password")
    page = await http.get("/login")
    unknown = await http.post(
        "/login",
        data={
            "email": "nobody@nowhere.example",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert wrong.status_code == unknown.status_code == 401
    message = "The e-mail or password is not right."
    assert message in wrong.text
    assert message in unknown.text
    assert (await http.get("/console/")).status_code == 303


async def test_repeated_failures_pause_sign_in(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    person = world.people["host_agent"]
    for _ in range(5):
        assert (await Browser(http).sign_in(person, password="guess guess")).status_code == 401
    paused = await Browser(http).sign_in(person)
    assert paused.status_code == 429
    assert "Too many failed attempts" in paused.text


async def test_another_tenants_case_is_a_404_page(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db, brands=2)
    host = Browser(http)
    await host.sign_in(world.people["host_agent"])
    case_url = await _file(host, f"SKU-0-{world.brands[0].slug.split('-')[-1]}")
    other = Browser(httpx.AsyncClient(transport=http._transport, base_url="http://testserver"))
    await other.sign_in(world.people["brand1_agent"])
    response = await other.get(case_url)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Not found" in response.text
    assert (await other.get("/console/cases/not-a-uuid")).status_code == 404
    await other.http.aclose()


async def test_html_in_user_fields_is_shown_as_text(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    host = Browser(http)
    await host.sign_in(world.people["host_agent"])
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case_url = await _file(host, "NO-SUCH-SKU", title=evil, description=evil)
    await host.post(f"{case_url}/comments", {"body": evil, "visibility": "partners"})
    for url in (case_url, "/console/cases", "/console/triage", "/console/"):
        page = await host.get(url)
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
    page = await host.get(case_url)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_signed_out_pages_redirect_to_sign_in(http: httpx.AsyncClient, db: Database) -> None:
    response = await http.get("/console/cases?status=triage")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fconsole%2Fcases")


async def test_a_deactivated_user_is_signed_out(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    admin, agent = (
        Browser(http),
        Browser(httpx.AsyncClient(transport=http._transport, base_url="http://testserver")),
    )
    person = await make_person(db, world.host)
    await agent.sign_in(person)
    assert (await agent.get("/console/")).status_code == 200
    await admin.sign_in(world.people["host_admin"])
    await admin.get("/console/settings/users")
    response = await admin.post(f"/console/settings/users/{person.id}", {"role": "agent"})
    assert response.status_code == 303
    assert (await agent.get("/console/")).status_code == 303
    await agent.http.aclose()


async def test_triage_forward_and_role_limits(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    host = Browser(http)
    await host.sign_in(world.people["host_agent"])
    case_url = await _file(host, "UNKNOWN-SKU", title="Which brand?")
    triage = await host.get("/console/triage")
    assert "Which brand?" in triage.text
    assert "nothing pointed to one partner brand" in triage.text
    case_id = case_url.rsplit("/", 1)[-1]
    forwarded = await host.post(
        f"/console/triage/{case_id}/forward",
        {"brand": world.brands[0].slug},
        headers={"HX-Request": "true"},
    )
    assert forwarded.status_code == 200
    assert world.brands[0].name in forwarded.text
    assert "Which brand?" not in (await host.get("/console/triage")).text
    # an agent manages no users
    assert (await host.get("/console/settings/users")).status_code == 403


async def test_language_follows_the_browser_then_the_user(
    http: httpx.AsyncClient, db: Database
) -> None:
    page = await http.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "登录" in page.text
    assert 'lang="zh-CN"' in page.text
    page = await http.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in" in page.text


async def test_saved_views_and_number_search(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_console_world(db)
    host = Browser(http)
    await host.sign_in(world.people["host_agent"])
    case_url = await _file(host, "NO-SKU", title="Searchable", order_id="DY-SEARCH-1")
    page = await host.get(case_url)
    number = re.search(r"<h1>([A-Z0-9]+-\d{6}) ·", page.text).group(1)  # type: ignore[union-attr]
    found = await host.get(f"/console/cases?q={number.lower()}")
    assert found.status_code == 303
    assert found.headers["location"] == case_url
    by_order = await host.get("/console/cases?q=DY-SEARCH-1")
    assert "Searchable" in by_order.text

    saved = await host.post(
        "/console/views", {"name": "Urgent triage", "query": "status=triage&cursor=x"}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/cases?status=triage"
    assert "Urgent triage" in (await host.get("/console/cases")).text
    colleague = Browser(httpx.AsyncClient(transport=http._transport, base_url="http://testserver"))
    await colleague.sign_in(world.people["host_admin"])
    assert "Urgent triage" not in (await colleague.get("/console/cases")).text
    await host.post("/console/views", {"name": "Shared one", "query": "open=1", "shared": "true"})
    assert "Shared one" in (await colleague.get("/console/cases")).text
    await colleague.http.aclose()
