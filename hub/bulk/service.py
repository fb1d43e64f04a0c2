"""Imports: starting the job of a checked file (:mod:`hub.bulk.checking`), filing it chunk by
chunk, and the results.

Every row of a file ends with one status (see :class:`~hub.bulk.models.RowStatus`) and a
reason, so the report says exactly which rows landed. Rows are filed through
:func:`hub.cases.filing.file_cases` — the same duplicate linking, routing, custom-field checks
and events as a case filed alone — a chunk per unit of work. A row is known by a digest of its
tenant and content (:func:`row_key`); once filed, the digest is kept (``import_key``), so the
same row uploaded again, in this file or a later one, files nothing new.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, null, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.bulk.checking import Plan, require_host
from hub.bulk.models import ImportKey, ImportMapping, ImportRow, Job, JobState, RowStatus
from hub.cases import events, filing
from hub.cases.schemas import CaseCreate
from hub.core.errors import CaseHubError
from hub.core.models import utcnow
from hub.core.security import Principal, PrincipalKind, Scope
from routing.lookups import chunked

IMPORT = "import"
JOB_RETENTION = timedelta(days=90)
"""Finished jobs and their per-row results are kept this long."""


def actor_record(principal: Principal) -> dict[str, Any]:
    return {
        "kind": principal.kind.value,
        "subject_id": str(principal.subject_id),
        "display_name": principal.display_name,
        "scopes": sorted(scope.value for scope in principal.scopes),
    }


def principal_of(job: Job) -> Principal:
    """Who the job works for, as they were when they started it."""
    actor = job.actor
    return Principal(
        kind=PrincipalKind(actor["kind"]),
        subject_id=uuid.UUID(actor["subject_id"]),
        tenant_id=job.tenant_id,
        tenant_kind="host",
        scopes=frozenset(Scope(s) for s in actor.get("scopes", [])),
        display_name=actor.get("display_name", ""),
    )


async def start_import(
    session: AsyncSession,
    principal: Principal,
    plan: Plan,
    *,
    detail: dict[str, Any],
    now: datetime | None = None,
) -> Job:
    """Create the import job and its rows; the valid rows wait for a worker."""
    require_host(principal)
    now = now or utcnow()
    pending = sum(1 for row in plan.rows if row.status == RowStatus.pending)
    counts = {k: v for k, v in plan.counts().items() if k not in ("pending", "triage")}
    job = Job(
        tenant_id=principal.tenant_id,
        kind=IMPORT,
        state=JobState.queued if pending else JobState.succeeded,
        total=pending,
        counts=counts,
        detail={
            **detail,
            "format": plan.sheet.format,
            "encoding": plan.sheet.encoding,
            "sheet": plan.sheet.sheet_name,
            "rows": len(plan.rows),
            "columns": plan.columns.described(),
        },
        actor=actor_record(principal),
        created_by=principal.display_name,
        next_run_at=now if pending else None,
        created_at=now,
        updated_at=now,
        finished_at=None if pending else now,
    )
    session.add(job)
    await session.flush()
    records = [
        {
            "job_id": job.id,
            "line": row.line,
            "status": row.status,
            "row_key": row.key,
            "case_id": None,
            "case_number": row.case_number,
            "brand": None,
            "routing": None,
            "message": row.message,
            **({"data": row.body} if row.status == RowStatus.pending else {}),
        }
        for row in plan.rows
    ]
    table = ImportRow.__table__  # type: ignore[attr-defined]
    # Rows with data and rows without go in separate statements: a JSON column stores a
    # Python None as JSON null, and only pending rows may hold the buyer's contact.
    for with_data in (True, False):
        batch = [r for r in records if ("data" in r) == with_data]
        for chunk in chunked(batch, 2000):
            await session.execute(insert(table), chunk)
    return job


async def run_import_chunk(
    session: AsyncSession, job: Job, *, limit: int, now: datetime | None = None
) -> int:
    """File up to ``limit`` pending rows of ``job`` in the caller's unit of work; returns how
    many rows it settled (0: nothing was left)."""
    now = now or utcnow()
    rows = (
        await session.execute(
            select(col(ImportRow.line), col(ImportRow.row_key), col(ImportRow.data))
            .where(col(ImportRow.job_id) == job.id, col(ImportRow.status) == RowStatus.pending)
            .order_by(col(ImportRow.line))
            .limit(limit)
        )
    ).all()
    if not rows:
        return 0
    changes: dict[int, dict[str, Any]] = {}
    known: dict[str, str] = {}
    if await _other_imports_since(session, job):
        known = await _known_keys(session, job.tenant_id, [r.row_key for r in rows if r.row_key])
    to_file: list[Any] = []
    for row in rows:
        if row.row_key in known:
            number = known[row.row_key]
            changes[row.line] = _change(RowStatus.existing, f"imported before as {number}")
            changes[row.line]["case_number"] = number
        else:
            to_file.append(row)
    principal = principal_of(job)
    results = await filing.file_cases(
        session,
        principal,
        [CaseCreate.model_validate(row.data) for row in to_file],
        now=now,
    )
    keys: list[dict[str, Any]] = []
    for row, result in zip(to_file, results, strict=True):
        if isinstance(result, CaseHubError):
            changes[row.line] = _change(RowStatus.refused, result.detail)
            continue
        case = result.case
        brand = await events.tenant(session, case.brand_id)
        status = RowStatus.linked if result.duplicate else RowStatus.created
        message = f"linked to open case {case.number}" if result.duplicate else ""
        changes[row.line] = {
            **_change(status, message),
            "case_id": case.id,
            "case_number": case.number,
            "brand": None if brand is None else brand.name,
            "routing": (case.routing or {}).get("reason"),
        }
        if row.row_key:
            keys.append(
                {
                    "tenant_id": job.tenant_id,
                    "row_key": row.row_key,
                    "case_id": case.id,
                    "case_number": case.number,
                    "job_id": job.id,
                    "created_at": now,
                }
            )
    if keys:
        await session.execute(insert(ImportKey.__table__), keys)  # type: ignore[attr-defined]
    await _settle(session, job.id, changes)
    counts = Counter(job.counts)
    counts.update(change["status"].value for change in changes.values())
    job.counts = dict(counts)
    if job.done == 0:
        await _refresh_statistics(session)
    job.done += len(rows)
    job.updated_at = now
    return len(rows)


STATISTICS_TABLES = ("case", "import_key")


async def _refresh_statistics(session: AsyncSession) -> None:
    """On PostgreSQL, analyse the tables an import fills if they were never analysed.

    A fresh database has no statistics; the planner then reads every look-up by order id as
    "most of the table" and scans it, so each chunk of a first big import costs more than the
    last. After the first chunk, the statistics make it use the (host, order id) index.
    """
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    missing = await session.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:tables) "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL"
        ),
        {"tables": list(STATISTICS_TABLES)},
    )
    for (table,) in missing.all():
        await session.execute(text(f'ANALYZE "{table}"'))


def _change(status: RowStatus, message: str) -> dict[str, Any]:
    return {
        "status": status,
        "message": message,
        "case_id": None,
        "case_number": None,
        "brand": None,
        "routing": None,
    }


async def _other_imports_since(session: AsyncSession, job: Job) -> bool:
    """Whether another import of the tenant may have filed rows since this one was checked.

    The upload already marked the rows imported before it; only an import running meanwhile
    can have filed the same rows since (the ``import_key`` constraint stops a race either way).
    """
    other = await session.execute(
        select(col(Job.id))
        .where(
            col(Job.tenant_id) == job.tenant_id,
            col(Job.kind) == IMPORT,
            col(Job.id) != job.id,
            (col(Job.next_run_at).is_not(None)) | (col(Job.finished_at) >= job.created_at),
        )
        .limit(1)
    )
    return other.first() is not None


async def _known_keys(
    session: AsyncSession, tenant_id: uuid.UUID, keys: list[str]
) -> dict[str, str]:
    known: dict[str, str] = {}
    for chunk in chunked(keys):
        rows = await session.execute(
            select(col(ImportKey.row_key), col(ImportKey.case_number)).where(
                col(ImportKey.tenant_id) == tenant_id, col(ImportKey.row_key).in_(chunk)
            )
        )
        known.update({key: number for key, number in rows.all()})
    return known


async def _settle(
    session: AsyncSession, job_id: uuid.UUID, changes: dict[int, dict[str, Any]]
) -> None:
    """Write each row's outcome and forget its data (the buyer's contact goes with it)."""
    if not changes:
        return
    table = ImportRow.__table__  # type: ignore[attr-defined]
    await session.execute(
        table.update()
        .where(table.c.job_id == bindparam("b_job"), table.c.line == bindparam("b_line"))
        .values(
            status=bindparam("status"),
            message=bindparam("message"),
            case_id=bindparam("case_id"),
            case_number=bindparam("case_number"),
            brand=bindparam("brand"),
            routing=bindparam("routing"),
            data=null(),
        ),
        [{"b_job": job_id, "b_line": line, **change} for line, change in changes.items()],
    )


async def give_up_rows(session: AsyncSession, job: Job, reason: str) -> int:
    """Mark every row still pending as failed (the job stopped): the report stays exact."""
    table = ImportRow.__table__  # type: ignore[attr-defined]
    result = await session.execute(
        table.update()
        .where(table.c.job_id == job.id, table.c.status == RowStatus.pending)
        .values(status=RowStatus.failed, message=reason, data=null())
    )
    failed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if failed:
        counts = Counter(job.counts)
        counts[RowStatus.failed.value] += failed
        job.counts = dict(counts)
    return failed


async def recount(session: AsyncSession, job: Job) -> None:
    """Set the job's counts from its rows (exact, whatever happened on the way)."""
    rows = await session.execute(
        select(col(ImportRow.status), func.count())
        .where(col(ImportRow.job_id) == job.id)
        .group_by(col(ImportRow.status))
    )
    job.counts = {status.value: int(n) for status, n in rows.all()}


async def result_rows(
    session: AsyncSession,
    job: Job,
    *,
    after_line: int = 0,
    limit: int = 1000,
    status: list[RowStatus] | None = None,
) -> list[ImportRow]:
    """The job's rows in file order after ``after_line`` (keyset pages)."""
    statement = select(ImportRow).where(
        col(ImportRow.job_id) == job.id, col(ImportRow.line) > after_line
    )
    if status:
        statement = statement.where(col(ImportRow.status).in_(status))
    result = await session.execute(statement.order_by(col(ImportRow.line)).limit(limit))
    return list(result.scalars())


async def save_mapping(
    session: AsyncSession, principal: Principal, columns: dict[str, str]
) -> dict[str, str]:
    """Replace the tenant's saved mapping (field → header)."""
    require_host(principal)
    saved = await session.get(ImportMapping, principal.tenant_id)
    if saved is None:
        saved = ImportMapping(tenant_id=principal.tenant_id, columns={}, updated_at=utcnow())
        session.add(saved)
    saved.columns = dict(columns)
    saved.updated_at = utcnow()
    await session.flush()
    return dict(saved.columns)


async def recent_jobs(session: AsyncSession, principal: Principal, *, limit: int) -> list[Job]:
    result = await session.execute(
        select(Job)
        .where(col(Job.tenant_id) == principal.tenant_id)
        .order_by(col(Job.created_at).desc(), col(Job.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def purge_finished_jobs(
    session: AsyncSession, *, now: datetime, keep: timedelta = JOB_RETENTION, batch: int = 100
) -> int:
    """Forget finished jobs (their rows and results) older than ``keep``, a batch per run."""
    old = (
        select(col(Job.id))
        .where(col(Job.next_run_at).is_(None), col(Job.finished_at) < now - keep)
        .limit(batch)
    )
    result = await session.execute(
        delete(Job)
        .where(col(Job.id).in_(old.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
