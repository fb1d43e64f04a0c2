"""Engine, sessions and the unit of work.

One unit of work per request or job: it commits once when the work succeeds and rolls back when it
raises. Services never commit; they flush when they need ids.

On SQLite the database runs in WAL mode, in the event loop's thread (:mod:`hub.core.sqlite`
says why). Writers take turns: a unit of work that writes first waits for this process's other
writers (an ``asyncio.Lock``), then opens its transaction with ``BEGIN IMMEDIATE``, retrying with
``await asyncio.sleep`` while another process holds the write lock, up to
``SQLITE_BUSY_TIMEOUT_MS``. Read-only units of work begin deferred and never wait.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from hub.core import sqlite as inloop_sqlite

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "casehub_write"


def normalise_database_url(url: str) -> str:
    """Pick the async driver for a plain ``postgresql://`` or ``sqlite://`` URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername in ("sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername=f"sqlite+{inloop_sqlite.DRIVER}")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            **({"poolclass": NullPool} if ":memory:" in url else {"pool_size": pool_size}),
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is broken).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """The process's engine and session factory."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = normalise_database_url(url)
        self.engine = create_engine(self.url, echo=echo, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._bound = False
        self._writers = asyncio.Lock()

    def bind_to(self, connection: AsyncConnection) -> None:
        """Run every unit of work inside ``connection``'s open transaction, as savepoints.

        Tests use it to roll back everything a test did, commits included.
        """
        self.sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self._bound = True

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """Yield a session whose work commits on success and rolls back on error."""
        async with self._turn(write), self.sessionmaker() as session:
            if write:
                await self._begin_write(session)
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()

    def _turn(self, write: bool) -> AbstractAsyncContextManager[Any]:
        """This process's writers take turns on SQLite (a bound test connection needs none)."""
        if write and self.is_sqlite and not self._bound:
            return self._writers
        return nullcontext()

    async def _begin_write(self, session: AsyncSession) -> None:
        """Open the write transaction, waiting (without blocking the loop) for other processes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT_MS / 1000
        delay = 0.001
        while True:
            try:
                await session.connection(execution_options={WRITE_OPTION: True})
                return
            except OperationalError as error:
                if not inloop_sqlite.is_locked(error) or loop.time() >= deadline:
                    raise
                await session.rollback()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def refresh_statistics(self) -> None:
        """Give SQLite's query planner fresh table statistics (PostgreSQL's autovacuum does this).

        Without them SQLite picks the index that matches the ORDER BY and scans a host's whole
        history for an order id it could have looked up. ``analysis_limit`` keeps it to
        milliseconds however large the tables grow.
        """
        if not self.is_sqlite:
            return
        async with self.engine.begin() as connection:
            await connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            await connection.exec_driver_sql("ANALYZE")


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


def insert_for(session: AsyncSession) -> Any:
    """The dialect's ``insert`` (PostgreSQL's or SQLite's), for ``ON CONFLICT`` statements."""
    return _insert_for(session)


async def upsert(
    session: AsyncSession, table: Any, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert the row ``key`` with ``values``, or update the values where it exists."""
    statement = (
        _insert_for(session)(table)
        .values(**key, **values)
        .on_conflict_do_update(index_elements=list(key), set_=values)
    )
    await session.execute(statement)


async def increment_counter(
    session: AsyncSession, table: Any, key: dict[str, Any], counter: str, *, by: int = 1
) -> int:
    """Atomically add ``by`` to ``table.counter`` for the row ``key`` (creating it at ``by``);
    return the new value. Adding ``by`` reserves the ``by`` values ending at the one returned.

    One upsert statement, so concurrent callers each get distinct values on PostgreSQL and on
    SQLite alike.
    """
    if by < 1:
        raise ValueError("increment by at least 1")
    column = getattr(table, counter)
    statement = (
        _insert_for(session)(table)
        .values(**key, **{counter: by})
        .on_conflict_do_update(index_elements=list(key), set_={counter: column + by})
        .returning(column)
    )
    return int((await session.execute(statement)).scalar_one())


def keep_loaded(session: AsyncSession, *rows: Any) -> None:
    """Hold ``rows`` for the rest of the unit of work so ``session.get`` serves them from memory.

    The identity map keeps only weak references: a row nobody holds is dropped, and the next
    ``session.get`` for it queries again. Hot paths that load a row once (the host, the partner
    brands) and look it up by id later keep it here instead.
    """
    session.info.setdefault("casehub.kept", []).extend(rows)


async def serialize_on(session: AsyncSession, key: str) -> None:
    """Make concurrent units of work that pass the same ``key`` run this part one at a time.

    On PostgreSQL a transaction-scoped advisory lock (held until commit or rollback); on SQLite
    writers already take turns, so there is nothing to do.
    """
    await serialize_on_many(session, [key])


async def serialize_on_many(session: AsyncSession, keys: Iterable[str]) -> None:
    """:func:`serialize_on` for many keys in one statement, taken in a fixed order (so two
    units of work that share some keys cannot deadlock on them)."""
    if _insert_for(session) is not pg_insert:
        return
    digests = sorted(
        {
            int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") - (1 << 63)
            for key in keys
        }
    )
    if len(digests) == 1:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": digests[0]})
    elif digests:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": digests},
        )
