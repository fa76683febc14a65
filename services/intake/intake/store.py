"""Every read and write of intake's database (the only module that uses pymongo).

Collections:
- `dossiers`: one per filed dossier (`_id` = dossier code), with its outbox of events.
- `idempotency_keys`: one per `Idempotency-Key` (`_id` = the key): the request's hash and its dossier.
- `dossier_numbers`: one per number given (`_id` = `<unit>:<YYMMDD>:<number>`); `counters` holds
  the last number per unit and day as a starting hint.
- `uploads`: uploaded documents' records (`_id` = upload id), their bytes in `upload_chunks`
  (`_id` = `<upload id>:<n>`); `upload_claims`: the dossier each upload
  belongs to (`_id` = upload id; the claim is taken before the dossier is written).
- `procedures`, `units`: projections of processing's catalogue (newest version per code).

Requests look documents up by `_id` (alone or with a condition): the FerretDB built for local use
finds those through the `_id` index and reads the whole collection for any other filter (see
docs/architecture.md, Stores); MongoDB uses the indexes below for the rest (housekeeping).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.config import ServiceConfig
from eventkit.inbox import apply_newer
from eventkit.mongo import Db, Document
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import ensure_outbox_index, insert_with_outbox, update_with_outbox

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["dossiers"]

# Projections of processing's catalogue (compacted topics), keyed by code, newest version only.
PROCEDURES = "procedures"
UNITS = "units"
# Bytes per stored chunk of an upload (a document stays far below the 16 MiB limit).
CHUNK_BYTES = 4 * 1024 * 1024


class KeyTaken(Exception):
    """Another request holds this idempotency key."""


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
    db.dossiers.create_index([("response_until", ASCENDING)], name="response_until")
    db.dossiers.create_index([("idempotency_key", ASCENDING)], name="idempotency_key")
    db.idempotency_keys.create_index([("at", ASCENDING)], name="at")
    db.uploads.create_index([("checked", ASCENDING), ("created_at", ASCENDING)], name="checked_created")
    db.upload_claims.create_index([("checked", ASCENDING), ("at", ASCENDING)], name="checked_at")
    db[PROCEDURES].create_index([("receiving_units", ASCENDING)], name="receiving_units")


# -- catalogue projection ---------------------------------------------------------------------------


# Procedures and units change a few times a year and every filing reads both: each process keeps
# what it read for a moment instead of asking the store each time. A change then reaches the
# filing checks at most this long after the projection (which itself follows the topic).
PUBLISHED_KEPT_SECONDS = 2.0
_published: dict[tuple[str, str, str], tuple[float, Document]] = {}


def get_published(db: Db, collection: str, code: str) -> Document | None:
    """The projected procedure or unit `code` (shared: never change what this returns)."""
    key = (db.name, collection, code)
    kept = _published.get(key)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    document = db[collection].find_one({"_id": code})
    # Only what exists is kept, so the memory used is bounded by the catalogue, not by requests.
    if document is not None:
        _published[key] = (time.monotonic() + PUBLISHED_KEPT_SECONDS, document)
    return document


def list_published(db: Db, collection: str, filters: Document) -> list[Document]:
    return list(db[collection].find(filters).sort("_id", ASCENDING))


# -- dossier numbers --------------------------------------------------------------------------------


# The last number this process gave or tried per unit and day. Threads of one process take their
# candidates under a lock, so only another process can have taken a candidate already; the
# `counters` document, written every HINT_EVERY numbers, tells a starting process where to begin.
_hints: dict[tuple[str, str, str], int] = {}
_hints_lock = threading.Lock()
HINT_EVERY = 10


def _candidate(db: Db, key: str, cache_key: tuple[str, str, str], at_least: int = 0) -> int:
    with _hints_lock:
        last = _hints.get(cache_key)
        if last is None:
            hint = db.counters.find_one({"_id": key})
            last = int(hint["seq"]) if hint else 0
        number = max(last, at_least) + 1
        _hints[cache_key] = number
        return number


def next_number(db: Db, unit: str, day: str) -> int:
    """The next number of `unit` on `day`, never given twice, even to concurrent requests.

    Each number is taken by inserting a document with a unique `_id`: a unique key is the one
    guarantee that holds on FerretDB too, whose updates (even `$inc` and find-and-modify) are not
    atomic under concurrent writers. A number another process took meanwhile is skipped.
    """
    key = f"{unit}:{day}"
    cache_key = (db.name, unit, day)
    number = _candidate(db, key, cache_key)
    while True:
        try:
            db.dossier_numbers.insert_one({"_id": f"{key}:{number:05d}"})
            break
        except DuplicateKeyError:
            number = _candidate(db, key, cache_key, at_least=number)
        except BaseException:
            # Not taken: give it back unless a later number was handed out meanwhile (then it
            # stays a gap; the store failing for one request fails the others as well).
            with _hints_lock:
                if _hints.get(cache_key) == number:
                    _hints[cache_key] = number - 1
            raise
    if number % HINT_EVERY == 0:
        try:
            db.counters.update_one({"_id": key}, {"$max": {"seq": number}}, upsert=True)
        except DuplicateKeyError:
            db.counters.update_one({"_id": key}, {"$max": {"seq": number}})
    return number


# -- uploads ----------------------------------------------------------------------------------------


def _chunk_id(upload_id: str, n: int) -> str:
    return f"{upload_id}:{n:04d}"


def save_upload(db: Db, upload_id: str, data: bytes, metadata: Document) -> None:
    # The bytes stay out of the record, which every filing reads (FerretDB reads whole documents
    # even when a projection leaves fields out). Chunks first: a record without all its bytes must
    # never be seen.
    record = {"_id": upload_id, **metadata, "created_at": datetime.now(UTC)}
    offsets = range(0, len(data), CHUNK_BYTES)
    for n, offset in enumerate(offsets):
        db.upload_chunks.insert_one(
            {"_id": _chunk_id(upload_id, n), "data": Binary(data[offset : offset + CHUNK_BYTES])}
        )
    db.uploads.insert_one({**record, "chunks": len(offsets)})


def get_uploads(db: Db, upload_ids: list[str]) -> dict[str, Document]:
    """Upload records (without their bytes), each with `attached_to`: the dossier holding it, if any."""
    found = {}
    for upload_id in dict.fromkeys(upload_ids):
        record = db.uploads.find_one({"_id": upload_id})
        if record is not None:
            claim = db.upload_claims.find_one({"_id": upload_id})
            found[upload_id] = {**record, "attached_to": claim["dossier"] if claim else None}
    return found


def read_upload(db: Db, upload_id: str, chunks: int) -> bytes | None:
    """The bytes of an upload stored in `chunks` chunks (its record says how many); None if any is gone."""
    parts = [db.upload_chunks.find_one({"_id": _chunk_id(upload_id, n)}) for n in range(chunks)]
    if any(part is None for part in parts):
        return None
    return b"".join(bytes(part["data"]) for part in parts if part is not None)


def claim_uploads(db: Db, upload_ids: list[str], code: str) -> bool:
    """Give the uploads to dossier `code`, all or none, before the dossier is written. A claim is an
    insert with the upload's id as unique key, so two dossiers can never both hold one upload."""
    claimed: list[str] = []
    for upload_id in upload_ids:
        try:
            db.upload_claims.insert_one({"_id": upload_id, "dossier": code, "at": datetime.now(UTC)})
        except DuplicateKeyError:
            release_uploads(db, claimed, code)
            return False
        claimed.append(upload_id)
    return True


def release_uploads(db: Db, upload_ids: list[str], code: str) -> None:
    """Give back uploads claimed for `code` (whose dossier was not written)."""
    for upload_id in upload_ids:
        db.upload_claims.delete_one({"_id": upload_id, "dossier": code})


def unchecked_claims(db: Db, claimed_before: datetime, limit: int = 100) -> list[Document]:
    """Claims old enough that their dossier must exist, not yet checked by housekeeping."""
    return list(db.upload_claims.find({"checked": {"$ne": True}, "at": {"$lt": claimed_before}}).limit(limit))


def mark_claim_checked(db: Db, upload_id: str) -> None:
    db.upload_claims.update_one({"_id": upload_id}, {"$set": {"checked": True}})


def unchecked_uploads(db: Db, created_before: datetime, limit: int = 100) -> list[Document]:
    """Uploads older than the limit for attaching them, not yet checked by housekeeping."""
    return list(
        db.uploads.find({"checked": {"$ne": True}, "created_at": {"$lt": created_before}}, {"data": 0}).limit(
            limit
        )
    )


def is_claimed(db: Db, upload_id: str) -> bool:
    return db.upload_claims.find_one({"_id": upload_id}) is not None


def mark_upload_kept(db: Db, upload_id: str) -> None:
    db.uploads.update_one({"_id": upload_id}, {"$set": {"checked": True}})


def delete_upload(db: Db, upload_id: str) -> bool:
    """Delete an upload no dossier holds; False if one does."""
    record = db.uploads.find_one({"_id": upload_id})
    if record is None or is_claimed(db, upload_id):
        return False
    # The record goes last: if a chunk deletion fails, the record is found again next time.
    for n in range(record["chunks"]):
        db.upload_chunks.delete_one({"_id": _chunk_id(upload_id, n)})
    db.uploads.delete_one({"_id": upload_id})
    return True


# -- dossiers ---------------------------------------------------------------------------------------


def insert_dossier(db: Db, dossier: Document, entries: list[Any]) -> None:
    insert_with_outbox(db.dossiers, dossier, entries)


def take_idempotency_key(db: Db, key: str, request_hash: str) -> None:
    """Hold `key` for this request (an insert with the key as unique `_id`), or raise KeyTaken."""
    try:
        db.idempotency_keys.insert_one(
            {"_id": key, "request_hash": request_hash, "dossier": None, "at": datetime.now(UTC)}
        )
    except DuplicateKeyError as exc:
        raise KeyTaken(key) from exc


def get_idempotency_key(db: Db, key: str) -> Document | None:
    return db.idempotency_keys.find_one({"_id": key})


def complete_idempotency_key(db: Db, key: str, code: str) -> None:
    db.idempotency_keys.update_one({"_id": key}, {"$set": {"dossier": code}})


def drop_idempotency_key(db: Db, key: str) -> None:
    db.idempotency_keys.delete_one({"_id": key})


def dossier_with_key(db: Db, key: str) -> str | None:
    """The dossier filed with `key` (only asked when the key's request seems to have died)."""
    document = db.dossiers.find_one({"idempotency_key": key}, {"_id": 1})
    return document["_id"] if document else None


def get_dossier(db: Db, code: str) -> Document | None:
    return db.dossiers.find_one({"_id": code}, {"outbox": 0})


def dossier_exists(db: Db, code: str) -> bool:
    return db.dossiers.find_one({"_id": code}, {"_id": 1}) is not None


def update_dossier(db: Db, code: str, expected: Document, update: Document, entries: list[Any]) -> bool:
    """Apply `update` (and record its events) only while the dossier still matches `expected`."""
    return update_with_outbox(db.dossiers, {"_id": code, **expected}, update, entries)


def apply_processing_event(db: Db, code: str, changes: Document, sequence: int) -> bool:
    return apply_newer(db.dossiers, code, {"$set": changes}, "processing_sequence", sequence)


def forget_responses(db: Db, now: datetime, kept: timedelta) -> int:
    """Drop the stored first answers (they hold the plain lookup secret) and their keys once
    retries are over."""
    result = db.dossiers.update_many(
        {"response_until": {"$lt": now}}, {"$unset": {"response": "", "response_until": ""}}
    )
    db.idempotency_keys.delete_many({"at": {"$lt": now - kept}})
    return result.modified_count
