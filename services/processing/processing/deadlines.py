"""Working-time deadline engine (pure: no I/O, no clock reads).

Rules (Decree 61/2018/NĐ-CP practice; the Thanh Hóa ``CaculateTime.TinhNgayHenTra`` algorithm):

* All computation is in local time, ``TZ`` (Asia/Ho_Chi_Minh, +07:00 without DST since 1975).
  Inputs must be timezone-aware (any zone); naive datetimes raise ``ValueError``. Every datetime
  returned is aware, in ``TZ``.
* A *working day* is a Monday-Friday date not in ``Calendar.days_off``, or any date in
  ``Calendar.working_weekend_days``. A *working instant* is an instant of a working day inside a
  session, sessions being half-open ``[start, end)``. The length of a working day is the total
  length of its sessions (07:00-11:30 + 13:30-17:00 = 4.5 h + 3.5 h = 8 h by default, matching
  "1 working day = 8 hours" of the legal texts).
* Working time is measured on one continuous axis: every working day contributes its sessions, in
  order, and nothing else. ``working_time_between(a, b)`` is the distance on that axis.
* Counting starts at the *counting start* of a receipt: the receipt instant itself when it is a
  working instant; otherwise the next session opening (before opening -> that day's opening,
  during the lunch break -> the afternoon opening, at or after closing or on a non-working day ->
  the next working day's opening). With ``LegalTime.same_day_cutoff``, a receipt on a working day
  at or after the cut-off (15:00 sharp included) counts from the next working day's opening.
* ``add_working_time`` adds working time on the axis. When the result falls on a session
  boundary, the *earliest* instant is returned: the session end, not the next opening (e.g.
  Monday 07:00 + 1 working day = Monday 17:00, 09:00 + 2.5 working hours = 11:30). Hence a due
  time is always a working instant or a session end of a working day (a *due instant*).
  Adding nothing returns the start itself when it is a due instant, else the next working instant.
* Units:

  - ``WORKING_DAYS``: ``amount`` x day length of working time from the counting start; fractions
    allowed (0.5 day = 4 h by default). The worked example holds: received Friday 27/10/2023 09:32,
    5 working days -> Friday 03/11/2023 09:32. ``amount == 0`` is the *same-day* rule: due at the
    closing (end of the last session) of the counting start's day; with a 15:00 cut-off a receipt
    before 15:00 on a working day is due at that day's closing, a later one (or one on a
    non-working day, or after closing) at the next working day's closing.
  - ``WORKING_HOURS``: ``amount`` hours of working time; ``amount == 0`` -> the counting start.
  - ``CALENDAR_DAYS`` (whole numbers only; a fractional amount raises ``ValueError``): the due
    keeps the clock time of the counting start. With ``holidays_count=True`` the due date is the
    counting start's date + ``amount`` calendar days; if that date is not a working day, the due
    moves to the next working day, same clock time. With ``holidays_count=False`` weekends and
    days off are not counted: the due date is the ``amount``-th working day after the counting
    start's date (day granularity, same clock time). ``amount == 0`` is the same-day rule above.
* ``same_day_cutoff`` applies to every unit (a receipt at or after the cut-off counts as received
  on the next working day); it is meant for the 0-working-day procedures.
* Monotonicity: for a fixed unit, flags and receipt, a larger amount never gives an earlier due,
  with one documented exception: the same-day rule (``amount == 0`` day units, due at closing) can
  be later than a small fractional amount of working days (e.g. 0.1 day); it is never later than
  any amount of 1 day or more.
* ``extend`` counts ``extra`` from the old due (normalised forward to a due instant when it is
  not one), ignoring ``same_day_cutoff``; an extension of 0 leaves the due unchanged.
* ``shift_by_pause`` moves the due later by the working time elapsed in ``[paused_at,
  resumed_at)``: ``add_working_time(due, working_time_between(paused_at, resumed_at))``.
* ``classify``: ``"late"`` if ``resolved_at > due``; otherwise ``"early"`` if the local date of
  ``resolved_at`` is before the local date of ``due`` (whatever the kind of day it was resolved
  on), else ``"on_time"`` (Decision 766/QĐ-TTg: before the appointment day, on time, late).

Performance: a ``Calendar`` precomputes the sorted exceptions to the Monday-Friday rule with their
prefix sums, so the rank of a date among working days and the n-th working day are O(log m)
(m = number of exceptions) for any span; no day-by-day loops.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "TZ",
    "Calendar",
    "LegalTime",
    "TimeUnit",
    "WorkingHours",
    "add_working_time",
    "classify",
    "counting_start",
    "due_at",
    "extend",
    "shift_by_pause",
    "time_left",
    "working_time_between",
]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_US_PER_SECOND = 1_000_000
_US_PER_HOUR = 3600 * _US_PER_SECOND
_ONE_US = timedelta(microseconds=1)

Classification = Literal["early", "on_time", "late"]


def _clock_us(t: time | datetime) -> int:
    """Microseconds since local midnight."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


@dataclass(frozen=True)
class WorkingHours:
    """The daily working sessions, half-open ``[start, end)``, naive local times.

    Sessions must be non-empty, each ``start < end``, sorted and non-overlapping (touching is
    allowed). The length of a working day is the sum of the session lengths (8 h by default).
    """

    sessions: tuple[tuple[time, time], ...] = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))

    def __post_init__(self) -> None:
        sessions = tuple((start, end) for start, end in self.sessions)
        if not sessions:
            raise ValueError("working hours need at least one session")
        previous_end: time | None = None
        for start, end in sessions:
            if not isinstance(start, time) or not isinstance(end, time):
                raise TypeError("session bounds must be datetime.time values")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("session bounds must be naive local times")
            if start >= end:
                raise ValueError(f"session {start}-{end} must start before it ends")
            if previous_end is not None and start < previous_end:
                raise ValueError("sessions must be sorted and must not overlap")
            previous_end = end
        object.__setattr__(self, "sessions", sessions)

    @property
    def day_length(self) -> timedelta:
        """The working time of one working day (the sum of the sessions)."""
        return timedelta(microseconds=sum(_clock_us(end) - _clock_us(start) for start, end in self.sessions))

    @property
    def opening(self) -> time:
        return self.sessions[0][0]

    @property
    def closing(self) -> time:
        return self.sessions[-1][1]


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"

    @property
    def label(self) -> str:
        """The Vietnamese label of the unit."""
        return _UNIT_LABELS[self]


_UNIT_LABELS = {
    TimeUnit.WORKING_HOURS: "giờ làm việc",
    TimeUnit.WORKING_DAYS: "ngày làm việc",
    TimeUnit.CALENDAR_DAYS: "ngày",
}


@dataclass(frozen=True)
class LegalTime:
    """A legal processing time.

    ``amount`` is finite and >= 0 (fractions allowed except for ``CALENDAR_DAYS``).
    ``holidays_count`` only affects ``CALENDAR_DAYS``; it is ignored for the working units (they
    never count weekends and days off).
    ``same_day_cutoff`` is a naive local time (e.g. 15:00).
    """

    amount: float
    unit: TimeUnit
    holidays_count: bool = False
    same_day_cutoff: time | None = None

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float):
            raise TypeError("amount must be a number")
        if not math.isfinite(self.amount) or self.amount < 0:
            raise ValueError("amount must be a finite number >= 0")
        object.__setattr__(self, "unit", TimeUnit(self.unit))
        if self.unit is TimeUnit.CALENDAR_DAYS and self.amount != int(self.amount):
            raise ValueError("calendar days must be a whole number")
        if self.same_day_cutoff is not None and self.same_day_cutoff.tzinfo is not None:
            raise ValueError("same_day_cutoff must be a naive local time")


def _weekdays_before(ordinal: int) -> int:
    """Number of Monday-Friday dates with ordinal in [1, ordinal) (ordinal 1 is a Monday)."""
    weeks, rest = divmod(ordinal - 1, 7)
    return 5 * weeks + (rest if rest < 5 else 5)


def _nth_weekday(count: int) -> int:
    """Ordinal of the Monday-Friday date that has ``count`` Monday-Friday dates before it."""
    weeks, rest = divmod(count, 5)
    return 1 + 7 * weeks + rest


class _Index:
    """Precomputed lookup structures of a calendar (all dates as proleptic ordinals)."""

    __slots__ = (
        "adjust",
        "cum_before",
        "cum_end",
        "day",
        "ends",
        "exc_extra",
        "exc_ords",
        "extra",
        "off",
        "rank_after",
        "rank_at",
        "sessions",
        "starts",
    )

    def __init__(self, days_off: frozenset[date], weekend_days: frozenset[date], hours: WorkingHours):
        extra = {d.toordinal() for d in weekend_days if d.weekday() >= 5}
        off = {d.toordinal() for d in days_off if d.weekday() < 5 and d not in weekend_days}
        self.extra = frozenset(extra)
        self.off = frozenset(off)
        exceptions = sorted([(o, -1) for o in off] + [(o, 1) for o in extra])
        self.exc_ords = [o for o, _ in exceptions]
        self.exc_extra = [sign > 0 for _, sign in exceptions]
        # adjust[i]: working days gained (extra) minus lost (off) among the first i exceptions.
        self.adjust = [0]
        for _, sign in exceptions:
            self.adjust.append(self.adjust[-1] + sign)
        # rank_at[i]: rank of exception i; rank_after[i]: rank of the day after it.
        self.rank_at = [_weekdays_before(o) + self.adjust[i] for i, o in enumerate(self.exc_ords)]
        self.rank_after = [r + (1 if x else 0) for r, x in zip(self.rank_at, self.exc_extra, strict=True)]
        self.starts = [_clock_us(s) for s, _ in hours.sessions]
        self.ends = [_clock_us(e) for _, e in hours.sessions]
        self.sessions = tuple(zip(self.starts, self.ends, strict=True))
        self.cum_before = []
        self.cum_end = []
        total = 0
        for s, e in self.sessions:
            self.cum_before.append(total)
            total += e - s
            self.cum_end.append(total)
        self.day = total

    def is_working(self, o: int) -> bool:
        return o in self.extra or ((o - 1) % 7 < 5 and o not in self.off)

    def rank(self, o: int) -> int:
        """Number of working days before ordinal ``o`` (counted from ordinal 1)."""
        return _weekdays_before(o) + self.adjust[bisect_left(self.exc_ords, o)]

    def nth(self, k: int) -> int:
        """Ordinal of the working day of rank ``k`` (the one with ``k`` working days before it)."""
        j = bisect_right(self.rank_after, k)
        if j < len(self.exc_ords) and self.exc_extra[j] and self.rank_at[j] == k:
            return self.exc_ords[j]
        return _nth_weekday(k - self.adjust[j])

    def offset(self, clock: int) -> int:
        """Working time elapsed in a working day up to ``clock``."""
        total = 0
        for s, e in self.sessions:
            if clock <= s:
                break
            total += (clock if clock < e else e) - s
        return total

    def clock_at(self, offset: int) -> int:
        """Earliest clock of a working day where ``offset`` working time has elapsed (0 < offset <= day)."""
        i = bisect_left(self.cum_end, offset)
        return self.starts[i] + offset - self.cum_before[i]

    def coord(self, o: int, clock: int) -> int:
        """Position of a local instant on the working-time axis (microseconds)."""
        base = self.rank(o) * self.day
        return base + self.offset(clock) if self.is_working(o) else base

    def from_coord(self, target: int) -> tuple[int, int]:
        """Earliest local instant at ``target`` on the axis (a session end on boundaries)."""
        if target <= 0:
            raise ValueError("date out of range")
        k, rest = divmod(target - 1, self.day)
        return self.nth(k), self.clock_at(rest + 1)

    def next_working(self, o: int, clock: int) -> tuple[int, int]:
        """The first working instant at or after the local instant."""
        if self.is_working(o):
            for s, e in self.sessions:
                if clock < e:
                    return o, (s if clock < s else clock)
            return self.nth(self.rank(o) + 1), self.starts[0]
        return self.nth(self.rank(o)), self.starts[0]

    def is_due_instant(self, o: int, clock: int) -> bool:
        """A working instant, or a session end of a working day."""
        if not self.is_working(o):
            return False
        return any(s <= clock <= e for s, e in self.sessions)

    def counting_start(self, o: int, clock: int, cutoff: time | None) -> tuple[int, int]:
        if cutoff is not None and clock >= _clock_us(cutoff) and self.is_working(o):
            return self.nth(self.rank(o) + 1), self.starts[0]
        return self.next_working(o, clock)

    def add(self, o: int, clock: int, amount_us: int) -> tuple[int, int]:
        if amount_us == 0:
            return (o, clock) if self.is_due_instant(o, clock) else self.next_working(o, clock)
        return self.from_coord(self.coord(o, clock) + amount_us)

    def add_calendar_days(self, o: int, clock: int, days: int, holidays_count: bool) -> tuple[int, int]:
        """``o`` must be a working day."""
        if holidays_count:
            target = o + days
            if not self.is_working(target):
                target = self.nth(self.rank(target))
            return target, clock
        return self.nth(self.rank(o) + days), clock


def _dates(values: Iterable[date], name: str) -> frozenset[date]:
    result = frozenset(values)
    for d in result:
        if not isinstance(d, date) or isinstance(d, datetime):
            raise TypeError(f"{name} must contain datetime.date values")
    return result


@dataclass(frozen=True)
class Calendar:
    """Working calendar: Monday-Friday, minus ``days_off``, plus ``working_weekend_days``.

    A date in ``days_off`` only matters on Monday-Friday; a date in ``working_weekend_days`` makes
    its date a working day whatever its weekday (and wins over ``days_off``).
    """

    days_off: frozenset[date] = frozenset()
    working_weekend_days: frozenset[date] = frozenset()
    hours: WorkingHours = WorkingHours()
    _index: _Index = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days_off", _dates(self.days_off, "days_off"))
        object.__setattr__(
            self, "working_weekend_days", _dates(self.working_weekend_days, "working_weekend_days")
        )
        if not isinstance(self.hours, WorkingHours):
            raise TypeError("hours must be a WorkingHours")
        object.__setattr__(self, "_index", _Index(self.days_off, self.working_weekend_days, self.hours))

    def is_working_day(self, d: date) -> bool:
        return self._index.is_working(d.toordinal())

    def is_working_instant(self, t: datetime) -> bool:
        local = _local(t, "t")
        index = self._index
        if not index.is_working(local.toordinal()):
            return False
        clock = _clock_us(local)
        return any(s <= clock < e for s, e in index.sessions)


def _local(t: datetime, name: str) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{name} must be a datetime")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return t.astimezone(TZ)


def _at(o: int, clock: int) -> datetime:
    d = date.fromordinal(o)
    seconds, micro = divmod(clock, _US_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return datetime(d.year, d.month, d.day, hour, minute, second, micro, tzinfo=TZ)


def _us(amount: timedelta) -> int:
    return amount // _ONE_US


def counting_start(
    calendar: Calendar, received_at: datetime, same_day_cutoff: time | None = None
) -> datetime:
    """The instant counting starts from for a receipt (see the module rules)."""
    local = _local(received_at, "received_at")
    return _at(*calendar._index.counting_start(local.toordinal(), _clock_us(local), same_day_cutoff))


def add_working_time(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """``start`` moved by ``amount`` of working time (negative moves back).

    The result is the earliest instant at that working-time position: a session end rather than
    the next opening. Adding zero returns ``start`` if it is a due instant (a working instant or a
    session end of a working day), else the next working instant.
    """
    local = _local(start, "start")
    o, clock = local.toordinal(), _clock_us(local)
    amount_us = _us(amount)
    if amount_us == 0 and calendar._index.is_due_instant(o, clock):
        return local
    return _at(*calendar._index.add(o, clock, amount_us))


def working_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time in ``[start, end)``; negative if ``end < start``."""
    index = calendar._index
    a = _local(start, "start")
    b = _local(end, "end")
    return timedelta(
        microseconds=index.coord(b.toordinal(), _clock_us(b)) - index.coord(a.toordinal(), _clock_us(a))
    )


def due_at(calendar: Calendar, received_at: datetime, legal: LegalTime) -> datetime:
    """The due time (ngày giờ hẹn trả) of a dossier received at ``received_at``."""
    index = calendar._index
    local = _local(received_at, "received_at")
    o, clock = index.counting_start(local.toordinal(), _clock_us(local), legal.same_day_cutoff)
    return _at(*_count(index, o, clock, legal))


def _count(index: _Index, o: int, clock: int, legal: LegalTime) -> tuple[int, int]:
    """Apply ``legal`` from the due instant ``(o, clock)``; amount 0 = same day (closing)."""
    unit = legal.unit
    if unit is TimeUnit.WORKING_HOURS:
        return index.add(o, clock, round(legal.amount * _US_PER_HOUR))
    if legal.amount == 0:
        return o, index.ends[-1]
    if unit is TimeUnit.WORKING_DAYS:
        return index.add(o, clock, round(legal.amount * index.day))
    return index.add_calendar_days(o, clock, int(legal.amount), legal.holidays_count)


def extend(calendar: Calendar, due: datetime, extra: LegalTime) -> datetime:
    """The due time after an extension of ``extra`` counted from the old due time.

    The old due is first moved forward to a due instant if it is not one; ``same_day_cutoff`` is
    ignored; an extension of 0 (any unit) leaves the due as it is.
    """
    index = calendar._index
    local = _local(due, "due")
    o, clock = local.toordinal(), _clock_us(local)
    if not index.is_due_instant(o, clock):
        o, clock = index.next_working(o, clock)
    if extra.amount == 0:
        return _at(o, clock)
    return _at(*_count(index, o, clock, extra))


def time_left(calendar: Calendar, now: datetime, due: datetime) -> timedelta:
    """Working time from ``now`` to ``due``; negative (working time overdue) once ``now > due``."""
    return working_time_between(calendar, now, due)


def classify(calendar: Calendar, due: datetime, resolved_at: datetime) -> Classification:
    """``"late"`` after the due; ``"early"`` on an earlier local date; else ``"on_time"``."""
    due_local = _local(due, "due")
    resolved_local = _local(resolved_at, "resolved_at")
    if resolved_local > due_local:
        return "late"
    if resolved_local.date() < due_local.date():
        return "early"
    return "on_time"


def shift_by_pause(calendar: Calendar, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """The due moved later by the working time elapsed during the pause ``[paused_at, resumed_at)``."""
    if _local(resumed_at, "resumed_at") < _local(paused_at, "paused_at"):
        raise ValueError("resumed_at must not be before paused_at")
    return add_working_time(calendar, due, working_time_between(calendar, paused_at, resumed_at))
