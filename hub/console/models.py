"""Tables of the web console: people's sessions, login throttling and saved case views."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hub.core.models import TenantOwned, UTCDateTime, created_at_field, id_field


class ConsoleSession(SQLModel, table=True):
    """One signed-in browser. The cookie carries a random token; only its digest is stored, so
    a copy of this table signs nobody in. Deleting the row signs the browser out everywhere."""

    __tablename__ = "console_session"

    id: str = Field(primary_key=True, max_length=64)
    """SHA-256 hex digest of the cookie's token."""
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    """Idle deadline, pushed forward by the user's writes; never beyond ``absolute_expires_at``."""
    absolute_expires_at: datetime = Field(sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per key (an e-mail or an address) and fixed time window.

    Counted with one upsert, so several processes share the limit.
    """

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=300)
    window: int = Field(primary_key=True, sa_type=sa.BigInteger)
    """Window number: Unix time divided by the window length."""
    failures: int = 0


class SavedView(TenantOwned, table=True):
    """A named set of case-list filters; ``shared`` views are offered to the whole tenant."""

    __tablename__ = "saved_view"
    __table_args__ = (sa.Index("ix_saved_view_tenant_user", "tenant_id", "user_id"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    query: str = Field(max_length=2000)
    """The case list's query string (filters only, never a cursor)."""
    shared: bool = False
    created_at: datetime = created_at_field()
