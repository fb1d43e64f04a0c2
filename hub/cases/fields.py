"""Custom fields: what a brand asks for on its cases, and checking a case's values against it."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases.errors import InvalidCustomFields
from hub.cases.models import CustomFieldDefinition, FieldKind
from hub.cases.schemas import CustomFieldIn
from hub.core.security import Principal


async def definitions_for(
    session: AsyncSession, brand_id: uuid.UUID, case_type: str
) -> list[CustomFieldDefinition]:
    result = await session.execute(
        select(CustomFieldDefinition).where(
            col(CustomFieldDefinition.tenant_id) == brand_id,
            or_(
                col(CustomFieldDefinition.case_type).is_(None),
                col(CustomFieldDefinition.case_type) == case_type,
            ),
        )
    )
    return list(result.scalars())


async def list_definitions(
    session: AsyncSession, principal: Principal
) -> list[CustomFieldDefinition]:
    result = await session.execute(
        select(CustomFieldDefinition)
        .where(col(CustomFieldDefinition.tenant_id) == principal.tenant_id)
        .order_by(col(CustomFieldDefinition.key))
    )
    return list(result.scalars())


async def replace_definitions(
    session: AsyncSession, principal: Principal, fields: list[CustomFieldIn]
) -> list[CustomFieldDefinition]:
    """Replace the brand's field definitions as a whole (cases keep the values they have)."""
    seen: set[tuple[str, str | None]] = set()
    for index, field in enumerate(fields):
        key = (field.key, field.case_type)
        if key in seen:
            raise InvalidCustomFields(
                f"field {field.key!r} is defined twice", pointer=f"#/{index}/key"
            )
        if field.kind == FieldKind.choice and not field.choices:
            raise InvalidCustomFields("a choice field needs choices", pointer=f"#/{index}/choices")
        seen.add(key)
    await session.execute(
        delete(CustomFieldDefinition).where(
            col(CustomFieldDefinition.tenant_id) == principal.tenant_id
        )
    )
    rows = [
        CustomFieldDefinition(
            tenant_id=principal.tenant_id,
            key=f.key,
            label=f.label,
            kind=f.kind,
            case_type=None if f.case_type is None else f.case_type.value,
            required=f.required,
            choices=list(f.choices),
        )
        for f in fields
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def _coerce(definition: CustomFieldDefinition, value: Any) -> Any:
    kind = definition.kind
    if kind == FieldKind.text:
        if not isinstance(value, str) or len(value) > 2000:
            raise ValueError("must be text of at most 2000 characters")
        return value.strip()
    if kind == FieldKind.number:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            return str(Decimal(str(value)))
        except InvalidOperation as exc:
            raise ValueError("must be a number") from exc
    if kind == FieldKind.date:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date (YYYY-MM-DD)") from exc
    if kind == FieldKind.boolean:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if value not in definition.choices:
        raise ValueError(f"must be one of {', '.join(definition.choices)}")
    return value


def validate(
    definitions: list[CustomFieldDefinition],
    values: dict[str, Any],
    *,
    brand_name: str,
    enforce_required: bool,
) -> dict[str, Any]:
    """Check and normalise ``values``; fields the brand does not define pass through unchanged.

    Raises :class:`InvalidCustomFields` (422) naming every bad or missing field.
    """
    errors: list[dict[str, str]] = []
    cleaned = dict(values)
    for definition in definitions:
        value = values.get(definition.key)
        if value is None or value == "":
            if definition.required and enforce_required:
                errors.append(
                    {
                        "pointer": f"#/custom_fields/{definition.key}",
                        "detail": f"{brand_name} requires {definition.label} ({definition.key})",
                    }
                )
            continue
        try:
            cleaned[definition.key] = _coerce(definition, value)
        except ValueError as exc:
            errors.append({"pointer": f"#/custom_fields/{definition.key}", "detail": str(exc)})
    if errors:
        raise InvalidCustomFields("; ".join(error["detail"] for error in errors), errors=errors)
    return cleaned
