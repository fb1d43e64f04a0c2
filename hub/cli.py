"""The ``casehub`` command line."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Annotated

import typer
import uvicorn

from hub import demo as demo_module
from hub.bulk.cli import import_file
from hub.core import migrations
from hub.core.crypto import load_secret_box
from hub.core.db import Database
from hub.core.events import bus
from hub.core.logging import configure_logging
from hub.core.security import Scope
from hub.core.settings import Settings
from notifiers import handlers as notifiers_handlers
from notifiers import service as notifiers_service
from notifiers.dispatcher import Dispatcher as NotifierDispatcher
from tenants import service as tenants_service
from tenants.models import Locale, Role, TenantKind
from tenants.schemas import ClientCreate, UserCreate
from webhooks import handlers as webhooks_handlers
from webhooks.dispatcher import Dispatcher

app = typer.Typer(
    help="CaseHub: complaint collaboration between hosts and brands.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants (hosts and brands).", no_args_is_help=True)
users_app = typer.Typer(help="Console users.", no_args_is_help=True)
clients_app = typer.Typer(help="OAuth API clients.", no_args_is_help=True)
app.command("import")(import_file)
app.add_typer(db_app, name="db")
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(clients_app, name="clients")
notifiers_app = typer.Typer(help="IM and e-mail notifications.", no_args_is_help=True)
app.add_typer(notifiers_app, name="notifiers")


def _settings() -> Settings:
    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: CASEHUB_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: CASEHUB_PORT")] = None,
    workers: Annotated[int, typer.Option(help="Server processes")] = 1,
) -> None:
    """Serve the API (and run the scheduler in this process unless CASEHUB_RUN_SCHEDULER=false)."""
    settings = _settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker() -> None:
    """Run the periodic jobs, webhook deliveries and import jobs without serving HTTP
    (scale-out: any number of these)."""
    from hub.bulk.jobs import JobWorker
    from hub.scheduler import build_scheduler

    settings = _settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)

    async def run() -> None:
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        bus.subscribe(webhooks_handlers.on_event, many=webhooks_handlers.on_events)
        bus.subscribe(notifiers_handlers.on_event, many=notifiers_handlers.on_events)
        scheduler = build_scheduler(db, settings)
        scheduler.start()
        dispatcher = Dispatcher(db, settings)
        dispatcher.start()
        job_worker = JobWorker(db)
        job_worker.start()
        notifier = NotifierDispatcher(db, settings, load_secret_box(settings))
        notifier.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        typer.echo("casehub worker running; Ctrl-C stops it")
        await stop.wait()
        scheduler.shutdown(wait=False)
        await job_worker.stop()
        await dispatcher.stop()
        await notifier.stop()
        await db.dispose()

    asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    settings = _settings()
    migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def demo() -> None:
    """Seed the demo tenants, users and clients; write var/demo.json and print them."""
    settings = _settings()
    path = settings.var_dir / "demo.json"

    async def run() -> dict[str, object]:
        db = Database(settings.database_url)
        try:
            async with db.unit_of_work() as session:
                return await demo_module.seed_demo(
                    session,
                    base_url=settings.public_base_url,
                    previous=demo_module.previous_demo(path),
                )
        finally:
            await db.dispose()

    document = asyncio.run(run())
    demo_module.write_demo_file(path, document)
    base = settings.public_base_url
    typer.echo(f"\nCaseHub demo — credentials written to {path}\n")
    typer.echo(f"  API docs   {base}/docs")
    typer.echo(f"  Token      POST {base}/oauth/token (client credentials)")
    for tenant in document["tenants"]:  # type: ignore[attr-defined]
        typer.echo(f"\n  {tenant['name']} ({tenant['kind']}, slug {tenant['slug']})")
        for user in tenant["users"]:
            typer.echo(f"    user    {user['email']} / {user['password']} ({user['role']})")
        for client in tenant["clients"]:
            typer.echo(f"    client  {client['client_id']} / {client['client_secret']}")
    typer.echo("")


def _run_in_unit_of_work(work):  # type: ignore[no-untyped-def]
    settings = _settings()

    async def run():  # type: ignore[no-untyped-def]
        db = Database(settings.database_url)
        try:
            async with db.unit_of_work() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


@tenants_app.command("create")
def tenants_create(
    slug: str,
    kind: TenantKind,
    name: str,
    time_zone: str = "Asia/Shanghai",
    locale: Locale = Locale.zh_cn,
    case_prefix: Annotated[str | None, typer.Option(help="Prefix of case numbers")] = None,
) -> None:
    """Create a host or brand tenant."""

    async def work(session):  # type: ignore[no-untyped-def]
        tenant = await tenants_service.create_tenant(
            session,
            slug=slug,
            kind=kind,
            name=name,
            time_zone=time_zone,
            locale=locale,
            case_prefix=case_prefix,
        )
        return {"id": str(tenant.id), "slug": tenant.slug, "kind": tenant.kind.value}

    typer.echo(json.dumps(_run_in_unit_of_work(work)))


@users_app.command("create")
def users_create(
    tenant: str,
    email: str,
    name: str,
    role: Role = Role.agent,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a console user in TENANT (slug)."""

    async def work(session):  # type: ignore[no-untyped-def]
        owner = await tenants_service.require_tenant_by_slug(session, tenant)
        user = await tenants_service.create_user(
            session, owner.id, UserCreate(email=email, name=name, role=role, password=password)
        )
        return {"id": str(user.id), "email": user.email, "role": user.role.value}

    typer.echo(json.dumps(_run_in_unit_of_work(work)))


@clients_app.command("create")
def clients_create(
    tenant: str,
    name: str,
    scope: Annotated[list[Scope], typer.Option(help="Repeat for each scope")],
) -> None:
    """Create an API client in TENANT (slug); prints its secret once."""

    async def work(session):  # type: ignore[no-untyped-def]
        owner = await tenants_service.require_tenant_by_slug(session, tenant)
        client, secret = await tenants_service.create_client(
            session, owner.id, ClientCreate(name=name, scopes=scope)
        )
        return {
            "client_id": client.client_id,
            "client_secret": secret,
            "scopes": client.scopes.split(),
        }

    typer.echo(json.dumps(_run_in_unit_of_work(work)))


@notifiers_app.command("reseal")
def notifiers_reseal() -> None:
    """Re-seal every stored channel secret with the current data key (after a key rotation)."""
    settings = _settings()
    box = load_secret_box(settings)

    async def work(session):  # type: ignore[no-untyped-def]
        return await notifiers_service.reseal_secrets(session, box)

    typer.echo(f"re-sealed the secrets of {_run_in_unit_of_work(work)} channels")
