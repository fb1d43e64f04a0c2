"""Filing cases through the API: routing, events, outbox rows — everything a filing does.

    .venv/bin/python bench/filing.py [--seconds 15] [--connections 32] [--postgres URL]

Serves CaseHub (one `casehub serve` process; SQLite under a scratch var/, or the PostgreSQL
database given, which is emptied first) with the demo seeded and a webhook endpoint subscribed to
every event, so each filing also writes its outbox rows. wrk (one thread, on the other core)
files cases with distinct order ids over 32 connections, across the demo brands' SKUs and some
unknown ones (triage). Target: ≥ 600 cases/s, p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import uuid

import httpx

from bench._server import (
    bench_env,
    database_url,
    demo_client,
    free_port,
    run,
    scratch_dir,
    served,
    wrk,
)

SKUS = ["DX-YOG-12", "DX-NUT-30", "QY-SER-30", "QY-MASK-10", "LT-AF-5L", "UNKNOWN-1"]

LUA = """
local skus = {%(skus)s}
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local sku = skus[(counter %% #skus) + 1]
  local body = string.format(
    '{"type":"quality","title":"酸奶胀包 %%d","priority":"normal",' ..
    '"order":{"platform":"douyin","order_id":"%(run)s-%%d","amount":"59.90"},' ..
    '"product":{"sku":"%%s","name":"稻香 原味酸奶 12杯"},' ..
    '"buyer":{"name":"张三","phone":"13812345678","address":"上海市浦东新区世纪大道100号"}}',
    counter, counter, sku)
  return wrk.format(nil, "/v1/cases", nil, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", help="a scratch PostgreSQL URL (emptied first)")
    args = parser.parse_args()
    with scratch_dir() as var:
        env = bench_env(var, database_url(var, args.postgres))
        env["CASEHUB_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
        run("casehub", "db", "upgrade", env=env)
        run("casehub", "demo", env=env)
        client_id, secret = demo_client(var, 1)
        with served(env, free_port()) as base:
            brand = httpx.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
            ).json()["access_token"]
            hook = httpx.post(
                f"{base}/v1/webhooks/endpoints",
                json={"url": "http://127.0.0.1:9/never-answered", "event_types": ["*"]},
                headers={"Authorization": f"Bearer {brand}"},
            )
            hook.raise_for_status()
            host_id, host_secret = demo_client(var, 0)
            token = httpx.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(host_id, host_secret),
            ).json()["access_token"]
            script = var / "file.lua"
            skus = ", ".join(f'"{sku}"' for sku in SKUS)
            for phase, seconds in (("warm", 3), ("run", args.seconds)):
                run_id = f"{phase}-{uuid.uuid4().hex[:8]}"
                script.write_text(LUA % {"skus": skus, "token": token, "run": run_id})
                figures = wrk(
                    f"{base}/v1/cases",
                    seconds=seconds,
                    connections=args.connections,
                    script=script,
                )
            listed = httpx.get(
                f"{base}/v1/cases?limit=1", headers={"Authorization": f"Bearer {token}"}
            ).json()["items"]
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"POST /v1/cases ({store}, {args.connections} connections): {figures['rps']:.0f} cases/s  "
        f"p50 {figures['p50']}  p99 {figures['p99']}  non-2xx {figures['non_2xx']:.0f}"
    )
    print(f"last case: {listed[0]['number']} routed by {listed[0]['routing']['evidence']}")


if __name__ == "__main__":
    main()
