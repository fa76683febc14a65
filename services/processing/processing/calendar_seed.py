"""The default working calendar of a year, built from the ``holidays`` package (pure, no I/O).

The package is the source of truth for the published dates (Labour Code 2019 Art. 112, the yearly
Tết and National Day decisions, the Ministry's swap days). Its Vietnamese names are used as is
(``language="vi"``).

A year document (the shape the processing service stores, one per year)::

    {"year": 2025,
     "days_off": [{"date": "2025-05-02", "kind": "swap",
                   "name": "Ngày nghỉ (thay cho ngày 26/04/2025)"}, ...],
     "working_days": [{"date": "2025-04-26", "name": "Ngày làm việc bù cho ngày nghỉ 02/05/2025"}],
     "hours": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]}

* ``days_off`` holds Monday-Friday dates only: a holiday on a Saturday or Sunday is not worked
  anyway, and the weekday that compensates it is its own entry. ``kind`` is ``"swap"`` for a day
  off exchanged with a worked weekend day, ``"compensatory"`` for a day off that exists only
  because a holiday fell on a weekend (nghỉ bù, and the extra Tết days such as "29 Tết"),
  ``"holiday"`` otherwise.
* ``working_days`` holds the worked Saturdays and Sundays of the year (the package's
  ``weekend_workdays``), named after the day off they pay for when the package names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

import holidays

from processing import deadlines

__all__ = ["DEFAULT_HOURS", "SEED_YEARS", "calendar_from_years", "default_year"]

SEED_YEARS = range(2019, 2028)

DEFAULT_HOURS: list[dict[str, str]] = [
    {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"} for start, end in deadlines.WorkingHours().sessions
]

WORKING_DAY_NAME = "Ngày làm việc bù"

# The package names a swap day off after the worked weekend day: "Ngày nghỉ (thay cho ngày 26/04/2025)".
_NAMED_DATE = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")


def _vietnam(years: list[int], observed: bool) -> Any:
    return holidays.country_holidays("VN", years=years, language="vi", observed=observed)


def default_year(year: int) -> dict[str, Any]:
    """The default calendar document of ``year`` (dates as ISO strings, names in Vietnamese)."""
    # The neighbouring years are loaded too: a swap can cross the new year (31/12/2018 off,
    # Saturday 05/01/2019 worked).
    around = [year - 1, year, year + 1]
    with_observed = _vietnam(around, observed=True)
    without_observed = _vietnam(around, observed=False)
    worked = {d for d in getattr(with_observed, "weekend_workdays", ()) if d.weekday() >= 5}

    day_off_for: dict[date, date] = {}  # worked weekend day -> the day off it pays for
    for day, name in with_observed.items():
        for match in _NAMED_DATE.finditer(name):
            dd, mm, yyyy = (int(g) for g in match.groups())
            try:
                named = date(yyyy, mm, dd)
            except ValueError:
                continue
            if named in worked:
                day_off_for[named] = day
    swap_days = set(day_off_for.values())

    days_off = []
    for day, name in sorted(with_observed.items()):
        if day.year != year or day.weekday() >= 5:
            continue
        if day in swap_days:
            kind = "swap"
        elif day not in without_observed:
            kind = "compensatory"
        else:
            kind = "holiday"
        days_off.append({"date": day.isoformat(), "name": name, "kind": kind})

    working_days = []
    for day in sorted(d for d in worked if d.year == year):
        off = day_off_for.get(day)
        name = f"{WORKING_DAY_NAME} cho ngày nghỉ {off:%d/%m/%Y}" if off else WORKING_DAY_NAME
        working_days.append({"date": day.isoformat(), "name": name})

    return {
        "year": year,
        "days_off": days_off,
        "working_days": working_days,
        "hours": [dict(session) for session in DEFAULT_HOURS],
    }


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"not a date: {value!r}")


def _to_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        return time.fromisoformat(value)
    raise TypeError(f"not a time: {value!r}")


def calendar_from_years(years: Iterable[Mapping[str, Any]]) -> deadlines.Calendar:
    """The engine calendar of the stored year documents (shape of ``default_year``).

    Dates may be ISO strings, dates or datetimes; times ``"HH:MM"`` strings or times. Extra keys
    (``version``, ``source``...) are ignored. Working hours are assumed the same every year; when
    they differ, those of the latest year (the largest ``year``; documents without ``year`` come
    before any with one, then by position) are used for all dates. No ``hours``: the defaults.
    """
    days_off: set[date] = set()
    working: set[date] = set()
    hours: Any = None
    hours_key: tuple[int, int] | None = None
    for position, document in enumerate(years):
        days_off.update(_to_date(entry["date"]) for entry in document.get("days_off", ()))
        working.update(_to_date(entry["date"]) for entry in document.get("working_days", ()))
        if document.get("hours"):
            year = document.get("year")
            key = (int(year) if year is not None else -1, position)
            if hours_key is None or key > hours_key:
                hours, hours_key = document["hours"], key
    sessions = tuple((_to_time(s["start"]), _to_time(s["end"])) for s in hours or DEFAULT_HOURS)
    return deadlines.Calendar(
        days_off=frozenset(days_off),
        working_weekend_days=frozenset(working),
        hours=deadlines.WorkingHours(sessions),
    )
