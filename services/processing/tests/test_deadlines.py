"""The working-time deadline engine: worked examples, brute-force oracles and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processing.calendar_seed import SEED_YEARS, calendar_from_years, default_year
from processing.deadlines import (
    TZ,
    Calendar,
    LegalTime,
    TimeUnit,
    WorkingHours,
    add_working_time,
    classify,
    counting_start,
    due_at,
    extend,
    shift_by_pause,
    time_left,
    working_time_between,
)

CAL = calendar_from_years(default_year(year) for year in SEED_YEARS)
PARIS = ZoneInfo("Europe/Paris")
WD, WH, CD = TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS, TimeUnit.CALENDAR_DAYS
DAY = timedelta(hours=8)
H = timedelta(hours=1)
SETTINGS = settings(max_examples=200, deadline=None)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, tz: ZoneInfo = TZ) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def days(amount: float, cutoff: time | None = None) -> LegalTime:
    return LegalTime(amount, WD, same_day_cutoff=cutoff)


def calendar_days(amount: int, holidays_count: bool) -> LegalTime:
    return LegalTime(amount, CD, holidays_count=holidays_count)


SAME_DAY = days(0, time(15, 0))


def is_due_instant(calendar: Calendar, t: datetime) -> bool:
    """A working instant, or the end of a session of a working day (the documented due instants)."""
    local = t.astimezone(TZ)
    if calendar.is_working_instant(local):
        return True
    ends = {end for _, end in calendar.hours.sessions}
    return calendar.is_working_day(local.date()) and local.timetz().replace(tzinfo=None) in ends


# -- worked examples ------------------------------------------------------------------------------

DUE_CASES = [
    # Decree 61 worked example (Mẫu 01 of the Thanh Hóa system): the weekend is skipped.
    ("worked example 27/10/2023", at(2023, 10, 27, 9, 32), days(5), at(2023, 11, 3, 9, 32)),
    # Counted from 13:30; the 8 working hours are used up at 11:30 the next day (a session end).
    ("lunch break counts from 13:30", at(2023, 10, 30, 12, 15), days(1), at(2023, 10, 31, 11, 30)),
    ("lunch break, 2 hours", at(2023, 10, 30, 12, 15), LegalTime(2, WH), at(2023, 10, 30, 15, 30)),
    ("after closing: next morning", at(2023, 10, 30, 17, 45), days(1), at(2023, 10, 31, 17, 0)),
    ("at 17:00 sharp: next morning", at(2023, 10, 30, 17, 0), days(2), at(2023, 11, 1, 17, 0)),
    ("before opening: from 07:00", at(2023, 10, 30, 6, 10), days(1), at(2023, 10, 30, 17, 0)),
    ("on a Saturday: from Monday", at(2023, 10, 28, 10, 0), days(2), at(2023, 10, 31, 17, 0)),
    ("on a holiday 30/04/2024", at(2024, 4, 30, 9, 0), days(1), at(2024, 5, 2, 17, 0)),
    ("30/04/2024 then worked Saturday 04/05", at(2024, 4, 30, 9, 0), days(3), at(2024, 5, 4, 17, 0)),
    ("worked Saturday 04/05/2024", at(2024, 5, 3, 10, 0), days(1), at(2024, 5, 4, 10, 0)),
    ("worked Saturday 05/01/2019", at(2019, 1, 4, 15, 0), days(1), at(2019, 1, 5, 15, 0)),
    ("into Tết 2024", at(2024, 2, 7, 10, 0), days(1), at(2024, 2, 15, 10, 0)),
    ("across Tết 2024", at(2024, 2, 7, 10, 0), days(2), at(2024, 2, 16, 10, 0)),
    ("received during Tết 2024", at(2024, 2, 12, 9, 0), days(1), at(2024, 2, 15, 17, 0)),
    ("across Tết 2026", at(2026, 2, 13, 16, 0), days(1), at(2026, 2, 23, 16, 0)),
    ("swapped Saturday 26/04/2025 is worked", at(2025, 4, 25, 10, 0), days(1), at(2025, 4, 26, 10, 0)),
    ("02/05/2025 is off (swap)", at(2025, 4, 25, 10, 0), days(4), at(2025, 5, 5, 10, 0)),
    ("received on 02/05/2025", at(2025, 5, 2, 8, 0), days(1), at(2025, 5, 5, 17, 0)),
    ("half a day", at(2023, 10, 30, 8, 0), days(0.5), at(2023, 10, 30, 14, 0)),
    ("one and a half days", at(2023, 10, 30, 8, 0), days(1.5), at(2023, 10, 31, 14, 0)),
    ("ten days across National Day 2024", at(2024, 8, 28, 9, 0), days(10), at(2024, 9, 13, 9, 0)),
    ("working hours", at(2023, 10, 30, 10, 0), LegalTime(4, WH), at(2023, 10, 30, 16, 0)),
    (
        "hours ending at 11:30 keep 11:30",
        at(2023, 10, 30, 9, 0),
        LegalTime(2.5, WH),
        at(2023, 10, 30, 11, 30),
    ),
    ("hours over the weekend", at(2023, 10, 27, 16, 0), LegalTime(2, WH), at(2023, 10, 30, 8, 0)),
    ("0 working hours: counting start", at(2023, 10, 28, 10, 0), LegalTime(0, WH), at(2023, 10, 30, 7, 0)),
    # Same-day procedures (cut-off 15:00).
    ("same day before 15:00", at(2023, 10, 30, 14, 59), SAME_DAY, at(2023, 10, 30, 17, 0)),
    ("same day at 15:00 sharp", at(2023, 10, 30, 15, 0), SAME_DAY, at(2023, 10, 31, 17, 0)),
    ("same day after 15:00", at(2023, 10, 30, 15, 30), SAME_DAY, at(2023, 10, 31, 17, 0)),
    ("same day before opening", at(2023, 10, 30, 6, 0), SAME_DAY, at(2023, 10, 30, 17, 0)),
    ("same day during lunch", at(2023, 10, 30, 12, 0), SAME_DAY, at(2023, 10, 30, 17, 0)),
    ("same day after closing", at(2023, 10, 30, 17, 30), SAME_DAY, at(2023, 10, 31, 17, 0)),
    ("same day, Friday after 15:00", at(2023, 10, 27, 16, 0), SAME_DAY, at(2023, 10, 30, 17, 0)),
    ("same day on a Saturday", at(2023, 10, 28, 9, 0), SAME_DAY, at(2023, 10, 30, 17, 0)),
    ("same day on 30/04/2024", at(2024, 4, 30, 10, 0), SAME_DAY, at(2024, 5, 2, 17, 0)),
    ("0 days without cut-off", at(2023, 10, 30, 16, 0), days(0), at(2023, 10, 30, 17, 0)),
    ("cut-off with 2 days", at(2023, 10, 30, 15, 30), days(2, time(15, 0)), at(2023, 11, 1, 17, 0)),
    # Calendar days.
    (
        "3 calendar days, holidays counted",
        at(2023, 10, 27, 9, 32),
        calendar_days(3, True),
        at(2023, 10, 30, 9, 32),
    ),
    (
        "1 calendar day lands on Saturday",
        at(2023, 10, 27, 9, 32),
        calendar_days(1, True),
        at(2023, 10, 30, 9, 32),
    ),
    (
        "3 calendar days, not counted",
        at(2023, 10, 27, 9, 32),
        calendar_days(3, False),
        at(2023, 11, 1, 9, 32),
    ),
    (
        "5 calendar days into Tết, counted",
        at(2024, 2, 7, 10, 0),
        calendar_days(5, True),
        at(2024, 2, 15, 10, 0),
    ),
    (
        "5 calendar days over Tết, not counted",
        at(2024, 2, 7, 10, 0),
        calendar_days(5, False),
        at(2024, 2, 21, 10, 0),
    ),
    (
        "15 calendar days after closing",
        at(2023, 10, 30, 18, 0),
        calendar_days(15, True),
        at(2023, 11, 15, 7, 0),
    ),
    ("calendar day from a holiday", at(2024, 4, 30, 10, 0), calendar_days(1, True), at(2024, 5, 3, 7, 0)),
    ("0 calendar days: same day", at(2023, 10, 30, 9, 0), calendar_days(0, True), at(2023, 10, 30, 17, 0)),
    # Time zones: any aware input, the result is in Asia/Ho_Chi_Minh.
    ("received in UTC", datetime(2023, 10, 27, 2, 32, tzinfo=UTC), days(5), at(2023, 11, 3, 9, 32)),
    ("received in Paris (CEST)", at(2023, 10, 27, 4, 32, tz=PARIS), days(5), at(2023, 11, 3, 9, 32)),
]


@pytest.mark.parametrize(
    ("received", "legal", "expected"), [c[1:] for c in DUE_CASES], ids=[c[0] for c in DUE_CASES]
)
def test_due_at(received: datetime, legal: LegalTime, expected: datetime) -> None:
    due = due_at(CAL, received, legal)
    assert due == expected
    assert due.tzinfo is TZ
    assert due.utcoffset() == timedelta(hours=7)


def test_the_worked_example_prints_friday_3_november() -> None:
    due = due_at(CAL, at(2023, 10, 27, 9, 32), LegalTime(5, TimeUnit.WORKING_DAYS))
    assert (due.isoformat(), due.strftime("%A")) == ("2023-11-03T09:32:00+07:00", "Friday")


COUNTING_START_CASES = [
    (at(2023, 10, 30, 9, 0), None, at(2023, 10, 30, 9, 0)),
    (at(2023, 10, 30, 11, 30), None, at(2023, 10, 30, 13, 30)),
    (at(2023, 10, 30, 17, 0), None, at(2023, 10, 31, 7, 0)),
    (at(2023, 10, 29, 9, 0), None, at(2023, 10, 30, 7, 0)),
    (at(2024, 2, 9, 9, 0), None, at(2024, 2, 15, 7, 0)),
    (at(2023, 10, 30, 15, 0), time(15, 0), at(2023, 10, 31, 7, 0)),
    (at(2023, 10, 28, 16, 0), time(15, 0), at(2023, 10, 30, 7, 0)),
]


@pytest.mark.parametrize(("received", "cutoff", "expected"), COUNTING_START_CASES)
def test_counting_start(received: datetime, cutoff: time | None, expected: datetime) -> None:
    assert counting_start(CAL, received, cutoff) == expected


EXTEND_CASES = [
    ("2 days from 09:32", at(2023, 11, 3, 9, 32), days(2), at(2023, 11, 7, 9, 32)),
    ("1 day from a 17:00 due", at(2023, 11, 3, 17, 0), days(1), at(2023, 11, 6, 17, 0)),
    ("4 hours", at(2023, 11, 3, 16, 0), LegalTime(4, WH), at(2023, 11, 6, 10, 0)),
    ("across Tết 2024", at(2024, 2, 7, 16, 0), days(1), at(2024, 2, 15, 16, 0)),
    ("3 calendar days counted", at(2023, 11, 3, 17, 0), calendar_days(3, True), at(2023, 11, 6, 17, 0)),
    ("3 calendar days not counted", at(2023, 11, 3, 17, 0), calendar_days(3, False), at(2023, 11, 8, 17, 0)),
    ("nothing", at(2023, 11, 3, 17, 0), days(0), at(2023, 11, 3, 17, 0)),
    ("cut-off ignored", at(2023, 11, 3, 16, 0), days(1, time(15, 0)), at(2023, 11, 6, 16, 0)),
    ("due on a Saturday moves forward first", at(2023, 11, 4, 10, 0), days(1), at(2023, 11, 6, 17, 0)),
]


@pytest.mark.parametrize(
    ("due", "extra", "expected"), [c[1:] for c in EXTEND_CASES], ids=[c[0] for c in EXTEND_CASES]
)
def test_extend(due: datetime, extra: LegalTime, expected: datetime) -> None:
    assert extend(CAL, due, extra) == expected


PAUSE_CASES = [
    # Tue 16:00-17:00, all Wednesday, Thu 07:00-08:00: 10 working hours.
    (
        "10 working hours",
        at(2023, 11, 3, 9, 32),
        at(2023, 10, 31, 16, 0),
        at(2023, 11, 2, 8, 0),
        at(2023, 11, 6, 13, 32),
    ),
    (
        "over a weekend",
        at(2023, 11, 3, 9, 32),
        at(2023, 10, 28, 10, 0),
        at(2023, 10, 29, 18, 0),
        at(2023, 11, 3, 9, 32),
    ),
    (
        "over Tết 2024",
        at(2024, 2, 20, 9, 0),
        at(2024, 2, 7, 17, 0),
        at(2024, 2, 15, 7, 0),
        at(2024, 2, 20, 9, 0),
    ),
    (
        "during lunch",
        at(2023, 11, 3, 17, 0),
        at(2023, 10, 31, 11, 30),
        at(2023, 10, 31, 13, 30),
        at(2023, 11, 3, 17, 0),
    ),
    (
        "one day",
        at(2023, 11, 3, 17, 0),
        at(2023, 10, 31, 7, 0),
        at(2023, 10, 31, 17, 0),
        at(2023, 11, 6, 17, 0),
    ),
]


@pytest.mark.parametrize(
    ("due", "paused", "resumed", "expected"), [c[1:] for c in PAUSE_CASES], ids=[c[0] for c in PAUSE_CASES]
)
def test_shift_by_pause(due: datetime, paused: datetime, resumed: datetime, expected: datetime) -> None:
    assert shift_by_pause(CAL, due, paused, resumed) == expected


def test_a_pause_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        shift_by_pause(CAL, at(2023, 11, 3, 9, 0), at(2023, 10, 31, 9, 0), at(2023, 10, 30, 9, 0))


BETWEEN_CASES = [
    (at(2023, 10, 27, 16, 0), at(2023, 10, 30, 8, 0), 2 * H),
    (at(2023, 10, 30, 8, 0), at(2023, 10, 27, 16, 0), -2 * H),
    (at(2023, 10, 30, 7, 0), at(2023, 11, 3, 17, 0), 5 * DAY),
    (at(2023, 10, 30, 6, 0), at(2023, 11, 4, 23, 0), 5 * DAY),
    (at(2024, 2, 7, 7, 0), at(2024, 2, 15, 7, 0), DAY),
    (at(2023, 10, 28, 9, 0), at(2023, 10, 29, 9, 0), timedelta(0)),
    (at(2023, 10, 30, 11, 0), at(2023, 10, 30, 14, 0), H),
    (datetime(2023, 10, 30, 1, 0, tzinfo=UTC), at(2023, 10, 30, 17, 0), 7 * H),  # from 08:00 local
]


@pytest.mark.parametrize(("start", "end", "expected"), BETWEEN_CASES)
def test_working_time_between(start: datetime, end: datetime, expected: timedelta) -> None:
    assert working_time_between(CAL, start, end) == expected


def test_time_left() -> None:
    due = at(2023, 11, 3, 9, 32)
    assert time_left(CAL, at(2023, 11, 2, 16, 0), due) == timedelta(hours=3, minutes=32)
    assert time_left(CAL, due, due) == timedelta(0)
    assert time_left(CAL, at(2023, 11, 3, 10, 0), due) == -timedelta(minutes=28)
    assert time_left(CAL, at(2023, 11, 6, 8, 0), due) == -timedelta(hours=6, minutes=28)


CLASSIFY_CASES = [
    (at(2023, 11, 3, 9, 32), at(2023, 11, 2, 16, 0), "early"),
    (at(2023, 11, 3, 9, 32), at(2023, 10, 28, 10, 0), "early"),
    (at(2023, 11, 3, 9, 32), at(2023, 11, 3, 8, 0), "on_time"),
    (at(2023, 11, 3, 9, 32), at(2023, 11, 3, 9, 32), "on_time"),
    (at(2023, 11, 3, 9, 32), at(2023, 11, 3, 9, 32) + timedelta(microseconds=1), "late"),
    (at(2023, 11, 3, 9, 32), at(2023, 11, 6, 7, 0), "late"),
    (at(2023, 11, 3, 17, 0), at(2023, 11, 3, 17, 0), "on_time"),
    # 17:30 UTC on Thursday is 00:30 on Friday in Vietnam: the due date itself.
    (at(2023, 11, 3, 9, 32), datetime(2023, 11, 2, 17, 30, tzinfo=UTC), "on_time"),
    (at(2023, 11, 3, 9, 32), datetime(2023, 11, 2, 16, 59, tzinfo=UTC), "early"),
]


@pytest.mark.parametrize(("due", "resolved", "expected"), CLASSIFY_CASES)
def test_classify(due: datetime, resolved: datetime, expected: str) -> None:
    assert classify(CAL, due, resolved) == expected


def test_working_days_and_instants() -> None:
    assert CAL.is_working_day(date(2023, 10, 27))
    assert not CAL.is_working_day(date(2023, 10, 28))
    assert not CAL.is_working_day(date(2024, 4, 30))
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2025, 5, 2))
    assert CAL.is_working_day(date(2019, 1, 5))
    assert [d for d in range(7, 16) if not CAL.is_working_day(date(2024, 2, d))] == [8, 9, 10, 11, 12, 13, 14]
    assert CAL.is_working_instant(at(2023, 10, 27, 7, 0))
    assert not CAL.is_working_instant(at(2023, 10, 27, 11, 30))
    assert CAL.is_working_instant(at(2023, 10, 27, 16, 59))
    assert not CAL.is_working_instant(at(2023, 10, 27, 17, 0))
    assert CAL.is_working_instant(datetime(2023, 10, 27, 0, 0, tzinfo=UTC))  # 07:00 local
    assert not CAL.is_working_instant(at(2025, 5, 2, 9, 0))


def test_working_hours_and_units() -> None:
    assert WorkingHours().day_length == timedelta(hours=8)
    assert (WorkingHours().opening, WorkingHours().closing) == (time(7, 0), time(17, 0))
    assert [unit.label for unit in TimeUnit] == ["giờ làm việc", "ngày làm việc", "ngày"]
    assert TimeUnit("working_days") is WD


def test_custom_working_hours() -> None:
    calendar = Calendar(frozenset(), frozenset(), WorkingHours(((time(8, 0), time(12, 0)),)))
    monday = at(2023, 10, 30, 10, 0)
    assert calendar.hours.day_length == timedelta(hours=4)
    assert due_at(calendar, monday, days(1)) == at(2023, 10, 31, 10, 0)
    assert due_at(calendar, at(2023, 10, 30, 8, 0), days(1)) == at(2023, 10, 30, 12, 0)
    assert due_at(calendar, monday, days(0.5)) == at(2023, 10, 30, 12, 0)
    assert due_at(calendar, monday, days(0, time(15, 0))) == at(2023, 10, 30, 12, 0)


def test_a_calendar_without_data_is_monday_to_friday() -> None:
    plain = Calendar()
    assert due_at(plain, at(2100, 12, 31, 9, 0), days(1)) == at(2101, 1, 3, 9, 0)
    assert due_at(plain, at(2023, 10, 27, 9, 32), days(365)) == at(2025, 3, 21, 9, 32)


def test_a_working_weekend_day_wins_over_a_day_off() -> None:
    calendar = Calendar(frozenset({date(2023, 10, 30)}), frozenset({date(2023, 10, 30)}))
    assert calendar.is_working_day(date(2023, 10, 30))
    assert due_at(calendar, at(2023, 10, 27, 10, 0), days(1)) == at(2023, 10, 30, 10, 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: WorkingHours(()),
        lambda: WorkingHours(((time(9, 0), time(8, 0)),)),
        lambda: WorkingHours(((time(8, 0), time(8, 0)),)),
        lambda: WorkingHours(((time(13, 0), time(17, 0)), (time(7, 0), time(11, 0)))),
        lambda: WorkingHours(((time(7, 0), time(12, 0)), (time(11, 0), time(17, 0)))),
        lambda: WorkingHours(((time(7, 0, tzinfo=UTC), time(12, 0)),)),
        lambda: LegalTime(-1, WD),
        lambda: LegalTime(float("nan"), WD),
        lambda: LegalTime(float("inf"), WH),
        lambda: LegalTime(1.5, CD, holidays_count=True),
        lambda: LegalTime(1, "weeks"),  # type: ignore[arg-type]
        lambda: LegalTime(0, WD, same_day_cutoff=time(15, 0, tzinfo=UTC)),
        lambda: due_at(CAL, datetime(2023, 10, 27, 9, 32), days(1)),
        lambda: working_time_between(CAL, at(2023, 10, 27), datetime(2023, 10, 28)),
    ],
)
def test_invalid_values_raise_value_error(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Calendar(frozenset({datetime(2024, 1, 1)})),
        lambda: Calendar(frozenset({"2024-01-01"})),  # type: ignore[arg-type]
        lambda: LegalTime(True, WD),
        lambda: LegalTime("1", WD),  # type: ignore[arg-type]
        lambda: WorkingHours((("07:00", "11:00"),)),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_raise_type_error(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        make()


def test_touching_sessions_are_allowed() -> None:
    hours = WorkingHours(((time(8, 0), time(10, 0)), (time(10, 0), time(12, 0))))
    calendar = Calendar(hours=hours)
    assert calendar.is_working_instant(at(2023, 10, 30, 10, 0))
    assert due_at(calendar, at(2023, 10, 30, 9, 0), LegalTime(1, WH)) == at(2023, 10, 30, 10, 0)


def test_calendars_are_values() -> None:
    again = calendar_from_years(default_year(year) for year in SEED_YEARS)
    assert again == CAL
    assert hash(again) == hash(CAL)


# -- brute-force oracles --------------------------------------------------------------------------


def test_every_seeded_day_against_a_day_by_day_count() -> None:
    """Rank and n-th working day over 2018-12..2028-01, against a plain day-by-day count."""
    first = date(2018, 12, 3)  # a Monday, a working day
    origin = datetime.combine(first, time(7, 0), TZ)
    count = 0
    day = first
    while day <= date(2028, 1, 31):
        probe = datetime.combine(day, time(8, 0), TZ)
        if CAL.is_working_day(day):
            assert working_time_between(CAL, origin, probe) == count * DAY + H, day
            assert add_working_time(CAL, origin, count * DAY + H) == probe, day
            count += 1
        else:
            assert working_time_between(CAL, origin, probe) == count * DAY, day
        day += timedelta(days=1)


def _ref_working(days_off: set[date], worked: set[date], d: date) -> bool:
    return d in worked or (d.weekday() < 5 and d not in days_off)


def _ref_sessions(calendar: Calendar, d: date) -> list[tuple[datetime, datetime]]:
    return [(datetime.combine(d, s, TZ), datetime.combine(d, e, TZ)) for s, e in calendar.hours.sessions]


def _ref_between(
    calendar: Calendar, days_off: set[date], worked: set[date], a: datetime, b: datetime
) -> timedelta:
    total = timedelta(0)
    d = a.date()
    while d <= b.date():
        if _ref_working(days_off, worked, d):
            for s, e in _ref_sessions(calendar, d):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
        d += timedelta(days=1)
    return total


def _ref_add(
    calendar: Calendar, days_off: set[date], worked: set[date], start: datetime, x: timedelta
) -> datetime:
    """Walk forward day by day; the earliest instant where ``x`` has elapsed (x > 0)."""
    d = start.date()
    while True:
        if _ref_working(days_off, worked, d):
            for s, e in _ref_sessions(calendar, d):
                lo = max(s, start)
                if e <= lo:
                    continue
                if x <= e - lo:
                    return lo + x
                x -= e - lo
        d += timedelta(days=1)


HOURS_CHOICES = [
    WorkingHours(),
    WorkingHours(((time(8, 0), time(12, 0)),)),
    WorkingHours(((time(7, 30), time(10, 0)), (time(10, 0), time(11, 45)), (time(13, 0), time(16, 30)))),
]
WINDOW = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 4, 30))
LOCAL_INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2024, 3, 31), timezones=st.just(TZ)
)


@SETTINGS
@given(
    days_off=st.sets(WINDOW, max_size=40),
    worked=st.sets(WINDOW, max_size=15),
    hours=st.sampled_from(HOURS_CHOICES),
    start=LOCAL_INSTANTS,
    end=LOCAL_INSTANTS,
    x=st.integers(1, 12 * 8 * 3600).map(lambda s: timedelta(seconds=s)),
)
def test_random_calendars_against_a_day_by_day_walk(
    days_off: set[date], worked: set[date], hours: WorkingHours, start: datetime, end: datetime, x: timedelta
) -> None:
    calendar = Calendar(frozenset(days_off), frozenset(worked), hours)
    for d in (start.date(), end.date()):
        assert calendar.is_working_day(d) == _ref_working(days_off, worked, d)
    a, b = min(start, end), max(start, end)
    assert working_time_between(calendar, a, b) == _ref_between(calendar, days_off, worked, a, b)
    assert working_time_between(calendar, b, a) == -_ref_between(calendar, days_off, worked, a, b)
    assert add_working_time(calendar, start, x) == _ref_add(calendar, days_off, worked, start, x)


# -- properties on the seeded calendar ------------------------------------------------------------

RECEIPTS = st.datetimes(
    min_value=datetime(2019, 1, 1),
    max_value=datetime(2027, 6, 30),
    timezones=st.sampled_from([TZ, ZoneInfo("UTC"), PARIS]),
)
POSITIVE_DAYS = st.one_of(st.integers(1, 30), st.floats(0.001, 30, allow_nan=False)).map(float)
CUTOFFS = st.sampled_from([None, time(15, 0)])


def legal_times(amount: st.SearchStrategy[float]) -> st.SearchStrategy[LegalTime]:
    return st.one_of(
        st.builds(LegalTime, amount, st.just(WD), same_day_cutoff=CUTOFFS),
        st.builds(LegalTime, amount.map(lambda a: a * 8), st.just(WH), same_day_cutoff=CUTOFFS),
        st.builds(
            LegalTime,
            amount.map(lambda a: float(int(a))),
            st.just(CD),
            st.booleans(),
            same_day_cutoff=CUTOFFS,
        ),
    )


@SETTINGS
@given(received=RECEIPTS, legal=legal_times(POSITIVE_DAYS), more=POSITIVE_DAYS)
def test_more_time_never_gives_an_earlier_due(received: datetime, legal: LegalTime, more: float) -> None:
    larger = LegalTime(
        legal.amount + (more if legal.unit is not CD else int(more)),
        legal.unit,
        legal.holidays_count,
        legal.same_day_cutoff,
    )
    assert due_at(CAL, received, larger) >= due_at(CAL, received, legal)


@SETTINGS
@given(
    received=RECEIPTS,
    cutoff=CUTOFFS,
    unit=st.sampled_from([WD, CD]),
    holidays=st.booleans(),
    n=st.integers(1, 30),
)
def test_the_same_day_rule_is_never_later_than_whole_days(
    received: datetime, cutoff: time | None, unit: TimeUnit, holidays: bool, n: int
) -> None:
    """The documented exception: 0 days (closing) may pass 0.1 day, never 1 day or more."""
    flag = holidays and unit is CD
    same_day = due_at(CAL, received, LegalTime(0, unit, flag, cutoff))
    assert same_day <= due_at(CAL, received, LegalTime(n, unit, flag, cutoff))
    assert same_day.timetz().replace(tzinfo=None) == time(17, 0)


@SETTINGS
@given(received=RECEIPTS, legal=legal_times(st.one_of(st.just(0.0), POSITIVE_DAYS)))
def test_a_due_is_a_working_instant_or_a_session_end_and_not_before_receipt(
    received: datetime, legal: LegalTime
) -> None:
    due = due_at(CAL, received, legal)
    assert is_due_instant(CAL, due)
    assert due >= counting_start(CAL, received, legal.same_day_cutoff) >= received
    assert due.tzinfo is TZ


@SETTINGS
@given(received=RECEIPTS, legal=legal_times(POSITIVE_DAYS), p=RECEIPTS, q=RECEIPTS)
def test_a_pause_shifts_by_its_working_time(
    received: datetime, legal: LegalTime, p: datetime, q: datetime
) -> None:
    paused, resumed = min(p, q), max(p, q)
    due = due_at(CAL, received, legal)
    pause = working_time_between(CAL, paused, resumed)
    shifted = shift_by_pause(CAL, due, paused, resumed)
    assert shifted == add_working_time(CAL, due, pause)
    assert working_time_between(CAL, due, shifted) == pause
    assert shifted >= due
    assert is_due_instant(CAL, shifted)


@SETTINGS
@given(received=RECEIPTS, x=st.integers(0, 40 * 8 * 3600 * 10**6).map(lambda us: timedelta(microseconds=us)))
def test_adding_working_time_adds_exactly_that(received: datetime, x: timedelta) -> None:
    start = counting_start(CAL, received)
    result = add_working_time(CAL, received, x)
    assert working_time_between(CAL, start, result) == x
    assert is_due_instant(CAL, result)
    assert add_working_time(CAL, result, -x) <= start


@SETTINGS
@given(received=RECEIPTS, legal=legal_times(POSITIVE_DAYS), now=RECEIPTS, other=RECEIPTS)
def test_time_left_is_the_signed_working_time_to_the_due(
    received: datetime, legal: LegalTime, now: datetime, other: datetime
) -> None:
    due = due_at(CAL, received, legal)
    assert time_left(CAL, due, due) == timedelta(0)
    left = time_left(CAL, now, due)
    assert left == -working_time_between(CAL, due, now)
    assert left == working_time_between(CAL, now, other) + time_left(CAL, other, due)
    if now > due:
        assert left <= timedelta(0)
    if left < timedelta(0):
        assert now > due


@SETTINGS
@given(received=RECEIPTS, legal=legal_times(POSITIVE_DAYS), resolved=RECEIPTS)
def test_classify_late_exactly_after_the_due(
    received: datetime, legal: LegalTime, resolved: datetime
) -> None:
    due = due_at(CAL, received, legal)
    verdict = classify(CAL, due, resolved)
    assert (verdict == "late") == (resolved > due)
    assert classify(CAL, due, due) == "on_time"


@SETTINGS
@given(received=RECEIPTS, legal=legal_times(POSITIVE_DAYS), extra=legal_times(POSITIVE_DAYS))
def test_an_extension_never_brings_the_due_earlier(
    received: datetime, legal: LegalTime, extra: LegalTime
) -> None:
    due = due_at(CAL, received, legal)
    extended = extend(CAL, due, extra)
    assert extended > due if extra.amount > 0 else extended == due
    assert is_due_instant(CAL, extended)
    if extra.unit is WD:
        expected = timedelta(microseconds=round(extra.amount * DAY // timedelta(microseconds=1)))
        assert working_time_between(CAL, due, extended) == expected
