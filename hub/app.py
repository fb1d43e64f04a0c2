"""The application factory: one ASGI app for the API, the console and the buyer pages."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hub.bulk import api as bulk_api
from hub.bulk.jobs import JobWorker
from hub.buyers import api as buyers_api
from hub.buyers import views as buyers_views
from hub.buyers.web import BuyerRuntime
from hub.campaigns import api as campaigns_api
from hub.campaigns import views as campaigns_views
from hub.cases import api as cases_api
from hub.cases.storage import LocalStorage
from hub.console import catalog as console_catalog
from hub.console import router as console
from hub.console.pages import ConsolePages
from hub.core import migrations
from hub.core.crypto import SecretBox, load_secret_box
from hub.core.db import Database
from hub.core.events import bus
from hub.core.middleware import RequestContext
from hub.core.problems import install_problem_handlers, problem_response
from hub.core.security import KeyRing, load_key_ring
from hub.core.settings import Settings
from hub.scheduler import build_scheduler
from hub.sla import api as sla_api
from notifiers import api as notifiers_api
from notifiers import handlers as notifiers_handlers
from notifiers.dispatcher import Dispatcher as NotifierDispatcher
from routing import api as routing_api
from tenants import api as tenants_api
from tenants import catalog_api, oauth
from webhooks import api as webhooks_api
from webhooks import handlers as webhooks_handlers
from webhooks.dispatcher import Dispatcher

log = logging.getLogger("casehub")

ATTACHMENT_UPLOAD = re.compile(r"^(/v1|/console)/cases/[^/]+/attachments$")
CONSOLE_CATALOG_UPLOAD = re.compile(r"^/console/catalog/upload$")
IMPORT_UPLOAD = re.compile(r"^/v1/imports$")
BUYER_ANSWER = re.compile(r"^/s/[^/]+/answer$")


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app. ``database`` lets tests hand in one bound to their own transaction."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state_settings: Settings = app.state.settings
        if getattr(app.state, "db", None) is None:
            app.state.db = Database(
                state_settings.database_url,
                echo=state_settings.db_echo,
                pool_size=state_settings.db_pool_size,
            )
            owns_db = True
            await app.state.db.refresh_statistics()
        else:
            owns_db = False
        buyer_views = app.state.buyer_runtime.views
        buyer_views.start(app.state.db)
        workers: list[Dispatcher | NotifierDispatcher | JobWorker] = []
        scheduler = None
        if state_settings.run_scheduler:
            workers = [
                Dispatcher(app.state.db, state_settings),
                NotifierDispatcher(app.state.db, state_settings, app.state.secret_box),
                JobWorker(app.state.db),
            ]
            for worker in workers:
                worker.start()
            scheduler = build_scheduler(app.state.db, state_settings)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            for worker in workers:
                await worker.stop()
            await buyer_views.stop(app.state.db)
            if owns_db:
                await app.state.db.dispose()

    settings = settings or Settings()
    keys: KeyRing = load_key_ring(settings)
    app = FastAPI(
        title="CaseHub API",
        version="1",
        summary="Complaint collaboration between live-commerce hosts and brands",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.keys = keys
    box: SecretBox = load_secret_box(settings)
    app.state.secret_box = box
    app.state.oauth_server = oauth.CaseHubAuthorizationServer(settings, keys)
    app.state.storage = LocalStorage(settings.var_dir / "attachments")
    app.state.buyer_runtime = BuyerRuntime(settings, app.state.storage)

    bus.subscribe(webhooks_handlers.on_event, many=webhooks_handlers.on_events)
    bus.subscribe(notifiers_handlers.on_event, many=notifiers_handlers.on_events)
    install_problem_handlers(app, pages=ConsolePages())
    # The buyer pages first: the busiest public routes, matched before the API's hundred.
    app.include_router(buyers_views.router)
    app.include_router(campaigns_views.router)
    app.include_router(oauth.router)
    app.include_router(tenants_api.router)
    app.include_router(bulk_api.router)  # before cases: /v1/cases/export.csv is no case id
    app.include_router(cases_api.router)
    app.include_router(routing_api.router)
    app.include_router(webhooks_api.router)
    app.include_router(sla_api.router)
    app.include_router(notifiers_api.router)
    app.include_router(buyers_api.router)
    app.include_router(campaigns_api.router)
    _add_operational_routes(app)
    console.install(app)
    app.add_middleware(
        RequestContext,
        max_body_bytes=settings.max_body_bytes,
        large_bodies=(
            (ATTACHMENT_UPLOAD, settings.attachment_max_bytes + 64 * 1024),
            (IMPORT_UPLOAD, settings.import_max_bytes + 64 * 1024),
            (catalog_api.CATALOG_UPLOAD, catalog_api.CATALOG_UPLOAD_MAX_BYTES),
            (CONSOLE_CATALOG_UPLOAD, console_catalog.CSV_MAX_BYTES + 64 * 1024),
            (BUYER_ANSWER, settings.buyer_photos_max * settings.buyer_photo_max_bytes + 256 * 1024),
        ),
    )
    return app


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Database reachable and migrated to head")
    async def readyz(request: Request) -> JSONResponse:
        db: Database = request.app.state.db
        try:
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                current = await connection.run_sync(migrations.current_revisions)
        except Exception as exc:
            log.warning("readiness check failed", extra={"error": type(exc).__name__})
            return problem_response(
                503, "Not ready", "the database is not reachable", slug="not-ready"
            )
        heads = migrations.head_revisions()
        if current != heads:
            return problem_response(
                503,
                "Not ready",
                "the database schema is not at the migrations' head: run `casehub db upgrade`",
                slug="not-ready",
                current=sorted(current),
                head=sorted(heads),
            )
        return JSONResponse({"status": "ready", "revision": sorted(current)})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
