"""The deadline watch: `dossier.due_soon` one working day before a dossier's due time, and
`dossier.overdue` once when the due time passes with the dossier unresolved.

Each dossier whose clock runs carries two marks, written with the change that sets or moves its due
time (`service/dossiers.py`): `watch`, the next warning (`due_soon`, then `overdue`, then `done`),
and `due_soon_at`, the due time less one working day. A paused clock (a supplement awaited) or a
final state clears them. The worker seeks the marks that fall due (an index on `watch` and the
time) and raises each warning with one conditional write that moves `watch` on and adds the event
to the dossier's outbox: a second pass, or a second worker, finds nothing left to raise (exactly
so on MongoDB; on FerretDB see "Stores" in docs/architecture.md).

The events name whom they concern, from the staff directory as it is when they are raised: the
assignee and the unit's active leaders, each with a name and email in `recipients`, so notify can
write to them from the event alone.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from eventkit.logs import correlation
from eventkit.mongo import Db, Document
from processing import deadlines, store
from processing.events import EventTypes
from processing.service import dossiers
from processing.service import staff as staff_directory

DUE_SOON, OVERDUE, DONE = "due_soon", "overdue", "done"
# Who raises the warnings, in the audit trail and the events' `by`.
SYSTEM = "hệ thống"
# The lower bound of the seeks: a range bounded on both sides is answered from the index, and the
# store's pushdown takes dates from 2001-09-09 on.
FAR_PAST = datetime(2002, 1, 1, tzinfo=UTC)
BATCH = 500
CLEARED: Document = {"watch": None, "due_soon_at": None}


def due_soon_at(calendar: deadlines.Calendar, due: datetime) -> datetime:
    """One working day before `due` (the earliest instant at that working time)."""
    return deadlines.add_working_time(calendar, due, -calendar.hours.day_length)


def marks(calendar: deadlines.Calendar, due: datetime | None, now: datetime) -> Document:
    """The marks of a dossier whose clock runs towards `due` from `now` (cleared without one).

    A due time already passed skips the warning that it is near."""
    if due is None:
        return dict(CLEARED)
    return {"watch": OVERDUE if due < now else DUE_SOON, "due_soon_at": due_soon_at(calendar, due)}


def _concerned(db: Db, dossier: Document, leaders: dict[str, list[Document]]) -> Document:
    """`leaders`: the user ids of the unit's active leaders; `recipients`: the assignee (when the
    directory has them) and those leaders, each once, with name and email. `leaders` caches the
    leaders per unit for one pass."""
    unit = dossier["unit"]
    if unit not in leaders:
        leaders[unit] = [staff_directory.contact(a) for a in staff_directory.leaders_of(db, unit)]
    people = []
    assignee = dossier.get("assignee")
    account = store.get_staff(db, assignee) if assignee else None
    if account is not None:
        people.append({**staff_directory.contact(account), "as": "assignee"})
    people += [{**leader, "as": "leader"} for leader in leaders[unit] if leader["user_id"] != assignee]
    return {"leaders": [leader["user_id"] for leader in leaders[unit]], "recipients": people}


def _raise(
    db: Db, dossier: Document, mark: str, now: datetime, leaders: dict[str, list[Document]]
) -> str | None:
    """Raise the warning of one dossier marked `mark` (the kind raised; None when the dossier
    changed meanwhile): one write conditional on the `revision` and `watch` read, so a change made
    meanwhile (an extension, a supplement request) wins. A due time passed already (the worker was
    down) is overdue, not due soon."""
    overdue = mark == OVERDUE or dossier["due_at"] < now
    event_type = EventTypes.DOSSIER_OVERDUE if overdue else EventTypes.DOSSIER_DUE_SOON
    sequence = int(dossier.get("sequence") or 0) + 1
    data = {
        **dossiers._event_data(dossier, dossier, SYSTEM, now, sequence),
        "due_at": dossier["due_at"],
        "assignee": dossier.get("assignee"),
        **_concerned(db, dossier, leaders),
    }
    revision = int(dossier.get("revision") or 0)
    update: dict[str, Any] = {
        "$set": {
            "watch": DONE if overdue else OVERDUE,
            "sequence": sequence,
            "revision": revision + 1,
            "updated_at": now,
        }
    }
    if overdue:
        snapshot = dossiers._snapshot(dossier)
        update["$push"] = {
            "history": dossiers._history_entry(
                who=SYSTEM, role=SYSTEM, when=now, action=OVERDUE, before=snapshot, after=snapshot, body={}
            )
        }
    with correlation(dossier.get("correlationid")):  # the dossier's trace, as its other events
        entries = dossiers._entries(event_type, dossier["code"], data, sequence, None)
    if not store.update_dossier(db, dossier["code"], {"revision": revision, "watch": mark}, update, entries):
        return None
    return OVERDUE if overdue else DUE_SOON


def _raise_all(db: Db, mark: str, now: datetime, until: float | None) -> dict[str, int]:
    raised = {DUE_SOON: 0, OVERDUE: 0}
    leaders: dict[str, list[Document]] = {}
    # Due soon from the instant a working day is left; overdue once the due time has passed.
    time_field, at_now = ("due_soon_at", True) if mark == DUE_SOON else ("due_at", False)
    while until is None or time.monotonic() < until:
        batch = store.watched_dossiers(db, mark, time_field, FAR_PAST, now, at_now, BATCH)
        written = 0
        for dossier in batch:
            kind = _raise(db, dossier, mark, now, leaders)
            if kind is not None:
                written += 1
                raised[kind] += 1
        # A full batch may hide more; a batch that changed nothing (each changed meanwhile) would
        # come back the same, so the next run takes it.
        if len(batch) < BATCH or written == 0:
            break
    return raised


def raise_due(db: Db, now: datetime | None = None, until: float | None = None) -> dict[str, int]:
    """Raise every warning due by `now`, a batch at a time, until none is left or `until`
    (monotonic) passes; how many of each kind were raised."""
    now = dossiers._to_ms(now or datetime.now(UTC))
    soon = _raise_all(db, DUE_SOON, now, until)
    late = _raise_all(db, OVERDUE, now, until)
    return {kind: soon[kind] + late[kind] for kind in (DUE_SOON, OVERDUE)}
