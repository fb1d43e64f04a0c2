"""The notifier dispatcher: a long-lived task that leases channels with due notices and sends.

One :class:`Dispatcher` per worker process shares one guarded ``httpx.AsyncClient`` (robots) and
opens guarded SMTP connections (e-mail). Its loop leases what may send now (up to
``notifier_concurrency`` channels at once, one message each), sends every claimed channel in its
own task, and records finished sends in the same short unit of work as the next claim. It sleeps
until a notice is committed in this process (:data:`notifiers.handlers.wakeup`), a send finishes,
or the poll interval passes — which also finds channels whose pacing has run out.

A vendor that hangs, answers garbage or throttles costs its own channel a retry, never another
channel's turn: every send has a hard deadline and its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import datetime, timedelta

import httpx

from hub.core.crypto import SecretBox, SecretUnreadable
from hub.core.db import Database
from hub.core.egress import EgressPolicy, build_client
from hub.core.models import utcnow
from hub.core.settings import Settings
from notifiers import outbox
from notifiers.channels import adapter_for
from notifiers.channels.base import SendResult, Target
from notifiers.handlers import wakeup
from notifiers.messages import build_message
from notifiers.models import DeliveryOutcome
from notifiers.outbox import Claimed, Outcome

log = logging.getLogger("casehub.notifiers")

USER_AGENT = "CaseHub-Notifier/1"
LEASE_MARGIN = timedelta(seconds=30)


async def send(
    claimed: Claimed,
    *,
    client: httpx.AsyncClient,
    egress: EgressPolicy,
    box: SecretBox,
    base_url: str,
    now: datetime,
    deadline: float,
) -> Outcome:
    """Render and send one channel's message; never raises (the outcome says what happened)."""
    started = time.perf_counter()
    try:
        secrets = json.loads(box.open(claimed.sealed_secrets))
        message = build_message(
            claimed.notices,
            locale=claimed.notices[0].locale,
            time_zone=claimed.time_zone,
            base_url=base_url,
            now=now,
        )
        result = await adapter_for(claimed.kind).send(
            Target(claimed.kind, claimed.config, secrets),
            message,
            client=client,
            egress=egress,
            now=now,
            deadline=deadline,
        )
    except SecretUnreadable:
        result = SendResult(
            DeliveryOutcome.failed,
            error="the channel's secrets do not open with the configured data keys",
        )
    except Exception as exc:  # a bug in rendering or an adapter must not lose the notices
        log.exception("notification send crashed", extra={"channel_id": str(claimed.channel_id)})
        result = SendResult(DeliveryOutcome.failed, error=f"internal error: {type(exc).__name__}")
    latency = round((time.perf_counter() - started) * 1000)
    return Outcome(claimed=claimed, attempted_at=now, result=result, latency_ms=latency)


class Dispatcher:
    """Leases, sends and records notices; run one per worker process.

    Tests drive it step by step with :meth:`run_once` (``now=`` controls every time decision);
    processes run :meth:`run` through :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        box: SecretBox,
        *,
        client: httpx.AsyncClient | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        poll_seconds: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.box = box
        self.base_url = settings.public_base_url
        self.timeout = timeout or settings.notifier_timeout_seconds
        self.concurrency = concurrency or settings.notifier_concurrency
        self.poll_seconds = poll_seconds or settings.notifier_poll_seconds
        self.lease = timedelta(seconds=self.timeout) + LEASE_MARGIN
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self.egress = EgressPolicy.from_settings(settings, settings.notifier_allowed_hosts)
        self._owns_client = client is None
        self.client = client or build_client(
            self.egress,
            timeout=self.timeout,
            user_agent=USER_AGENT,
            max_connections=self.concurrency,
        )
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def _send(self, claimed: Claimed, now: datetime) -> asyncio.Future[Outcome]:
        return asyncio.ensure_future(
            send(
                claimed,
                client=self.client,
                egress=self.egress,
                box=self.box,
                base_url=self.base_url,
                now=now,
                deadline=self.timeout,
            )
        )

    async def run_once(self, *, now: datetime | None = None) -> list[Outcome]:
        """Lease what may send at ``now``, send it all concurrently, record the outcomes."""
        now = now or utcnow()
        async with self.db.unit_of_work() as session:
            claimed = await outbox.claim(session, now=now, limit=self.concurrency, lease=self.lease)
        if not claimed:
            return []
        outcomes = list(await asyncio.gather(*(self._send(c, now) for c in claimed)))
        async with self.db.unit_of_work() as session:
            await outbox.record(session, outcomes, rng=self.rng)
        return outcomes

    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="notifier-dispatcher")

    async def stop(self) -> None:
        """Finish the sends in flight (up to the deadline), record them, release the client."""
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
        in_flight: set[asyncio.Future[Outcome]] = set()
        finished: list[Outcome] = []

        def done(task: asyncio.Future[Outcome]) -> None:
            in_flight.discard(task)
            if not task.cancelled():
                finished.append(task.result())
            progress.set()

        log.info("notifier dispatcher started")
        try:
            while not self._stop.is_set():
                now = utcnow()
                room = self.concurrency - len(in_flight)
                outcomes = finished[:]
                finished.clear()
                claimed: list[Claimed] = []
                try:
                    due = False
                    if room > 0 and not outcomes:
                        async with self.db.unit_of_work(write=False) as session:
                            due = await outbox.anything_due(session, now=now)
                    if outcomes or due:
                        async with self.db.unit_of_work() as session:
                            await outbox.record(session, outcomes, rng=self.rng)
                            claimed = await outbox.claim(
                                session, now=now, limit=room, lease=self.lease
                            )
                except Exception:
                    # Unrecorded sends are not lost: their leases run out and they go again.
                    log.exception("notifier dispatcher step failed")
                    claimed = []
                for item in claimed:
                    task = self._send(item, utcnow())
                    in_flight.add(task)
                    task.add_done_callback(done)
                if claimed and len(claimed) == room:
                    continue
                if not finished:
                    await self._wait(wake, progress)
        finally:
            wakeup.unregister(wake)
            await self._drain(in_flight, finished)
            log.info("notifier dispatcher stopped")

    async def _wait(self, wake: asyncio.Event, progress: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(e.wait()) for e in (wake, progress, self._stop)]
        try:
            await asyncio.wait(waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        wake.clear()
        progress.clear()

    async def _drain(
        self, in_flight: set[asyncio.Future[Outcome]], finished: list[Outcome]
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
                log.exception("could not record the last notification sends")
