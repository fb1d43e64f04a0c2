"""Cursor pagination: ``?limit=&cursor=`` → ``{"items": [...], "next_cursor": ...}``.

A cursor is an opaque, URL-safe encoding of the last row's sort key (a timestamp and an id), so
pages stay stable while new rows arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import Unprocessable

T = TypeVar("T")
M = TypeVar("M")

DEFAULT_LIMIT = 25
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
CursorQuery = Annotated[str | None, Query(max_length=200, description="From next_cursor")]


def encode_cursor(*values: Any) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable("the cursor is not one this API issued", pointer="#/cursor") from exc
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Unprocessable("the cursor is not one this API issued", pointer="#/cursor")
    return values


def decode_time_id_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    values = decode_cursor(cursor)
    try:
        when, row_id = values
        return datetime.fromisoformat(when), uuid.UUID(row_id)
    except ValueError as exc:
        raise Unprocessable("the cursor is not one this API issued", pointer="#/cursor") from exc


async def paginate(
    session: AsyncSession,
    statement: Select[M],
    model: type[M],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[M], str | None]:
    """Page a select of ``model`` in (created_at, id) order, oldest first."""
    created_at = model.created_at  # type: ignore[attr-defined]
    row_id = model.id  # type: ignore[attr-defined]
    statement = statement.order_by(created_at, row_id)
    if cursor:
        after_at, after_id = decode_time_id_cursor(cursor)
        statement = statement.where(
            or_(created_at > after_at, and_(created_at == after_at, row_id > after_id))
        )
    rows = list((await session.execute(statement.limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(last.created_at, last.id)  # type: ignore[attr-defined]
