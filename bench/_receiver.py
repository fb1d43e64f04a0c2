"""A loopback webhook receiver for benchmarks: answers fast, fails a share on purpose, counts.

    python -m bench._receiver PORT [--fail-rate 0.3]

POST anything: 200 (or 500 for ``--fail-rate`` of the attempts). The first arrival of each
``webhook-id`` records its lateness: arrival time minus the payload's ``timestamp`` (when the
event happened). GET /stats answers the counts and lateness percentiles as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import datetime
from typing import Any

import uvicorn

state: dict[str, Any] = {"attempts": 0, "failed": 0, "first": {}, "lateness": []}
FAIL_RATE = 0.0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "GET":
        lateness = sorted(state["lateness"])
        answer = {
            "attempts": state["attempts"],
            "failed": state["failed"],
            "delivered": len(state["first"]),
            "p50_ms": _pct(lateness, 0.50),
            "p99_ms": _pct(lateness, 0.99),
        }
        await _answer(send, 200, json.dumps(answer).encode())
        return
    state["attempts"] += 1
    if random.random() < FAIL_RATE:
        state["failed"] += 1
        await _answer(send, 500, b"try again")
        return
    headers = dict(scope["headers"])
    webhook_id = headers.get(b"webhook-id", b"").decode()
    if webhook_id not in state["first"]:
        state["first"][webhook_id] = time.time()
        happened = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
        state["lateness"].append((time.time() - happened.timestamp()) * 1000)
    await _answer(send, 200, b"ok")


def _pct(values: list[float], q: float) -> float | None:
    return round(values[min(int(q * len(values)), len(values) - 1)], 1) if values else None


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    args = parser.parse_args()
    FAIL_RATE = args.fail_rate
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
