"""Reads and writes of portal's database: the read models, filing records, ratings and settings;
the editors' content is in content_store.py, the procedure list's rows in listing.py (the three
modules that use pymongo)."""

from collections.abc import Iterator
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from eventkit import mongo
from eventkit.config import ServiceConfig
from eventkit.inbox import apply_newer_document, apply_once
from eventkit.mongo import Db, Document
from eventkit.mongo import connect as mongo_connect
from eventkit.projections import upsert_latest
from portal import content_store, listing
from portal.search.store_index import ensure_search_indexes

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = [*content_store.CONTENT]


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    ensure_read_model_indexes(db)
    listing.ensure_indexes(db)
    # The search index keeps its own collections (portal.search.store_index).
    ensure_search_indexes(db)
    ensure_filing_indexes(db)
    # The editors' articles and documents keep their own (portal.content_store).
    content_store.ensure_content_indexes(db)


# Projections of processing's catalogue (compacted topics), keyed by code, newest version only.
PROCEDURES = "procedures"
UNITS = "units"


def get_published(db: Db, collection: str, code: str) -> dict[str, Any] | None:
    return db[collection].find_one({"_id": code})


# -- read models fed by dossier and notify events ------------------------------------------------
# What the public lookup and statistics read; rebuildable from the topics (portal/rebuild.py).

# Each dossier's public status (`_id` = dossier code): no personal data but the masked name and
# the lookup secret's hash.
DOSSIERS = "dossiers"
# Statistics per unit and month (`_id` = `<unit>|YYYY-MM`), changed by keyed `$inc` only.
STATS_COUNTERS = "stats_counters"
# The latest status of each letter (`_id` = letter id) and citizen notification (`_id` = its id).
LETTER_STATUSES = "letter_statuses"
NOTIFICATION_STATUSES = "notification_statuses"

# What a rebuild drops, in this order: the counters before the dossiers whose `counted` marks say
# what they hold (see portal/rebuild.py), then the rest; the catalogue comes back from its
# compacted topics.
READ_MODELS = (
    STATS_COUNTERS,
    DOSSIERS,
    LETTER_STATUSES,
    NOTIFICATION_STATUSES,
    PROCEDURES,
    listing.PROCEDURE_LISTING,
    UNITS,
)
# Each source's newest sequence applied, and that of the newest processing event with a due time.
SEQUENCE_FIELDS = ("intake_sequence", "processing_sequence", "due_sequence")


def ensure_read_model_indexes(db: Db) -> None:
    # Dossiers are read by `_id` only (the lookup); counters by `_id` for one unit and month, else
    # by equality on these leading fields (FerretDB pushes equality on leading fields down).
    db[STATS_COUNTERS].create_index([("month", ASCENDING)], name="month")
    db[STATS_COUNTERS].create_index([("year", ASCENDING), ("unit", ASCENDING)], name="year_unit")
    db[LETTER_STATUSES].create_index([("dossier_code", ASCENDING)], name="dossier_code")
    db[NOTIFICATION_STATUSES].create_index([("dossier", ASCENDING)], name="dossier")


def drop_read_models(db: Db) -> None:
    for name in READ_MODELS:
        db[name].drop()


def apply_to_dossier(db: Db, code: str, sequence_field: str, sequence: int, update: Document) -> bool:
    """Apply `update` if `sequence` is newer than the source's applied one; the status is created at
    its first event, each other source's sequence at 0 (one find-and-modify)."""
    on_insert = {"code": code, **dict.fromkeys(SEQUENCE_FIELDS, 0)}
    return apply_newer_document(db[DOSSIERS], code, update, sequence_field, sequence, on_insert) is not None


def update_dossier(db: Db, code: str, update: Document) -> None:
    """An update whose result does not depend on order (fields only one event sets, a step keyed
    by its event, a later time kept by `$max`, a mark)."""
    db[DOSSIERS].update_one({"_id": code}, update)


def set_on_dossier(db: Db, code: str, fields: Document) -> None:
    update_dossier(db, code, {"$set": fields})


def get_dossier(db: Db, code: str) -> Document | None:
    return db[DOSSIERS].find_one({"_id": code})


def add_to_counter(
    db: Db, counter_id: str, identity: Document, increments: dict[str, int], applied_key: str
) -> bool:
    """`$inc` the counter unless `applied_key` was added to it already; True when added now (one
    conditional write, creating the counter with its `identity` fields when missing)."""
    update = {"$inc": increments, "$setOnInsert": identity}
    return apply_once(db[STATS_COUNTERS], counter_id, update, applied_key, upsert=True)


def get_counter(db: Db, counter_id: str) -> Document | None:
    return db[STATS_COUNTERS].find_one({"_id": counter_id})


def counters_of_month(db: Db, month: str) -> list[Document]:
    return list(db[STATS_COUNTERS].find({"month": month}))


def counters_of_year(db: Db, year: int, unit: str | None = None) -> list[Document]:
    query: Document = {"year": year} if unit is None else {"year": year, "unit": unit}
    return list(db[STATS_COUNTERS].find(query))


def keep_latest_status(db: Db, collection: str, key: str, sequence: int, fields: Document) -> bool:
    """Keep `fields` under `key` unless a status at least as new (its `version`: the event's
    sequence in the letter's or notification's history) is kept."""
    return upsert_latest(db[collection], key, sequence, fields)


def statuses_of_dossier(db: Db, collection: str, field: str, code: str) -> list[Document]:
    return list(db[collection].find({field: code}))


# Settings the portal keeps for all its processes (the pages' CSRF signing key when none is set).
SETTINGS = "settings"


def shared_secret(db: Db, name: str) -> str:
    """A random secret made once and read by every process of the portal."""
    return mongo.shared_secret(db[SETTINGS], name)


# -- online filing and ratings ---------------------------------------------------------------------

# The files a filing form sent to intake, per Idempotency-Key (`_id`): `uploads.<document type>` =
# {upload_id, sha256}. A resent form reuses them, so its request to intake is the same body.
# No personal data: ids and hashes only.
FILING_UPLOADS = "filing_uploads"
# One rating per dossier (`_id` = dossier code): the levels chosen, the unit and month; no person.
RATINGS = "ratings"


def ensure_filing_indexes(db: Db) -> None:
    # Read by `_id` only; `at` for removing old keys' records in a bounded range.
    db[FILING_UPLOADS].create_index([("at", ASCENDING)], name="at")


def get_filing_uploads(db: Db, key: str) -> dict[str, Document]:
    found = db[FILING_UPLOADS].find_one({"_id": key})
    return dict((found or {}).get("uploads") or {})


def keep_filing_upload(db: Db, key: str, document_type: str, upload: Document, at: Any) -> None:
    """Record the upload of `document_type` for `key`, replacing one of another file; one of the
    same file (a racing copy of the request recorded it first) is kept."""
    field = f"uploads.{document_type}"
    try:
        db[FILING_UPLOADS].update_one(
            {"_id": key, f"{field}.sha256": {"$ne": upload["sha256"]}},
            {"$set": {field: upload}, "$setOnInsert": {"at": at}},
            upsert=True,
        )
    except DuplicateKeyError:
        pass  # the same file is recorded already


def forget_filing_upload(db: Db, key: str, document_type: str) -> None:
    db[FILING_UPLOADS].update_one({"_id": key}, {"$unset": {f"uploads.{document_type}": ""}})


def insert_rating(db: Db, rating: Document) -> bool:
    """Insert the dossier's rating; False when it was rated already."""
    try:
        db[RATINGS].insert_one(rating)
    except DuplicateKeyError:
        return False
    return True


def get_rating(db: Db, code: str) -> Document | None:
    return db[RATINGS].find_one({"_id": code})


def every_rating(db: Db) -> Iterator[Document]:
    """All ratings, in `_id` order: for a rebuild of the counters only (portal.rebuild), never a
    request or an event."""
    return iter(db[RATINGS].find({}, sort=[("_id", ASCENDING)], batch_size=500))
