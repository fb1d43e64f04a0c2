"""Input and output models of bulk work (the console uses the same ones)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.bulk.models import RowStatus


class RowError(BaseModel):
    line: int
    column: str
    reason: str


class RowNote(BaseModel):
    line: int
    status: RowStatus
    reason: str


class FileInfo(BaseModel):
    name: str
    format: str
    encoding: str | None
    sheet: str | None
    size: int
    rows: int


class Progress(BaseModel):
    done: int
    total: int
    percent: float
    rate_per_second: float | None
    eta_seconds: float | None


class JobRead(BaseModel):
    id: uuid.UUID
    kind: str
    state: str
    progress: Progress
    counts: dict[str, int]
    detail: dict[str, Any]
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    results_url: str | None = None


class ImportReport(BaseModel):
    """What an upload found: every bad row with its reason, and the job when one was started."""

    dry_run: bool
    file: FileInfo
    columns: dict[str, str] = Field(description="field → the column it is read from")
    ignored_columns: list[str]
    counts: dict[str, int] = Field(
        description="rows by outcome so far: valid, invalid, duplicate, existing; "
        "triage counts the valid rows routing would leave in host triage"
    )
    errors: list[RowError] = Field(description="every problem of every invalid row")
    skipped: list[RowNote] = Field(description="rows that file nothing: duplicates, existing")
    warnings: list[RowNote] = Field(description="valid rows worth a look (triage, unknown brand)")
    notes: list[str]
    job: JobRead | None = None


class ResultRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line: int
    status: RowStatus
    case_id: uuid.UUID | None
    case_number: str | None
    brand: str | None
    routing: str | None
    message: str


class MappingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str] = Field(
        description='field → header, e.g. {"order_id": "平台订单号", "sku": "商家编码"}'
    )


class BulkActionName(StrEnum):
    acknowledge = "acknowledge"
    assign = "assign"
    comment = "comment"
    request_info = "request-info"
    propose_resolution = "propose-resolution"
    resolve = "resolve"
    close = "close"
    reopen = "reopen"
    cancel = "cancel"
    reject = "reject"
    reroute = "reroute"
    escalate = "escalate"


class BulkActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: BulkActionName
    case_ids: list[uuid.UUID] = Field(min_length=1)
    body: dict[str, Any] = Field(
        default_factory=dict,
        description="What the action needs, as for one case: the action body of "
        "POST /v1/cases/{id}/actions/{action}, or {body, visibility} for a comment",
    )


class BulkOutcome(BaseModel):
    case_id: uuid.UUID
    ok: bool
    status: int = Field(description="the HTTP status this case alone would have answered")
    number: str | None = None
    case_status: str | None = None
    version: int | None = None
    problem: dict[str, Any] | None = None


class BulkActionResult(BaseModel):
    action: BulkActionName
    succeeded: int
    failed: int
    results: list[BulkOutcome]
