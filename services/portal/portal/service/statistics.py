"""Statistics per unit and month (local time), updated by each dossier event, never by a scan.

Counters (`stats_counters`, `_id` = `<receiving unit>|YYYY-MM`, with `unit`, `month`, `year`):

- `received_online` / `_counter` / `_post`: the dossier is received, by its filing `channel`:
  processing's `accepted` (month of `received_at`), or intake's `submitted` of a counter filing
  (`submitted_at`), whichever arrives first.
- `resolved_early` / `_on_time` / `_late`: processing's `returned`, `rejected` or `stopped`
  (`resolved_at`), by `timeliness` as the event gives it, else by `deadlines.classify`'s rule on
  `due_at` (`on_time` when there was no due time).
- `withdrawn`: intake's `withdrawn` (`withdrawn_at`) of a received dossier processing did not finish.
- `refused`: processing's `refused` at the check (`resolved_at`); such a dossier was never received.

Each of these is a *fact* about one dossier, derived from its public status (service/dossiers.py)
after the event is applied, so what is counted does not depend on the order in which the two
topics deliver: a withdrawal delivered before the acceptance is counted when the acceptance
arrives (one race stays order-dependent: a withdrawal intake took while processing was finishing
the dossier counts only if applied before the final event). A fact is counted once:

1. After every delivery (a repeat too) the handler reads the dossier and derives its facts; the
   dossier's `counted` marks say which were counted already.
2. A fact not marked is added to its counter by ONE conditional write:
   `{_id: counter, applied_events: {$ne: "<code>:<fact>"}}` → `$inc` + `$addToSet` that key
   (`eventkit.inbox.apply_once`, creating the counter if missing). The key makes the increment
   itself idempotent.
3. Then the dossier is marked (`counted.<fact>`).

A crash before 2 leaves the fact unmarked: the record is delivered again (offsets are committed
after the handler returns) and step 2 adds it. A crash between 2 and 3 leaves it unmarked but
applied: the next try finds the key and adds nothing, then marks it. Two consumers (the two
groups) counting one dossier at once: the store runs single-document writes one at a time, so only
one `$inc` finds the key missing. The keys are never removed (removing them would let a consumer
that read the dossier before the mark add the fact again), so a counter holds one key per fact it
counted: bounded by the unit's dossiers of that month.

Reading: one unit's month by `_id`; a month of every unit on the index `month`; a year on
`year_unit`. Rates are computed when read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from eventkit.mongo import Db, Document
from portal import store
from portal.service.dossiers import DECIDED, TZ, classify, instant

CHANNELS = ("online", "counter", "post")
TIMELINESS = ("early", "on_time", "late")
FIELDS = (
    *(f"received_{channel}" for channel in CHANNELS),
    *(f"resolved_{t}" for t in TIMELINESS),
    "withdrawn",
    "refused",
)
# Ratings of the service (domain.md §2.5) are added by service/ratings.py on the same counters
# (`rated`, `rating_<level>`, applied key `<code>:rated`); `summarise` sums every numeric field.


def month_of(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m")


def counter_id(unit: str, month: str) -> str:
    return f"{unit}|{month}"


Fact = tuple[str, datetime, dict[str, int]]  # (unit, when, increments)


def _received(doc: Document) -> datetime | None:
    received = instant(doc.get("received_at"))
    if received is None and doc.get("channel") == "counter":
        # A counter filing is received when intake files it; processing's `accepted` says the same
        # time (its `received_at` is the filing's `submitted_at`).
        received = instant(doc.get("submitted_at"))
    return received


def facts(doc: Document) -> dict[str, Fact]:
    """Every fact of the dossier that its status shows, by name: (unit, when, increments)."""
    unit = doc.get("receiving_unit")
    if not isinstance(unit, str) or not unit:
        return {}
    found: dict[str, Fact] = {}
    received = _received(doc)
    state = doc.get("processing_state")
    if received is not None and doc.get("channel") in CHANNELS:
        found["received"] = (unit, received, {f"received_{doc['channel']}": 1})
    resolved = instant(doc.get("resolved_at"))
    if state in DECIDED and resolved is not None:
        kind = doc.get("timeliness")
        if kind not in TIMELINESS:
            due = instant(doc.get("due_at"))
            kind = classify(due, resolved) if due is not None else "on_time"
        found["resolved"] = (unit, resolved, {f"resolved_{kind}": 1})
    if state == "refused" and resolved is not None:
        found["refused"] = (unit, resolved, {"refused": 1})
    withdrawn = instant(doc.get("withdrawn_at"))
    if (
        doc.get("withdrawn")
        and withdrawn is not None
        and "received" in found
        and state not in (*DECIDED, "refused")
    ):
        found["withdrawn"] = (unit, withdrawn, {"withdrawn": 1})
    return found


def record(db: Db, code: str, fact: str, unit: str, when: datetime, increments: dict[str, int]) -> bool:
    """Add one fact of dossier `code` to its counter (once, however often called), then mark it
    on the dossier; True when added now."""
    month = month_of(when)
    identity = {"unit": unit, "month": month, "year": int(month[:4])}
    added = store.add_to_counter(db, counter_id(unit, month), identity, increments, f"{code}:{fact}")
    store.set_on_dossier(db, code, {f"counted.{fact}": True})
    return added


def count(db: Db, code: str) -> int:
    """Count the dossier's facts not counted yet; how many were added now."""
    doc = store.get_dossier(db, code)
    if doc is None:
        return 0
    counted = doc.get("counted") or {}
    return sum(
        record(db, code, name, unit, when, increments)
        for name, (unit, when, increments) in facts(doc).items()
        if not counted.get(name)
    )


# -- reading ---------------------------------------------------------------------------------------


def summarise(counters: Iterable[Document]) -> dict[str, Any]:
    """The counters summed, with the totals and rates (percentages, None without a base)."""
    totals: dict[str, int] = dict.fromkeys(FIELDS, 0)
    for counter in counters:
        for name, value in counter.items():
            if name in ("_id", "unit", "month", "year", "applied_events"):
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    received = sum(totals[f"received_{c}"] for c in CHANNELS)
    resolved = sum(totals[f"resolved_{t}"] for t in TIMELINESS)
    in_time = totals["resolved_early"] + totals["resolved_on_time"]
    return {
        **totals,
        "received": received,
        "resolved": resolved,
        "on_time_rate": round(100 * in_time / resolved, 1) if resolved else None,
        "online_share": round(100 * totals["received_online"] / received, 1) if received else None,
    }


def _check_month(month: str) -> str:
    try:
        datetime.strptime(month, "%Y-%m")
    except ValueError as exc:
        raise ValueError(f"month: {month!r} is not YYYY-MM") from exc
    return month


def month_counters(db: Db, month: str, unit: str | None = None) -> list[Document]:
    _check_month(month)
    if unit is not None:
        counter = store.get_counter(db, counter_id(unit, month))
        return [counter] if counter else []
    return store.counters_of_month(db, month)


def year_counters(db: Db, year: int, unit: str | None = None) -> list[Document]:
    return store.counters_of_year(db, year, unit)


def period(db: Db, year: int, month: int | None = None, unit: str | None = None) -> dict[str, Any]:
    """The summed counters of a month (or, without `month`, a year) of one unit or of all."""
    if month is None:
        return summarise(year_counters(db, year, unit))
    return summarise(month_counters(db, f"{year:04d}-{month:02d}", unit))


def by_unit(db: Db, year: int, month: int | None = None) -> dict[str, dict[str, Any]]:
    """The period's summary per unit (units with no counter in the period are absent)."""
    counters = year_counters(db, year) if month is None else month_counters(db, f"{year:04d}-{month:02d}")
    units: dict[str, list[Document]] = {}
    for counter in counters:
        units.setdefault(str(counter["unit"]), []).append(counter)
    return {unit: summarise(docs) for unit, docs in sorted(units.items())}
