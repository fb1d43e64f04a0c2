"""Input and output models of the tenants package."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from hub.core.security import Scope
from tenants.models import Locale, Role, TenantKind

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", max_length=63)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    kind: TenantKind
    name: str
    time_zone: str
    locale: Locale
    case_prefix: str
    created_at: datetime


class UserCreate(BaseModel):
    email: EmailStr
    name: Name
    role: Role
    password: Password
    locale: Locale | None = None


class UserUpdate(BaseModel):
    name: Name | None = None
    role: Role | None = None
    password: Password | None = None
    active: bool | None = None
    locale: Locale | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    role: Role
    active: bool
    locale: Locale | None
    created_at: datetime


class TeamCreate(BaseModel):
    slug: Slug
    name: Name


class ClientCreate(BaseModel):
    name: Name
    scopes: list[Scope] = Field(min_length=1)


class ClientUpdate(BaseModel):
    name: Name | None = None
    scopes: list[Scope] | None = Field(default=None, min_length=1)


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    scopes: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None
    revoked_at: datetime | None


class ClientWithSecret(ClientRead):
    client_secret: str = Field(description="Shown once: store it now, CaseHub keeps only a digest.")
