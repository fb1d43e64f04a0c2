"""The console's routes, static files and error pages, installed on the app in one call."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from hub.console import auth, case_page, cases, catalog, dashboard, settings, triage
from hub.console.rendering import STATIC_DIR


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(auth.router)
    router.include_router(dashboard.router)
    router.include_router(triage.router)
    router.include_router(cases.router)  # before case_page: /cases/new is not a case id
    router.include_router(case_page.router)
    router.include_router(catalog.router)
    router.include_router(settings.router)

    @router.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)

    return router


def install(app: FastAPI) -> None:
    app.include_router(build_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
