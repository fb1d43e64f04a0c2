"""Business-time arithmetic: when N business seconds after a moment falls, and how many business
seconds lie between two moments, on a calendar of weekly hours in a time zone with closed dates
and extra working days (China's public holidays and 调休 make-up working days pre-filled).

Exact and DST-safe: each day's opening hours are wall-clock times in the calendar's zone, turned
into UTC instants with :mod:`zoneinfo`; business time is real elapsed time inside those intervals
(a 00:00-24:00 day on which the clocks go back lasts 25 hours). All arithmetic is on
:class:`~datetime.timedelta`, never floats. Inputs and outputs are aware datetimes; outputs are UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.countries.china import ChinaStaticHolidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MAX_SEARCH_DAYS = 3 * 366
"""A target that does not fit in three years of opening hours is refused, not searched forever."""

Interval = tuple[int, int]
"""Opening hours of one day as minutes after local midnight, start < end ≤ 1440."""

_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class CalendarError(ValueError):
    """An invalid calendar definition; ``pointer`` names the offending field."""

    def __init__(self, message: str, pointer: str) -> None:
        super().__init__(message)
        self.pointer = pointer


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` or :class:`CalendarError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {name!r}", "#/time_zone") from exc


def parse_hours(hours: Mapping[str, Sequence[str]]) -> tuple[tuple[Interval, ...], ...]:
    """Parse ``{"mon": ["09:00-12:00", "13:00-21:00"], ...}`` into seven sorted interval tuples.

    A missing or empty weekday is closed; ``24:00`` ends a day. Raises :class:`CalendarError` for
    an unknown weekday, a malformed, empty, inverted or overlapping interval.
    """
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise CalendarError(f"unknown weekday {unknown[0]!r}", f"#/hours/{unknown[0]}")
    week: list[tuple[Interval, ...]] = []
    for day in WEEKDAYS:
        parsed: list[Interval] = []
        for index, text in enumerate(hours.get(day, ())):
            pointer = f"#/hours/{day}/{index}"
            match = _HOURS.match(text.strip())
            if not match:
                raise CalendarError(f"{text!r} is not HH:MM-HH:MM", pointer)
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
                raise CalendarError(f"{text!r} is not a time of day", pointer)
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if start >= end:
                raise CalendarError(f"{text!r} ends before it starts", pointer)
            parsed.append((start, end))
        ordered = sorted(parsed)
        for (_, end), (start, _) in pairwise(ordered):
            if start < end:
                raise CalendarError(f"opening hours of {day} overlap", f"#/hours/{day}")
        week.append(tuple(ordered))
    return tuple(week)


def format_interval(interval: Interval) -> str:
    (h1, m1), (h2, m2) = divmod(interval[0], 60), divmod(interval[1], 60)
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


ALWAYS_OPEN: tuple[tuple[Interval, ...], ...] = tuple(((0, MINUTES_PER_DAY),) for _ in WEEKDAYS)


# --- public holidays ---------------------------------------------------------------------------

SUPPORTED_HOLIDAYS = frozenset({"CN"})


@dataclass(frozen=True, slots=True)
class HolidayYear:
    """One year of a country's official calendar: days off, make-up working days, and whether the
    government has announced that year's schedule (else only the statutory days are known)."""

    year: int
    announced: bool
    closed: Mapping[date, str]
    working: frozenset[date]


def china_announced_through() -> int:
    """The last year whose State Council schedule (days off and 调休) the package carries."""
    return max(ChinaStaticHolidays.special_public_holidays)


@lru_cache(maxsize=64)
def china_year(year: int) -> HolidayYear:
    """China's days off and make-up working days in ``year``.

    For an announced year: the official schedule, substituted days off included. For a later year
    the State Council has not published yet: the statutory holidays only (fixed by law), no
    make-up days, and ``announced`` false so the caller can flag it rather than guess silently.
    """
    announced = year <= china_announced_through()
    table = holidays.China(years=year, observed=announced, language="en_US")
    closed = {day: str(name) for day, name in table.items() if day.year == year}
    working = frozenset(d for d in table.weekend_workdays if d.year == year) if announced else ()
    return HolidayYear(year, announced, closed, frozenset(working))


def holiday_year(country: str, year: int) -> HolidayYear:
    if country == "CN":
        return china_year(year)
    raise CalendarError(f"no public holidays known for {country!r}", "#/holidays")


# --- the calendar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening hours in ``tz`` with date overrides.

    Precedence for a date: the tenant's ``closed`` dates, then the tenant's ``working`` dates, then
    the country's public holidays, then its make-up working days, then the weekday's hours. An
    extra working day that is normally closed (a 调休 Saturday) opens with ``workday_hours``.
    """

    tz: ZoneInfo
    week: tuple[tuple[Interval, ...], ...] = ALWAYS_OPEN
    closed: frozenset[date] = frozenset()
    working: frozenset[date] = frozenset()
    country: str | None = None
    _days: dict[date, tuple[Interval, ...]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not any(self.week) and not self.working:
            raise CalendarError("the calendar is never open", "#/hours")

    @property
    def workday_hours(self) -> tuple[Interval, ...]:
        for intervals in self.week[:5]:
            if intervals:
                return intervals
        return next(intervals for intervals in self.week if intervals)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The opening hours of local date ``day`` (empty when closed)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        hours = self._resolve(day)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[day] = hours
        return hours

    def _resolve(self, day: date) -> tuple[Interval, ...]:
        usual = self.week[day.weekday()]
        if day in self.closed:
            return ()
        if day in self.working:
            return usual or self.workday_hours
        if self.country:
            official = holiday_year(self.country, day.year)
            if day in official.closed:
                return ()
            if day in official.working:
                return usual or self.workday_hours
        return usual

    def _instant(self, day: date, minute: int) -> datetime:
        if minute >= MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)
        return local.astimezone(UTC)

    def segments(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) from the local day containing ``start`` on, for at most
        :data:`MAX_SEARCH_DAYS` days; those wholly before ``start`` are left out."""
        start = _aware(start)
        day = start.astimezone(self.tz).date() - timedelta(days=1)  # a DST edge can straddle
        for _ in range(MAX_SEARCH_DAYS):
            for first, last in self.hours_on(day):
                begin, end = self._instant(day, first), self._instant(day, last)
                if end > start:
                    yield max(begin, start), end
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed since ``start``.

        A zero or negative duration answers ``start`` itself. Raises :class:`CalendarError` when
        the calendar does not open for that long within :data:`MAX_SEARCH_DAYS` days.
        """
        start = _aware(start).astimezone(UTC)
        if duration <= timedelta(0):
            return start
        remaining = duration
        for begin, end in self.segments(start):
            available = end - begin
            if available >= remaining:
                return begin + remaining
            remaining -= available
        raise CalendarError("the calendar does not open for that long", "#/calendar_id")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        start, end = _aware(start), _aware(end)
        if end < start:
            return -self.between(end, start)
        total = timedelta(0)
        for begin, finish in self.segments(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total

    def holiday_years(self, years: Iterable[int]) -> list[HolidayYear]:
        if not self.country:
            return []
        return [holiday_year(self.country, year) for year in years]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return value


def always_open(tz_name: str) -> BusinessCalendar:
    """7x24 in ``tz_name`` (the calendar of a policy that names none)."""
    return BusinessCalendar(tz=zone(tz_name))


def build(
    *,
    time_zone: str,
    hours: Mapping[str, Sequence[str]],
    closed_dates: Iterable[date] = (),
    working_dates: Iterable[date] = (),
    holidays_country: str | None = None,
) -> BusinessCalendar:
    """Validate and compile a calendar definition (raises :class:`CalendarError`)."""
    tz = zone(time_zone)
    week = parse_hours(hours)
    closed, working = frozenset(closed_dates), frozenset(working_dates)
    both = sorted(closed & working)
    if both:
        raise CalendarError(f"{both[0]} is both closed and a working day", "#/working_dates")
    if holidays_country is not None and holidays_country not in SUPPORTED_HOLIDAYS:
        raise CalendarError(f"no public holidays known for {holidays_country!r}", "#/holidays")
    return BusinessCalendar(
        tz=tz, week=week, closed=closed, working=working, country=holidays_country
    )
