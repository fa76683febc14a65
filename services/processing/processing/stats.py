"""Statistics of dossier processing (Decision 766/QĐ-TTg practice) and the tracking register (Mẫu 06).

Pure: no Flask, no pymongo, no clock reads. The store keeps counter documents and each dossier's
*standing*; this module says what one event changes, how stored counters read as a report, and how
dossier documents print as the register.

Counters
========
One counter document per key ``(receiving unit, procedure code, filing channel, month "YYYY-MM")``,
the month in local time (``deadlines.TZ``). Every stored field is changed only by ``$inc`` with the
deltas of one event (never recounted):

================================  ====================================================================
``received_new_<channel>``        +1 in the month of receipt (``received_at``), when processing takes
                                  the dossier in: ``dossier.accepted`` (online filings after the
                                  counter's check), or intake's ``dossier.submitted`` with channel
                                  ``counter`` (received on arrival). Whichever comes first counts;
                                  the other changes nothing. ``<channel>`` is the filing ``channel``
                                  of the events: ``online``, ``counter``, or ``post`` (intake files
                                  postal dossiers at the counter today, so ``received_new_post``
                                  counts only events whose ``channel`` is ``"post"``; the result's
                                  ``delivery`` method is not the filing channel and is not used).
``in_progress_on_time``           stock kept as its monthly change: +1 on receipt; −1 when the
``in_progress_overdue``           dossier moves (``dossier.overdue``: on time → overdue;
                                  ``dossier.extended`` to a due time after the event: overdue → on
                                  time) or closes, in the month of that event.
``resolved_early/on_time/late``   +1 by ``timeliness`` in the month of ``resolved_at`` for the
                                  outcomes that are a decision of the administration: ``returned``,
                                  ``rejected``, ``stopped`` (the contract counts them resolved).
``returned``, ``rejected``,       +1 each for that final event of a received dossier, in the month
``stopped``, ``withdrawn``        of ``resolved_at``. A withdrawal is not a resolution (no decision
                                  was taken, so it is neither early nor late); a withdrawal before
                                  receipt (an online filing still waiting for its check) is not
                                  counted: that dossier was never received.
``refused``                       +1 for ``dossier.refused`` (Mẫu 03, refusal at the counter's
                                  check), in the month of the event. A refused dossier was never
                                  received, so it is outside the balance below.
================================  ====================================================================

``carried_over`` is **not stored**: it is computed when reading, as the in-progress stock at the end
of the previous month, i.e. the sum of the ``in_progress_*`` changes of all earlier months of the
key. That equals the previous month's ``carried_over + received_new − resolved − withdrawn``. Each
series also keeps its stock changes summed over all months (``stock_totals``), so the stock before a
period is also the total less the changes from the period on (``opening_docs``): a report reads the
period and what follows it, or what precedes it, whichever is shorter.
Reading also turns the ``in_progress_*`` changes into the stock at the end of the month. So for any
period: ``carried_over + received_new = resolved + withdrawn + in_progress``.

Which in-progress stock an event leaves, whether a dossier was received already and its key (intake's
``dossier.withdrawn`` carries only the code) depend on the dossier's past, so ``step`` takes the
dossier's ``Standing`` before the event and gives the one after; the caller keeps it per dossier
(``service/statistics.py``: ``stats_standing``, with the sequences it applied). ``step`` is pure
and deterministic; applying an event once and in order (duplicates, ``sequence``) is the
caller's job, as it is for the dossier's state (``eventkit.inbox.apply_newer``).

Rates (``rates``): dossiers to process = carried over + received new − withdrawn (= resolved + in
progress); late rate = (resolved late + in progress overdue) ÷ dossiers to process (Gia Lai
practice); on-time rate = 100 % − late rate; ``resolved_in_time_rate`` = (early + on time) ÷
resolved, the Decision 766 "progress and results" indicator; ``resolved_early_rate`` = early ÷
resolved. Percentages with two decimals; ``None`` when the denominator is 0.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple

from processing.deadlines import TZ

__all__ = [
    "CHANNELS",
    "GROUP_BY",
    "REGISTER_COLUMNS",
    "STORED_FIELDS",
    "CounterKey",
    "Delta",
    "Standing",
    "Step",
    "add_deltas",
    "counter_docs",
    "deltas",
    "opening_docs",
    "rates",
    "rebuild",
    "register_csv",
    "register_rows",
    "register_xlsx",
    "series_id",
    "step",
    "stock_totals",
    "summarise",
]

CHANNELS = ("online", "counter", "post")
TIMELINESS = ("early", "on_time", "late")
ON_TIME: Final = "in_progress_on_time"
OVERDUE: Final = "in_progress_overdue"
CLOSED: Final = "closed"
STOCK_FIELDS = (ON_TIME, OVERDUE)
RECEIVED_FIELDS = tuple(f"received_new_{channel}" for channel in CHANNELS)
RESOLVED_FIELDS = tuple(f"resolved_{t}" for t in TIMELINESS)
OUTCOME_FIELDS = ("returned", "rejected", "stopped", "withdrawn", "refused")
STORED_FIELDS = RECEIVED_FIELDS + STOCK_FIELDS + RESOLVED_FIELDS + OUTCOME_FIELDS
GROUP_BY = ("unit", "procedure", "channel", "month")

# Final outcomes that are a decision, hence resolved early / on time / late.
_DECIDED = ("returned", "rejected", "stopped")
_FINAL = (*_DECIDED, "withdrawn", "refused")

Bucket = Literal["in_progress_on_time", "in_progress_overdue", "closed"]


class CounterKey(NamedTuple):
    unit: str
    procedure: str
    channel: str
    month: str

    @property
    def id(self) -> str:
        """The counter document's ``_id`` (unit and procedure codes hold dots, never ``|``)."""
        return "|".join(self)


class Delta(NamedTuple):
    key: CounterKey
    field: str
    amount: int


@dataclass(frozen=True)
class Standing:
    """What a dossier counts in once counted: its key (fixed when received or refused) and its stock."""

    unit: str
    procedure: str
    channel: str
    bucket: Bucket

    def key(self, month: str) -> CounterKey:
        return CounterKey(self.unit, self.procedure, self.channel, month)

    def moved(self, bucket: Bucket) -> Standing:
        return Standing(self.unit, self.procedure, self.channel, bucket)

    def as_doc(self) -> dict[str, str]:
        return {
            "unit": self.unit,
            "procedure": self.procedure,
            "channel": self.channel,
            "bucket": self.bucket,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Standing | None:
        if not doc:
            return None
        return cls(doc["unit"], doc["procedure"], doc["channel"], doc["bucket"])


class Step(NamedTuple):
    deltas: tuple[Delta, ...]
    standing: Standing | None


# --- events -> deltas ---------------------------------------------------------------------------


def _kind(event: Mapping[str, Any]) -> tuple[str, str]:
    """``(service, verb)`` of ``vn.motcua.<service>.dossier.<verb>.v<N>``; ``("", "")`` otherwise."""
    parts = str(event.get("type", "")).split(".")
    if len(parts) != 6 or parts[:2] != ["vn", "motcua"] or parts[3] != "dossier":
        return "", ""
    return parts[2], parts[4]


def _parse_time(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name}: not an ISO 8601 time: {value!r}") from None
    else:
        raise ValueError(f"{name}: missing or not a time")
    # Stores hand back naive UTC datetimes.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _event_time(event: Mapping[str, Any], *names: str) -> datetime:
    data = event.get("data") or {}
    for name in (*names, "at"):
        if data.get(name):
            return _parse_time(data[name], name)
    return _parse_time(event.get("time"), "time")


def _month(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m")


def _standing_at_receipt(data: Mapping[str, Any], bucket: Bucket) -> Standing:
    unit = data.get("receiving_unit") or data.get("unit")  # intake's `unit` is the receiving unit
    procedure = data.get("procedure_code")
    channel = data.get("channel")
    if not unit or not procedure:
        raise ValueError("receiving_unit and procedure_code are required")
    if channel not in CHANNELS:
        raise ValueError(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    return Standing(str(unit), str(procedure), channel, bucket)


def _timeliness(event: Mapping[str, Any], resolved_at: datetime) -> str:
    data = event.get("data") or {}
    value = data.get("timeliness")
    if value in TIMELINESS:
        return str(value)
    if not data.get("due_at"):
        raise ValueError("timeliness: missing, and no due_at to classify with")
    # The rule of deadlines.classify, which needs no calendar.
    due = _parse_time(data["due_at"], "due_at").astimezone(TZ)
    resolved = resolved_at.astimezone(TZ)
    if resolved > due:
        return "late"
    return "early" if resolved.date() < due.date() else "on_time"


def step(event: Mapping[str, Any], standing: Standing | None) -> Step:
    """The counter changes of one dossier event and the dossier's standing after it.

    ``standing`` is the dossier's standing before the event: ``None`` while not received. Events that
    change no counter (assigned, transferred, approved, result issued, supplements, due soon, any
    other type) return no deltas and the standing unchanged.
    """
    service, verb = _kind(event)
    data = event.get("data") or {}

    if standing is None:
        receives = verb == "accepted" or (
            service == "intake" and verb == "submitted" and data.get("channel") == "counter"
        )
        if receives:
            opened = _standing_at_receipt(data, ON_TIME)
            key = opened.key(_month(_event_time(event, "received_at", "submitted_at")))
            return Step((Delta(key, f"received_new_{opened.channel}", 1), Delta(key, ON_TIME, 1)), opened)
        if verb == "refused":
            refused = _standing_at_receipt(data, CLOSED)
            return Step((Delta(refused.key(_month(_event_time(event))), "refused", 1),), refused)
        return Step((), None)

    if standing.bucket == CLOSED:
        return Step((), standing)

    if verb == "overdue" and standing.bucket == ON_TIME:
        return _move(standing, OVERDUE, _event_time(event))
    if verb == "extended" and standing.bucket == OVERDUE and data.get("new_due_at"):
        at = _event_time(event)
        if _parse_time(data["new_due_at"], "new_due_at") > at:
            return _move(standing, ON_TIME, at)
        return Step((), standing)
    if verb in _FINAL:
        resolved_at = _event_time(event, "resolved_at", "withdrawn_at")
        key = standing.key(_month(resolved_at))
        changes = [Delta(key, standing.bucket, -1), Delta(key, verb, 1)]
        if verb in _DECIDED:
            changes.append(Delta(key, f"resolved_{_timeliness(event, resolved_at)}", 1))
        return Step(tuple(changes), standing.moved(CLOSED))
    return Step((), standing)


def _move(standing: Standing, to: Bucket, at: datetime) -> Step:
    key = standing.key(_month(at))
    return Step((Delta(key, standing.bucket, -1), Delta(key, to, 1)), standing.moved(to))


def deltas(event: Mapping[str, Any], standing: Standing | None = None) -> list[Delta]:
    """``(counter key, field, ±n)`` changes that ``event`` makes, given the dossier's standing."""
    return list(step(event, standing).deltas)


Counters = dict[CounterKey, dict[str, int]]


def add_deltas(counters: Counters, changes: Iterable[Delta]) -> Counters:
    """Apply deltas as ``$inc`` would (a field that comes back to 0 stays, as 0)."""
    for key, field, amount in changes:
        fields = counters.setdefault(key, {})
        fields[field] = fields.get(field, 0) + amount
    return counters


def _dossier_code(event: Mapping[str, Any]) -> str:
    code = (event.get("data") or {}).get("code") or event.get("subject")
    if not code:
        raise ValueError("code: missing")
    return str(code)


def rebuild(events: Iterable[Mapping[str, Any]]) -> Counters:
    """Counters folded from scratch from a history where each dossier's events are in order."""
    standings: dict[str, Standing | None] = {}
    counters: Counters = {}
    for event in events:
        code = _dossier_code(event)
        result = step(event, standings.get(code))
        standings[code] = result.standing
        add_deltas(counters, result.deltas)
    return counters


def counter_docs(counters: Counters) -> list[dict[str, Any]]:
    """Counter documents as the store keeps them (``_id`` = ``CounterKey.id``)."""
    return [{"_id": key.id, **key._asdict(), **counters[key]} for key in sorted(counters)]


# --- the stock of each series: carried over without reading the series' past --------------------
# Beside its monthly counters, each series (unit, procedure, channel) keeps the sum of its stock
# changes over all months (``stats_totals``). The stock at the start of a month is then the total
# less the changes of that month and later ones, so a report can read its period (and the months
# after it) instead of every month since the first.


def series_id(unit: str, procedure: str, channel: str) -> str:
    """The ``_id`` of a series' totals document (a counter ``_id`` without its month)."""
    return "|".join((unit, procedure, channel))


def stock_totals(counters: Counters) -> list[dict[str, Any]]:
    """Totals documents as the store keeps them: each series' stock fields summed over its months."""
    totals: dict[tuple[str, str, str], dict[str, int]] = {}
    for key in sorted(counters):
        fields = totals.setdefault((key.unit, key.procedure, key.channel), dict.fromkeys(STOCK_FIELDS, 0))
        for f in STOCK_FIELDS:
            fields[f] += int(counters[key].get(f, 0) or 0)
    return [
        {"_id": series_id(*labels), "unit": labels[0], "procedure": labels[1], "channel": labels[2], **fields}
        for labels, fields in totals.items()
    ]


def _previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"


def opening_docs(
    totals: Iterable[Mapping[str, Any]], later_docs: Iterable[Mapping[str, Any]], first_month: str
) -> list[dict[str, Any]]:
    """One counter document per series, dated the month before ``first_month``, holding the series'
    stock at the start of ``first_month``: its total less the stock changes of ``later_docs``.

    ``later_docs`` must be every counter document of those series from ``first_month`` on (older
    ones are ignored); with them, ``summarise`` reads the same report from these documents as from
    the whole history."""
    month = _previous_month(_check_month(first_month, "first_month"))
    stock: dict[tuple[str, str, str], dict[str, int]] = {}
    for doc in totals:
        labels = (str(doc["unit"]), str(doc["procedure"]), str(doc["channel"]))
        stock[labels] = {f: int(doc.get(f, 0) or 0) for f in STOCK_FIELDS}
    for doc in later_docs:
        labels = (str(doc["unit"]), str(doc["procedure"]), str(doc["channel"]))
        if str(doc["month"]) >= first_month and labels in stock:
            for f in STOCK_FIELDS:
                stock[labels][f] -= int(doc.get(f, 0) or 0)
    return [
        {"unit": unit, "procedure": procedure, "channel": channel, "month": month, **fields}
        for (unit, procedure, channel), fields in stock.items()
        if any(fields.values())
    ]


# --- reading: reports and rates -----------------------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100 * part / whole, 2)


def rates(row: Mapping[str, int]) -> dict[str, float | None]:
    """Rates of a report row (``carried_over`` and ``in_progress_*`` as read, not as stored)."""
    resolved = sum(row.get(f, 0) for f in RESOLVED_FIELDS)
    to_process = (
        row.get("carried_over", 0) + sum(row.get(f, 0) for f in RECEIVED_FIELDS) - row.get("withdrawn", 0)
    )
    late_rate = _pct(row.get("resolved_late", 0) + row.get(OVERDUE, 0), to_process)
    return {
        "late_rate": late_rate,
        "on_time_rate": None if late_rate is None else round(100 - late_rate, 2),
        "resolved_in_time_rate": _pct(
            row.get("resolved_early", 0) + row.get("resolved_on_time", 0), resolved
        ),
        "resolved_early_rate": _pct(row.get("resolved_early", 0), resolved),
    }


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _check_month(month: str, name: str) -> str:
    try:
        datetime.strptime(month, "%Y-%m")
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {month!r} is not a month YYYY-MM") from None
    if len(month) != 7:
        raise ValueError(f"{name}: {month!r} is not a month YYYY-MM")
    return month


def _months(first: str, last: str) -> list[str]:
    months = [first]
    while months[-1] < last:
        months.append(_next_month(months[-1]))
    return months


class _Series:
    """One (unit, procedure, channel): its months in order with prefix sums of every stored field."""

    def __init__(self, by_month: Mapping[str, Mapping[str, int]]) -> None:
        self.months = sorted(by_month)
        self.prefix: dict[str, list[int]] = {}
        for field in STORED_FIELDS:
            running, sums = 0, [0]
            for month in self.months:
                running += int(by_month[month].get(field, 0) or 0)
                sums.append(running)
            self.prefix[field] = sums

    def _through(self, field: str, index: int) -> int:
        return self.prefix[field][index]

    def cell(self, first: str, last: str) -> dict[str, int]:
        """Counters read over ``[first, last]``: flows summed, stocks at the ends."""
        start = bisect_left(self.months, first)
        end = bisect_right(self.months, last)
        row = {f: self._through(f, end) - self._through(f, start) for f in STORED_FIELDS}
        row["carried_over"] = sum(self._through(f, start) for f in STOCK_FIELDS)
        for f in STOCK_FIELDS:
            row[f] = self._through(f, end)
        return row


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    row["received_new"] = sum(row[f] for f in RECEIVED_FIELDS)
    row["resolved"] = sum(row[f] for f in RESOLVED_FIELDS)
    row["in_progress"] = sum(row[f] for f in STOCK_FIELDS)
    row["to_process"] = row["carried_over"] + row["received_new"] - row["withdrawn"]
    row.update(rates(row))
    return row


def summarise(
    counter_docs: Iterable[Mapping[str, Any]],
    group_by: str,
    *,
    first_month: str | None = None,
    last_month: str | None = None,
) -> list[dict[str, Any]]:
    """Report rows over ``[first_month, last_month]`` (default: the months the documents cover).

    ``counter_docs`` must hold every earlier month of each key too: the carried-over count is read
    from them. ``group_by`` = ``month`` gives one row per month (carried over at its start, in
    progress at its end); the other groupings give one row per value for the whole period (carried
    over at the period's start, in progress at its end). Rows with nothing to show are left out;
    each row has ``from_month`` and ``to_month``.
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by: {group_by!r} is not one of {', '.join(GROUP_BY)}")
    by_series: dict[tuple[str, str, str], dict[str, dict[str, int]]] = defaultdict(dict)
    for doc in counter_docs:
        by_month = by_series[(str(doc["unit"]), str(doc["procedure"]), str(doc["channel"]))]
        fields = by_month.setdefault(str(doc["month"]), {})
        for f in STORED_FIELDS:
            fields[f] = fields.get(f, 0) + int(doc.get(f, 0) or 0)
    if not by_series:
        return []
    months = sorted({m for by_month in by_series.values() for m in by_month})
    first = _check_month(first_month or months[0], "first_month")
    last = _check_month(last_month or months[-1], "last_month")
    if first > last:
        raise ValueError("first_month: after last_month")
    periods = [(m, m) for m in _months(first, last)] if group_by == "month" else [(first, last)]

    rows: dict[str, dict[str, Any]] = {}
    for (unit, procedure, channel), months_of_key in by_series.items():
        series = _Series(months_of_key)
        labels = {"unit": unit, "procedure": procedure, "channel": channel}
        for start, end in periods:
            cell = series.cell(start, end)
            if not any(cell.values()):
                continue
            label = start if group_by == "month" else labels[group_by]
            row = rows.setdefault(
                label,
                {group_by: label, "from_month": start, "to_month": end, "carried_over": 0}
                | dict.fromkeys(STORED_FIELDS, 0),
            )
            for f, n in cell.items():
                row[f] += n
    return [_totals(rows[label]) for label in sorted(rows)]


# --- Mẫu 06: the tracking register --------------------------------------------------------------

REGISTER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("no", "STT"),
    ("code", "Mã hồ sơ"),
    ("procedure", "Tên thủ tục hành chính"),
    ("sets", "Số bộ hồ sơ"),
    ("applicant", "Tên người nộp hồ sơ"),
    ("address", "Địa chỉ"),
    ("phone", "Số điện thoại"),
    ("received_at", "Ngày, giờ nhận hồ sơ"),
    ("due_at", "Ngày, giờ hẹn trả kết quả"),
    ("transferred_at", "Ngày chuyển hồ sơ"),
    ("resolving_unit", "Cơ quan giải quyết"),
    ("result_at", "Ngày nhận kết quả"),
    ("returned_at", "Ngày trả kết quả"),
    ("return_method", "Hình thức trả kết quả"),
    ("outcome", "Kết quả giải quyết"),
    ("received_by", "Cán bộ tiếp nhận"),
    ("receiving_unit", "Bộ phận tiếp nhận"),
    ("notes", "Ghi chú"),
)
_DATE_COLUMNS = ("received_at", "due_at", "transferred_at", "result_at", "returned_at")

_TIMELINESS_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
_STATE_LABELS = {
    "submitted": "Chờ tiếp nhận",
    "supplement_requested": "Chờ bổ sung hồ sơ",
    "refused": "Từ chối tiếp nhận",
    "rejected": "Từ chối giải quyết",
    "stopped": "Dừng giải quyết",
    "withdrawn": "Công dân rút hồ sơ",
    "returned": "Đã trả kết quả",
}
_OPEN_LABEL = "Đang giải quyết"
_METHOD_LABELS = {"counter": "Tại bộ phận một cửa", "post": "Qua dịch vụ bưu chính", "online": "Trực tuyến"}


def _local_minute(value: Any) -> datetime | None:
    """Local wall time to the minute, naive (what a register prints and a spreadsheet stores)."""
    if not value:
        return None
    moment = _parse_time(value, "time").astimezone(TZ)
    return moment.replace(second=0, microsecond=0, tzinfo=None)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _outcome(doc: Mapping[str, Any], now: datetime | None) -> str:
    state = _text(doc.get("state"))
    timeliness = _TIMELINESS_LABELS.get(_text(doc.get("timeliness")))
    if state in ("returned", "rejected", "stopped") and timeliness:
        return timeliness if state == "returned" else f"{_STATE_LABELS[state]} ({timeliness.lower()})"
    if state in _STATE_LABELS:
        return _STATE_LABELS[state]
    if now is not None and doc.get("due_at") and _parse_time(doc["due_at"], "due_at") < now:
        return f"{_OPEN_LABEL}, quá hạn"
    return _OPEN_LABEL


def _first_transfer(doc: Mapping[str, Any]) -> Any:
    # The workflow keeps hand-overs as control-slip rows (Mẫu 05); a transfer is one of them.
    for row in doc.get("control_slip") or []:
        if isinstance(row, Mapping) and row.get("action") == "transfer":
            return row.get("at")
    transfers = doc.get("transfers") or []
    if transfers and isinstance(transfers[0], Mapping):
        return transfers[0].get("at")
    return doc.get("transferred_at")


def register_rows(
    dossier_docs: Iterable[Mapping[str, Any]],
    *,
    unit_names: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Rows of the tracking register (Mẫu 06, Circular 01/2018/TT-VPCP), in order of receipt.

    Reads from each dossier document, all optional but the code: ``_id`` (or ``code``),
    ``procedure_name`` (else ``procedure_code``), ``sets`` (number of sets, default 1),
    ``applicant`` {``full_name`` or ``name``, ``address``, ``phone``}, ``received_at``, ``due_at``,
    ``control_slip`` (the first row of action ``transfer``; else ``transfers[0].at`` or
    ``transferred_at``), ``unit`` (the current, resolving unit), ``result.issued_at`` (else
    ``result_issued_at``), ``returned`` {``at``, ``method``} (else ``returned_at``, ``resolved_at``
    of a returned dossier; ``return_method``, ``method``), ``state``, ``timeliness``, ``extended``,
    ``received_by``, ``receiving_unit``, ``notes``. Unit codes print as ``unit_names`` give them.
    With ``now``, an open dossier past its due time reads "quá hạn". Times are local, to the minute.
    The signature columns of the paper register (handed over by / received by) are signed on paper.
    """
    names = unit_names or {}
    rows = []
    for doc in dossier_docs:
        applicant = doc.get("applicant") or {}
        state = _text(doc.get("state"))
        returned = doc.get("returned") or {}
        result = doc.get("result") or {}
        returned_at = (
            returned.get("at")
            or doc.get("returned_at")
            or (doc.get("resolved_at") if state == "returned" else None)
        )
        notes = [_text(doc.get("notes"))] if _text(doc.get("notes")) else []
        if doc.get("extended"):
            notes.insert(0, "Đã gia hạn, hẹn lại ngày trả kết quả")
        method = _text(returned.get("method") or doc.get("return_method") or doc.get("method"))
        rows.append(
            {
                "code": _text(doc.get("_id") or doc.get("code")),
                "procedure": _text(doc.get("procedure_name") or doc.get("procedure_code")),
                "sets": int(doc.get("sets") or 1),
                "applicant": _text(applicant.get("full_name") or applicant.get("name")),
                "address": _text(applicant.get("address")),
                "phone": _text(applicant.get("phone")),
                "received_at": _local_minute(doc.get("received_at")),
                "due_at": _local_minute(doc.get("due_at")),
                "transferred_at": _local_minute(_first_transfer(doc)),
                "resolving_unit": names.get(_text(doc.get("unit")), _text(doc.get("unit"))),
                "result_at": _local_minute(result.get("issued_at") or doc.get("result_issued_at")),
                "returned_at": _local_minute(returned_at),
                "return_method": _METHOD_LABELS.get(method, method),
                "outcome": _outcome(doc, now),
                "received_by": _text(doc.get("received_by")),
                "receiving_unit": names.get(
                    _text(doc.get("receiving_unit")), _text(doc.get("receiving_unit"))
                ),
                "notes": "; ".join(notes),
            }
        )
    rows.sort(key=lambda r: (r["received_at"] is None, r["received_at"] or datetime.min, r["code"]))
    for number, row in enumerate(rows, start=1):
        row["no"] = number
    return [{key: row[key] for key, _ in REGISTER_COLUMNS} for row in rows]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    text = str(value)
    # A spreadsheet would run text such as "=HYPERLINK(...)" as a formula (CSV injection).
    return f"'{text}" if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def register_csv(rows: Sequence[Mapping[str, Any]], *, delimiter: str = ",") -> bytes:
    """The register as CSV: UTF-8 with a BOM (so Excel reads Vietnamese), Vietnamese headers."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([header for _, header in REGISTER_COLUMNS])
    for row in rows:
        writer.writerow([_csv_cell(row.get(key)) for key, _ in REGISTER_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


_COLUMN_WIDTHS = {
    "no": 6,
    "sets": 8,
    "code": 28,
    "procedure": 40,
    "applicant": 24,
    "address": 36,
    "notes": 36,
}


def register_xlsx(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The register as an Excel workbook: one sheet, headers in row 1, dates as date cells, A4 landscape."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sổ theo dõi hồ sơ"
    sheet.append([header for _, header in REGISTER_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r, row in enumerate(rows, start=2):
        for c, (key, _) in enumerate(REGISTER_COLUMNS, start=1):
            value = row.get(key)
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
    for c, (key, _) in enumerate(REGISTER_COLUMNS, start=1):
        width = 17 if key in _DATE_COLUMNS else _COLUMN_WIDTHS.get(key, 20)
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
