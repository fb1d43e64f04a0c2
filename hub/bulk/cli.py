"""``casehub import FILE``: check a spreadsheet, then import it with a progress bar and an ETA."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.bulk import checking, jobs, service
from hub.bulk.api import RESULT_HEADERS
from hub.bulk.models import Job, JobState
from hub.bulk.parsing import read_sheet
from hub.core.db import Database
from hub.core.errors import CaseHubError
from hub.core.events import bus
from hub.core.security import Principal, PrincipalKind, Scope
from hub.core.settings import Settings
from notifiers import handlers as notifiers_handlers
from tenants import service as tenants_service
from tenants.models import Role, User
from webhooks import handlers as webhooks_handlers

console = Console(stderr=True)


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    tenant: Annotated[str, typer.Option(help="The host's slug")],
    user: Annotated[str | None, typer.Option(help="File as this user (default: an admin)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check every row; import nothing")] = False,
    mapping: Annotated[str | None, typer.Option(help='JSON: {"order_id": "平台单号", …}')] = None,
    encoding: Annotated[str | None, typer.Option(help="utf-8, gbk … (default: detect)")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first)")] = None,
    results: Annotated[Path | None, typer.Option(help="Write the per-row results CSV here")] = None,
) -> None:
    """Import cases from a CSV or XLSX file for the host TENANT, with a progress bar."""
    settings = Settings()
    given = json.loads(mapping) if mapping else None
    data = file.read_bytes()
    try:
        code = asyncio.run(
            _run(settings, data, file.name, tenant, user, dry_run, given, encoding, sheet, results)
        )
    except CaseHubError as error:
        console.print(f"[red]{error.title}:[/red] {error.detail}")
        raise typer.Exit(2) from error
    raise typer.Exit(code)


async def _principal(db: Database, slug: str, email: str | None) -> Principal:
    async with db.unit_of_work(write=False) as session:
        host = await tenants_service.require_tenant_by_slug(session, slug)
        statement = select(User).where(col(User.tenant_id) == host.id, col(User.active))
        if email:
            statement = statement.where(col(User.email) == email)
        else:
            statement = statement.where(col(User.role) == Role.admin)
        found = (await session.execute(statement.order_by(col(User.created_at)))).scalars().first()
    if found is None:
        who = email or "an active admin"
        raise typer.BadParameter(f"{slug} has no user {who}", param_hint="--user")
    return Principal(
        kind=PrincipalKind.user,
        subject_id=found.id,
        tenant_id=host.id,
        tenant_kind=host.kind.value,
        scopes=frozenset({Scope.cases_write, Scope.cases_read}),
        display_name=found.name,
    )


async def _run(
    settings: Settings,
    data: bytes,
    filename: str,
    slug: str,
    email: str | None,
    dry_run: bool,
    mapping: dict[str, str] | None,
    encoding: str | None,
    sheet: str | None,
    results: Path | None,
) -> int:
    db = Database(settings.database_url)
    bus.subscribe(webhooks_handlers.on_event, many=webhooks_handlers.on_events)
    bus.subscribe(notifiers_handlers.on_event, many=notifiers_handlers.on_events)
    try:
        principal = await _principal(db, slug, email)
        parsed = read_sheet(
            data,
            filename=filename,
            encoding=encoding,
            sheet=sheet,
            max_bytes=settings.import_max_bytes,
            max_rows=settings.import_max_rows,
        )
        async with db.unit_of_work() as session:
            plan = await checking.plan_import(
                session, principal, parsed, mapping=mapping, preview=dry_run
            )
            _print_plan(plan, filename)
            if dry_run:
                return 1 if any(r.errors for r in plan.rows) else 0
            job = await service.start_import(
                session,
                principal,
                plan,
                detail={
                    "filename": filename,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
            )
        await _follow(db, job.id)
        async with db.unit_of_work(write=False) as session:
            finished = await session.get(Job, job.id)
            assert finished is not None
            _print_job(finished)
            if results is not None:
                await _write_results(session, finished, results)
                console.print(f"per-row results written to {results}")
        return 0 if finished.state == JobState.succeeded else 1
    finally:
        await db.dispose()


async def _follow(db: Database, job_id: uuid.UUID) -> None:
    """Work the job here with a progress bar; if a worker got it first, follow its progress."""
    worker = jobs.JobWorker(db)
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("import", total=None, rate="")

        async def show() -> bool:
            async with db.unit_of_work(write=False) as session:
                job = await session.get(Job, job_id, populate_existing=True)
            assert job is not None
            figures = jobs.progress(job)
            rate = figures["rate_per_second"]
            bar.update(
                task,
                completed=job.done,
                total=job.total,
                rate="" if rate is None else f"{rate:,.0f} rows/s",
            )
            return job.state in (JobState.succeeded, JobState.failed)

        async def on_chunk() -> None:
            await show()

        await show()
        if await worker.run_once(job_id=job_id, on_chunk=on_chunk):
            await show()
            return
        # Another process works the job: its progress is only in the database.
        while not await show():  # noqa: ASYNC110
            await asyncio.sleep(0.5)


def _print_plan(plan: checking.Plan, filename: str) -> None:
    counts = plan.counts()
    sheet = plan.sheet
    how = sheet.encoding or f"sheet “{sheet.sheet_name}”"
    console.print(f"{filename}: {sheet.format.upper()} ({how}), {len(plan.rows):,} rows")
    console.print(
        "columns: " + ", ".join(f"{k} ← {v}" for k, v in plan.columns.described().items())
    )
    if plan.columns.ignored:
        console.print(f"ignored columns: {', '.join(plan.columns.ignored)}")
    table = Table("valid", "invalid", "duplicate", "existing", "to triage")
    table.add_row(
        *(
            f"{counts.get(k, 0):,}"
            for k in ("pending", "invalid", "duplicate", "existing", "triage")
        )
    )
    console.print(table)
    bad = [r for r in plan.rows if r.errors]
    for row in bad[:20]:
        console.print(f"  row {row.line}: {row.message}")
    if len(bad) > 20:
        console.print(f"  … and {len(bad) - 20:,} more invalid rows (see --results)")


def _print_job(job: Job) -> None:
    state = "[green]done[/green]" if job.state == JobState.succeeded else "[red]failed[/red]"
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(job.counts.items()))
    console.print(f"import {job.id} {state}: {counts}")
    if job.error:
        console.print(f"[red]{job.error}[/red]")


async def _write_results(session: AsyncSession, job: Job, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(RESULT_HEADERS)
        after = 0
        while rows := await service.result_rows(session, job, after_line=after, limit=5000):
            for r in rows:
                writer.writerow(
                    [
                        r.line,
                        r.status.value,
                        r.case_number or "",
                        r.case_id or "",
                        r.brand or "",
                        r.routing or "",
                        r.message,
                    ]
                )
            after = rows[-1].line
