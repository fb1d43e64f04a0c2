"""The buyer's status page in a real browser on a phone-sized screen (Debian's Chromium).

Serves CaseHub from a scratch SQLite database in its own process, files a case through the API,
asks the buyer for a photo, then opens the link as a phone would: the page must fit the screen,
and the buyer must be able to answer with text and a photo.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(
        "no browser: apt-get install -y chromium (Debian's, at /usr/bin/chromium)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    var = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CASEHUB_VAR_DIR": str(var),
        "CASEHUB_PORT": str(port),
        "CASEHUB_PUBLIC_BASE_URL": base,
        "CASEHUB_RUN_SCHEDULER": "false",
        "CASEHUB_LOG_LEVEL": "WARNING",
        "CASEHUB_DATABASE_URL": f"sqlite+aiosqlite:///{var / 'casehub.db'}",
    }
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run(
            [str(BIN / "casehub"), *command], env=env, cwd=ROOT, check=True, capture_output=True
        )
    with (var / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "casehub"), "serve"], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail("the server did not start: " + (var / "serve.log").read_text()[-2000:])
            yield base, json.loads((var / "demo.json").read_text())
        finally:
            process.terminate()
            process.wait(timeout=20)
    shutil.rmtree(var, ignore_errors=True)


def _file_case_waiting_on_buyer(base: str, demo: dict[str, object]) -> str:
    tenants = demo["tenants"]
    assert isinstance(tenants, list)
    host = next(t for t in tenants if t["kind"] == "host")
    client = host["clients"][0]
    token = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    case = httpx.post(
        f"{base}/v1/cases",
        headers=auth,
        json={
            "type": "damaged",
            "title": "保温杯摔裂 Flask cracked",
            "order": {"platform": "douyin", "order_id": "DY-20261125-0042"},
            "product": {"name": "雷霆 保温杯 500ml"},
            "buyer": {"name": "王五", "phone": "13700001234"},
        },
    ).json()
    asked = httpx.post(
        f"{base}/v1/cases/{case['id']}/actions/request-info",
        headers=auth,
        json={"question": "请拍一张裂缝的照片，谢谢。Please send a photo of the crack."},
    )
    assert asked.status_code == 200, asked.text
    return str(case["status_url"])


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_buyer_answers_on_a_phone(server: tuple[str, dict[str, object]], tmp_path: Path) -> None:
    base, demo = server
    url = _file_case_waiting_on_buyer(base, demo)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
            page = context.new_page()
            response = page.goto(url)
            assert response is not None
            assert response.status == 200
            assert page.get_by_test_id("status").inner_text() == "等待你补充信息"
            assert "请拍一张裂缝的照片" in page.locator("#answer .quote").inner_text()
            assert "137****1234" in page.get_by_test_id("contact").inner_text()
            # mobile first: nothing wider than the phone, the form's button within reach
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0
            button = page.get_by_role("button", name="提交")
            box = button.bounding_box()
            assert box is not None
            assert box["width"] <= 390
            assert box["height"] >= 44
            page.screenshot(path=str(tmp_path / "status-page.png"), full_page=True)

            page.locator("textarea[name=answer]").fill("裂缝在杯底 The crack is at the bottom")
            page.locator("input[name=photos]").set_input_files(
                [{"name": "crack.png", "mimeType": "image/png", "buffer": _png()}]
            )
            button.click()
            page.wait_for_url("**done=answer**")
            assert page.get_by_text("已提交，感谢你的补充。").is_visible()
            assert page.get_by_test_id("status").inner_text() == "处理中"
            timeline = page.get_by_test_id("timeline").inner_text()
            assert "你补充了信息" in timeline
            assert "裂缝在杯底" in timeline
            assert page.locator("img.photo").count() == 1  # the buyer's photo, served back

            page.get_by_role("link", name="English").click()
            assert page.get_by_test_id("status").inner_text() == "Being handled"
        finally:
            browser.close()
