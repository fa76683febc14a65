"""What the statistics page and the home page's headline show: a period's counters summed, and
month by month for the charts (no Flask, no pymongo).

Every read goes through portal.service.statistics: one unit's month by `_id`, a month of every
unit on the index `month`, a year on `year_unit`. A range of months reads each month in it (at
most MAX_RANGE_MONTHS of them), so the cost grows with the months asked for, never with the
number of dossiers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventkit.mongo import Db, Document
from portal.service import statistics
from portal.service.dossiers import TZ

MAX_RANGE_MONTHS = 36
FIRST_YEAR = 2000
# Ratings of the service (domain.md §2.5): counted beside the others when the lookup records them.
RATING_FIELDS = ("rated", "rating_very_satisfied", "rating_satisfied", "rating_dissatisfied")


@dataclass(frozen=True)
class Period:
    """Months `first` to `last` (YYYY-MM, inclusive) and how they were asked for."""

    kind: str  # "month", "year" or "range"
    first: str
    last: str

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        value = f"{year:04d}-{month:02d}"
        return cls("month", value, value)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("year", f"{year:04d}-01", f"{year:04d}-12")

    @classmethod
    def range(cls, first: str, last: str) -> Period:
        if last < first:
            raise ValueError("the range ends before it starts")
        if len(months_between(first, last)) > MAX_RANGE_MONTHS:
            raise ValueError(f"the range is longer than {MAX_RANGE_MONTHS} months")
        return cls("range", first, last)

    @property
    def months(self) -> list[str]:
        return months_between(self.first, self.last)


def months_between(first: str, last: str) -> list[str]:
    """Every YYYY-MM from `first` to `last`, inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    found = []
    while (year, month) <= end:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def current_year(now: datetime | None = None) -> int:
    return (now or datetime.now(TZ)).astimezone(TZ).year


def _counters(db: Db, period: Period, unit: str | None) -> list[Document]:
    if period.kind == "year":
        return statistics.year_counters(db, int(period.first[:4]), unit)
    found: list[Document] = []
    for month in period.months:
        found.extend(statistics.month_counters(db, month, unit))
    return found


def with_ratings(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with each rating field (0 when none was counted) and the satisfied share."""
    ratings = {name: int(summary.get(name) or 0) for name in RATING_FIELDS}
    pleased = ratings["rating_very_satisfied"] + ratings["rating_satisfied"]
    share = round(100 * pleased / ratings["rated"], 1) if ratings["rated"] else None
    return {**summary, **ratings, "satisfied_share": share}


def _summary(counters: Iterable[Document]) -> dict[str, Any]:
    return with_ratings(statistics.summarise(counters))


@dataclass
class Report:
    period: Period
    unit: str | None
    total: dict[str, Any]
    by_month: list[tuple[str, dict[str, Any]]]  # every month of the period, in order


def report(db: Db, period: Period, unit: str | None = None) -> Report:
    """The period's totals and each of its months, for one unit or every unit."""
    counters = _counters(db, period, unit)
    months: dict[str, list[Document]] = {month: [] for month in period.months}
    for counter in counters:
        months.setdefault(str(counter.get("month")), []).append(counter)
    by_month = [(month, _summary(months[month])) for month in period.months]
    return Report(period=period, unit=unit, total=_summary(counters), by_month=by_month)


def headline(db: Db, now: datetime | None = None) -> dict[str, Any]:
    """This year's totals of every unit (the home page's figures)."""
    year = current_year(now)
    return {"year": year, **_summary(statistics.year_counters(db, year))}
