"""The unit of work on SQLite: writers take turns, and waiting never blocks the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hub.core.db import Database


@pytest.fixture
async def scratch(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'scratch.db'}", pool_size=4)
    async with database.unit_of_work() as session:
        await session.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))
        await session.execute(text("INSERT INTO tally VALUES (0)"))
    yield database
    await database.dispose()


async def _bump(database: Database) -> None:
    async with database.unit_of_work() as session:
        value = (await session.execute(text("SELECT n FROM tally"))).scalar_one()
        await asyncio.sleep(0)  # let the other writers try to interleave
        await session.execute(text("UPDATE tally SET n = :n"), {"n": value + 1})


async def test_writers_in_one_process_take_turns(scratch: Database) -> None:
    await asyncio.gather(*(_bump(scratch) for _ in range(20)))
    async with scratch.unit_of_work(write=False) as session:
        assert (await session.execute(text("SELECT n FROM tally"))).scalar_one() == 20


async def test_waiting_for_another_process_does_not_block_the_loop(
    scratch: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "scratch.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    writer = asyncio.create_task(_bump(scratch))
    await asyncio.sleep(0.1)
    assert not writer.done()
    assert ticks >= 5  # the loop kept running while the writer waited
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, timeout=5)
    ticker.cancel()
    async with scratch.unit_of_work(write=False) as session:
        assert (await session.execute(text("SELECT n FROM tally"))).scalar_one() == 1


async def test_a_read_unit_that_writes_under_contention_fails_loudly(
    scratch: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "scratch.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with scratch.unit_of_work(write=False) as session:
                await session.execute(text("UPDATE tally SET n = 5"))
    finally:
        other.execute("ROLLBACK")
        other.close()
