"""People's console sessions and the throttle on failed sign-ins. Never commits.

The browser holds a random token in a signed cookie; the database keeps only the token's digest,
the user and the deadlines. Every request reads the session, the user and the tenant in one query,
so a deactivated user or a deleted session is signed out at the next click.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.console.models import ConsoleSession, LoginThrottle
from hub.core.db import increment_counter
from tenants.models import Tenant, User

IDLE_LIFETIME = timedelta(hours=12)
ABSOLUTE_LIFETIME = timedelta(days=7)

THROTTLE_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 30
"""Per window: a few typos per account, and room for an office behind one address."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: ConsoleSession
    user: User
    tenant: Tenant


async def start(session: AsyncSession, user: User, *, now: datetime) -> str:
    """Open a session for ``user``; returns the token for the cookie (stored only as a digest)."""
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            id=digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + IDLE_LIFETIME,
            absolute_expires_at=now + ABSOLUTE_LIFETIME,
        )
    )
    await session.flush()
    return token


async def resume(session: AsyncSession, token: str, *, now: datetime) -> SignedIn | None:
    """The live session of ``token`` with its active user and tenant, or ``None``."""
    row = (
        await session.execute(
            select(ConsoleSession, User, Tenant)
            .join(User, col(User.id) == col(ConsoleSession.user_id))
            .join(Tenant, col(Tenant.id) == col(User.tenant_id))
            .where(
                col(ConsoleSession.id) == digest(token),
                col(ConsoleSession.expires_at) > now,
                col(User.active),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return SignedIn(*row)


async def extend(session: AsyncSession, signed_in: SignedIn, *, now: datetime) -> None:
    """Push the idle deadline forward (called on writes, which already hold a write lock)."""
    row = signed_in.session
    deadline = min(now + IDLE_LIFETIME, row.absolute_expires_at)
    if deadline - row.expires_at > timedelta(minutes=5):
        await session.execute(
            update(ConsoleSession)
            .where(col(ConsoleSession.id) == row.id)
            .values(expires_at=deadline)
            .execution_options(synchronize_session=False)
        )


async def end(session: AsyncSession, token: str) -> None:
    await session.execute(delete(ConsoleSession).where(col(ConsoleSession.id) == digest(token)))


async def end_all_for(session: AsyncSession, user: User) -> None:
    """Sign a user out everywhere (password changed, account deactivated)."""
    await session.execute(delete(ConsoleSession).where(col(ConsoleSession.user_id) == user.id))


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Forget expired sessions and old throttle windows (a periodic job)."""
    sessions = await session.execute(
        delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now)
    )
    current = int(now.timestamp()) // THROTTLE_WINDOW_SECONDS
    windows = await session.execute(
        delete(LoginThrottle).where(col(LoginThrottle.window) < current)
    )
    return int(sessions.rowcount or 0) + int(windows.rowcount or 0)  # type: ignore[attr-defined]


# --- throttling failed sign-ins -------------------------------------------------------------


def _keys(email: str, address: str | None) -> tuple[str, str | None]:
    return f"email:{email.strip().lower()}", (f"addr:{address}" if address else None)


def _window(now: datetime | None) -> int:
    seconds = now.timestamp() if now is not None else time.time()
    return int(seconds) // THROTTLE_WINDOW_SECONDS


async def throttled(
    session: AsyncSession, email: str, address: str | None, *, now: datetime
) -> bool:
    """Whether sign-ins for this e-mail or from this address are paused for now."""
    email_key, address_key = _keys(email, address)
    keys = [k for k in (email_key, address_key) if k]
    rows = await session.execute(
        select(col(LoginThrottle.key), col(LoginThrottle.failures)).where(
            col(LoginThrottle.key).in_(keys), col(LoginThrottle.window) == _window(now)
        )
    )
    counts = dict(rows.all())
    return counts.get(email_key, 0) >= MAX_FAILURES_PER_EMAIL or (
        address_key is not None and counts.get(address_key, 0) >= MAX_FAILURES_PER_ADDRESS
    )


async def record_failure(
    session: AsyncSession, email: str, address: str | None, *, now: datetime
) -> None:
    window = _window(now)
    for key in _keys(email, address):
        if key:
            await increment_counter(
                session, LoginThrottle, {"key": key, "window": window}, "failures"
            )
