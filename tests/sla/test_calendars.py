"""Business-time arithmetic on a controlled calendar: weekends, holidays, 调休, zones, DST."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.sla import calendars
from hub.sla.calendars import BusinessCalendar, CalendarError

SH = ZoneInfo("Asia/Shanghai")
WEEKDAYS_9_21 = {day: ["09:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
H = timedelta(hours=1)


def local(*args: int, tz: ZoneInfo = SH) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def office(**overrides: object) -> BusinessCalendar:
    spec: dict[str, object] = {"time_zone": "Asia/Shanghai", "hours": WEEKDAYS_9_21}
    spec.update(overrides)
    return calendars.build(**spec)  # type: ignore[arg-type]


def test_within_one_day() -> None:
    cal = office()
    assert cal.add(local(2025, 3, 3, 10), 2 * H) == local(2025, 3, 3, 12)


def test_starting_before_opening_counts_from_opening() -> None:
    cal = office()
    assert cal.add(local(2025, 3, 3, 6, 30), 30 * timedelta(minutes=1)) == local(2025, 3, 3, 9, 30)


def test_ending_exactly_at_closing() -> None:
    cal = office()
    assert cal.add(local(2025, 3, 3, 20), H) == local(2025, 3, 3, 21)


def test_across_a_weekend() -> None:
    cal = office()
    # Friday 20:00 + 3 business hours: 1 h on Friday, then Monday 09:00 + 2 h.
    assert cal.add(local(2025, 3, 7, 20), 3 * H) == local(2025, 3, 10, 11)
    assert cal.between(local(2025, 3, 7, 20), local(2025, 3, 10, 11)) == 3 * H


def test_across_a_public_holiday() -> None:
    cal = office(holidays_country="CN")
    # 2025-05-01..05 is the Labour Day break (Thu-Mon); Wednesday 20:00 + 2 h → Tuesday 6 May.
    assert cal.add(local(2025, 4, 30, 20), 2 * H) == local(2025, 5, 6, 10)
    without = office()
    assert without.add(local(2025, 4, 30, 20), 2 * H) == local(2025, 5, 1, 10)


def test_make_up_working_saturday() -> None:
    cal = office(holidays_country="CN")
    # Saturday 2026-02-14 is a 调休 working day before the Spring Festival; Friday 20:00 + 2 h
    # continues on that Saturday with the weekday hours, not on Monday.
    assert cal.add(local(2026, 2, 13, 20), 2 * H) == local(2026, 2, 14, 10)
    assert office().add(local(2026, 2, 13, 20), 2 * H) == local(2026, 2, 16, 10)


def test_spring_festival_week_end_to_end() -> None:
    cal = office(holidays_country="CN")
    # Sat 14 Feb works; 15 Feb (Sun) to 23 Feb are off; Tue 24 Feb works again.
    start = local(2026, 2, 14, 9)
    assert cal.add(start, 12 * H) == local(2026, 2, 14, 21)
    assert cal.add(start, 13 * H) == local(2026, 2, 24, 10)
    assert cal.between(start, local(2026, 2, 24, 10)) == 13 * H


def test_tenant_overrides_beat_the_official_calendar() -> None:
    cal = office(
        holidays_country="CN",
        working_dates=[date(2025, 5, 2)],  # the team works on a holiday
        closed_dates=[date(2025, 4, 30)],  # and takes a day off before it
    )
    assert cal.add(local(2025, 4, 29, 20), 2 * H) == local(2025, 5, 2, 10)


def test_seven_by_twenty_four() -> None:
    cal = calendars.always_open("Asia/Shanghai")
    start = local(2025, 3, 7, 20)
    assert cal.add(start, 50 * H) == start + 50 * H
    assert cal.between(start, start + 50 * H) == 50 * H


def test_split_hours_and_weekend_hours() -> None:
    cal = calendars.build(
        time_zone="Asia/Shanghai",
        hours={"mon": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-12:00"]},
    )
    assert cal.add(local(2025, 3, 3, 11), 2 * H) == local(2025, 3, 3, 14)
    # Monday 17:00 + 3 h: 1 h Monday, 2 h Saturday.
    assert cal.add(local(2025, 3, 3, 17), 3 * H) == local(2025, 3, 8, 12)


def test_dst_spring_forward_counts_real_time() -> None:
    ny = ZoneInfo("America/New_York")
    cal = calendars.build(time_zone="America/New_York", hours={"sun": ["00:00-24:00"]})
    # 9 March 2025: clocks jump 02:00 → 03:00, the day lasts 23 hours.
    day_start = local(2025, 3, 9, tz=ny)
    assert cal.between(day_start, local(2025, 3, 10, tz=ny)) == 23 * H
    assert cal.add(day_start, 3 * H) == local(2025, 3, 9, 4, tz=ny)


def test_dst_fall_back_counts_real_time() -> None:
    ny = ZoneInfo("America/New_York")
    cal = calendars.build(time_zone="America/New_York", hours={"sun": ["00:00-24:00"]})
    assert cal.between(local(2025, 11, 2, tz=ny), local(2025, 11, 3, tz=ny)) == 25 * H


def test_results_are_utc_and_inputs_any_zone() -> None:
    cal = office()
    due = cal.add(datetime(2025, 3, 3, 1, tzinfo=UTC), H)  # 09:00 Shanghai
    assert due.tzinfo == UTC
    assert due == datetime(2025, 3, 3, 2, tzinfo=UTC)


def test_zero_and_negative_durations() -> None:
    cal = office()
    start = local(2025, 3, 8, 3)  # a closed Saturday night
    assert cal.add(start, timedelta(0)) == start
    assert cal.between(start + H, start) == -cal.between(start, start + H)


@pytest.mark.parametrize("seed", range(5))
def test_add_and_between_agree(seed: int) -> None:
    rng = random.Random(seed)
    cal = calendars.build(
        time_zone="Asia/Shanghai",
        hours={
            "mon": ["09:00-12:00", "13:30-21:00"],
            "wed": ["00:00-24:00"],
            "sat": ["10:00-16:00"],
        },
        holidays_country="CN",
    )
    for _ in range(200):
        start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(600_000))
        duration = timedelta(seconds=rng.randrange(1, 200 * 3600))
        due = cal.add(start, duration)
        assert cal.between(start, due) == duration
        assert cal.between(start, due - timedelta(seconds=1)) < duration


def test_unannounced_year_is_flagged_not_guessed() -> None:
    last = calendars.china_announced_through()
    announced = calendars.china_year(last)
    later = calendars.china_year(last + 1)
    assert announced.announced
    assert announced.working
    assert not later.announced
    assert later.working == frozenset()  # no make-up days invented
    assert date(last + 1, 1, 1) in later.closed  # the statutory New Year's Day is certain
    assert all("observed" not in name.lower() for name in later.closed.values())


@pytest.mark.parametrize(
    ("hours", "pointer"),
    [
        ({"mon": ["21:00-09:00"]}, "#/hours/mon/0"),
        ({"mon": ["09:00-12:00", "11:00-13:00"]}, "#/hours/mon"),
        ({"mon": ["9-12"]}, "#/hours/mon/0"),
        ({"mon": ["09:00-24:30"]}, "#/hours/mon/0"),
        ({"funday": ["09:00-12:00"]}, "#/hours/funday"),
        ({}, "#/hours"),
    ],
)
def test_bad_hours_name_the_field(hours: dict[str, list[str]], pointer: str) -> None:
    with pytest.raises(CalendarError) as caught:
        calendars.build(time_zone="Asia/Shanghai", hours=hours)
    assert caught.value.pointer == pointer


def test_unknown_time_zone() -> None:
    with pytest.raises(CalendarError) as caught:
        calendars.build(time_zone="Mars/Olympus", hours=WEEKDAYS_9_21)
    assert caught.value.pointer == "#/time_zone"


def test_a_date_cannot_be_both_closed_and_working() -> None:
    with pytest.raises(CalendarError) as caught:
        office(closed_dates=[date(2025, 3, 3)], working_dates=[date(2025, 3, 3)])
    assert caught.value.pointer == "#/working_dates"


def test_never_open_long_enough_is_an_error_not_a_hang() -> None:
    cal = office(closed_dates=[date(2025, 3, 3) + timedelta(days=i) for i in range(1200)])
    with pytest.raises(CalendarError):
        cal.add(local(2025, 3, 3), H)
