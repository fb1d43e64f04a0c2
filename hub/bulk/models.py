"""Tables of bulk work: jobs, the rows of an import with their outcome, keys of imported rows,
and each tenant's saved column mapping."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hub.core.models import (
    JSONType,
    StrEnumType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    id_field,
    timestamp_field,
)


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


LIVE_JOB = sa.text("next_run_at IS NOT NULL")


class Job(TenantOwned, table=True):
    """A piece of long work done by whichever worker claims it, in chunks.

    ``next_run_at`` is set exactly while the job is live: queued, it is when the job may start;
    while a worker holds it, the end of that worker's lease (renewed with every chunk), after
    which any worker may claim it again and carry on where the last committed chunk left off.
    """

    __table_args__ = (
        sa.Index("ix_job_due", "next_run_at", sqlite_where=LIVE_JOB, postgresql_where=LIVE_JOB),
        sa.Index("ix_job_tenant_created", "tenant_id", "created_at"),
    )

    id: uuid.UUID = id_field()
    kind: str = Field(max_length=32)
    state: JobState = Field(default=JobState.queued, sa_type=StrEnumType(JobState, 16))
    total: int = 0
    """Units of work to do (for an import: the rows to file)."""
    done: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSONType)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """What the job works on (an import: file name, format, encoding, mapping)."""
    actor: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """Who asked for it; the work is done on their behalf."""
    created_by: str = Field(default="", max_length=200)
    error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = 0
    """Claims so far; a job that keeps failing stops after a few."""
    next_run_at: datetime | None = timestamp_field()
    lease_token: uuid.UUID | None = None
    leased_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = timestamp_field()
    done_at_claim: int = 0
    """``done`` when the current lease began: the ETA comes from the pace since then."""
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field()
    finished_at: datetime | None = timestamp_field()
    updated_at: datetime = created_at_field()


class RowStatus(StrEnum):
    pending = "pending"
    """Valid, waiting to be filed."""
    created = "created"
    linked = "linked"
    """An open case for the same order and SKU existed: the row was linked to it."""
    existing = "existing"
    """The same row was imported before (by this or an earlier file): nothing new."""
    duplicate = "duplicate"
    """The same row appears earlier in the file."""
    invalid = "invalid"
    refused = "refused"
    """Valid, but filing refused it (say, the brand requires a field the row lacks)."""
    failed = "failed"
    """Not filed because the job stopped."""


FINAL_STATUSES = frozenset(RowStatus) - {RowStatus.pending}


class ImportRow(SQLModel, table=True):
    """One data row of an imported file and what became of it.

    ``data`` holds the case to file (buyer contact included) only while the row is pending; it
    is cleared when the row is filed or given up, so personal data does not outlive the job.
    """

    __tablename__ = "import_row"
    __table_args__ = (sa.Index("ix_import_row_job_status_line", "job_id", "status", "line"),)

    job_id: uuid.UUID = Field(foreign_key="job.id", primary_key=True, ondelete="CASCADE")
    line: int = Field(primary_key=True)
    """The row's number in the spreadsheet (the header is row 1)."""
    status: RowStatus = Field(sa_type=StrEnumType(RowStatus, 16))
    row_key: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    case_id: uuid.UUID | None = None
    case_number: str | None = Field(default=None, max_length=32)
    brand: str | None = Field(default=None, max_length=200)
    routing: str | None = Field(default=None, sa_type=sa.Text)
    message: str = Field(default="", sa_type=sa.Text)


class ImportKey(SQLModel, table=True):
    """A row a tenant imported, by a digest of its content: importing it again files nothing."""

    __tablename__ = "import_key"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", primary_key=True, ondelete="CASCADE")
    row_key: str = Field(primary_key=True, max_length=64)
    case_id: uuid.UUID = Field(foreign_key="case.id", ondelete="CASCADE")
    case_number: str = Field(max_length=32)
    job_id: uuid.UUID
    created_at: datetime = created_at_field()


class ImportMapping(SQLModel, table=True):
    """A tenant's saved column mapping: which column of its spreadsheets holds which field."""

    __tablename__ = "import_mapping"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", primary_key=True, ondelete="CASCADE")
    columns: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)
    updated_at: datetime = Field(sa_type=UTCDateTime)
