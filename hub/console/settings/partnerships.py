"""Partnerships: which hosts and brands work together, on which terms."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hub.console import service
from hub.console.auth import ConsoleDep
from hub.core.security import Scope

router = APIRouter(prefix="/console/settings/partnerships")


@router.get("", response_class=HTMLResponse)
async def partnerships(console: ConsoleDep) -> HTMLResponse:
    console.require(Scope.partners_read)
    return console.render(
        "console/settings/partnerships.html",
        partnerships=await service.partnerships_of(console.db, console.principal),
    )
