"""Every read and write of intake's database and blob store (the only module that uses pymongo).

Collections:
- `dossiers`: one per filed dossier (`_id` = dossier code), with its outbox of events.
- `idempotency_keys`: one per `Idempotency-Key` (`_id` = the key): who sent it, the request's hash,
  the code its dossier gets (noted before the dossier is written, so a retry finds the dossier by
  `_id`), the uploads it claimed, and `dossier` once the dossier is known to be stored.
- `dossier_numbers`: one per number given (`_id` = `<unit>:<YYMMDD>:<number>`); `counters` holds
  the last number per unit and day as a starting hint.
- `uploads`: uploaded documents' records (`_id` = upload id); their bytes are in the blob store
  (`BLOB_URL`) under the upload id; `upload_claims`: the dossier each upload
  belongs to (`_id` = upload id; the claim is taken before the dossier is written), or
  housekeeping's claim (`dossier` None) on an upload it is removing, so no filing can take it then.
- `procedures`, `units`: projections of processing's catalogue (newest version per code).

Requests look documents up by `_id` (alone or with a condition): the FerretDB built for local use
finds those through the `_id` index and reads the whole collection for any other filter (see
docs/architecture.md, Stores); MongoDB uses the indexes below for the rest (housekeeping).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.blobs import BlobMissing, BlobStore
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


class KeyTaken(Exception):
    """Another request holds this idempotency key."""


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
    db.dossiers.create_index([("response_until", ASCENDING)], name="response_until")
    db.idempotency_keys.create_index([("at", ASCENDING)], name="at")
    db.uploads.create_index([("checked", ASCENDING), ("created_at", ASCENDING)], name="checked_created")
    db.upload_claims.create_index([("checked", ASCENDING), ("at", ASCENDING)], name="checked_at")
    db[PROCEDURES].create_index([("receiving_units", ASCENDING)], name="receiving_units")


# -- catalogue projection ---------------------------------------------------------------------------


# Procedures and units change a few times a year and every filing reads both: each process keeps
# what it read for a moment instead of asking the store each time. A change then reaches the
# filing checks at most this long after the projection (which itself follows the topic).
PUBLISHED_KEPT_SECONDS = 2.0
_kept: dict[tuple[str, ...], tuple[float, Any]] = {}


def _kept_a_moment(key: tuple[str, ...], read: Callable[[], Any]) -> Any:
    """What `read()` gave for `key` less than PUBLISHED_KEPT_SECONDS ago, or a new read; None (not
    found) is never kept."""
    kept = _kept.get(key)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    value = read()
    if value is not None:
        _kept[key] = (time.monotonic() + PUBLISHED_KEPT_SECONDS, value)
    return value


def get_published(db: Db, collection: str, code: str) -> Document | None:
    """The projected procedure or unit `code` (shared: never change what this returns)."""
    # Only what exists is kept, so the memory used is bounded by the catalogue, not by requests.
    document: Document | None = _kept_a_moment(
        (db.name, collection, code), lambda: db[collection].find_one({"_id": code})
    )
    return document


def list_published(db: Db, collection: str) -> list[Document]:
    """Every projected procedure or unit, by code (shared: never change what this returns).

    The catalogue is small and read whole: filtering on another field than `_id` would read every
    document anyway on FerretDB, so callers filter what this returns, kept as `get_published` keeps.
    """
    documents: list[Document] = _kept_a_moment(
        (db.name, collection), lambda: list(db[collection].find({}).sort("_id", ASCENDING))
    )
    return documents


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

    Each number is taken by inserting a document with a unique `_id`, a guarantee every
    Mongo-wire store keeps (FerretDB as released does not make updates atomic; the project's build
    does). A number another process took meanwhile is skipped.
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


def save_upload(db: Db, blobs: BlobStore, upload_id: str, data: bytes, metadata: Document) -> None:
    """The bytes go to the blob store under the upload's id, then the record (which every filing
    reads) to the database: a record is never seen without its bytes."""
    blobs.put(upload_id, data)
    db.uploads.insert_one({"_id": upload_id, **metadata, "created_at": datetime.now(UTC)})


def get_uploads(db: Db, upload_ids: list[str], *, claims: bool = True) -> dict[str, Document]:
    """Upload records (without their bytes), each with `attached_to`: the dossier holding it, if any.

    An upload housekeeping has claimed for removal is left out, as if already gone. With
    `claims=False` the claims are not read (`attached_to` is None): for a filing that claims them
    next, whose unique claim insert refuses a taken upload anyway."""
    found = {}
    for upload_id in dict.fromkeys(upload_ids):
        record = db.uploads.find_one({"_id": upload_id})
        if record is not None and not claims:
            found[upload_id] = {**record, "attached_to": None}
        elif record is not None:
            claim = db.upload_claims.find_one({"_id": upload_id})
            if claim is not None and claim.get("dossier") is None:
                continue
            found[upload_id] = {**record, "attached_to": claim["dossier"] if claim else None}
    return found


def upload_bytes(blobs: BlobStore, upload_id: str) -> Iterator[bytes]:
    """The bytes of an upload, a piece at a time; raises BlobMissing at the first read if gone."""
    return blobs.chunks(upload_id)


def read_upload(blobs: BlobStore, upload_id: str) -> bytes | None:
    """The whole bytes of an upload; None if they are gone."""
    try:
        return b"".join(blobs.chunks(upload_id))
    except BlobMissing:
        return None


def claim_uploads(db: Db, upload_ids: list[str], code: str) -> bool:
    """Give the uploads to dossier `code`, all or none, before the dossier is written. A claim is an
    insert with the upload's id as unique key, so two dossiers can never both hold one upload, and
    no filing holds one that housekeeping is removing."""
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


def claim_for_removal(db: Db, upload_id: str) -> bool:
    """Housekeeping's claim on an upload it is about to remove (False if a dossier holds it).

    Taken with the same unique insert as a filing's claim, so the filing that comes later fails to
    claim the upload instead of getting a dossier whose file is being deleted."""
    try:
        db.upload_claims.insert_one({"_id": upload_id, "dossier": None, "at": datetime.now(UTC)})
    except DuplicateKeyError:
        claim = db.upload_claims.find_one({"_id": upload_id})
        # Housekeeping's own claim from a run that stopped half-way: finish the removal.
        return claim is not None and claim.get("dossier") is None
    return True


def remove_upload(db: Db, blobs: BlobStore, upload_id: str) -> bool:
    """Delete the bytes and record of an upload housekeeping has claimed; False if already gone."""
    if db.uploads.find_one({"_id": upload_id}, {"_id": 1}) is None:
        return False
    # The record goes last: if deleting the bytes fails, the record is found again next time.
    blobs.delete(upload_id)
    db.uploads.delete_one({"_id": upload_id})
    return True


def drop_removal_claim(db: Db, upload_id: str) -> None:
    """Forget housekeeping's claim once no filing request that saw the upload can still be running."""
    db.upload_claims.delete_one({"_id": upload_id, "dossier": None})


# -- dossiers ---------------------------------------------------------------------------------------


def insert_dossier(db: Db, dossier: Document, entries: list[Any]) -> None:
    insert_with_outbox(db.dossiers, dossier, entries)


def take_idempotency_key(db: Db, key: str, request_hash: str, owner: str) -> None:
    """Hold `key` for this request of `owner` (an insert with the key as unique `_id`), or raise KeyTaken."""
    try:
        db.idempotency_keys.insert_one(
            {
                "_id": key,
                "owner": owner,
                "request_hash": request_hash,
                "code": None,
                "uploads": [],
                "dossier": None,
                "at": datetime.now(UTC),
            }
        )
    except DuplicateKeyError as exc:
        raise KeyTaken(key) from exc


def get_idempotency_key(db: Db, key: str) -> Document | None:
    return db.idempotency_keys.find_one({"_id": key})


def note_idempotency_code(db: Db, key: str, code: str, upload_ids: list[str]) -> None:
    """Note on the key the code its dossier gets and the uploads it claims, before either is written."""
    db.idempotency_keys.update_one({"_id": key}, {"$set": {"code": code, "uploads": upload_ids}})


def complete_idempotency_key(db: Db, key: str, code: str) -> None:
    db.idempotency_keys.update_one({"_id": key}, {"$set": {"dossier": code}})


def drop_idempotency_key(db: Db, key: str, taken_at: datetime | None = None) -> None:
    """Free `key`; with `taken_at`, only if it is still the one taken then (not taken anew since)."""
    db.idempotency_keys.delete_one({"_id": key} if taken_at is None else {"_id": key, "at": taken_at})


def forget_idempotency_key(db: Db, held: Document) -> None:
    """Erase an expired key and the first answer it replays (which holds the plain lookup secret)."""
    code = held.get("dossier") or held.get("code")
    if code:
        # The answer goes first: if the key's deletion fails, the next pass finds the key again.
        db.dossiers.update_one({"_id": code}, {"$unset": {"response": "", "response_until": ""}})
    db.idempotency_keys.delete_one({"_id": held["_id"], "at": held["at"]})


def get_dossier(db: Db, code: str) -> Document | None:
    return db.dossiers.find_one({"_id": code}, {"outbox": 0})


def dossier_exists(db: Db, code: str) -> bool:
    return db.dossiers.find_one({"_id": code}, {"_id": 1}) is not None


def update_dossier(db: Db, code: str, expected: Document, update: Document, entries: list[Any]) -> bool:
    """Apply `update` (and record its events) only while the dossier still matches `expected`."""
    return update_with_outbox(db.dossiers, {"_id": code, **expected}, update, entries)


def add_handling_unit(db: Db, code: str, unit: str) -> None:
    db.dossiers.update_one({"_id": code}, {"$addToSet": {"handling_units": unit}})


def apply_processing_event(db: Db, code: str, changes: Document, sequence: int) -> bool:
    """Processing's status, if newer than the one applied. A withdrawn dossier stays withdrawn: an
    event processing sent before it learnt of the withdrawal (an acceptance) moves its sequence only."""
    followed = db.dossiers.update_one(
        {"_id": code, "processing_sequence": {"$lt": sequence}, "status": {"$ne": "withdrawn"}},
        {"$set": {**changes, "processing_sequence": sequence}},
    )
    if followed.matched_count == 1:
        return True
    return apply_newer(db.dossiers, code, {}, "processing_sequence", sequence)


def expired_idempotency_keys(db: Db, now: datetime, kept: timedelta, limit: int = 100) -> list[Document]:
    return list(db.idempotency_keys.find({"at": {"$lt": now - kept}}).limit(limit))


def forget_answers_past_their_time(db: Db, now: datetime) -> int:
    """Erase first answers kept past their time whose key is gone already (or never existed)."""
    result = db.dossiers.update_many(
        {"response_until": {"$lt": now}}, {"$unset": {"response": "", "response_until": ""}}
    )
    return result.modified_count


def forget_responses(db: Db, now: datetime, kept: timedelta, until: float | None = None) -> int:
    """Erase each expired key together with the first answer it replays (the answer holds the plain
    lookup secret), until none is left or `until` (monotonic) passes; then answers kept past
    their time without a key (filings sent without one)."""
    forgotten = 0
    while until is None or time.monotonic() < until:
        expired = expired_idempotency_keys(db, now, kept)
        for held in expired:
            forget_idempotency_key(db, held)
        forgotten += len(expired)
        if len(expired) < 100:
            break
    return forgotten + forget_answers_past_their_time(db, now)
