"""Every read and write of processing's database (the only module that uses pymongo).

Collections:
- `procedures`: the current version of each procedure (`_id` = code), with its outbox.
- `procedure_versions`: earlier versions (`_id` = `<code>@<version>`), written before a change.
- `units`: administrative units and agencies (`_id` = code), with their outbox.
- `calendar_years`: the working-day calendar per year (`_id` = year).
- `audit`: who changed what reference data, when, before and after.
- `dossiers`: each dossier's workflow state (`_id` = dossier code), with its embedded audit trail
  (`history`), control-slip rows and outbox.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.config import ServiceConfig
from eventkit.mongo import Db, Document
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import ensure_outbox_index, insert_with_outbox, update_with_outbox

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["dossiers", "procedures", "units"]


class AlreadyExists(Exception):
    pass


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
    db.procedures.create_index([("level", ASCENDING), ("_id", ASCENDING)], name="level")
    db.procedures.create_index([("field", ASCENDING), ("_id", ASCENDING)], name="field")
    db.procedures.create_index([("receiving_units", ASCENDING)], name="receiving_units")
    db.procedure_versions.create_index([("code", ASCENDING), ("version", ASCENDING)], name="code_version")
    db.units.create_index([("parent", ASCENDING)], name="parent")
    db.units.create_index([("type", ASCENDING)], name="type")
    db.audit.create_index([("target", ASCENDING), ("at", DESCENDING)], name="target_at")
    # Deadline watch: dossiers whose next warning falls due by now (equality on `watch`, then a
    # range bounded on both sides on the time of that warning).
    db.dossiers.create_index([("watch", ASCENDING), ("due_soon_at", ASCENDING)], name="watch_due_soon_at")
    db.dossiers.create_index([("watch", ASCENDING), ("due_at", ASCENDING)], name="watch_due_at")


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


def record_audit(db: Db, *, actor: str, action: str, target: str, before: Any, after: Any) -> None:
    db.audit.insert_one(
        {
            "at": datetime.now(UTC),
            "actor": actor,
            "action": action,
            "target": target,
            "before": _to_store(before),
            "after": _to_store(after),
        }
    )


def list_audit(db: Db, target: str, limit: int = 50) -> list[Document]:
    cursor = db.audit.find({"target": target}, {"_id": 0}).sort("at", DESCENDING).limit(limit)
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


# FerretDB reads and writes back a document in two steps (see docs/architecture.md, Stores): the
# threads of one process make their conditional writes one at a time, so of two, one loses.
_DOSSIER_WRITES = threading.Lock()


def update_dossier(db: Db, code: str, expected: Document, update: Document, entries: list[Any]) -> bool:
    """Change dossier `code` and add its events in one write, only if it still holds `expected`
    (its `state`, `sequence` and `revision` as read): of two officers acting at once, one wins."""
    with _DOSSIER_WRITES:
        return update_with_outbox(db.dossiers, {"_id": code, **expected}, update, entries)
