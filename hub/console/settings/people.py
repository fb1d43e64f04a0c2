"""My profile, the tenant's users and roles, and its teams (queues)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from hub.console import forms, service, sessions
from hub.console.auth import LANG_COOKIE, Console, ConsoleDep
from hub.core.errors import CaseHubError
from hub.core.pagination import CursorQuery
from hub.core.security import Scope, verify_password
from tenants import service as tenants_service
from tenants.models import Locale, Role
from tenants.roles import ROLE_SCOPES
from tenants.schemas import TeamCreate, UserCreate, UserUpdate

router = APIRouter(prefix="/console")

PAGE_SIZE = 100


# --- my profile ---------------------------------------------------------------------------------


async def _profile_page(
    console: Console, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    return console.render(
        "console/settings/profile.html",
        errors=errors or {},
        locales=list(Locale),
        role_scopes=sorted(s.value for s in ROLE_SCOPES[console.user.role]),
        status_code=status_code,
    )


@router.get("/profile", response_class=HTMLResponse)
async def profile(console: ConsoleDep) -> HTMLResponse:
    return await _profile_page(console)


@router.post("/profile", response_class=HTMLResponse)
async def update_profile(
    console: ConsoleDep,
    name: Annotated[str, Form(max_length=200)] = "",
    locale: Annotated[str, Form(max_length=8)] = "",
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Change my name and language, and my password (which needs the current one)."""
    data: dict[str, object] = {"name": name, "locale": locale or None}
    if new_password:
        if not verify_password(console.user.password_hash, current_password):
            return await _profile_page(
                console,
                errors={"current_password": console.t("That is not your current password.")},
                status_code=422,
            )
        data["password"] = new_password
    changes, errors = forms.validate(UserUpdate, data)
    if changes is None:
        return await _profile_page(console, errors=errors, status_code=422)
    await tenants_service.update_user(console.db, console.principal, console.user.id, changes)
    response = console.redirect("/console/profile", notice=console.t("Profile saved."))
    if new_password:
        await sessions.end_all_for(console.db, console.user)
        response = console.redirect("/login")
    if changes.locale is not None:
        response.set_cookie(LANG_COOKIE, changes.locale.value, max_age=365 * 86400, samesite="lax")
    return response


# --- users and roles ----------------------------------------------------------------------------


async def _users_page(
    console: Console,
    *,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    users, next_cursor = await tenants_service.list_users(
        console.db, console.principal, limit=PAGE_SIZE, cursor=cursor
    )
    return console.render(
        "console/settings/users.html",
        users=users,
        next_cursor=next_cursor,
        roles=list(Role),
        locales=list(Locale),
        role_scopes={role: sorted(s.value for s in scopes) for role, scopes in ROLE_SCOPES.items()},
        errors=errors or {},
        values=values or {},
        status_code=status_code,
    )


@router.get("/settings/users", response_class=HTMLResponse)
async def users(console: ConsoleDep, cursor: CursorQuery = None) -> HTMLResponse:
    console.require(Scope.users_manage)
    return await _users_page(console, cursor=cursor)


@router.post("/settings/users", response_class=HTMLResponse)
async def create_user(console: ConsoleDep) -> Response:
    console.require(Scope.users_manage)
    items = await forms.form_items(console.request)
    body, errors = forms.validate(UserCreate, forms.nest(items))
    if body is not None:
        try:
            user = await tenants_service.create_user(console.db, console.tenant.id, body)
        except CaseHubError as exc:
            if exc.status not in (409, 422):
                raise
            errors = {"email": exc.detail} if exc.status == 409 else forms.field_errors(exc)
        else:
            return console.redirect(
                "/console/settings/users",
                notice=console.t("%(name)s can now sign in.") % {"name": user.name},
            )
    values = {k: v for k, v in items if k != "password"}
    return await _users_page(console, errors=errors, values=values, status_code=422)


@router.post("/settings/users/{user_id}", response_class=HTMLResponse)
async def update_user(
    console: ConsoleDep,
    user_id: uuid.UUID,
    role: Annotated[Role, Form()],
    active: Annotated[bool, Form()] = False,
) -> Response:
    """Change a user's role or deactivate them (which signs them out everywhere)."""
    console.require(Scope.users_manage)
    if user_id == console.user.id and (role != console.user.role or not active):
        return console.redirect(
            "/console/settings/users",
            notice=console.t("You cannot change your own role or deactivate yourself."),
        )
    user = await tenants_service.update_user(
        console.db, console.principal, user_id, UserUpdate(role=role, active=active)
    )
    if not user.active:
        await sessions.end_all_for(console.db, user)
    return console.redirect(
        "/console/settings/users", notice=console.t("%(name)s updated.") % {"name": user.name}
    )


# --- teams (queues) -----------------------------------------------------------------------------


async def _teams_page(
    console: Console,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    teams = await service.list_teams(console.db, console.principal)
    return console.render(
        "console/settings/teams.html",
        teams=teams,
        members=await service.team_members(console.db, [team.id for team in teams]),
        users=await service.active_users(console.db, console.principal),
        errors=errors or {},
        values=values or {},
        status_code=status_code,
    )


@router.get("/settings/teams", response_class=HTMLResponse)
async def teams(console: ConsoleDep) -> HTMLResponse:
    console.require(Scope.users_manage)
    return await _teams_page(console)


@router.post("/settings/teams", response_class=HTMLResponse)
async def create_team(console: ConsoleDep) -> Response:
    console.require(Scope.users_manage)
    items = await forms.form_items(console.request)
    body, errors = forms.validate(TeamCreate, forms.nest(items))
    if body is not None:
        try:
            team = await tenants_service.create_team(
                console.db, console.tenant.id, slug=body.slug, name=body.name
            )
        except CaseHubError as exc:
            if exc.status not in (409, 422):
                raise
            errors = forms.field_errors(exc)
        else:
            return console.redirect(
                "/console/settings/teams",
                notice=console.t("Team %(name)s created.") % {"name": team.name},
            )
    return await _teams_page(console, errors=errors, values=dict(items), status_code=422)


@router.post("/settings/teams/{team_id}/members", response_class=HTMLResponse)
async def add_member(
    console: ConsoleDep, team_id: uuid.UUID, user_id: Annotated[uuid.UUID, Form()]
) -> Response:
    console.require(Scope.users_manage)
    team = await tenants_service.get_team(console.db, console.principal, team_id)
    user = await tenants_service.get_user(console.db, console.principal, user_id)
    await tenants_service.add_team_member(console.db, team, user)
    return console.redirect("/console/settings/teams", notice=console.t("Member added."))


@router.post("/settings/teams/{team_id}/members/{user_id}/remove", response_class=HTMLResponse)
async def remove_member(console: ConsoleDep, team_id: uuid.UUID, user_id: uuid.UUID) -> Response:
    console.require(Scope.users_manage)
    team = await tenants_service.get_team(console.db, console.principal, team_id)
    await tenants_service.remove_team_member(console.db, team, user_id)
    return console.redirect("/console/settings/teams", notice=console.t("Member removed."))
