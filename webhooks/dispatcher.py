"""The dispatcher: a long-lived task that claims due messages and sends them.

One :class:`Dispatcher` per worker process shares one guarded ``httpx.AsyncClient``. Its loop
claims what is due (up to ``webhook_concurrency`` requests in flight, at most ``per_endpoint`` per
endpoint so a slow receiver cannot take every slot), starts one task per message, and records
finished attempts in the same short unit of work as the next claim. It sleeps until a message
is committed in this process (see :data:`webhooks.handlers.wakeup`), a request finishes, or the
poll interval passes (the fallback that finds messages written by other processes and retries
that came due).

Every attempt has a hard deadline (``webhook_timeout_seconds``) for the whole exchange, reads at
most 2 KB of the response and never follows redirects, so a receiver that hangs, trickles,
redirects or answers with a huge body costs one slot for at most the deadline and no memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import httpx

from hub.core.db import Database
from hub.core.egress import EgressPolicy, build_client, refused
from hub.core.models import utcnow
from hub.core.settings import Settings
from webhooks import outbox, signing
from webhooks.handlers import wakeup
from webhooks.outbox import Claimed, Outcome

log = logging.getLogger("casehub.webhooks")

USER_AGENT = "CaseHub-Webhooks/1"
RESPONSE_BODY_MAX_BYTES = 2048
DEFAULT_PER_ENDPOINT = 16
LEASE_MARGIN = timedelta(seconds=45)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date, relative to ``now``; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


async def send(
    client: httpx.AsyncClient, claimed: Claimed, *, now: datetime, deadline: float
) -> Outcome:
    """Make one attempt: sign the body anew for ``now``, post it, read at most 2 KB back.

    Never raises for anything the network or the receiver does; the outcome says what happened.
    """
    body = claimed.payload.encode()
    timestamp = int(now.timestamp())
    active = signing.active_secrets(
        claimed.secret,
        claimed.previous_secret,
        claimed.previous_secret_expires_at,
        now=now,
    )
    headers = signing.headers(active, claimed.webhook_id, timestamp, body)
    headers["content-type"] = "application/json"
    headers["accept-encoding"] = "identity"
    started = time.perf_counter()
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    try:
        async with asyncio.timeout(deadline):
            async with client.stream(
                "POST", claimed.url, content=body, headers=headers
            ) as response:
                status_code = response.status_code
                retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
                collected = bytearray()
                async for chunk in response.aiter_raw():
                    collected += chunk[: RESPONSE_BODY_MAX_BYTES - len(collected)]
                    if len(collected) >= RESPONSE_BODY_MAX_BYTES:
                        break
                response_body = collected.decode("utf-8", errors="replace")
    except TimeoutError:
        error = f"no complete answer within {deadline:g} s"
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        error = f"refused: {reason}" if refused(exc) else f"{type(exc).__name__}: {reason}"
    except Exception as exc:  # a bug in a transport must not lose the lease's outcome
        log.exception("webhook attempt crashed", extra={"endpoint_id": str(claimed.endpoint_id)})
        error = f"internal error: {type(exc).__name__}"
    if status_code is not None and error is not None:
        error = f"{error} (after status {status_code})"
    return Outcome(
        message_id=claimed.message_id,
        lease_token=claimed.lease_token,
        endpoint_id=claimed.endpoint_id,
        attempted_at=now,
        status_code=status_code,
        latency_ms=round((time.perf_counter() - started) * 1000),
        response_body=response_body,
        error=error,
        retry_after=retry_after,
    )


class Dispatcher:
    """Claims, sends and records webhook messages; run one per worker process.

    Tests drive it step by step with :meth:`run_once` (``now=`` controls every time decision);
    processes run :meth:`run` through :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        client: httpx.AsyncClient | None = None,
        worker_id: str | None = None,
        concurrency: int | None = None,
        per_endpoint: int = DEFAULT_PER_ENDPOINT,
        batch_size: int = 200,
        lease: timedelta | None = None,
        poll_seconds: float | None = None,
        timeout: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.timeout = timeout or settings.webhook_timeout_seconds
        self.concurrency = concurrency or settings.webhook_concurrency
        self.per_endpoint = per_endpoint
        self.batch_size = batch_size
        self.lease = lease or timedelta(seconds=self.timeout) + LEASE_MARGIN
        self.poll_seconds = poll_seconds or settings.webhook_poll_seconds
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._owns_client = client is None
        self.client = client or build_client(
            EgressPolicy.from_settings(settings, settings.webhook_allowed_hosts),
            timeout=self.timeout,
            user_agent=USER_AGENT,
            max_connections=self.concurrency,
        )
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # --- step by step (tests, one-shot commands) -----------------------------------------------

    async def run_once(self, *, now: datetime | None = None) -> list[Outcome]:
        """Claim what is due at ``now``, send it all concurrently, record the outcomes."""
        now = now or utcnow()
        async with self.db.unit_of_work() as session:
            claimed = await outbox.claim(
                session,
                now=now,
                limit=self.batch_size,
                lease=self.lease,
                worker_id=self.worker_id,
                per_endpoint=self.per_endpoint,
            )
        if not claimed:
            return []
        outcomes = list(
            await asyncio.gather(
                *(send(self.client, item, now=now, deadline=self.timeout) for item in claimed)
            )
        )
        async with self.db.unit_of_work() as session:
            await outbox.record(session, outcomes, rng=self.rng)
        return outcomes

    # --- long-lived ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run :meth:`run` as a task of the running loop."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        """Finish the requests in flight (up to the deadline), record them, release the client."""
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def run(self) -> None:
        wake = wakeup.register()
        progress = asyncio.Event()
        in_flight: dict[asyncio.Task[Outcome], uuid.UUID] = {}
        per_endpoint: Counter[uuid.UUID] = Counter()
        finished: list[Outcome] = []

        def done(task: asyncio.Task[Outcome]) -> None:
            endpoint_id = in_flight.pop(task)
            per_endpoint[endpoint_id] -= 1
            if per_endpoint[endpoint_id] <= 0:
                del per_endpoint[endpoint_id]
            if not task.cancelled():
                finished.append(task.result())
            progress.set()

        log.info("webhook dispatcher started", extra={"worker": self.worker_id})
        try:
            while not self._stop.is_set():
                now = utcnow()
                batch = min(self.concurrency - len(in_flight), self.batch_size)
                outcomes = finished[:]
                finished.clear()
                claimed: list[Claimed] = []
                try:
                    due = False
                    if batch > 0 and not outcomes:
                        async with self.db.unit_of_work(write=False) as session:
                            due = await outbox.anything_due(session, now=now)
                    if outcomes or due:
                        claimed = await self._record_and_claim(outcomes, now, batch, per_endpoint)
                except Exception:
                    # Unrecorded outcomes are not lost: their leases run out and they go again.
                    log.exception("webhook dispatcher step failed")
                    claimed = []
                for item in claimed:
                    task = asyncio.create_task(
                        send(self.client, item, now=utcnow(), deadline=self.timeout)
                    )
                    in_flight[task] = item.endpoint_id
                    per_endpoint[item.endpoint_id] += 1
                    task.add_done_callback(done)
                if claimed and len(claimed) == batch and len(in_flight) < self.concurrency:
                    continue  # a full batch: more may be due right now
                if not finished:
                    await self._wait(wake, progress)
        finally:
            wakeup.unregister(wake)
            await self._drain(in_flight, finished)
            log.info("webhook dispatcher stopped", extra={"worker": self.worker_id})

    async def _record_and_claim(
        self,
        outcomes: list[Outcome],
        now: datetime,
        batch: int,
        in_flight: Counter[uuid.UUID],
    ) -> list[Claimed]:
        """One short unit of work: log the finished attempts, then lease more (when room)."""
        async with self.db.unit_of_work() as session:
            await outbox.record(session, outcomes, rng=self.rng)
            if batch <= 0:
                return []
            return await outbox.claim(
                session,
                now=now,
                limit=batch,
                lease=self.lease,
                worker_id=self.worker_id,
                in_flight=in_flight,
                per_endpoint=self.per_endpoint,
            )

    async def _wait(self, wake: asyncio.Event, progress: asyncio.Event) -> None:
        """Sleep until woken by a commit, a finished request, stop, or the poll interval."""
        waiters = [asyncio.ensure_future(e.wait()) for e in (wake, progress, self._stop)]
        try:
            await asyncio.wait(waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        wake.clear()
        progress.clear()

    async def _drain(
        self, in_flight: dict[asyncio.Task[Outcome], uuid.UUID], finished: list[Outcome]
    ) -> None:
        if in_flight:
            await asyncio.wait(list(in_flight), timeout=self.timeout + 1)
            for task in list(in_flight):
                task.cancel()
        if finished:
            try:
                async with self.db.unit_of_work() as session:
                    await outbox.record(session, finished, rng=self.rng)
            except Exception:
                log.exception("could not record the last webhook attempts")
