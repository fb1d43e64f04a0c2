"""``Idempotency-Key`` for writes: the first response is stored and replayed for the same key.

The record is written in the request's own unit of work, so it commits together with what the
request did: a retry after a crash either finds nothing (and does the work) or finds the answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.models import IdempotencyRecord
from hub.core.errors import Conflict, Unprocessable
from hub.core.security import Principal


class KeyReused(Unprocessable):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with another request"


class KeyInFlight(Conflict):
    slug = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


@dataclass(slots=True)
class Claim:
    record: IdempotencyRecord
    replay: bool


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def principal_key(principal: Principal) -> str:
    return f"{principal.kind.value}:{principal.subject_id}"


async def claim(session: AsyncSession, principal: Principal, key: str, digest: str) -> Claim:
    """Claim ``key`` for this request, or return the stored answer to replay.

    Raises :class:`KeyReused` (422) for the same key with another request and
    :class:`KeyInFlight` (409) while the first request has not finished.
    """
    if not 1 <= len(key) <= 255:
        raise Unprocessable(
            "Idempotency-Key must be 1 to 255 characters", pointer="header:Idempotency-Key"
        )
    owner = principal_key(principal)
    record = IdempotencyRecord(principal_key=owner, key=key, request_hash=digest)
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
        return Claim(record, replay=False)
    except IntegrityError:
        pass
    existing = (
        await session.execute(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.principal_key) == owner, col(IdempotencyRecord.key) == key
            )
        )
    ).scalar_one()
    if existing.request_hash != digest:
        raise KeyReused("this Idempotency-Key was used for a different request")
    if existing.response_status is None:
        raise KeyInFlight("retry when the first request has finished")
    return Claim(existing, replay=True)


def complete(record: IdempotencyRecord, status: int, body: dict[str, Any]) -> None:
    record.response_status = status
    record.response_body = body
