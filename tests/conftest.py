"""Shared fixtures: a migrated database, a per-test rolled-back transaction, the app and clients.

The database is built once per run with ``alembic upgrade head``, so every run tests the
migrations. SQLite by default; set CASEHUB_TEST_DATABASE_URL to run on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hub.app import create_app
from hub.core import migrations
from hub.core.db import Database, normalise_database_url
from hub.core.settings import Environment, Settings
from hub.schema import metadata

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def database_url(var_dir: Path) -> str:
    url = os.environ.get("CASEHUB_TEST_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        asyncio.run(_reset_postgres(url))
    else:
        url = f"sqlite+aiosqlite:///{var_dir / 'test.db'}"
    migrations.upgrade(url)
    return url


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
def settings(var_dir: Path, database_url: str) -> Settings:
    return Settings(
        env=Environment.test,
        var_dir=var_dir,
        database_url=database_url,
        public_base_url="http://testserver",
        run_scheduler=False,
        log_json=False,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A database whose every unit of work is rolled back when the test ends."""
    database = Database(settings.database_url, pool_size=2)
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        database.bind_to(connection)
        try:
            yield database
        finally:
            await transaction.rollback()
    await database.dispose()


@pytest.fixture
async def committed_db(settings: Settings) -> AsyncIterator[Database]:
    """A database whose units of work really commit, for concurrency tests; emptied afterwards."""
    database = Database(settings.database_url, pool_size=8)
    try:
        yield database
    finally:
        async with database.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(table.delete())
        await database.dispose()


@pytest.fixture
async def committed_http(
    settings: Settings, committed_db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database=committed_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session for arranging and asserting; it flushes but never commits for real."""
    async with db.unit_of_work() as session:
        yield session


@pytest.fixture
async def app(settings: Settings, db: Database) -> Any:
    return create_app(settings, database=db)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def unique() -> Callable[[str], str]:
    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return make
