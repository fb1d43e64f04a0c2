"""JSON API of the SLA engine: business calendars, policies, and the attainment report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.deps import SessionDep
from hub.core.errors import Unprocessable
from hub.core.models import utcnow
from hub.sla import reports, service
from hub.sla.auth import ReportsRead, SlaManage, SlaRead
from hub.sla.models import Metric, SlaCalendar, SlaPolicy
from hub.sla.schemas import (
    AttainmentReport,
    CalendarIn,
    CalendarRead,
    EscalationStep,
    PolicyIn,
    PolicyRead,
)

router = APIRouter(prefix="/v1", tags=["sla"])

Years = Annotated[
    list[int] | None,
    Query(description="Years whose public holidays to list (default: this year and next)"),
]


def calendar_read(row: SlaCalendar, years: list[int] | None = None) -> CalendarRead:
    chosen = years or service.default_years(utcnow().date())
    holiday_years, warnings = service.holiday_years(row, chosen)
    return CalendarRead(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        hours=row.hours,
        holidays=row.holidays,
        closed_dates=row.closed_set(),
        working_dates=row.working_set(),
        created_at=row.created_at,
        updated_at=row.updated_at,
        holiday_years=holiday_years,
        warnings=warnings,
    )


async def policy_read(session: AsyncSession, row: SlaPolicy) -> PolicyRead:
    return PolicyRead(
        id=row.id,
        name=row.name,
        is_default=row.is_default,
        calendar_id=row.calendar_id,
        targets=row.targets,
        warning_thresholds=row.warning_thresholds,
        escalation=[EscalationStep.model_validate(step) for step in row.escalation],
        pause_when_waiting_on_host=row.pause_when_waiting_on_host,
        partnership_ids=await service.partnerships_of(session, row.id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("/sla/calendars", summary="The host's business calendars")
async def list_calendars(session: SessionDep, principal: SlaRead) -> list[CalendarRead]:
    return [calendar_read(row) for row in await service.list_calendars(session, principal)]


@router.post(
    "/sla/calendars", status_code=status.HTTP_201_CREATED, summary="Create a business calendar"
)
async def create_calendar(
    body: CalendarIn, session: SessionDep, principal: SlaManage
) -> CalendarRead:
    return calendar_read(await service.create_calendar(session, principal, body))


@router.get("/sla/calendars/{calendar_id}", summary="A calendar, with its pre-filled holidays")
async def read_calendar(
    calendar_id: uuid.UUID, session: SessionDep, principal: SlaRead, year: Years = None
) -> CalendarRead:
    if year and any(not 1950 <= y <= 2100 for y in year):
        raise Unprocessable("years run from 1950 to 2100", pointer="query:year")
    return calendar_read(await service.get_calendar(session, principal, calendar_id), year)


@router.put("/sla/calendars/{calendar_id}", summary="Replace a calendar (clocks recomputed)")
async def update_calendar(
    calendar_id: uuid.UUID, body: CalendarIn, session: SessionDep, principal: SlaManage
) -> CalendarRead:
    return calendar_read(await service.update_calendar(session, principal, calendar_id, body))


@router.delete(
    "/sla/calendars/{calendar_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a calendar no policy uses",
)
async def delete_calendar(
    calendar_id: uuid.UUID, session: SessionDep, principal: SlaManage
) -> Response:
    await service.delete_calendar(session, principal, calendar_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sla/policies", summary="SLA policies (a brand sees those of its partnerships)")
async def list_policies(session: SessionDep, principal: SlaRead) -> list[PolicyRead]:
    return [await policy_read(session, p) for p in await service.list_policies(session, principal)]


@router.post("/sla/policies", status_code=status.HTTP_201_CREATED, summary="Create a policy")
async def create_policy(body: PolicyIn, session: SessionDep, principal: SlaManage) -> PolicyRead:
    return await policy_read(session, await service.create_policy(session, principal, body))


@router.get("/sla/policies/{policy_id}", summary="Read a policy")
async def read_policy(policy_id: uuid.UUID, session: SessionDep, principal: SlaRead) -> PolicyRead:
    return await policy_read(session, await service.get_policy(session, principal, policy_id))


@router.put("/sla/policies/{policy_id}", summary="Replace a policy (running clocks recomputed)")
async def update_policy(
    policy_id: uuid.UUID, body: PolicyIn, session: SessionDep, principal: SlaManage
) -> PolicyRead:
    row = await service.update_policy(session, principal, policy_id, body)
    return await policy_read(session, row)


@router.delete(
    "/sla/policies/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a policy no clock uses",
)
async def delete_policy(
    policy_id: uuid.UUID, session: SessionDep, principal: SlaManage
) -> Response:
    await service.delete_policy(session, principal, policy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/reports/sla", summary="SLA attainment per partnership: % met, median and p90 times")
async def sla_report(
    session: SessionDep,
    principal: ReportsRead,
    started_from: Annotated[datetime | None, Query(alias="from")] = None,
    started_to: Annotated[datetime | None, Query(alias="to")] = None,
    metric: Metric | None = None,
) -> AttainmentReport:
    for name, value in (("from", started_from), ("to", started_to)):
        if value is not None and value.tzinfo is None:
            raise Unprocessable(f"{name} needs a time zone (e.g. Z)", pointer=f"query:{name}")
    if started_from and started_to and started_from >= started_to:
        raise Unprocessable("from must be before to", pointer="query:from")
    return await reports.attainment(
        session, principal, started_from=started_from, started_to=started_to, metric=metric
    )
