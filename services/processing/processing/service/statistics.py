"""Live statistics: each dossier event counted exactly once, the report read back, the register.

Counting (`count_event`, the `processing.stats` consumer group). A dossier's *standing*
(`stats.Standing` and the newest `sequence` applied per source, `intake` / `processing`) is the one
place where its events are put in order: an event not newer than its source's applied sequence
changes nothing. The new standing is written together with the counts it owes (`pending`), on the
revision read, so two consumers racing on one dossier cannot both count from the same standing.
The counts are then added to the counter document by one single-document update guarded by the
counter's own record of what it applied (`applied.<source>:<code>` ≥ sequence), and `pending` is
cleared. A crash between the two writes leaves `pending`, which the redelivery (or the dossier's
next event) adds first: the guard makes the second try add nothing. A series' totals document
drops that record once `pending` is cleared (a month's document keeps it: it holds only that
month's dossiers).

Intake's `withdrawn` is counted only after processing applied it and after every processing event
of the dossier before it was counted (its stock is the one they left): until then it is retried.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from eventkit.auth import Staff
from eventkit.envelope import Event
from eventkit.errors import Forbidden, InvalidData, TransientError
from eventkit.mongo import Db, Document
from processing import stats, store
from processing.deadlines import TZ
from processing.events import ConsumedTypes
from processing.service.catalogue import UNITS

SOURCES = ("intake", "processing")
MAX_MONTHS = 36
MAX_REGISTER_DAYS = 366
# Writers racing on one dossier's standing: read again and retry.
ATTEMPTS = 5


# -- counting -----------------------------------------------------------------------------------


def _source(event: Event) -> str:
    source = str(event["type"]).split(".")[2]
    if source not in SOURCES:
        raise ValueError(f"not a dossier event of {' or '.join(SOURCES)}: {event['type']}")
    return source


def applied_field(source: str, code: str) -> str:
    """The counter document's record of the newest event of `code` from `source` it applied
    (a dossier code holds dots, which a field path would read as nesting)."""
    return f"applied.{source}:{code.replace('.', '_')}"


def _pending(changes: tuple[stats.Delta, ...], source: str, code: str, sequence: int) -> list[Document]:
    by_key: dict[stats.CounterKey, dict[str, int]] = defaultdict(dict)
    for key, name, amount in changes:
        by_key[key][name] = by_key[key].get(name, 0) + amount
    # The stock changes go to the series' totals too (labels without a month).
    by_series: dict[str, tuple[Document, dict[str, int]]] = {}
    for key, name, amount in changes:
        if name in stats.STOCK_FIELDS:
            series = stats.series_id(key.unit, key.procedure, key.channel)
            labels = {"unit": key.unit, "procedure": key.procedure, "channel": key.channel}
            increments = by_series.setdefault(series, (labels, {}))[1]
            increments[name] = increments.get(name, 0) + amount
    return [
        {
            "key": key,
            "labels": labels,
            "applied": applied_field(source, code),
            "sequence": sequence,
            "increments": increments,
        }
        for key, labels, increments in [
            *((key.id, key._asdict(), increments) for key, increments in by_key.items()),
            *((series, labels, increments) for series, (labels, increments) in by_series.items()),
        ]
    ]


def _add_pending(db: Db, code: str, standing: Document) -> None:
    owed = standing.get("pending") or []
    for counts in owed:
        store.add_stats_counts(
            db, counts["key"], counts["labels"], counts["applied"], counts["sequence"], counts["increments"]
        )
    store.clear_stats_pending(db, code, standing["revision"])
    # A series' totals gather every dossier it ever had: once the counts are no longer owed, their
    # guard goes (unless a newer event of the dossier set it since), so the document stays small.
    for counts in owed:
        if "month" not in counts["labels"]:
            store.forget_stats_applied(db, counts["key"], counts["applied"], counts["sequence"])


def _wait_for_processing(db: Db, code: str, sequence: int, applied: dict[str, int]) -> None:
    dossier = store.get_dossier(db, code)
    if dossier is None or int(dossier.get("intake_sequence") or 0) < sequence:
        raise TransientError("the withdrawal is not applied to the dossier yet")
    if applied.get("processing", 0) < int(dossier.get("sequence") or 0):
        raise TransientError("the dossier's earlier processing events are not counted yet")


def count_event(db: Db, event: Event) -> bool:
    """Count one dossier event once; False when it changes nothing (a repeat, or older than the
    newest applied of its source)."""
    source, code, sequence = _source(event), str(event["subject"]), int(event["sequence"])
    for _ in range(ATTEMPTS):
        current = store.get_stats_standing(db, code)
        if current is not None and current.get("pending"):
            _add_pending(db, code, current)
            continue
        applied = {k: int(v) for k, v in ((current or {}).get("seq") or {}).items()}
        if sequence <= applied.get(source, 0):
            return False
        if event["type"] == ConsumedTypes.DOSSIER_WITHDRAWN:
            _wait_for_processing(db, code, sequence, applied)
        before = stats.Standing.from_doc((current or {}).get("standing"))
        result = stats.step(event, before)
        revision = None if current is None else int(current["revision"])
        fields: Document = {
            "standing": None if result.standing is None else result.standing.as_doc(),
            "seq": {**applied, source: sequence},
            "pending": _pending(result.deltas, source, code, sequence),
            "revision": (revision or 0) + 1,
        }
        if not store.write_stats_standing(db, code, revision, fields):
            continue
        if fields["pending"]:
            _add_pending(db, code, fields)
        return True
    raise TransientError("the dossier's standing kept changing while an event was counted")


# -- the report -----------------------------------------------------------------------------------


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _units_of(staff: Staff, unit: str | None) -> list[str]:
    if unit is None:
        return sorted(staff.units)
    if not staff.serves(unit):
        raise Forbidden("Tài khoản không thuộc đơn vị này.")
    return [unit]


def _month_docs(db: Db, unit: str, first: int, last: int) -> list[Document]:
    documents = []
    for index in range(first, last + 1):
        for key in store.get_stats_month_keys(db, unit, _month_of(index)):
            document = store.get_stats_counter(db, key)
            if document is not None:
                documents.append(document)
    return documents


def _counter_docs(db: Db, unit: str, first: str, last: str) -> list[Document]:
    """Counter documents of `unit` from which `stats.summarise` reads months `[first, last]`.

    The stock carried into `first` is the sum of the stock changes before it (read forward from
    the unit's first month), or the series' totals less the changes from `first` to the unit's last
    month (read backward): whichever reads fewer months. Either way the cost is bounded by the
    period and its distance from one end of the unit's history, never by all of it."""
    info = store.get_stats_unit(db, unit)
    if info is None or not info.get("first_month") or info["first_month"] > last:
        return []
    unit_first, start, end = _month_index(info["first_month"]), _month_index(first), _month_index(last)
    forward = end - unit_first + 1
    if not info.get("totals") or not info.get("last_month"):
        return _month_docs(db, unit, unit_first, end)
    unit_last = _month_index(info["last_month"])
    if forward <= unit_last - max(start, unit_first) + 2:  # the months after `first`, and the totals
        return _month_docs(db, unit, unit_first, end)
    later = _month_docs(db, unit, max(start, unit_first), unit_last)
    totals = [
        document
        for key in info.get("total_keys") or []
        if (document := store.get_stats_counter(db, key, store.STATS_TOTALS)) is not None
    ]
    return [*stats.opening_docs(totals, later, first), *later]


def report(db: Db, staff: Staff, *, unit: str | None, first: str, last: str, group_by: str) -> Document:
    """Report rows of the caller's units (or `unit`, one they serve) over months `[first, last]`."""
    if first > last:
        raise InvalidData({"from": ["Tháng bắt đầu phải không sau tháng kết thúc."]}, location="query")
    if _month_index(last) - _month_index(first) + 1 > MAX_MONTHS:
        raise InvalidData({"to": [f"Khoảng thời gian tối đa {MAX_MONTHS} tháng."]}, location="query")
    units = _units_of(staff, unit)
    documents = [doc for u in units for doc in _counter_docs(db, u, first, last)]
    rows = stats.summarise(documents, group_by, first_month=first, last_month=last)
    return {"units": units, "from_month": first, "to_month": last, "group_by": group_by, "rows": rows}


# -- the register (Mẫu 06) ------------------------------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=TZ)


def _unit_names(db: Db, documents: list[Document]) -> dict[str, str]:
    codes = {str(d[f]) for d in documents for f in ("unit", "receiving_unit") if d.get(f)}
    names = {}
    for code in sorted(codes):
        unit = store.get_reference(db, UNITS.collection, code)
        if unit is not None and unit.get("name"):
            names[code] = str(unit["name"])
    return names


def register(
    db: Db, staff: Staff, *, unit: str | None, first: date, last: date, now: datetime
) -> tuple[str, list[dict[str, Any]]]:
    """The unit and its register rows: dossiers received there on days `[first, last]` (local)."""
    if unit is None:
        if len(staff.units) != 1:
            raise InvalidData({"unit": ["Cần chọn đơn vị (tài khoản thuộc nhiều đơn vị)."]}, location="query")
        [unit] = staff.units
    elif not staff.serves(unit):
        raise Forbidden("Tài khoản không thuộc đơn vị này.")
    if first > last:
        raise InvalidData({"from": ["Ngày bắt đầu phải không sau ngày kết thúc."]}, location="query")
    if (last - first).days + 1 > MAX_REGISTER_DAYS:
        raise InvalidData({"to": [f"Khoảng thời gian tối đa {MAX_REGISTER_DAYS} ngày."]}, location="query")
    documents = store.list_received_dossiers(
        db, unit, _local_midnight(first), _local_midnight(last + timedelta(days=1))
    )
    return unit, stats.register_rows(documents, unit_names=_unit_names(db, documents), now=now)
