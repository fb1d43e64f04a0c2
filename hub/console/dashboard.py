"""The dashboard: my open cases, where the open cases are, and the workload by status."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hub.cases import service as cases_service
from hub.cases.models import OPEN_STATUSES, Status
from hub.console import service
from hub.console.auth import ConsoleDep

router = APIRouter(prefix="/console")

MY_CASES_SHOWN = 10


@router.get("/", response_class=HTMLResponse)
async def dashboard(console: ConsoleDep) -> HTMLResponse:
    principal = console.principal
    open_statuses = sorted(s.value for s in OPEN_STATUSES)
    mine_filter = cases_service.CaseFilter(
        status=open_statuses,
        assignee_id=console.user.id if console.is_brand else None,
        created_by_id=console.user.id if console.is_host else None,
    )
    mine, more = await cases_service.list_cases(
        console.db, principal, mine_filter, limit=MY_CASES_SHOWN, cursor=None
    )
    load = await service.workload(console.db, principal)
    counts = load.by_status
    by_status = [(status, counts.get(status, 0)) for status in Status]
    open_total = sum(n for status, n in by_status if status in OPEN_STATUSES)
    by_brand = await service.open_by_brand(console.db, load) if console.is_host else []
    by_team = await service.open_by_team(console.db, principal, load) if console.is_brand else []
    chart = {
        "status": {
            "labels": [console.t.label(s) for s, n in by_status if n],
            "values": [n for _, n in by_status if n],
        },
        "groups": {
            "labels": [name or console.t("In triage") for name, _ in by_brand]
            if console.is_host
            else [team.name if team else console.t("Inbox") for team, _ in by_team],
            "values": [n for _, n in (by_brand or by_team)],
        },
    }
    return console.render(
        "console/dashboard.html",
        mine=await service.case_rows(console.db, principal, mine),
        more_mine=more is not None,
        by_status=by_status,
        open_total=open_total,
        by_brand=by_brand,
        by_team=by_team,
        chart=chart,
        triage=counts.get(Status.triage, 0),
    )
