"""Bulk catalog upsert: PUT /v1/catalog/products with 10,000 products against one server process.

    .venv/bin/python bench/catalog.py [--products 10000] [--rounds 5]

Serves CaseHub (SQLite under a scratch var/, or CASEHUB_DATABASE_URL) with `casehub serve` and
times, from the client, whole requests of realistic products (Chinese names, aliases, barcodes):
all new, all changed, and unchanged. Such a body is about 1.5 MB, so the server is started with
CASEHUB_MAX_BODY_BYTES raised to --max-body-bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import httpx

from bench._server import bench_env, free_port, run, scratch_dir, served


def products(count: int, round_no: int) -> bytes:
    return json.dumps(
        [
            {
                "sku": f"DX-{i:06}",
                "name": f"稻香 原味酸奶 12杯 第{i}款" + (f" 第{round_no}版" if round_no else ""),
                "category": ("乳制品", "休闲零食", "粮油", "节令食品")[i % 4],
                "aliases": ["原味酸奶", f"酸奶{i}"],
                "barcode": f"692{i:010}",
            }
            for i in range(count)
        ],
        ensure_ascii=False,
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-body-bytes", type=int, default=8_000_000)
    args = parser.parse_args()
    with scratch_dir() as var:
        env = bench_env(var, os.environ.get("CASEHUB_DATABASE_URL"))
        env["CASEHUB_MAX_BODY_BYTES"] = str(args.max_body_bytes)
        run("casehub", "db", "upgrade", env=env)
        run("casehub", "demo", env=env)
        demo = json.loads((var / "demo.json").read_text())
        brand = next(t for t in demo["tenants"] if t["slug"] == "daoxiang-foods")
        client = brand["clients"][0]
        port = free_port()
        timings: dict[str, list[float]] = {"new": [], "changed": [], "unchanged": []}
        size = 0
        with served(env, port) as base, httpx.Client(base_url=base, timeout=60) as http:
            token = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "catalog:write"},
                auth=(client["client_id"], client["client_secret"]),
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for round_no in range(args.rounds):
                # A fresh SKU range per round, so "new" really inserts.
                body = products(args.products, 0).replace(b"DX-", f"R{round_no}-".encode())
                changed = products(args.products, 1).replace(b"DX-", f"R{round_no}-".encode())
                size = len(body)
                for label, content in (("new", body), ("changed", changed), ("unchanged", changed)):
                    started = time.perf_counter()
                    response = http.put("/v1/catalog/products", content=content, headers=headers)
                    timings[label].append(time.perf_counter() - started)
                    response.raise_for_status()
    print(f"PUT /v1/catalog/products, {args.products:,} products ({size / 1e6:.1f} MB) per call")
    for label, values in timings.items():
        print(
            f"  {label:10} median {statistics.median(values) * 1000:6.0f} ms  "
            f"max {max(values) * 1000:6.0f} ms  ({len(values)} calls)"
        )


if __name__ == "__main__":
    main()
