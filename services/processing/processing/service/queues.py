"""Officers' work queues and search: the open dossiers of the units they serve, due first.

A queue is sorted by (`due_at`, code); a dossier without a due time (not accepted yet) sorts by
its filing time instead. The store seeks an index only on equalities followed by one range
bounded on both sides (`$in` is not pushed down), so a queue over several units and states runs
one seek per (unit, state), each reading at most a page after the cursor, and merges them here.
Search reads one dossier by code, or one applicant's dossiers by the normalised keys kept on the
dossier (`applicant_key_id`, `applicant_key_name`), per unit.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventkit.auth import Staff
from eventkit.errors import Forbidden
from eventkit.mongo import Db, Document
from processing import deadlines, store
from processing.service.calendar import FIRST_YEAR, LAST_YEAR, calendar_for
from processing.workflow import States

TZ = deadlines.TZ
# The store compares dates in a range by their text, which orders like the time from 2001-09-09
# to 2286-11-20: queue ranges stay within these.
FAR_PAST = datetime(2001, 9, 10, tzinfo=UTC)
FAR_FUTURE = datetime(2286, 11, 19, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
DEFAULT_LIMIT, MAX_LIMIT = 20, 100

# States in which a dossier may have no due time: never accepted (or never received).
WITHOUT_DUE = frozenset(
    {States.SUBMITTED, States.SUPPLEMENT_REQUESTED, States.REFUSED, States.WITHDRAWN, States.STOPPED}
)
# States in which it never has one.
NEVER_DUE = frozenset({States.SUBMITTED})

DOSSIER_CODE = re.compile(r"^\d{3}\.[0-9A-Z]{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$")
# CMND (9 digits) or CCCD (12 digits), as typed: spaces and dots between groups are dropped.
ID_NUMBER = re.compile(r"^(\d{9}|\d{12})$")
ID_SEPARATORS = re.compile(r"[\s.]")


# -- search keys --------------------------------------------------------------------------------


def name_key(name: Any) -> str | None:
    """A full name without case, diacritics or extra spaces: "Nguyễn  Thị HOA" → "nguyen thi hoa"."""
    if not isinstance(name, str):
        return None
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(text.casefold().split()) or None


def id_key(number: Any) -> str | None:
    if not isinstance(number, str):
        return None
    return "".join(ch for ch in number if ch.isdigit()) or None


def search_keys(applicant: Document) -> Document:
    """The top-level fields a dossier is found by (the store seeks no nested path)."""
    return {
        "applicant_key_id": id_key(applicant.get("id_number")),
        "applicant_key_name": name_key(applicant.get("full_name")),
    }


@dataclass(frozen=True)
class Search:
    kind: str  # "code", "id" or "name"
    value: str


def parse_search(q: str) -> Search | None:
    """What `q` is: a dossier code, an ID number, or a full name; None if nothing is left of it."""
    text = q.strip()
    if DOSSIER_CODE.match(text.upper()):
        return Search("code", text.upper())
    digits = ID_SEPARATORS.sub("", text)
    if ID_NUMBER.match(digits):
        return Search("id", digits)
    key = name_key(text)
    return Search("name", key) if key else None


# -- cursor -------------------------------------------------------------------------------------


def encode_cursor(key: datetime, code: str) -> str:
    raw = json.dumps([key.astimezone(UTC).isoformat(timespec="milliseconds"), code]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (sort key, code) a page ended on; ValueError if `cursor` is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, code = json.loads(raw)
        at = datetime.fromisoformat(key)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(code, str) or at.tzinfo is None:
        raise ValueError("not a cursor")
    return at, code


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    units: tuple[str, ...]
    states: tuple[str, ...]
    procedure: str | None = None
    assignee: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    search: Search | None = None
    after: tuple[datetime, str] | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class Seek:
    """One index read of a queue: equalities, then a range on `field` (the sort key)."""

    equal: Document
    field: str
    low: datetime
    high: datetime
    index: str

    def filter(self, after: tuple[datetime, str] | None) -> Document:
        return store.queue_filter(self.equal, self.field, self.low, self.high, after)


def criteria(staff: Staff, query: Document) -> Criteria:
    """The request's filters as the caller may have them: Forbidden for a unit they do not serve."""
    unit = query.get("unit")
    if unit is not None and not staff.serves(unit):
        raise Forbidden(f"Tài khoản không thuộc đơn vị {unit}.")
    search = query.get("q")
    # A search looks for a dossier in any state unless told; a queue holds the open ones.
    states = query.get("state") or (States.ALL if search else States.OPEN)
    assignee = query.get("assignee")
    return Criteria(
        units=(unit,) if unit else tuple(sorted(staff.units)),
        states=tuple(dict.fromkeys(states)),
        procedure=query.get("procedure"),
        assignee=staff.user_id if assignee == "me" else assignee,
        overdue=query.get("overdue"),
        due_before=query.get("due_before"),
        search=search,
        after=query.get("cursor"),
        limit=query.get("limit") or DEFAULT_LIMIT,
    )


def sort_key(dossier: Document) -> datetime:
    key: datetime = dossier.get("due_at") or dossier["submitted_at"]
    return key


def is_overdue(dossier: Document, now: datetime) -> bool:
    """Past its due time; a paused clock (supplement awaited) stopped at `paused_at`."""
    due = dossier.get("due_at")
    if due is None:
        return False
    return bool(due < (dossier.get("paused_at") or now))


def _due_range(c: Criteria, state: str, now: datetime) -> tuple[datetime, datetime]:
    """Bounds on `due_at` holding every match (the exact test is `matches`)."""
    low, high = FAR_PAST, FAR_FUTURE
    if c.due_before is not None:
        high = min(high, c.due_before - ONE_MS)
    # A paused dossier is judged at its pause, so its state keeps the whole range.
    if state != States.SUPPLEMENT_REQUESTED:
        if c.overdue is True:
            high = min(high, now)
        elif c.overdue is False:
            low = max(low, now)
    return low, high


def _index_of(equal: Document, field: str) -> str:
    """The index the store picks: the longest run of equalities, then the range after them."""
    if "assignee" in equal:
        return store.index_name(("unit", "assignee", "state", "due_at"))
    if "procedure_code" in equal:
        return store.index_name(("unit", "procedure_code", "state", "due_at"))
    return store.index_name(("unit", "state", field))


def plan(c: Criteria, now: datetime) -> list[Seek]:
    """The index reads a queue needs: per (unit, state), its due dossiers and those without one."""
    seeks: list[Seek] = []
    for unit in c.units:
        for state in c.states:
            equal: Document = {"unit": unit, "state": state}
            if c.assignee is not None:
                equal["assignee"] = c.assignee
            if c.procedure is not None:
                equal["procedure_code"] = c.procedure
            if state not in NEVER_DUE:
                low, high = _due_range(c, state, now)
                if low <= high:
                    seeks.append(Seek(equal, "due_at", low, high, _index_of(equal, "due_at")))
            # Without a due time a dossier is neither overdue nor due before anything.
            if state in WITHOUT_DUE and not c.overdue and c.due_before is None:
                undue = {**equal, "due_at": None}
                seeks.append(
                    Seek(undue, "submitted_at", FAR_PAST, FAR_FUTURE, _index_of(undue, "submitted_at"))
                )
    return seeks


def matches(dossier: Document, c: Criteria, now: datetime) -> bool:
    due = dossier.get("due_at")
    return (
        dossier["unit"] in c.units
        and dossier["state"] in c.states
        and (c.assignee is None or dossier.get("assignee") == c.assignee)
        and (c.procedure is None or dossier["procedure_code"] == c.procedure)
        and (c.overdue is None or is_overdue(dossier, now) == c.overdue)
        and (c.due_before is None or (due is not None and due < c.due_before))
        and (c.after is None or (sort_key(dossier), dossier["code"]) > c.after)
    )


def _read(db: Db, seek: Seek, after: tuple[datetime, str] | None, batch: int) -> Iterator[Document]:
    """The seek's dossiers in order, read a batch at a time as the merge asks for more."""
    while True:
        page = store.queue_page(db, seek.equal, seek.field, seek.low, seek.high, after, batch)
        yield from page
        if len(page) < batch:
            return
        after = (page[-1][seek.field], page[-1]["code"])


def _ordered(dossiers: Iterable[Document]) -> Iterator[tuple[tuple[datetime, str], Document]]:
    for dossier in dossiers:
        yield (sort_key(dossier), dossier["code"]), dossier


def _found(db: Db, c: Criteria) -> list[Document]:
    assert c.search is not None
    if c.search.kind == "code":
        dossier = store.dossier_summary(db, c.search.value)
        return [dossier] if dossier is not None else []
    key = "applicant_key_id" if c.search.kind == "id" else "applicant_key_name"
    return [d for unit in c.units for d in store.dossiers_by_key(db, unit, key, c.search.value)]


def page(db: Db, c: Criteria, now: datetime | None = None) -> Document:
    """One page of the queue (or search), `{items, next_cursor}`."""
    now = now or datetime.now(UTC)
    if c.search is not None:
        merged: Iterable[tuple[tuple[datetime, str], Document]] = sorted(
            _ordered(_found(db, c)), key=lambda pair: pair[0]
        )
    else:
        # Each seek reads a page (and one more to tell whether another follows) to begin with.
        streams = [_ordered(_read(db, seek, c.after, c.limit + 1)) for seek in plan(c, now)]
        merged = heapq.merge(*streams, key=lambda pair: pair[0])
    chosen: list[Document] = []
    for _, dossier in merged:
        if matches(dossier, c, now):
            chosen.append(dossier)
            if len(chosen) > c.limit:
                break
    more = len(chosen) > c.limit
    chosen = chosen[: c.limit]
    last = chosen[-1] if chosen else None
    return {
        "items": _summaries(db, chosen, now),
        "next_cursor": encode_cursor(sort_key(last), last["code"]) if more and last else None,
    }


def _summaries(db: Db, dossiers: list[Document], now: datetime) -> list[Document]:
    calendar = _calendar(db, dossiers, now)
    return [_summary(d, now, calendar) for d in dossiers]


def _calendar(db: Db, dossiers: list[Document], now: datetime) -> deadlines.Calendar | None:
    """One calendar for the page's time left, if every time on it is within the calendar's years."""
    instants = [now, *(d["due_at"] for d in dossiers if d.get("due_at") is not None)]
    instants += [d["paused_at"] for d in dossiers if d.get("paused_at") is not None]
    years = [i.astimezone(TZ).year for i in instants]
    if len(instants) == 1 or min(years) < FIRST_YEAR or max(years) > LAST_YEAR:
        return None
    return calendar_for(db, min(years), max(years))


def _summary(dossier: Document, now: datetime, calendar: deadlines.Calendar | None) -> Document:
    due, paused = dossier.get("due_at"), dossier.get("paused_at")
    hours_left = None
    if due is not None and calendar is not None:
        left = deadlines.time_left(calendar, paused or now, due)
        hours_left = round(left.total_seconds() / 3600, 2)
    local = {k: (v.astimezone(TZ) if isinstance(v, datetime) else v) for k, v in dossier.items()}
    return {
        "code": dossier["code"],
        "procedure_code": dossier["procedure_code"],
        "procedure_name": dossier.get("procedure_name") or "",
        "applicant_name": (dossier.get("applicant") or {}).get("full_name") or "",
        "state": dossier["state"],
        "unit": dossier["unit"],
        "receiving_unit": dossier.get("receiving_unit"),
        "assignee": dossier.get("assignee"),
        "submitted_at": local.get("submitted_at"),
        "received_at": local.get("received_at"),
        "due_at": local.get("due_at"),
        "paused": paused is not None,
        "overdue": is_overdue(dossier, now),
        "working_hours_left": hours_left,
    }
