"""Base types shared by every table: UTC timestamps, UUID ids and the tenant mixin."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no time zone; PostgreSQL's ``timestamptz`` does. Naive values are refused on the
    way in so that a local time can never be stored by mistake.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


M = TypeVar("M", bound=SQLModel)


def new_row(model: type[M], **values: Any) -> M:
    """A new, unsaved row of ``model``, built the way the ORM builds a row it loads.

    The values are stored as given, without validation or attribute events; fields not given
    take their defaults. For code that creates thousands of rows a second, where SQLModel's
    constructor (an instrumented ``setattr`` per field) costs more than the insert. Callers
    pass values the constructor would accept; changes made after construction are tracked as
    usual.
    """
    instance: M = sa.inspect(model).class_manager.new_instance()
    given = set(values)
    for name, field in model.model_fields.items():
        if name not in given:
            factory = field.default_factory
            values[name] = factory() if factory is not None else field.default  # type: ignore[call-arg]
    instance.__dict__.update(values)
    object.__setattr__(instance, "__pydantic_fields_set__", given)
    return instance


def id_field() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def timestamp_field(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class TenantOwned(SQLModel):
    """Mixin for every table owned by one tenant; every read of it is scoped by ``tenant_id``."""

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", index=True, ondelete="CASCADE")


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A ``StrEnum`` stored as its plain string value (no database enum type to migrate)."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int = 32) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        self.length = length

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, self.enum_class):
            return value.value
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum_class(value)

    def __repr__(self) -> str:
        return f"sa.String(length={self.length})"


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL."""

Money = sa.Numeric(12, 2)
"""Amounts in the order's currency (CNY unless stated), exact to the fen."""
