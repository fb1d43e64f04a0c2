"""Input and output models of the tenants package."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from hub.core.security import Scope
from tenants.case_types import CaseType
from tenants.models import Locale, PartnershipStatus, Role, TenantKind

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
    aliases: list[str]
    created_at: datetime


BrandAlias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=50)]


class TenantUpdate(BaseModel):
    """What a tenant admin may change about the tenant itself."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    time_zone: Annotated[str, StringConstraints(max_length=64)] | None = None
    locale: Locale | None = None
    aliases: list[BrandAlias] | None = Field(
        default=None,
        max_length=20,
        description="Other names a brand goes by in product titles (routing looks for them)",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


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


# --- partnerships ---------------------------------------------------------------------------

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class TenantRef(BaseModel):
    """The other side of a partnership (or a line-up item's brand), as people know it."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str


class PartnershipCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand: Slug = Field(description="Slug of the brand to invite")
    allowed_case_types: list[CaseType] = Field(
        default_factory=list,
        max_length=50,
        description="Case types the brand takes; empty means every type",
    )
    share_buyer_contact: bool = Field(
        default=False, description="Whether the brand may see buyer contact details"
    )
    note: Note = ""


class PartnershipUpdate(BaseModel):
    """The terms a host may change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    allowed_case_types: list[CaseType] | None = Field(default=None, max_length=50)
    share_buyer_contact: bool | None = None
    note: Note | None = None


class PartnershipRead(BaseModel):
    id: uuid.UUID
    status: PartnershipStatus
    host: TenantRef
    brand: TenantRef
    allowed_case_types: list[CaseType]
    share_buyer_contact: bool
    sla_policy_id: uuid.UUID | None
    note: str
    created_at: datetime
    accepted_at: datetime | None
    suspended_at: datetime | None
    allowed_actions: list[str] = Field(description="What the caller may do with it now")


# --- catalog --------------------------------------------------------------------------------

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Alias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    name: ProductName
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    aliases: list[Alias] = Field(default_factory=list, max_length=20)
    barcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    category: str
    aliases: list[str]
    barcode: str | None
    created_at: datetime
    updated_at: datetime


class CatalogUpsertResult(BaseModel):
    created: int
    updated: int
    unchanged: int = Field(description="Products sent exactly as already stored")


# --- live sessions --------------------------------------------------------------------------

Price = Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]


class LiveSessionItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    brand: Slug = Field(description="Slug of an active partner brand")
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = Field(
        default=None, description="Defaults to the name in the brand's catalog"
    )
    price: Price | None = None
    units_sold: int = Field(default=0, ge=0, le=2_000_000_000)


LineUp = Annotated[list[LiveSessionItemIn], Field(max_length=2000)]


def _ends_after_start(ended_at: datetime | None, info: ValidationInfo) -> datetime | None:
    started_at = info.data.get("started_at")
    if ended_at is not None and started_at is not None and ended_at < started_at:
        raise ValueError("ended_at is before started_at")
    return ended_at


class LiveSessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: ProductName
    platform: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    items: LineUp = Field(default_factory=list)

    _check_end = field_validator("ended_at")(_ends_after_start)


class LiveSessionUpdate(BaseModel):
    """Omitted fields stay; ``ended_at: null`` clears the end."""

    model_config = ConfigDict(extra="forbid")

    title: ProductName | None = None
    platform: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None

    _check_end = field_validator("ended_at")(_ends_after_start)


class LiveSessionItemRead(BaseModel):
    sku: str
    brand: TenantRef
    name: str
    price: Decimal | None
    units_sold: int


class LiveSessionRead(BaseModel):
    id: uuid.UUID
    title: str
    platform: str
    started_at: datetime
    ended_at: datetime | None
    created_at: datetime
    item_count: int
    units_sold: int = Field(description="Units sold over the whole line-up")


class LiveSessionDetail(LiveSessionRead):
    items: list[LiveSessionItemRead]
