"""Token issuance and an authenticated GET /v1/tenant against one server process.

    .venv/bin/python bench/auth.py [--seconds 10] [--connections 32]

Serves CaseHub (SQLite under a scratch var/) with `casehub serve` in one process and drives it
with wrk (one thread) from another: targets ≥ 500 tokens/s and ≥ 1,500 requests/s.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

import httpx

from bench._server import bench_env, free_port, run, scratch_dir, served, wrk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with scratch_dir() as var:
        env = bench_env(var)
        run("casehub", "db", "upgrade", env=env)
        run("casehub", "demo", env=env)
        demo = json.loads((var / "demo.json").read_text())
        client = demo["tenants"][0]["clients"][0]
        basic = base64.b64encode(
            f"{client['client_id']}:{client['client_secret']}".encode()
        ).decode()
        port = free_port()
        with served(env, port) as base:
            token = httpx.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
            ).json()["access_token"]
            script = Path(var) / "token.lua"
            script.write_text(
                'wrk.method = "POST"\n'
                'wrk.body = "grant_type=client_credentials"\n'
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                f'wrk.headers["Authorization"] = "Basic {basic}"\n'
            )
            wrk(f"{base}/oauth/token", seconds=2, connections=args.connections, script=script)
            tokens = wrk(
                f"{base}/oauth/token",
                seconds=args.seconds,
                connections=args.connections,
                script=script,
            )
            wrk(
                f"{base}/v1/tenant",
                seconds=2,
                connections=args.connections,
                headers={"Authorization": f"Bearer {token}"},
            )
            tenant = wrk(
                f"{base}/v1/tenant",
                seconds=args.seconds,
                connections=args.connections,
                headers={"Authorization": f"Bearer {token}"},
            )
    for label, unit, figures in (
        ("POST /oauth/token", "tokens/s", tokens),
        ("GET  /v1/tenant", "requests/s", tenant),
    ):
        print(
            f"{label:20} {figures['rps']:8.0f} {unit:11} p50 {figures['p50']}  "
            f"p99 {figures['p99']}  non-2xx {figures['non_2xx']:.0f}"
        )


if __name__ == "__main__":
    main()
