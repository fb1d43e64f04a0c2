"""Routing rules: the ordered list, adding, editing, moving and deleting, and a preview."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from hub.console import forms, service
from hub.console.auth import Console, ConsoleDep
from hub.core.errors import CaseHubError
from hub.core.security import Scope
from routing import rules
from routing.models import RoutingRule
from routing.schemas import Assignment, RuleCreate, RuleUpdate
from tenants.case_types import CaseType, Priority

router = APIRouter(prefix="/console/settings/routing")

RULE_LISTS = frozenset(
    {
        "conditions.types",
        "conditions.priorities",
        "conditions.categories",
        "conditions.keywords",
        "conditions.tags",
    }
)
RULE_BOOLEANS = frozenset({"enabled", "actions.hold_for_review"})


def rule_body(items: list[tuple[str, str]]) -> dict[str, Any]:
    """The form as the API's JSON body for a rule (the same schema validates both)."""
    return forms.nest(items, lists=RULE_LISTS, booleans=RULE_BOOLEANS)


async def _page(
    console: Console,
    *,
    editing: RoutingRule | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return console.render(
        "console/settings/routing.html",
        rules=await rules.list_rules(console.db, console.principal),
        editing=editing,
        types=list(CaseType),
        priorities=list(Priority),
        assignments=list(Assignment),
        brands=await service.partner_brands(console.db, console.principal),
        teams=await service.list_teams(console.db, console.principal),
        errors=errors or {},
        values=values,
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def list_rules(console: ConsoleDep, edit: uuid.UUID | None = None) -> HTMLResponse:
    console.require(Scope.routing_manage)
    editing = await rules.get_rule(console.db, console.principal, edit) if edit else None
    return await _page(console, editing=editing)


@router.post("", response_class=HTMLResponse)
async def create_rule(console: ConsoleDep) -> Response:
    console.require(Scope.routing_manage)
    data = rule_body(await forms.form_items(console.request))
    body, errors = forms.validate(RuleCreate, data)
    if body is not None:
        try:
            rule = await rules.create_rule(console.db, console.principal, body)
        except CaseHubError as exc:
            if exc.status != 422:
                raise
            errors = forms.field_errors(exc)
        else:
            return console.redirect(
                "/console/settings/routing",
                notice=console.t("Rule “%(name)s” added.") % {"name": rule.name},
            )
    return await _page(console, errors=errors, values=data, status_code=422)


@router.post("/{rule_id}", response_class=HTMLResponse)
async def update_rule(console: ConsoleDep, rule_id: uuid.UUID) -> Response:
    console.require(Scope.routing_manage)
    data = rule_body(await forms.form_items(console.request))
    data.setdefault("conditions", {})
    body, errors = forms.validate(RuleUpdate, data)
    if body is not None:
        try:
            rule = await rules.update_rule(console.db, console.principal, rule_id, body)
        except CaseHubError as exc:
            if exc.status != 422:
                raise
            errors = forms.field_errors(exc)
        else:
            return console.redirect(
                "/console/settings/routing",
                notice=console.t("Rule “%(name)s” saved.") % {"name": rule.name},
            )
    editing = await rules.get_rule(console.db, console.principal, rule_id)
    return await _page(console, editing=editing, errors=errors, values=data, status_code=422)


@router.post("/{rule_id}/move", response_class=HTMLResponse)
async def move_rule(console: ConsoleDep, rule_id: uuid.UUID) -> Response:
    console.require(Scope.routing_manage)
    data = forms.nest(await forms.form_items(console.request))
    body, errors = forms.validate(RuleUpdate, {"position": data.get("position")})
    if body is None:
        return await _page(console, errors=errors, status_code=422)
    await rules.update_rule(console.db, console.principal, rule_id, body)
    return console.redirect("/console/settings/routing")


@router.post("/{rule_id}/delete", response_class=HTMLResponse)
async def delete_rule(console: ConsoleDep, rule_id: uuid.UUID) -> Response:
    console.require(Scope.routing_manage)
    await rules.delete_rule(console.db, console.principal, rule_id)
    return console.redirect("/console/settings/routing", notice=console.t("Rule deleted."))
