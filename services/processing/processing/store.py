"""Every read and write of processing's database (the only module that uses pymongo).

Collections:
- `procedures`: the current version of each procedure (`_id` = code), with its outbox.
- `procedure_versions`: earlier versions (`_id` = `<code>@<version>`), written before a change.
- `units`: administrative units and agencies (`_id` = code), with their outbox.
- `calendar_years`: the working-day calendar per year (`_id` = year).
- `audit`: who changed what reference data or staff account, when, before and after, and why.
- `staff`: the staff directory (`_id` = user id): name, email, roles, units, active, version.
- `staff_roles`: one row per (unit, role) of each staff account (`_id` = `unit|role|user id`), so
  "the active leaders of a unit" and "the staff of a unit" are seeks on an index of top-level fields.
- `dossiers`: each dossier's workflow state (`_id` = dossier code), with its embedded audit trail
  (`history`), control-slip rows and outbox.
- `queue_counts`: how many dossiers each unit holds in each state (`_id` = unit, one field per
  state), changed by `$inc` from the writes that move a dossier (the console's queue shows them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.blobs import BlobMissing, BlobStore
from eventkit.config import ServiceConfig
from eventkit.mongo import Db, Document
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import ensure_outbox_index, insert_with_outbox, update_with_outbox
from processing.identity import store as identity_store

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["dossiers", "procedures", "units"]


class AlreadyExists(Exception):
    pass


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    identity_store.ensure_indexes(db)
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
    db.procedures.create_index([("level", ASCENDING), ("_id", ASCENDING)], name="level")
    db.procedures.create_index([("field", ASCENDING), ("_id", ASCENDING)], name="field")
    db.procedures.create_index([("receiving_units", ASCENDING)], name="receiving_units")
    db.procedure_versions.create_index([("code", ASCENDING), ("version", ASCENDING)], name="code_version")
    db.units.create_index([("parent", ASCENDING)], name="parent")
    db.units.create_index([("type", ASCENDING)], name="type")
    db.audit.create_index([("target", ASCENDING), ("at", DESCENDING)], name="target_at")
    db.staff_roles.create_index(
        [("unit", ASCENDING), ("role", ASCENDING), ("active", ASCENDING)], name="unit_role_active"
    )
    # Statistics: the register (Mẫu 06) reads the dossiers received at a unit in a period.
    db.dossiers.create_index(
        [("receiving_unit", ASCENDING), ("received_at", ASCENDING)], name="receiving_unit_received_at"
    )
    # Work queues and search (section "work queues" below): the unit leads every index, so the
    # unit rule is part of the seek; a queue page is a range on the due (or filing) time last.
    for keys in QUEUE_INDEXES:
        db.dossiers.create_index([(key, ASCENDING) for key in keys])
    # Deadline watch: dossiers whose next warning falls due by now (equality on `watch`, then a
    # range bounded on both sides on the time of that warning).
    db.dossiers.create_index([("watch", ASCENDING), ("due_soon_at", ASCENDING)], name="watch_due_soon_at")
    db.dossiers.create_index([("watch", ASCENDING), ("due_at", ASCENDING)], name="watch_due_at")
    ensure_counter_filing_indexes(db)


def _to_store(value: Any) -> Any:
    """Dates become ISO strings: BSON has no date-only type and the events carry strings."""
    if isinstance(value, dict):
        return {k: _to_store(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_store(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def _from_store(document: Document | None) -> Document | None:
    if document is None:
        return None
    document = dict(document)
    document.pop("outbox", None)
    document.pop("outbox_pending", None)
    document["code"] = document.pop("_id")
    return document


# -- reference data with an outbox (procedures, units) ------------------------------------------


def get_reference(db: Db, collection: str, code: str) -> Document | None:
    return _from_store(db[collection].find_one({"_id": code}, {"outbox": 0}))


def insert_reference(
    db: Db, collection: str, data: Document, version_meta: Document, entries: list[Any]
) -> None:
    document = {
        **_to_store({k: v for k, v in data.items() if k != "code"}),
        **version_meta,
        "_id": data["code"],
    }
    try:
        insert_with_outbox(db[collection], document, entries)
    except DuplicateKeyError as exc:
        raise AlreadyExists(data["code"]) from exc


def replace_reference(
    db: Db, collection: str, data: Document, expected_version: int, version_meta: Document, entries: list[Any]
) -> bool:
    """Move `code` from `expected_version` to the new data in one write; False if it had moved on."""
    fields = {**_to_store({k: v for k, v in data.items() if k != "code"}), **version_meta}
    return update_with_outbox(
        db[collection], {"_id": data["code"], "version": expected_version}, {"$set": fields}, entries
    )


def list_references(
    db: Db, collection: str, filters: Document, skip: int = 0, limit: int = 0
) -> tuple[list[Document], int]:
    cursor = db[collection].find(filters, {"outbox": 0}).sort("_id", ASCENDING).skip(skip).limit(limit)
    documents = [d for d in (_from_store(doc) for doc in cursor) if d is not None]
    return documents, db[collection].count_documents(filters)


def reference_codes(db: Db, collection: str) -> list[str]:
    """Every code of a catalogue collection (units: a district's few dozen), by code."""
    return [str(d["_id"]) for d in db[collection].find({}, {"_id": 1}).sort("_id", ASCENDING)]


def keep_procedure_version(db: Db, current: Document) -> None:
    """Store the current version in the history before it is replaced (idempotent)."""
    version_id = f"{current['code']}@{current['version']}"
    db.procedure_versions.update_one(
        {"_id": version_id},
        {
            "$setOnInsert": {
                "code": current["code"],
                "version": current["version"],
                "data": _to_store(current),
            }
        },
        upsert=True,
    )


def get_procedure_version(db: Db, code: str, version: int) -> Document | None:
    """An earlier version of a procedure, as it was kept before it was replaced."""
    document = db.procedure_versions.find_one({"_id": f"{code}@{version}"})
    return None if document is None else document["data"]


def list_procedure_versions(db: Db, code: str) -> list[Document]:
    cursor = db.procedure_versions.find({"code": code}).sort("version", ASCENDING)
    return [doc["data"] for doc in cursor]


# -- calendar -----------------------------------------------------------------------------------


def get_calendar_year(db: Db, year: int) -> Document | None:
    document = db.calendar_years.find_one({"_id": year})
    if document is None:
        return None
    document["year"] = document.pop("_id")
    return document


def get_calendar_years(db: Db, first: int, last: int) -> list[Document]:
    cursor = db.calendar_years.find({"_id": {"$gte": first, "$lte": last}}).sort("_id", ASCENDING)
    return [{**{k: v for k, v in doc.items() if k != "_id"}, "year": doc["_id"]} for doc in cursor]


def insert_calendar_year(db: Db, year: int, data: Document) -> bool:
    try:
        db.calendar_years.insert_one({**_to_store(data), "_id": year})
    except DuplicateKeyError:
        return False
    return True


def replace_calendar_year(db: Db, year: int, expected_version: int, data: Document) -> bool:
    result = db.calendar_years.update_one(
        {"_id": year, "version": expected_version}, {"$set": _to_store(data)}
    )
    return result.matched_count == 1


# -- staff directory ----------------------------------------------------------------------------


def get_staff(db: Db, user_id: str) -> Document | None:
    document = db.staff.find_one({"_id": user_id})
    if document is None:
        return None
    document["user_id"] = document.pop("_id")
    return document


def insert_staff(db: Db, user_id: str, record: Document) -> bool:
    try:
        db.staff.insert_one({**record, "_id": user_id})
    except DuplicateKeyError:
        return False
    return True


def replace_staff(db: Db, user_id: str, expected_version: int, record: Document) -> bool:
    result = db.staff.update_one({"_id": user_id, "version": expected_version}, {"$set": record})
    return result.matched_count == 1


def staff_role_id(unit: str, role: str, user_id: str) -> str:
    return f"{unit}|{role}|{user_id}"


def sync_staff_roles(db: Db, user_id: str, before: Document | None, after: Document) -> None:
    """Make the (unit, role) rows of `user_id` those of `after`, removing those only `before` had.

    Written after the account itself: readers check each row against the account, so a row left
    behind by a crash between the two writes never grants a role, and the next save restores it."""
    wanted = {staff_role_id(u, r, user_id) for u in after["units"] for r in after["roles"]}
    if before is not None:
        gone = {staff_role_id(u, r, user_id) for u in before["units"] for r in before["roles"]} - wanted
        for row_id in gone:
            db.staff_roles.delete_one({"_id": row_id})
    for unit in after["units"]:
        for role in after["roles"]:
            db.staff_roles.update_one(
                {"_id": staff_role_id(unit, role, user_id)},
                {"$set": {"unit": unit, "role": role, "user_id": user_id, "active": after["active"]}},
                upsert=True,
            )


def staff_ids_of_unit(db: Db, unit: str, role: str | None = None, active: bool | None = None) -> list[str]:
    """The user ids with a row for `unit` (and `role`, and `active`): a seek on `unit_role_active`."""
    query: Document = {"unit": unit}
    if role is not None:
        query["role"] = role
        if active is not None:
            query["active"] = active
    rows = db.staff_roles.find(query, {"user_id": 1})
    return sorted({row["user_id"] for row in rows})


# -- deadline watch -----------------------------------------------------------------------------

# What a warning's event and write need of a dossier (not its history, documents or outbox).
WATCHED_FIELDS = dict.fromkeys(
    (
        "unit",
        "receiving_unit",
        "procedure_code",
        "channel",
        "state",
        "due_at",
        "due_soon_at",
        "assignee",
        "sequence",
        "revision",
        "watch",
    ),
    1,
)


def watch_filter(
    watch: str, time_field: str, since: datetime, until: datetime, until_included: bool
) -> Document:
    return {"watch": watch, time_field: {"$gte": since, ("$lte" if until_included else "$lt"): until}}


def watched_dossiers(
    db: Db, watch: str, time_field: str, since: datetime, until: datetime, until_included: bool, limit: int
) -> list[Document]:
    """Dossiers marked `watch` whose `time_field` lies between `since` and `until`, earliest first,
    at most `limit` (a seek on the index of (watch, time_field))."""
    cursor = (
        db.dossiers.find(watch_filter(watch, time_field, since, until, until_included), WATCHED_FIELDS)
        .sort(time_field, ASCENDING)
        .limit(limit)
    )
    return [d for d in (_from_store(doc) for doc in cursor) if d is not None]


# -- audit --------------------------------------------------------------------------------------


def record_audit(
    db: Db, *, actor: str, action: str, target: str, before: Any, after: Any, reason: str = ""
) -> None:
    db.audit.insert_one(
        {
            "at": datetime.now(UTC),
            "actor": actor,
            "action": action,
            "target": target,
            "before": _to_store(before),
            "after": _to_store(after),
            "reason": reason,
        }
    )


def list_audit(db: Db, target: str, limit: int = 50) -> list[Document]:
    cursor = db.audit.find({"target": target}, {"_id": 0}).sort("at", DESCENDING).limit(limit)
    return list(cursor)


# -- statistics ---------------------------------------------------------------------------------
# `stats_standing` (`_id` = dossier code): what the dossier counts in and the newest sequence applied
# per source; `stats_counters` (`_id` = `unit|procedure|channel|YYYY-MM`); `stats_totals` (`_id` =
# `unit|procedure|channel`: the stock changes of every month summed); `stats_months` (`_id` =
# `unit|YYYY-MM`: the counter keys of that month); `stats_units` (`_id` = unit: its first and last
# month, the keys of its totals, and `totals: true` when its totals were kept from its first count).

STATS_COUNTERS, STATS_TOTALS = "stats_counters", "stats_totals"


def get_stats_standing(db: Db, code: str) -> Document | None:
    return db.stats_standing.find_one({"_id": code})


def write_stats_standing(db: Db, code: str, expected_revision: int | None, fields: Document) -> bool:
    """Store a dossier's standing if it is still at `expected_revision` (None: not stored yet)."""
    if expected_revision is None:
        try:
            db.stats_standing.insert_one({**fields, "_id": code})
        except DuplicateKeyError:
            return False
        return True
    result = db.stats_standing.update_one({"_id": code, "revision": expected_revision}, {"$set": fields})
    return result.matched_count == 1


def clear_stats_pending(db: Db, code: str, revision: int) -> None:
    db.stats_standing.update_one({"_id": code, "revision": revision}, {"$set": {"pending": None}})


def add_stats_counts(
    db: Db, key: str, labels: Document, applied: str, sequence: int, increments: dict[str, int]
) -> bool:
    """Add one event's counts to counter `key` (a month's, or with no `month` label a series'
    totals) unless the document records it applied already.

    `applied` is the document's own field for the event's source and dossier (`applied.<...>`); the
    check and the increment are one single-document update, so a repeat adds nothing. The indexes
    of the unit (its months, its totals) are written first: they are idempotent."""
    unit, month = labels["unit"], labels.get("month")
    if month is None:
        collection = db[STATS_TOTALS]
        db.stats_units.update_one(
            {"_id": unit}, {"$addToSet": {"total_keys": key}, "$setOnInsert": {"totals": True}}, upsert=True
        )
    else:
        collection = db[STATS_COUNTERS]
        db.stats_units.update_one(
            {"_id": unit},
            {"$min": {"first_month": month}, "$max": {"last_month": month}, "$setOnInsert": {"totals": True}},
            upsert=True,
        )
        db.stats_months.update_one(
            {"_id": f"{unit}|{month}"},
            {"$addToSet": {"keys": key}, "$setOnInsert": {"unit": unit, "month": month}},
            upsert=True,
        )
    collection.update_one({"_id": key}, {"$setOnInsert": labels}, upsert=True)
    result = collection.update_one(
        {"_id": key, applied: {"$not": {"$gte": sequence}}},
        {"$inc": increments, "$set": {applied: sequence}},
    )
    return result.modified_count == 1


def forget_stats_applied(db: Db, key: str, applied: str, sequence: int) -> None:
    """Drop a totals document's record of an event once no count of it is owed, unless it records
    a newer one already (a later event of the same dossier, still owed)."""
    db[STATS_TOTALS].update_one({"_id": key, applied: sequence}, {"$unset": {applied: ""}})


def get_stats_unit(db: Db, unit: str) -> Document | None:
    """The unit's `first_month`, `last_month`, `total_keys` and `totals` flag."""
    return db.stats_units.find_one({"_id": unit})


def get_stats_month_keys(db: Db, unit: str, month: str) -> list[str]:
    document = db.stats_months.find_one({"_id": f"{unit}|{month}"})
    return list((document or {}).get("keys") or [])


def get_stats_counter(db: Db, key: str, collection: str = STATS_COUNTERS) -> Document | None:
    return db[collection].find_one({"_id": key}, {"applied": 0})


def list_received_dossiers(db: Db, unit: str, start: datetime, end: datetime) -> list[Document]:
    """Dossiers received at `unit` in `[start, end)` (index `receiving_unit_received_at`)."""
    cursor = db.dossiers.find(
        {"receiving_unit": unit, "received_at": {"$gte": start, "$lt": end}},
        {"outbox": 0, "outbox_pending": 0, "history": 0, "form": 0, "documents": 0},
    )
    return list(cursor)


# -- dossiers -----------------------------------------------------------------------------------


def get_dossier(db: Db, code: str) -> Document | None:
    return _from_store(db.dossiers.find_one({"_id": code}, {"outbox": 0}))


def get_dossier_outbox(db: Db, code: str) -> list[Any]:
    """The events of a dossier still waiting for the relay (tests and diagnostics)."""
    document = db.dossiers.find_one({"_id": code}, {"outbox": 1})
    return list((document or {}).get("outbox") or [])


def insert_dossier(db: Db, dossier: Document, entries: list[Any]) -> bool:
    """Store a new dossier with its first events; False if the code is stored already."""
    document = {**{k: v for k, v in dossier.items() if k != "code"}, "_id": dossier["code"]}
    try:
        insert_with_outbox(db.dossiers, document, entries)
    except DuplicateKeyError:
        return False
    return True


def update_dossier(db: Db, code: str, expected: Document, update: Document, entries: list[Any]) -> bool:
    """Change dossier `code` and add its events in one write, only if it still holds `expected`
    (its `state`, `sequence` and `revision` as read): of two officers acting at once, one wins."""
    return update_with_outbox(db.dossiers, {"_id": code, **expected}, update, entries)


# -- dossiers per unit and state ---------------------------------------------------------------
QUEUE_COUNTS = "queue_counts"


def count_dossier_moves(db: Db, moves: dict[tuple[str, str], int]) -> None:
    """Add each (unit, state) change of `moves`: one `$inc` upsert per unit document."""
    per_unit: dict[str, Document] = {}
    for (unit, state), delta in moves.items():
        if delta:
            per_unit.setdefault(unit, {})[state] = delta
    for unit, changes in per_unit.items():
        db[QUEUE_COUNTS].update_one({"_id": unit}, {"$inc": changes}, upsert=True)


def get_dossier_counts(db: Db, unit: str) -> dict[str, int]:
    document = db[QUEUE_COUNTS].find_one({"_id": unit}) or {}
    return {k: int(v) for k, v in document.items() if k != "_id"}


def has_dossier_counts(db: Db, unit: str) -> bool:
    return db[QUEUE_COUNTS].find_one({"_id": unit}, {"_id": 1}) is not None


def recount_dossiers(db: Db, unit: str, states: tuple[str, ...]) -> dict[str, int]:
    """Set the unit's counts from the dossiers themselves (a repair): one count per state, each a
    seek on the `(unit, state, due_at)` index."""
    counts = {state: db.dossiers.count_documents({"unit": unit, "state": state}) for state in states}
    db[QUEUE_COUNTS].replace_one({"_id": unit}, counts, upsert=True)
    return counts


# -- result files -------------------------------------------------------------------------------
# `result_files` (`_id` = file id): the drafts officers upload to be issued as a dossier's result,
# each with the unit it belongs to; their bytes are in the blob store under the file id. A signed
# result's bytes are in the blob store under `signed_result_key`, its record in the dossier.

_SAFE_KEY_PART = re.compile(r"^[A-Za-z0-9._-]{1,120}$")


def save_result_file(db: Db, blobs: BlobStore, file_id: str, data: bytes, record: Document) -> None:
    """The bytes first, then the record: a record is never seen without its bytes."""
    blobs.put(file_id, data)
    db.result_files.insert_one({**record, "_id": file_id})


def get_result_file(db: Db, file_id: str) -> Document | None:
    document = db.result_files.find_one({"_id": file_id})
    if document is None:
        return None
    document["id"] = document.pop("_id")
    return document


def read_result_file(blobs: BlobStore, file_id: str) -> bytes | None:
    """The whole bytes of a result file; None if they are gone."""
    try:
        return b"".join(blobs.chunks(file_id))
    except BlobMissing:
        return None


def signed_result_key(code: str, sha256: str) -> str:
    """Where a dossier's signed result is kept: its code (hashed if it holds characters a key may
    not) and the signed file's hash, so each signing has its own key and an attempt that lost the
    dossier's write never replaces the file the winner recorded."""
    name = code if _SAFE_KEY_PART.match(code) else hashlib.sha256(code.encode()).hexdigest()
    return f"result-{name}-{sha256}"


def save_signed_result(blobs: BlobStore, code: str, sha256: str, data: bytes) -> None:
    blobs.put(signed_result_key(code, sha256), data)


def signed_result_bytes(blobs: BlobStore, code: str, sha256: str) -> Iterator[bytes]:
    """The signed result, a piece at a time; raises BlobMissing at the first read if gone."""
    return blobs.chunks(signed_result_key(code, sha256))


# -- work queues --------------------------------------------------------------------------------

# Index keys (pymongo's default names, e.g. `unit_1_state_1_due_at_1`): one queue seek each.
QUEUE_INDEXES: tuple[tuple[str, ...], ...] = (
    ("unit", "state", "due_at"),
    ("unit", "state", "submitted_at"),
    ("unit", "assignee", "state", "due_at"),
    ("unit", "procedure_code", "state", "due_at"),
    ("unit", "applicant_key_id"),
    ("unit", "applicant_key_name"),
)
# What a queue row shows: the large parts (history, documents, outbox) stay in the store.
SUMMARY_FIELDS = dict.fromkeys(
    (
        "procedure_code",
        "procedure_name",
        "applicant",
        "state",
        "unit",
        "receiving_unit",
        "channel",
        "assignee",
        "submitted_at",
        "received_at",
        "due_at",
        "paused_at",
    ),
    1,
)


def index_name(keys: tuple[str, ...]) -> str:
    return "_".join(f"{key}_1" for key in keys)


def queue_filter(
    equal: Document, field: str, low: datetime, high: datetime, after: tuple[datetime, str] | None
) -> Document:
    """Equalities, then `field` in [low, high] (both bounds, so the store seeks on it) and, after a
    page, strictly after its last (`field`, code)."""
    bounds = {"$gte": max(low, after[0]) if after else low, "$lte": high}
    filter: Document = {**equal, field: bounds}
    if after is not None:
        filter["$or"] = [{field: {"$gt": after[0]}}, {field: after[0], "_id": {"$gt": after[1]}}]
    return filter


def queue_page(
    db: Db,
    equal: Document,
    field: str,
    low: datetime,
    high: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Document]:
    """Up to `limit` dossier summaries in (`field`, code) order; see `queue_filter`."""
    cursor = (
        db.dossiers.find(queue_filter(equal, field, low, high, after), SUMMARY_FIELDS)
        .sort([(field, ASCENDING), ("_id", ASCENDING)])
        .limit(limit)
    )
    return [d for d in (_from_store(doc) for doc in cursor) if d is not None]


def dossiers_by_key(db: Db, unit: str, key: str, value: str) -> list[Document]:
    """Summaries of the unit's dossiers whose search key `key` (`applicant_key_id` or
    `applicant_key_name`) is `value`: one applicant's dossiers, so few."""
    cursor = db.dossiers.find({"unit": unit, key: value}, SUMMARY_FIELDS)
    return [d for d in (_from_store(doc) for doc in cursor) if d is not None]


def dossier_summary(db: Db, code: str) -> Document | None:
    return _from_store(db.dossiers.find_one({"_id": code}, SUMMARY_FIELDS))


# -- counter filings (the console's Idempotency-Keys) ---------------------------------------------
# One record per counter filing form (`_id` = its Idempotency-Key): the intake upload of each
# document type it sent (`uploads.<type>` = {upload_id, sha256}), so the same form sent again
# uploads nothing new and intake gets the same request; no personal data. Read by `_id` only.
COUNTER_FILINGS = "counter_filings"


def ensure_counter_filing_indexes(db: Db) -> None:
    # `at`: for removing old forms' records in a bounded range.
    db[COUNTER_FILINGS].create_index([("at", ASCENDING)], name="at")


def get_counter_uploads(db: Db, key: str, by: str) -> dict[str, Document]:
    """The uploads kept under `key` for officer `by` (another officer's key holds nothing for them)."""
    found = db[COUNTER_FILINGS].find_one({"_id": key})
    if found is None or found.get("by") != by:
        return {}
    return dict(found.get("uploads") or {})


def keep_counter_upload(
    db: Db, key: str, by: str, document_type: str, upload: Document, at: datetime
) -> None:
    """Record the upload of `document_type` under `key`, replacing one of another file; one of the
    same file (a racing copy of the request recorded it first) is kept."""
    field = f"uploads.{document_type}"
    try:
        db[COUNTER_FILINGS].update_one(
            {"_id": key, "by": by, f"{field}.sha256": {"$ne": upload["sha256"]}},
            {"$set": {field: upload}, "$setOnInsert": {"at": at}},
            upsert=True,
        )
    except DuplicateKeyError:
        pass  # the same file is recorded already (or the key is another officer's)


def forget_counter_upload(db: Db, key: str, by: str, document_type: str) -> None:
    db[COUNTER_FILINGS].update_one({"_id": key, "by": by}, {"$unset": {f"uploads.{document_type}": ""}})
