"""Who may see a case, in which role, and which of its events and fields."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from hub.cases.models import Case, CaseEvent, Visibility
from hub.core.security import Principal


class Party(StrEnum):
    host = "host"
    brand = "brand"
    buyer = "buyer"
    """The buyer on the status page: no tenant, only the case's status token."""


def party_of(case: Case, tenant_id: uuid.UUID) -> Party | None:
    if case.tenant_id == tenant_id:
        return Party.host
    if case.brand_id is not None and case.brand_id == tenant_id:
        return Party.brand
    return None


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """The cases a tenant may see: those it filed and those assigned to it."""
    if principal.tenant_kind == "brand":
        return col(Case.brand_id) == principal.tenant_id
    return col(Case.tenant_id) == principal.tenant_id


def visible_events(tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """Events a tenant may read: its cases' non-internal events and its own internal ones.

    A brand reads only the events recorded while the case was its own (``brand_id``), so a brand
    that said "not ours" sees nothing of what happens next, and the next brand nothing of before.
    """
    shared = or_(
        col(CaseEvent.visibility) != Visibility.internal,
        col(CaseEvent.author_tenant_id) == tenant_id,
    )
    return and_(
        or_(col(CaseEvent.host_id) == tenant_id, col(CaseEvent.brand_id) == tenant_id), shared
    )


class EventHeader(Protocol):
    """What decides who may read an event (a :class:`CaseEvent` or an event being recorded)."""

    host_id: uuid.UUID
    brand_id: uuid.UUID | None
    visibility: Visibility
    author_tenant_id: uuid.UUID | None


def event_readers(event: EventHeader) -> list[uuid.UUID]:
    """The tenants who may read ``event`` (same rule as :func:`visible_events`)."""
    return readers_of(event.host_id, event.brand_id, event.visibility, event.author_tenant_id)


def readers_of(
    host_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    visibility: Visibility,
    author_tenant_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    readers = [host_id]
    if brand_id is not None:
        readers.append(brand_id)
    if visibility == Visibility.internal:
        readers = [t for t in readers if t == author_tenant_id]
    return readers


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``; short numbers keep only their last two digits."""
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * (len(digits) - 2) + digits[-2:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_address(address: str | None) -> str | None:
    if not address:
        return address
    return address[:6] + "****" if len(address) > 6 else "****"
