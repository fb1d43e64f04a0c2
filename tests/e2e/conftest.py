"""A real browser against a real server: Debian's Chromium driven by Playwright.

The server is uvicorn on a free loopback port in a thread of the test process, against a fresh
SQLite file migrated with Alembic and seeded with the console builders. Every test skips, saying
why, where Chromium or Playwright is not installed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hub.app import create_app
from hub.core import migrations
from hub.core.db import Database
from hub.core.settings import Environment, Settings
from tests.console.conftest import ConsoleWorld, make_console_world

CHROMIUM = Path(os.environ.get("CASEHUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page: Any, name: str) -> None:
    """Refresh docs/screenshots/<name>.png when CASEHUB_SCREENSHOTS=1 (the README's tour)."""
    if os.environ.get("CASEHUB_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base_url: str
    world: ConsoleWorld
    db_url: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if os.environ.get("CASEHUB_TEST_DATABASE_URL"):
        pytest.skip("the browser tests run on their own SQLite file, once, in the SQLite pass")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    var_dir = tmp_path_factory.mktemp("e2e-var")
    db_url = f"sqlite+aiosqlite:///{var_dir / 'e2e.db'}"
    # Playwright's sync API runs an event loop in this thread: build the database in another.
    with ThreadPoolExecutor(1) as worker:
        world = worker.submit(_build, db_url).result()
    port = _free_port()
    settings = Settings(
        env=Environment.test,
        var_dir=var_dir,
        database_url=db_url,
        public_base_url=f"http://127.0.0.1:{port}",
        run_scheduler=False,
        log_json=False,
        log_level="WARNING",
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", world, db_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        shutil.rmtree(var_dir / "attachments", ignore_errors=True)


def _build(db_url: str) -> ConsoleWorld:
    migrations.upgrade(db_url)
    return asyncio.run(_seed(db_url))


async def _seed(db_url: str) -> ConsoleWorld:
    db = Database(db_url)
    try:
        return await make_console_world(db, brands=2)
    finally:
        await db.dispose()
