"""In-process token buckets for the buyer pages and the campaign forms.

Each server process keeps its own buckets, so with N processes behind a load balancer a client
gets up to N times the configured rate (less when the balancer pins clients to a process). That is
good enough for what these limits are for — stopping one address or one link from hammering the
server and scraping — and costs no database round trip on a page that must answer 1,000 requests
a second. Controls that must hold exactly across processes (second-factor attempts) are counted in
the database instead.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``per_minute`` requests per key, in bursts of up to ``burst`` (default: ``per_minute``).

    Memory is bounded: past ``max_keys`` the least recently used keys are forgotten, which can
    only ever forgive a client, never block one wrongly.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else per_minute)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def hit(self, key: str) -> float:
        """Take one token for ``key``: 0 when allowed, else the seconds until one is free."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))
