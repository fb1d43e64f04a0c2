"""Tables of the tenants package."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hub.core.models import StrEnumType, TenantOwned, UTCDateTime, created_at_field, id_field


class TenantKind(StrEnum):
    host = "host"
    brand = "brand"


class Locale(StrEnum):
    zh_cn = "zh-CN"
    en = "en"


class Role(StrEnum):
    admin = "admin"
    lead = "lead"
    agent = "agent"
    viewer = "viewer"


class Tenant(SQLModel, table=True):
    id: uuid.UUID = id_field()
    slug: str = Field(max_length=63, unique=True)
    kind: TenantKind = Field(sa_type=StrEnumType(TenantKind, 16))
    name: str = Field(max_length=200)
    time_zone: str = Field(default="Asia/Shanghai", max_length=64)
    locale: Locale = Field(default=Locale.zh_cn, sa_type=StrEnumType(Locale, 8))
    case_prefix: str = Field(default="CASE", max_length=8)
    """Prefix of the human case numbers a host files (``LRBB-000123``)."""
    created_at: datetime = created_at_field()


class User(TenantOwned, table=True):
    id: uuid.UUID = id_field()
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=StrEnumType(Role, 16))
    password_hash: str = Field(max_length=255)
    active: bool = True
    locale: Locale | None = Field(default=None, sa_type=StrEnumType(Locale, 8))
    created_at: datetime = created_at_field()


class Team(TenantOwned, table=True):
    """A team is also a queue: cases routed to it wait there for one of its agents."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "slug"),)

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=63)
    name: str = Field(max_length=200)
    created_at: datetime = created_at_field()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"

    team_id: uuid.UUID = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")


class ApiClient(TenantOwned, table=True):
    """An OAuth 2.0 client (client credentials) of one tenant's own system."""

    __tablename__ = "api_client"

    id: uuid.UUID = id_field()
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_digest: str = Field(max_length=128)
    scopes: str = Field(max_length=1000)
    """Space-separated scopes the client may request."""
    active: bool = True
    created_at: datetime = created_at_field()
    secret_rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RevokedToken(SQLModel, table=True):
    """The deny-list of access tokens revoked before they expire (by ``jti``)."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    revoked_at: datetime = created_at_field()
