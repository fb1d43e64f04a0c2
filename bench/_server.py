"""Helpers for benchmarks: a fresh database, a served CaseHub in its own process, wrk."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(var_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["CASEHUB_VAR_DIR"] = str(var_dir)
    env["CASEHUB_LOG_LEVEL"] = "WARNING"
    env["CASEHUB_RUN_SCHEDULER"] = "false"
    if database_url:
        env["CASEHUB_DATABASE_URL"] = database_url
    return env


@contextmanager
def served(env: dict[str, str], port: int) -> Iterator[str]:
    """Serve CaseHub (one uvicorn process) until the block ends."""
    env = {**env, "CASEHUB_PORT": str(port), "CASEHUB_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(
        [str(VENV_BIN / "casehub"), "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@contextmanager
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="casehub-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    script: Path | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """Run wrk (one thread: the other core serves) and parse requests/s and latency."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    latencies = dict(re.findall(r"\s(50|99)(?:\.0+)?%\s+([\d.]+\w+)", output))
    return {
        "rps": rps,
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "p50": latencies.get("50", "?"),  # type: ignore[dict-item]
        "p99": latencies.get("99", "?"),  # type: ignore[dict-item]
    }


def reset_postgres(url: str) -> str:
    """Empty the PostgreSQL database at ``url`` (a scratch database of the bench's own)."""
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from hub.core.db import normalise_database_url

    url = normalise_database_url(url)

    async def drop() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(drop())
    return url


def database_url(var: Path, postgres: str | None) -> str | None:
    """The bench's database: a reset PostgreSQL one when asked, else SQLite under ``var``."""
    return reset_postgres(postgres) if postgres else None


def demo_client(var: Path, tenant_index: int = 0) -> tuple[str, str]:
    import json

    demo = json.loads((var / "demo.json").read_text())
    client = demo["tenants"][tenant_index]["clients"][0]
    return client["client_id"], client["client_secret"]
