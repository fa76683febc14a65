"""The deadline watch's marks: one working day before the due time, on the engine's calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from processing.calendar_seed import SEED_YEARS, calendar_from_years, default_year
from processing.deadlines import TZ, Calendar, WorkingHours, add_working_time, time_left
from processing.service.deadlines_watch import CLEARED, due_soon_at, marks

CAL = calendar_from_years(default_year(year) for year in SEED_YEARS)
DAY = timedelta(hours=8)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("due", "soon"),
    [
        (at(2023, 11, 3, 9, 32), at(2023, 11, 2, 9, 32)),  # Friday → Thursday, same clock time
        (at(2023, 11, 6, 9, 32), at(2023, 11, 3, 9, 32)),  # Monday → the Friday before
        (at(2023, 11, 6, 17, 0), at(2023, 11, 3, 17, 0)),  # a closing → the closing before
        (at(2023, 11, 7, 7, 0), at(2023, 11, 3, 17, 0)),  # an opening → the earliest instant: a closing
        (at(2023, 11, 7, 14, 0), at(2023, 11, 6, 14, 0)),
    ],
)
def test_due_soon_is_one_working_day_before_the_due_time(due: datetime, soon: datetime) -> None:
    assert due_soon_at(CAL, due) == soon
    assert time_left(CAL, soon, due) == DAY
    # Back on the working-time axis, a day later is the due time (an opening equals the closing
    # before it there).
    assert time_left(CAL, add_working_time(CAL, soon, DAY), due) == timedelta(0)


def test_days_off_are_skipped_going_back() -> None:
    # Tết 2024: 8-14 February are days off; the first working day after is Thursday 15.
    assert not CAL.is_working_day(date(2024, 2, 14)) and CAL.is_working_day(date(2024, 2, 15))
    due = at(2024, 2, 15, 10, 0)
    assert due_soon_at(CAL, due) == at(2024, 2, 7, 10, 0)
    # The year before the due time's: the engine goes back across New Year.
    assert due_soon_at(CAL, at(2024, 1, 2, 8, 0)) == at(2023, 12, 29, 8, 0)


def test_the_day_length_is_the_calendars() -> None:
    mornings = Calendar(hours=WorkingHours(((time(8, 0), time(12, 0)),)))
    assert due_soon_at(mornings, at(2026, 12, 3, 10, 0)) == at(2026, 12, 2, 10, 0)
    assert time_left(mornings, at(2026, 12, 2, 10, 0), at(2026, 12, 3, 10, 0)) == timedelta(hours=4)


def test_marks_name_the_next_warning() -> None:
    due = at(2026, 12, 7, 9, 0)  # Monday
    assert marks(CAL, due, at(2026, 12, 3, 9, 0)) == {
        "watch": "due_soon",
        "due_soon_at": at(2026, 12, 4, 9, 0),
    }
    # Already within the last day: still due soon (the worker raises it at once).
    assert marks(CAL, due, at(2026, 12, 5, 9, 0))["watch"] == "due_soon"
    # Already past: only the overdue warning is left.
    # At the due time it is not late yet (deadlines.classify); a moment later it is.
    assert marks(CAL, due, due)["watch"] == "due_soon"
    assert marks(CAL, due, due + timedelta(milliseconds=1))["watch"] == "overdue"
    assert marks(CAL, due, due + timedelta(days=3))["watch"] == "overdue"
    assert marks(CAL, None, due) == CLEARED == {"watch": None, "due_soon_at": None}


def test_the_watch_runs_every_minute_unless_configured() -> None:
    from eventkit.config import ConfigError
    from processing.config import load_config

    base = {"MONGO_URL": "mongodb://127.0.0.1:1/"}
    assert load_config(auth=False, environ=base).deadline_watch_seconds == 60.0
    assert (
        load_config(auth=False, environ={**base, "DEADLINE_WATCH_SECONDS": "5"}).deadline_watch_seconds == 5.0
    )
    for wrong in ("soon", "0", "-1"):
        with pytest.raises(ConfigError, match="DEADLINE_WATCH_SECONDS"):
            load_config(auth=False, environ={**base, "DEADLINE_WATCH_SECONDS": wrong})
