"""The walk the console exists for, in headless Chromium: a host files, a brand answers and
proposes a refund, the host accepts, and the host's internal note never reaches the brand."""

from __future__ import annotations

import re
from typing import Any

from tests.console.conftest import PASSWORD, Person
from tests.e2e.conftest import Served, screenshot


def _sign_in(page: Any, base_url: str, person: Person) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console/$"))


def _new_context(browser: Any, **options: Any) -> Any:
    return browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}, **options)


def test_host_files_brand_answers_host_accepts(browser: Any, served: Served) -> None:
    world, base = served.world, served.base_url
    suffix = world.brands[0].slug.split("-")[-1]
    host_context = _new_context(browser)
    host = host_context.new_page()
    _sign_in(host, base, world.people["host_agent"])

    # The host agent files a case; the SKU look-up and the routing preview name the brand first.
    host.get_by_role("link", name="New case").click()
    host.get_by_label("Title").fill("酸奶胀包 Yoghurt cup bloated")
    host.get_by_label("What happened").fill("Buyer says the cup was swollen on arrival.")
    host.get_by_label("SKU or barcode").fill(f"SKU-0-{suffix}")
    host.locator("#sku-result").get_by_text(world.brands[0].name).wait_for()
    host.get_by_label("Product name").fill("稻香 原味酸奶 12杯")
    host.get_by_label("Order number").fill("DY-E2E-1")
    host.get_by_label("Amount (¥)").fill("59.90")
    host.get_by_label("Phone").fill("13812345678")
    host.get_by_role("button", name="Preview the routing").click()
    host.locator("#preview").get_by_text(f"→ {world.brands[0].name}").wait_for()
    screenshot(host, "new-case")
    host.get_by_role("button", name="File the case").click()
    host.wait_for_url(re.compile(r".*/console/cases/[0-9a-f-]{36}$"))
    case_url = host.url
    notice = host.get_by_role("status").first
    assert "routed to" in notice.inner_text()
    assert world.brands[0].name in host.locator("dl.details").first.inner_text()

    # An internal note of the host.
    host.get_by_label("Message").fill("INTERNAL: buyer is a VIP, refund fast")
    host.get_by_label("Internal").check()
    host.get_by_role("button", name="Send").click()
    host.wait_for_url(re.compile(r".*#timeline$"))
    assert host.get_by_text("INTERNAL: buyer is a VIP").is_visible()

    # The brand's agent finds it in the queue, answers publicly and proposes a refund.
    brand_context = _new_context(browser)
    brand = brand_context.new_page()
    _sign_in(brand, base, world.people["brand0_agent"])
    brand.get_by_role("link", name="My queue").click()
    brand.get_by_role("link", name="All open").click()
    brand.get_by_role("link", name=re.compile(r"^[A-Z0-9]+-\d{6}$")).first.click()
    brand.wait_for_url(case_url)
    assert "INTERNAL: buyer is a VIP" not in brand.content()
    brand.get_by_text("Acknowledge", exact=True).first.click()
    brand.locator("form[data-action=acknowledge] button").click()
    brand.wait_for_url(case_url)
    brand.get_by_label("Message").fill("We are sorry: we will refund you in full.")
    brand.get_by_label("Public").check()
    brand.get_by_role("button", name="Send").click()
    brand.wait_for_url(re.compile(r".*#timeline$"))
    brand.locator("summary", has_text="Propose a resolution").click()
    form = brand.locator("form[data-action=propose-resolution]")
    form.get_by_label("Resolution").select_option("refund")
    form.get_by_label("Amount (¥)").fill("59.90")
    form.get_by_label("Note").fill("Full refund, no need to send it back")
    form.get_by_role("button").click()
    brand.wait_for_url(case_url)
    assert "Resolution proposed" in brand.content()
    assert "INTERNAL: buyer is a VIP" not in brand.content()
    screenshot(brand, "case-brand")

    # The host sees the public reply and accepts the refund.
    host.goto(case_url)
    assert host.get_by_text("We are sorry: we will refund you in full.").is_visible()
    host.locator("summary", has_text="Accept the resolution").click()
    host.locator("form[data-action=accept-resolution] button").click()
    host.wait_for_url(case_url)
    assert host.get_by_text("Resolution accepted").first.is_visible()
    screenshot(host, "case-host")

    # Nowhere on the brand's side does the internal note show.
    for url in (case_url, f"{base}/console/", f"{base}/console/cases"):
        brand.goto(url)
        assert "INTERNAL: buyer is a VIP" not in brand.content()
    brand.goto(f"{base}/console/")
    screenshot(brand, "dashboard-brand")
    host.goto(f"{base}/console/cases")
    screenshot(host, "cases")
    host.goto(f"{base}/console/")
    host.wait_for_timeout(300)  # let the charts draw before the screenshot (not an assertion)
    screenshot(host, "dashboard-host")
    host_context.close()
    brand_context.close()


def test_triage_forward_in_chinese_on_a_phone(browser: Any, served: Served) -> None:
    world, base = served.world, served.base_url
    context = browser.new_context(
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("邮箱").fill(world.people["host_admin"].email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/console/$"))
    page.goto(f"{base}/console/cases/new")
    page.get_by_label("标题").fill("不知道是哪个品牌的")
    page.get_by_label("SKU 或条码").fill("UNKNOWN-1")
    page.get_by_role("button", name="提交工单").click()
    page.wait_for_url(re.compile(r".*/console/cases/[0-9a-f-]{36}$"))
    assert "分诊" in page.get_by_role("status").first.inner_text()
    page.goto(f"{base}/console/triage")
    row = page.locator("tr", has_text="不知道是哪个品牌的")
    row.get_by_role("combobox").select_option(world.brands[1].slug)
    screenshot(page, "triage-phone-zh")
    row.get_by_role("button", name="转交").click()
    page.locator("tr", has_text="已转交给").wait_for()
    context.close()


def test_keyboard_reaches_the_main_content(browser: Any, served: Served) -> None:
    context = _new_context(browser)
    page = context.new_page()
    _sign_in(page, served.base_url, served.world.people["brand1_agent"])
    page.keyboard.press("Tab")
    assert "Skip to content" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()
