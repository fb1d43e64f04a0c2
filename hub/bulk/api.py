"""JSON API of bulk work: imports and their jobs, bulk actions, exports."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bulk import actions, checking, jobs, service
from hub.bulk.errors import FileTooLarge, InvalidMapping, RowsRejected
from hub.bulk.export import Exporter, csv_stream, xlsx_stream
from hub.bulk.mapping import known_field
from hub.bulk.models import Job, RowStatus
from hub.bulk.parsing import read_sheet
from hub.bulk.schemas import (
    BulkActionRequest,
    BulkActionResult,
    FileInfo,
    ImportReport,
    JobRead,
    MappingBody,
    Progress,
    ResultRow,
    RowError,
    RowNote,
)
from hub.cases.auth import CasesRead, CasesWrite
from hub.cases.models import Priority, Status
from hub.cases.service import CaseFilter
from hub.core.db import Database
from hub.core.deps import SessionDep, SettingsDep
from hub.core.errors import Unprocessable
from hub.core.pagination import Page
from hub.core.security import Principal
from hub.core.tenancy import get_owned
from tenants.case_types import CaseType

router = APIRouter(prefix="/v1", tags=["bulk"])

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class OnError(StrEnum):
    skip = "skip"
    """File the valid rows; the report lists the others."""
    abort = "abort"
    """Import nothing when any row is invalid (422 with the report)."""


def job_read(job: Job) -> JobRead:
    return JobRead(
        id=job.id,
        kind=job.kind,
        state=job.state.value,
        progress=Progress(**jobs.progress(job)),
        counts=job.counts,
        detail=job.detail,
        error=job.error,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        results_url=f"/v1/jobs/{job.id}/results.csv" if job.kind == service.IMPORT else None,
    )


def report_of(plan: checking.Plan, info: FileInfo, *, dry_run: bool) -> ImportReport:
    counts = plan.counts()
    counts["valid"] = counts.pop(RowStatus.pending.value, 0)
    return ImportReport(
        dry_run=dry_run,
        file=info,
        columns=plan.columns.described(),
        ignored_columns=plan.columns.ignored,
        counts=counts,
        errors=[RowError(line=r.line, **e) for r in plan.rows for e in r.errors],
        skipped=[
            RowNote(line=r.line, status=r.status, reason=r.message)
            for r in plan.rows
            if r.status in (RowStatus.duplicate, RowStatus.existing)
        ],
        warnings=[
            RowNote(line=r.line, status=RowStatus.pending, reason=w)
            for r in plan.rows
            if r.status == RowStatus.pending
            for w in r.warnings
        ],
        notes=plan.sheet.notes,
    )


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidMapping("mapping must be a JSON object", pointer="#/mapping") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidMapping("mapping maps field names to column headers", pointer="#/mapping")
    return value


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Import cases from a CSV or XLSX file (check it with dry_run first)",
    responses={200: {"description": "The dry-run report; nothing was imported"}},
)
async def create_import(
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, GBK) or XLSX")],
    mapping: Annotated[
        str | None, Form(description='JSON: field → header, e.g. {"order_id": "平台单号"}')
    ] = None,
    dry_run: Annotated[bool, Form()] = False,
    on_error: Annotated[OnError, Form()] = OnError.skip,
    encoding: Annotated[str | None, Form(max_length=20)] = None,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
    save_mapping: Annotated[bool, Form(description="Keep this mapping for next time")] = False,
) -> JSONResponse:
    data = await file.read(settings.import_max_bytes + 1)
    if len(data) > settings.import_max_bytes:
        raise FileTooLarge(f"imports are at most {settings.import_max_bytes:,} bytes")
    checking.require_host(principal)
    parsed = read_sheet(
        data,
        filename=file.filename or "",
        encoding=encoding,
        sheet=sheet,
        max_bytes=settings.import_max_bytes,
        max_rows=settings.import_max_rows,
    )
    given = _mapping(mapping)
    plan = await checking.plan_import(session, principal, parsed, mapping=given, preview=dry_run)
    info = FileInfo(
        name=file.filename or "upload",
        format=parsed.format,
        encoding=parsed.encoding,
        sheet=parsed.sheet_name,
        size=len(data),
        rows=len(parsed.rows),
    )
    report = report_of(plan, info, dry_run=dry_run)
    if dry_run:
        return JSONResponse(report.model_dump(mode="json"), status_code=status.HTTP_200_OK)
    if on_error == OnError.abort and report.errors:
        raise RowsRejected(
            f"{len(report.errors)} problems in {report.counts.get('invalid', 0)} rows",
            errors=[e.model_dump() for e in report.errors],
        )
    if save_mapping and given:
        await service.save_mapping(session, principal, given)
    job = await service.start_import(
        session,
        principal,
        plan,
        detail={
            "filename": info.name,
            "size": info.size,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    jobs.wake_after_commit(session)
    report.job = job_read(job)
    return JSONResponse(
        report.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/v1/jobs/{job.id}"},
    )


@router.get("/imports/mapping", summary="The tenant's saved column mapping")
async def read_mapping(session: SessionDep, principal: CasesRead) -> MappingBody:
    return MappingBody(columns=await checking.get_mapping(session, principal))


@router.put("/imports/mapping", summary="Save the tenant's column mapping")
async def replace_mapping(
    body: MappingBody, session: SessionDep, principal: CasesWrite
) -> MappingBody:
    unknown = [name for name in body.columns if not known_field(name)]
    if unknown:
        raise InvalidMapping(f"unknown fields: {', '.join(unknown)}", pointer="#/columns")
    return MappingBody(columns=await service.save_mapping(session, principal, body.columns))


async def _job(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    return await get_owned(session, Job, job_id, principal)


@router.get("/jobs", summary="The tenant's jobs, newest first")
async def list_jobs(
    session: SessionDep,
    principal: CasesRead,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[JobRead]:
    return [job_read(job) for job in await service.recent_jobs(session, principal, limit=limit)]


@router.get("/jobs/{job_id}", summary="A job: state, progress, ETA and counts")
async def read_job(job_id: uuid.UUID, session: SessionDep, principal: CasesRead) -> JobRead:
    return job_read(await _job(session, principal, job_id))


@router.get("/jobs/{job_id}/results", summary="An import's rows and what became of each")
async def job_results(
    job_id: uuid.UUID,
    session: SessionDep,
    principal: CasesRead,
    status_: Annotated[list[RowStatus] | None, Query(alias="status")] = None,
    after: Annotated[int, Query(ge=0, description="The last line of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Page[ResultRow]:
    job = await _job(session, principal, job_id)
    rows = await service.result_rows(session, job, after_line=after, limit=limit, status=status_)
    next_cursor = str(rows[-1].line) if len(rows) == limit else None
    return Page(items=[ResultRow.model_validate(r) for r in rows], next_cursor=next_cursor)


RESULT_HEADERS = ["line", "status", "case_number", "case_id", "brand", "routing", "message"]


@router.get("/jobs/{job_id}/results.csv", summary="An import's per-row results as CSV")
async def job_results_csv(
    job_id: uuid.UUID, request: Request, session: SessionDep, principal: CasesRead
) -> StreamingResponse:
    job = await _job(session, principal, job_id)
    db: Database = request.app.state.db

    async def rows() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow(RESULT_HEADERS)
        after = 0
        while True:
            async with db.unit_of_work(write=False) as reader:
                page = await service.result_rows(reader, job, after_line=after, limit=5000)
            for r in page:
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
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if len(page) < 5000:
                return
            after = page[-1].line

    name = f"import-{job.id.hex[:8]}-results.csv"
    return StreamingResponse(
        rows(),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/cases/bulk-actions", summary="One action on many cases, with a result per case")
async def bulk_actions(
    body: BulkActionRequest, session: SessionDep, principal: CasesWrite
) -> BulkActionResult:
    return await actions.perform(session, principal, body)


def _filters(
    status_: list[Status] | None,
    brand: str | None,
    host: str | None,
    type_: list[CaseType] | None,
    priority: list[Priority] | None,
    assignee_id: uuid.UUID | None,
    live_session_id: uuid.UUID | None,
    sku: str | None,
    q: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    external_ref: str | None,
) -> CaseFilter:
    if created_from and created_to and created_from >= created_to:
        raise Unprocessable("created_from must be before created_to", pointer="query:created_from")
    return CaseFilter(
        status=[s.value for s in status_] if status_ else None,
        brand=brand,
        host=host,
        type=[t.value for t in type_] if type_ else None,
        priority=[p.value for p in priority] if priority else None,
        assignee_id=assignee_id,
        live_session_id=live_session_id,
        sku=sku,
        q=q,
        created_from=created_from,
        created_to=created_to,
        external_ref=external_ref,
    )


async def _export(
    request: Request,
    principal: Principal,
    filters: CaseFilter,
    reveal: list[str] | None,
    fmt: str,
) -> StreamingResponse:
    exporter = Exporter(request.app.state.db, principal, filters, reveal="buyer" in (reveal or []))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        body, media, name = csv_stream(exporter), CSV_TYPE, f"cases-{stamp}.csv"
    else:
        body, media, name = xlsx_stream(exporter), XLSX_TYPE, f"cases-{stamp}.xlsx"
    return StreamingResponse(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


FilterStatus = Annotated[list[Status] | None, Query(alias="status")]
FilterType = Annotated[list[CaseType] | None, Query(alias="type")]
Reveal = Annotated[
    list[str] | None, Query(description="`buyer` shows unmasked contact (needs pii:read)")
]


@router.get("/cases/export.csv", summary="Export the filtered cases as CSV (streamed)")
async def export_csv(
    request: Request,
    principal: CasesRead,
    status_: FilterStatus = None,
    brand: Annotated[str | None, Query(max_length=63)] = None,
    host: Annotated[str | None, Query(max_length=63)] = None,
    type_: FilterType = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    assignee_id: uuid.UUID | None = None,
    live_session_id: uuid.UUID | None = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    external_ref: Annotated[str | None, Query(max_length=200)] = None,
    reveal: Reveal = None,
) -> StreamingResponse:
    filters = _filters(
        status_, brand, host, type_, priority, assignee_id, live_session_id, sku, q,
        created_from, created_to, external_ref,
    )  # fmt: skip
    return await _export(request, principal, filters, reveal, "csv")


@router.get("/cases/export.xlsx", summary="Export the filtered cases as XLSX (streamed)")
async def export_xlsx(
    request: Request,
    principal: CasesRead,
    status_: FilterStatus = None,
    brand: Annotated[str | None, Query(max_length=63)] = None,
    host: Annotated[str | None, Query(max_length=63)] = None,
    type_: FilterType = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    assignee_id: uuid.UUID | None = None,
    live_session_id: uuid.UUID | None = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    external_ref: Annotated[str | None, Query(max_length=200)] = None,
    reveal: Reveal = None,
) -> StreamingResponse:
    filters = _filters(
        status_, brand, host, type_, priority, assignee_id, live_session_id, sku, q,
        created_from, created_to, external_ref,
    )  # fmt: skip
    return await _export(request, principal, filters, reveal, "xlsx")
