"""The one way to read tenant-owned rows: always through the caller's tenant.

Another tenant's row answers :class:`NotFound`, never 403, so ids leak nothing.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.errors import NotFound
from hub.core.models import TenantOwned
from hub.core.security import Principal

T = TypeVar("T", bound=TenantOwned)


def scoped_select(model: type[T], principal: Principal) -> Select[T]:
    return select(model).where(col(model.tenant_id) == principal.tenant_id)


async def get_owned(
    session: AsyncSession,
    model: type[T],
    row_id: uuid.UUID,
    principal: Principal,
    *,
    for_update: bool = False,
    options: tuple[Any, ...] = (),
) -> T:
    """Load one row of the caller's tenant or raise :class:`NotFound`."""
    statement = scoped_select(model, principal).where(model.id == row_id)  # type: ignore[attr-defined]
    if options:
        statement = statement.options(*options)
    if for_update:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no {model.__tablename__} {row_id}")
    return row
