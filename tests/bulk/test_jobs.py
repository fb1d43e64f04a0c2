"""Jobs survive their worker: a lease that runs out hands the job on, and nothing is done twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from hub.bulk import jobs
from hub.bulk.models import ImportRow, Job, JobState, RowStatus
from hub.cases.models import Case
from hub.core.db import Database
from hub.core.models import utcnow
from tests.bulk.conftest import HEADERS_ZH, csv_bytes, order_rows, upload
from tests.cases.conftest import make_world


async def _start(http: httpx.AsyncClient, db: Database, rows: int) -> tuple[str, object]:
    world = await make_world(http, db, skus={0: ["SKU-A"]})
    response = await upload(
        http, world.host.auth, csv_bytes([HEADERS_ZH, *order_rows("SKU-A", rows)])
    )
    assert response.status_code == 202, response.text
    return response.json()["job"]["id"], world


async def _cases(db: Database) -> list[str]:
    async with db.unit_of_work(write=False) as session:
        return list((await session.execute(select(col(Case.order_id)))).scalars())


async def test_a_job_resumes_after_its_worker_dies_and_files_each_row_once(
    http: httpx.AsyncClient, db: Database
) -> None:
    job_id, world = await _start(http, db, 7)
    now = utcnow()
    async with db.unit_of_work() as session:
        first = await jobs.claim(session, now=now, worker_id="worker-a")
    assert first is not None
    async with db.unit_of_work() as session:
        assert await jobs.run_chunk(session, first, now=now, chunk=3)

    async def die_before_commit() -> None:
        async with db.unit_of_work() as session:
            await jobs.run_chunk(session, first, now=now, chunk=3)
            raise RuntimeError("killed")

    # worker-a dies halfway through its second chunk: that chunk never commits
    with pytest.raises(RuntimeError):
        await die_before_commit()
    assert len(await _cases(db)) == 3

    async with db.unit_of_work() as session:
        assert await jobs.claim(session, now=now + timedelta(seconds=30), worker_id="b") is None
    later = now + jobs.LEASE + timedelta(seconds=1)
    async with db.unit_of_work() as session:
        second = await jobs.claim(session, now=later, worker_id="worker-b")
    assert second is not None
    assert second.job_id == first.job_id
    async with db.unit_of_work() as session:
        progress = jobs.progress(await jobs.renew(session, second, now=later))
    assert progress["done"] == 3

    # worker-a comes back: its lease is gone, its chunk is refused
    with pytest.raises(jobs.LeaseLost):
        async with db.unit_of_work() as session:
            await jobs.run_chunk(session, first, now=later, chunk=3)

    while True:
        async with db.unit_of_work() as session:
            if not await jobs.run_chunk(session, second, now=later, chunk=3):
                break

    orders = await _cases(db)
    assert sorted(orders) == [f"DY-{n:05d}" for n in range(1, 8)]
    async with db.unit_of_work(write=False) as session:
        job = await session.get(Job, second.job_id)
        assert job is not None
        statuses = Counter(
            (await session.execute(
                select(col(ImportRow.status)).where(col(ImportRow.job_id) == job.id)
            )).scalars()
        )  # fmt: skip
        pending_data = await session.execute(
            select(func.count()).where(
                col(ImportRow.job_id) == job.id, col(ImportRow.data).is_not(None)
            )
        )
    assert job.state == JobState.succeeded
    assert job.attempts == 2
    assert job.counts == {"created": 7}
    assert statuses == {RowStatus.created: 7}
    assert pending_data.scalar_one() == 0  # the buyers' contacts left with the rows' data
    response = await http.get(f"/v1/jobs/{job_id}", headers=world.host.auth)  # type: ignore[attr-defined]
    assert response.json()["state"] == "succeeded"


async def test_a_job_that_keeps_failing_stops_and_says_which_rows_never_landed(
    http: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id, _ = await _start(http, db, 4)
    run, wrap_up = jobs.RUNNERS["import"]
    calls = Counter[str]()

    async def flaky(session, job, limit, now):  # type: ignore[no-untyped-def]
        calls["run"] += 1
        if calls["run"] == 1:
            return await run(session, job, 2, now)  # the first chunk lands
        raise RuntimeError("database went away")

    monkeypatch.setitem(jobs.RUNNERS, "import", (flaky, wrap_up))
    now = utcnow()
    for attempt in range(jobs.MAX_ATTEMPTS):
        async with db.unit_of_work() as session:
            held = await jobs.claim(session, now=now, worker_id=f"w{attempt}")
        assert held is not None, attempt
        while True:
            try:
                async with db.unit_of_work() as session:
                    if not await jobs.run_chunk(session, held, now=now):
                        break
            except RuntimeError as error:
                async with db.unit_of_work() as session:
                    await jobs.release_after_error(session, held, error, now=now)
                break
        now += timedelta(hours=1)

    async with db.unit_of_work(write=False) as session:
        job = await session.get(Job, held.job_id)
        assert job is not None
        mine = select(ImportRow).where(col(ImportRow.job_id) == job.id)
        rows = list((await session.execute(mine.order_by(col(ImportRow.line)))).scalars())
    assert job.state == JobState.failed
    assert job.next_run_at is None
    assert "database went away" in (job.error or "")
    assert [r.status for r in rows] == [RowStatus.created] * 2 + [RowStatus.failed] * 2
    assert "database went away" in rows[-1].message
    assert job.counts == {"created": 2, "failed": 2}
    assert len(await _cases(db)) == 2
    assert str(job.id) == job_id
