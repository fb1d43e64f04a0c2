"""From an HTML form to the API's own schemas, and from their errors back to the form's fields.

Field names use dots for nesting (``order.amount`` → ``{"order": {"amount": …}}``), the way the
JSON body of the API nests them; empty inputs are left out, so the schema's defaults apply exactly
as they do for an API client that omits a field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from hub.core.errors import CaseHubError

M = TypeVar("M", bound=BaseModel)

SKIP = frozenset({"csrf_token"})


async def form_items(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


def nest(
    items: Iterable[tuple[str, str]],
    *,
    lists: frozenset[str] = frozenset(),
    booleans: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Build the nested body. Names in ``lists`` collect every value (checkboxes, multi-selects,
    or one comma-separated input); names in ``booleans`` are true when present."""
    data: dict[str, Any] = {}
    for name in booleans:
        _put(data, name, False)
    for name, raw in items:
        if name in SKIP:
            continue
        value = raw.strip()
        if name in booleans:
            _put(data, name, value not in ("", "0", "false", "off"))
        elif name in lists:
            parts = [p.strip() for p in value.split(",")] if "," in value else [value]
            current = _get(data, name) or []
            _put(data, name, [*current, *(p for p in parts if p)])
        elif value:
            _put(data, name, value)
    return data


def _get(data: dict[str, Any], name: str) -> Any:
    node: Any = data
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _put(data: dict[str, Any], name: str, value: Any) -> None:
    *parents, leaf = name.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def validate(model: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """The schema, or ``None`` with each error keyed by its dotted field name."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int))
            errors.setdefault(name or "__all__", _message(error))
        return None, errors


def _message(error: Any) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def field_errors(exc: CaseHubError) -> dict[str, str]:
    """A service error as form errors: its JSON pointer names the field (else the whole form)."""
    pointer = exc.extensions.get("pointer")
    if isinstance(pointer, str) and pointer.startswith("#/"):
        return {pointer[2:].replace("/", "."): exc.detail}
    return {"__all__": exc.detail}
