"""Business calendars and SLA policies: validation, storage, and keeping running clocks right
when either changes.

A host owns both. A change never corrupts a running clock: the business time each affected clock
used so far is first folded in on the calendar in force until now, then its target, calendar and
thresholds are swapped and its due time recomputed from what is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.errors import NotFound
from hub.core.models import utcnow
from hub.core.security import Principal
from hub.core.tenancy import get_owned, scoped_select
from hub.sla import calendars, clocks, rebasing
from hub.sla.calendars import BusinessCalendar, CalendarError
from hub.sla.errors import HostOnly, InUse, InvalidSla, SlaNotFound
from hub.sla.models import Side, SlaCalendar, SlaClock, SlaPolicy
from hub.sla.schemas import CalendarIn, HolidayDay, HolidayYearRead, PolicyIn
from tenants.models import Partnership


def require_host(principal: Principal) -> None:
    if principal.tenant_kind != "host":
        raise HostOnly("SLA policies and calendars belong to hosts; brands read theirs")


# --- calendars ---------------------------------------------------------------------------------


def compile_input(data: CalendarIn) -> BusinessCalendar:
    """Validate a calendar definition (422 naming the field)."""
    try:
        compiled = calendars.build(
            time_zone=data.time_zone,
            hours=data.hours,
            closed_dates=data.closed_dates,
            working_dates=data.working_dates,
            holidays_country=data.holidays,
        )
        compiled.add(utcnow(), timedelta(hours=1))
    except CalendarError as exc:
        if exc.pointer == "#/calendar_id":  # closed dates leave no hour of work for years
            raise InvalidSla("the calendar hardly ever opens", "#/closed_dates") from exc
        raise InvalidSla(str(exc), exc.pointer) from exc
    return compiled


def _apply_calendar(row: SlaCalendar, data: CalendarIn) -> None:
    row.name = data.name
    row.time_zone = data.time_zone
    row.hours = {day: [h.strip() for h in hours] for day, hours in data.hours.items() if hours}
    row.holidays = data.holidays
    row.closed_dates = sorted({d.isoformat() for d in data.closed_dates})
    row.working_dates = sorted({d.isoformat() for d in data.working_dates})


async def list_calendars(session: AsyncSession, principal: Principal) -> list[SlaCalendar]:
    statement = scoped_select(SlaCalendar, principal).order_by(col(SlaCalendar.name))
    return list((await session.execute(statement)).scalars())


async def get_calendar(
    session: AsyncSession, principal: Principal, calendar_id: uuid.UUID
) -> SlaCalendar:
    try:
        return await get_owned(session, SlaCalendar, calendar_id, principal)
    except NotFound as exc:
        raise SlaNotFound(f"no calendar {calendar_id}") from exc


async def create_calendar(
    session: AsyncSession, principal: Principal, data: CalendarIn, *, now: datetime | None = None
) -> SlaCalendar:
    require_host(principal)
    compile_input(data)
    await _unique_name(session, SlaCalendar, principal.tenant_id, data.name, None)
    now = now or utcnow()
    row = SlaCalendar(
        tenant_id=principal.tenant_id,
        name=data.name,
        time_zone=data.time_zone,
        created_at=now,
        updated_at=now,
    )
    _apply_calendar(row, data)
    session.add(row)
    await session.flush()
    return row


async def update_calendar(
    session: AsyncSession,
    principal: Principal,
    calendar_id: uuid.UUID,
    data: CalendarIn,
    *,
    now: datetime | None = None,
) -> SlaCalendar:
    """Replace a calendar; the clocks of every policy on it are recomputed."""
    require_host(principal)
    now = now or utcnow()
    row = await get_calendar(session, principal, calendar_id)
    compile_input(data)
    await _unique_name(session, SlaCalendar, principal.tenant_id, data.name, row.id)
    policies = (
        await session.execute(select(SlaPolicy).where(col(SlaPolicy.calendar_id) == row.id))
    ).scalars()
    affected = await rebasing.live_clocks(
        session, col(SlaClock.policy_id).in_([p.id for p in policies])
    )
    await rebasing.checkpoint(session, affected, now)
    _apply_calendar(row, data)
    row.updated_at = now
    await session.flush()
    await rebasing.rebase(session, affected, {})
    return row


async def delete_calendar(
    session: AsyncSession, principal: Principal, calendar_id: uuid.UUID
) -> None:
    require_host(principal)
    row = await get_calendar(session, principal, calendar_id)
    used = (
        await session.execute(
            select(col(SlaPolicy.name)).where(col(SlaPolicy.calendar_id) == row.id).limit(1)
        )
    ).scalar_one_or_none()
    if used is not None:
        raise InUse(f"policy {used!r} uses this calendar")
    await session.delete(row)
    await session.flush()


def holiday_years(
    row: SlaCalendar, years: Iterable[int]
) -> tuple[list[HolidayYearRead], list[str]]:
    """The pre-filled public holidays of ``years`` and a warning for each year not announced."""
    if not row.holidays:
        return [], []
    out, warnings = [], []
    for year in years:
        official = calendars.holiday_year(row.holidays, year)
        out.append(
            HolidayYearRead(
                year=year,
                announced=official.announced,
                closed=[HolidayDay(date=d, name=n) for d, n in sorted(official.closed.items())],
                working=sorted(official.working),
            )
        )
        if not official.announced:
            warnings.append(
                f"{row.holidays} {year}: the official holiday schedule is not announced yet; "
                "only the statutory holidays are closed and no make-up working days are known. "
                "Add them as closed_dates / working_dates once published."
            )
    return out, warnings


def default_years(today: date) -> list[int]:
    return [today.year, today.year + 1]


# --- policies ----------------------------------------------------------------------------------


async def _unique_name(
    session: AsyncSession,
    model: type[SlaCalendar] | type[SlaPolicy],
    tenant_id: uuid.UUID,
    name: str,
    own_id: uuid.UUID | None,
) -> None:
    clash = (
        await session.execute(
            select(model.id).where(  # type: ignore[call-overload]
                col(model.tenant_id) == tenant_id, col(model.name) == name
            )
        )
    ).scalar_one_or_none()
    if clash is not None and clash != own_id:
        raise InvalidSla(f"the name {name!r} is taken", "#/name")


async def _validate_policy(session: AsyncSession, principal: Principal, data: PolicyIn) -> None:
    if data.calendar_id is not None:
        calendar = await session.get(SlaCalendar, data.calendar_id)
        if calendar is None or calendar.tenant_id != principal.tenant_id:
            raise InvalidSla("no such calendar of yours", "#/calendar_id")
    for priority, targets in data.targets.items():
        if not targets.model_dump(exclude_none=True):
            raise InvalidSla("give at least one target", f"#/targets/{priority.value}")
    for index, partnership_id in enumerate(data.partnership_ids):
        partnership = await session.get(Partnership, partnership_id)
        if partnership is None or partnership.host_id != principal.tenant_id:
            raise InvalidSla(
                "no such partnership of yours (policies belong to the host)",
                f"#/partnership_ids/{index}",
            )


def _apply_policy(row: SlaPolicy, data: PolicyIn) -> None:
    row.name = data.name
    row.is_default = data.is_default
    row.calendar_id = data.calendar_id
    row.targets = {
        priority.value: targets.model_dump(exclude_none=True)
        for priority, targets in data.targets.items()
    }
    row.warning_thresholds = list(data.warning_thresholds)
    row.escalation = [step.model_dump(mode="json") for step in data.escalation]
    row.pause_when_waiting_on_host = data.pause_when_waiting_on_host


async def list_policies(session: AsyncSession, principal: Principal) -> list[SlaPolicy]:
    """A host's own policies; for a brand, those of its partnerships (and its hosts' defaults)."""
    if principal.tenant_kind == "host":
        statement = scoped_select(SlaPolicy, principal)
    else:
        mine = select(col(Partnership.sla_policy_id)).where(
            col(Partnership.brand_id) == principal.tenant_id
        )
        hosts = select(col(Partnership.host_id)).where(
            col(Partnership.brand_id) == principal.tenant_id
        )
        statement = select(SlaPolicy).where(
            or_(
                col(SlaPolicy.id).in_(mine),
                col(SlaPolicy.is_default).is_(True) & col(SlaPolicy.tenant_id).in_(hosts),
            )
        )
    return list((await session.execute(statement.order_by(col(SlaPolicy.name)))).scalars())


async def get_policy(
    session: AsyncSession, principal: Principal, policy_id: uuid.UUID
) -> SlaPolicy:
    for policy in await list_policies(session, principal):
        if policy.id == policy_id:
            return policy
    raise SlaNotFound(f"no policy {policy_id}")


async def partnerships_of(session: AsyncSession, policy_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.execute(
        select(col(Partnership.id)).where(col(Partnership.sla_policy_id) == policy_id)
    )
    return sorted(rows.scalars())


async def create_policy(
    session: AsyncSession, principal: Principal, data: PolicyIn, *, now: datetime | None = None
) -> SlaPolicy:
    require_host(principal)
    await _validate_policy(session, principal, data)
    await _unique_name(session, SlaPolicy, principal.tenant_id, data.name, None)
    now = now or utcnow()
    row = SlaPolicy(tenant_id=principal.tenant_id, name=data.name, created_at=now, updated_at=now)
    _apply_policy(row, data)
    row.is_default = False
    session.add(row)
    await session.flush()
    await _assign(session, principal, row, data, now)
    return row


async def update_policy(
    session: AsyncSession,
    principal: Principal,
    policy_id: uuid.UUID,
    data: PolicyIn,
    *,
    now: datetime | None = None,
) -> SlaPolicy:
    """Replace a policy; its running clocks are recomputed on the new targets and calendar."""
    require_host(principal)
    now = now or utcnow()
    row = await get_owned(session, SlaPolicy, policy_id, principal, for_update=True)
    await _validate_policy(session, principal, data)
    await _unique_name(session, SlaPolicy, principal.tenant_id, data.name, row.id)
    affected = await rebasing.live_clocks(session, col(SlaClock.policy_id) == row.id)
    await rebasing.checkpoint(session, affected, now)
    was_default = row.is_default
    _apply_policy(row, data)
    row.is_default = was_default
    row.updated_at = now
    await session.flush()
    await rebasing.rebase(session, affected, {})
    await _assign(session, principal, row, data, now)
    return row


async def delete_policy(session: AsyncSession, principal: Principal, policy_id: uuid.UUID) -> None:
    """Delete a policy no clock runs on; partnerships on it fall back to the host's default."""
    require_host(principal)
    row = await get_owned(session, SlaPolicy, policy_id, principal)
    running = await rebasing.live_clocks(session, col(SlaClock.policy_id) == row.id)
    if running:
        raise InUse(f"{len(running)} running clocks use this policy; move them first")
    referenced = (
        await session.execute(select(col(SlaClock.id)).where(col(SlaClock.policy_id) == row.id))
    ).first()
    if referenced is not None:
        raise InUse("finished clocks refer to this policy (kept for the reports)")
    await session.execute(
        update(Partnership)
        .where(col(Partnership.sla_policy_id) == row.id)
        .values(sla_policy_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(row)
    await session.flush()


async def _assign(
    session: AsyncSession, principal: Principal, policy: SlaPolicy, data: PolicyIn, now: datetime
) -> None:
    """Attach ``policy`` to exactly ``data.partnership_ids`` (and make it the default if asked),
    moving the running clocks of every partnership whose policy so changes."""
    host_id = principal.tenant_id
    old_default = await clocks.default_policy(session, host_id)
    partnerships = list(
        (
            await session.execute(select(Partnership).where(col(Partnership.host_id) == host_id))
        ).scalars()
    )
    wanted = set(data.partnership_ids)
    before = {p.id: p.sla_policy_id for p in partnerships}
    for partnership in partnerships:
        if partnership.id in wanted:
            partnership.sla_policy_id = policy.id
        elif partnership.sla_policy_id == policy.id:
            partnership.sla_policy_id = None
    new_default = old_default
    if data.is_default and (old_default is None or old_default.id != policy.id):
        if old_default is not None:
            old_default.is_default = False
            await session.flush()
        policy.is_default = True
        new_default = policy
    elif not data.is_default and old_default is not None and old_default.id == policy.id:
        policy.is_default = False
        new_default = None
    await session.flush()

    def effective(policy_id: uuid.UUID | None, default: SlaPolicy | None) -> uuid.UUID | None:
        return policy_id if policy_id is not None else (default.id if default else None)

    for partnership in partnerships:
        old = effective(before[partnership.id], old_default)
        new = effective(partnership.sla_policy_id, new_default)
        if old != new and new is not None:
            await rebasing.move(
                session,
                (col(SlaClock.host_id) == host_id)
                & (col(SlaClock.brand_id) == partnership.brand_id)
                & (col(SlaClock.side) == Side.brand),
                new,
                now,
            )
    if new_default is not None and (old_default is None or old_default.id != new_default.id):
        await rebasing.move(
            session,
            (col(SlaClock.host_id) == host_id) & (col(SlaClock.side) == Side.host),
            new_default.id,
            now,
        )
