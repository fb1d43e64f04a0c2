"""SQLite for the async engine, run in the event loop's own thread.

SQLAlchemy's ``aiosqlite`` driver sends every call (execute, fetch, close) to a helper thread
and waits for the answer. A SQLite statement takes microseconds, the hop and the GIL hand-over
take a hundred times longer, and a filing makes some twenty statements: the hops were most of
CaseHub's time on SQLite. This module gives SQLAlchemy's aiosqlite adapter a connection whose
coroutines run the ``sqlite3`` call at once, in the calling thread.

A call that runs in the loop must never wait for a lock held by another coroutine of the same
loop — the holder could never run to release it. So the connections have no busy timeout (a
lock conflict fails at once instead of blocking the loop), and :class:`hub.core.db.Database`
makes writers take turns: one write unit of work at a time per process (an ``asyncio.Lock``), and
``BEGIN IMMEDIATE`` retried with ``await asyncio.sleep`` while another process holds the write
lock. In WAL mode readers never wait, and a writer that holds the lock never waits either.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

DRIVER = "casehub"
"""``sqlite+casehub://`` selects this driver; :func:`hub.core.db.normalise_database_url` maps
plain ``sqlite://`` and ``sqlite+aiosqlite://`` URLs to it."""


class Cursor:
    """The awaitable face of a ``sqlite3.Cursor`` that SQLAlchemy's adapter expects."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> Sequence[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Immediate:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set the isolation level:
    the function runs at once and its future is settled."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class Connection:
    """The awaitable face of a ``sqlite3.Connection``, shaped like ``aiosqlite.Connection``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _Immediate(self)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class _Module:
    """The module SQLAlchemy's aiosqlite adapter imports: ``connect`` and the DB-API errors."""

    Connection = Connection
    DatabaseError = sqlite3.DatabaseError
    Error = sqlite3.Error
    IntegrityError = sqlite3.IntegrityError
    NotSupportedError = sqlite3.NotSupportedError
    OperationalError = sqlite3.OperationalError
    ProgrammingError = sqlite3.ProgrammingError
    sqlite_version = sqlite3.sqlite_version
    sqlite_version_info = sqlite3.sqlite_version_info
    __version__ = sqlite3.sqlite_version


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        kwargs["check_same_thread"] = False  # a pooled connection may serve another thread
        kwargs["timeout"] = 0  # never block the loop on a lock: see the module's docstring
        connection = Connection(sqlite3.connect(*args, **kwargs))
        return AsyncAdapt_aiosqlite_connection(self, connection)  # type: ignore[arg-type]


class InLoopSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return _DBAPI(_Module, sqlite3)  # type: ignore[arg-type]


registry.register(f"sqlite.{DRIVER}", __name__, "InLoopSQLiteDialect")


def is_locked(error: BaseException) -> bool:
    """Whether ``error`` is SQLite saying another connection holds the lock."""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database table is locked" in text
