"""Input and output models of the SLA API and of the clocks shown on a case."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hub.sla.models import ClockState, Metric, Side
from tenants.case_types import Priority

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Minutes = Annotated[int, Field(gt=0, le=366 * 24 * 60, description="Business minutes")]


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    time_zone: str = Field(default="Asia/Shanghai", max_length=64, description="IANA zone")
    hours: dict[str, list[str]] = Field(
        description='Opening hours per weekday, e.g. {"mon": ["09:00-21:00"]}; missing = closed',
        examples=[{d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}],
    )
    holidays: Literal["CN"] | None = Field(
        default=None, description="Pre-fill this country's public holidays and make-up days"
    )
    closed_dates: list[date] = Field(default_factory=list, max_length=1000)
    working_dates: list[date] = Field(default_factory=list, max_length=1000)


class HolidayDay(BaseModel):
    date: date
    name: str


class HolidayYearRead(BaseModel):
    year: int
    announced: bool
    """False: the government has not published this year's schedule; only statutory holidays are
    assumed and no make-up working days are known yet."""
    closed: list[HolidayDay]
    working: list[date]


class CalendarRead(CalendarIn):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    holiday_years: list[HolidayYearRead] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class TargetSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_response: Minutes | None = None
    next_response: Minutes | None = None
    resolution: Minutes | None = None


class EscalationAction(StrEnum):
    raise_priority = "raise_priority"
    reassign_to_lead_queue = "reassign_to_lead_queue"
    notify = "notify"


class EscalationStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: EscalationAction
    party: Literal["host", "brand"] = Field(
        default="host", description="For notify: whose lead must be told"
    )
    metrics: list[Metric] = Field(default_factory=list, description="Empty: every metric")
    sides: list[Side] = Field(default_factory=list, description="Empty: both sides' clocks")


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    is_default: bool = Field(
        default=False, description="Covers partnerships without a policy and the host's own clock"
    )
    calendar_id: uuid.UUID | None = Field(
        default=None, description="None: around the clock in the host's time zone"
    )
    targets: dict[Priority, TargetSet] = Field(min_length=1)
    warning_thresholds: list[Annotated[int, Field(gt=0, lt=100)]] = Field(
        default_factory=lambda: [75, 90], max_length=5, description="Percent of each target"
    )
    escalation: list[EscalationStep] = Field(default_factory=list, max_length=10)
    pause_when_waiting_on_host: bool = False
    partnership_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=500, description="Partnerships that agreed this policy"
    )

    @field_validator("warning_thresholds")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


class PolicyRead(BaseModel):
    id: uuid.UUID
    name: str
    is_default: bool
    calendar_id: uuid.UUID | None
    targets: dict[str, dict[str, int | None]]
    warning_thresholds: list[int]
    escalation: list[EscalationStep]
    pause_when_waiting_on_host: bool
    partnership_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


class ClockRead(BaseModel):
    """One SLA clock of a case as its reader may see it."""

    metric: Metric
    side: Side
    state: ClockState
    target_minutes: int
    started_at: datetime
    due_at: datetime | None
    remaining_seconds: int | None
    """Business seconds left (negative once overdue); ``None`` once completed or stopped."""
    paused: bool
    pause_reason: str | None
    warned_pct: int
    breached_at: datetime | None
    completed_at: datetime | None
    elapsed_seconds: int | None


class SlaFilter(StrEnum):
    at_risk = "at_risk"
    breached = "breached"


class AttainmentRow(BaseModel):
    host: str
    brand: str | None
    """``None``: the host's own buyer-facing clock."""
    metric: Metric
    completed: int
    met: int
    met_pct: float | None
    median_seconds: int | None
    p90_seconds: int | None
    open: int
    open_breached: int


class AttainmentReport(BaseModel):
    started_from: datetime | None
    started_to: datetime | None
    rows: list[AttainmentRow]
