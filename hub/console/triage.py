"""Queues: the host's triage (with the routing reason and a one-click forward) and the brand's
own queues (mine, each team's, the inbox of cases in no queue yet)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from hub.cases import actions
from hub.cases import service as cases_service
from hub.cases.models import OPEN_STATUSES, Status
from hub.cases.schemas import ActionBody
from hub.cases.workflow import Action
from hub.console import service
from hub.console.auth import ConsoleDep
from hub.core.errors import CaseHubError, Forbidden
from hub.core.pagination import CursorQuery
from hub.core.security import Scope

router = APIRouter(prefix="/console")

PAGE_SIZE = 25


@router.get("/triage", response_class=HTMLResponse)
async def triage(console: ConsoleDep, cursor: CursorQuery = None) -> HTMLResponse:
    console.require(Scope.cases_read)
    if not console.is_host:
        raise Forbidden("triage belongs to the host that files cases")
    cases, next_cursor = await cases_service.list_cases(
        console.db,
        console.principal,
        cases_service.CaseFilter(status=[Status.triage.value]),
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    return console.render(
        "console/triage.html",
        rows=await service.case_rows(console.db, console.principal, cases),
        brands=await service.partner_brands(console.db, console.principal),
        next_cursor=next_cursor,
    )


@router.post("/triage/{case_id}/forward", response_class=HTMLResponse)
async def forward(
    console: ConsoleDep,
    case_id: uuid.UUID,
    brand: Annotated[str, Form(max_length=63)] = "",
) -> Response:
    """Forward a case waiting in triage to a brand (the ``reroute`` action with that brand)."""
    console.require(Scope.cases_write)
    body = ActionBody(brand=brand or None, reason="forwarded from triage")
    try:
        case = await actions.perform(console.db, console.principal, case_id, Action.reroute, body)
    except CaseHubError as exc:
        if not console.request.headers.get("HX-Request") or exc.status in (403, 404):
            raise
        return console.render(
            "console/_triage_result.html", case_id=case_id, error=exc.detail, status_code=exc.status
        )
    if not console.request.headers.get("HX-Request"):
        return console.redirect(
            "/console/triage", notice=console.t("%(number)s forwarded.") % {"number": case.number}
        )
    rows = await service.case_rows(console.db, console.principal, [case])
    return console.render("console/_triage_result.html", case_id=case_id, row=rows[0], error=None)


@router.get("/queue", response_class=HTMLResponse)
async def queue(
    console: ConsoleDep,
    tab: Annotated[str, Query(pattern="^(mine|team|inbox|all)$")] = "mine",
    team: uuid.UUID | None = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    """A brand's open cases: assigned to me, in one of the teams, or in no queue yet."""
    console.require(Scope.cases_read)
    if not console.is_brand:
        raise Forbidden("queues belong to the brand that works the cases")
    teams = await service.list_teams(console.db, console.principal)
    if team is not None:
        tab = "team"
        if team not in {t.id for t in teams}:
            team = None
    open_statuses = sorted(s.value for s in OPEN_STATUSES)
    filters = cases_service.CaseFilter(
        status=open_statuses,
        assignee_id=console.user.id if tab == "mine" else None,
        team_id=team if tab == "team" else None,
        unassigned=tab == "inbox",
    )
    cases, next_cursor = await cases_service.list_cases(
        console.db, console.principal, filters, limit=PAGE_SIZE, cursor=cursor
    )
    my_teams = {t.id for t in await service.teams_of(console.db, console.user)}
    return console.render(
        "console/queue.html",
        rows=await service.case_rows(console.db, console.principal, cases),
        tab=tab,
        team=team,
        teams=teams,
        my_teams=my_teams,
        next_cursor=next_cursor,
    )
