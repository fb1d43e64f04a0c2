"""Tables of the SLA engine: business calendars, policies, and one clock row per running target.

Only :mod:`hub.core` is imported here, so the case domain can read clocks without a cycle.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
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
)


class Metric(StrEnum):
    first_response = "first_response"
    next_response = "next_response"
    resolution = "resolution"


class Side(StrEnum):
    """Whose promise a clock measures: the brand's to the host, or the host's to the buyer."""

    host = "host"
    brand = "brand"


class ClockState(StrEnum):
    running = "running"
    paused = "paused"
    met = "met"
    """Done within the target (terminal unless a reopen resumes a resolution clock)."""
    breached = "breached"
    """The due time passed; ``completed_at`` tells whether and when the target was reached."""
    stopped = "stopped"
    """No longer measured: the case was cancelled, merged or taken from this brand."""


ACTIVE_STATES = (ClockState.running, ClockState.paused)


class SlaCalendar(TenantOwned, table=True):
    """A host's business hours: hours per weekday in a time zone, with dated overrides."""

    __tablename__ = "sla_calendar"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: uuid.UUID = id_field()
    name: str = Field(max_length=100)
    time_zone: str = Field(max_length=64)
    hours: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSONType)
    """``{"mon": ["09:00-21:00"], ...}``; a missing weekday is closed."""
    holidays: str | None = Field(default=None, max_length=8)
    """Country whose public holidays and make-up working days are pre-filled (``CN``)."""
    closed_dates: list[str] = Field(default_factory=list, sa_type=JSONType)
    """ISO dates closed whatever the weekday or the country's calendar says."""
    working_dates: list[str] = Field(default_factory=list, sa_type=JSONType)
    """ISO dates open whatever the weekday or the country's calendar says."""
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    def closed_set(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(d) for d in self.closed_dates)

    def working_set(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(d) for d in self.working_dates)


class SlaPolicy(TenantOwned, table=True):
    """What a host and a brand agreed: targets per priority, a calendar, warnings, escalation.

    Owned by the host; attached to partnerships through ``Partnership.sla_policy_id``; the host's
    ``is_default`` policy covers partnerships without one and the host's own buyer-facing clock.
    """

    __tablename__ = "sla_policy"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name"),
        sa.Index(
            "uq_sla_policy_default",
            "tenant_id",
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        ),
    )

    id: uuid.UUID = id_field()
    name: str = Field(max_length=100)
    is_default: bool = False
    calendar_id: uuid.UUID | None = Field(default=None, foreign_key="sla_calendar.id")
    """``None``: around the clock in the host's time zone."""
    targets: dict[str, dict[str, int]] = Field(default_factory=dict, sa_type=JSONType)
    """``{"urgent": {"first_response": 30, "resolution": 480}, ...}`` in business minutes."""
    warning_thresholds: list[int] = Field(default_factory=list, sa_type=JSONType)
    """Percentages of a target at which to warn, ascending (``[75, 90]``)."""
    escalation: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    """Steps taken on a breach: ``{"action": "raise_priority" | "reassign_to_lead_queue" |
    "notify", "party"?: "host" | "brand", "metrics"?: [...]}``."""
    pause_when_waiting_on_host: bool = False
    """Whether the brand's clocks also stop while the case waits on the host."""
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    def target_minutes(self, metric: Metric, priority: str) -> int | None:
        value = self.targets.get(priority, {}).get(metric.value)
        return int(value) if value else None


class SlaClock(SQLModel, table=True):
    """One measured target of one case. Lean on purpose: the sweep scans it by (state, fire_at).

    Business time is kept as ``consumed_seconds`` (before the current running stretch, which began
    at ``resumed_at``); ``due_at`` is when the target runs out if nothing pauses it, ``fire_at``
    when the sweep must next look at it (the next warning, else the due time; ``NULL`` when there
    is nothing left to fire). ``breached_at`` is the due time itself, never the sweep's time.
    """

    __tablename__ = "sla_clock"
    __table_args__ = (
        sa.Index("ix_sla_clock_state_fire", "state", "fire_at"),
        sa.Index("ix_sla_clock_case", "case_id"),
        sa.Index("ix_sla_clock_report", "host_id", "brand_id", "metric", "started_at"),
    )

    id: int | None = Field(
        default=None, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    case_id: uuid.UUID = Field(foreign_key="case.id", ondelete="CASCADE")
    host_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE")
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="tenant.id", ondelete="CASCADE")
    """The brand measured (brand side), kept when the case moves on."""
    policy_id: uuid.UUID = Field(foreign_key="sla_policy.id")
    metric: Metric = Field(sa_type=StrEnumType(Metric, 16))
    side: Side = Field(sa_type=StrEnumType(Side, 8))
    state: ClockState = Field(sa_type=StrEnumType(ClockState, 16))
    target_seconds: int
    consumed_seconds: int = 0
    started_at: datetime = Field(sa_type=UTCDateTime)
    resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fire_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warned_pct: int = Field(default=0, sa_type=sa.SmallInteger)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pause_reason: str | None = Field(default=None, max_length=300)
    breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    elapsed_seconds: int | None = None
    """Business time from start to completion, pauses left out (for attainment reports)."""
