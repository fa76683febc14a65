"""Every read and write of notify's database (the only module that uses pymongo).

Collections:
- `dossiers`: notify's copy of each dossier (`_id` = code): what notifications need (unit,
  procedure, applicant's name, email, address and phone, delivery method, due time, state), the
  control slip's rows (`control_slip`, Mẫu 05), when it was received (`received_time`, indexed
  with `receiving_unit` for the tracking register, Mẫu 06) and the newest sequence applied from
  each source (`intake_sequence`, `processing_sequence`).
- `notifications`: one document per (event, recipient, template) (`_id` derived from the three),
  with its status, attempts, the last error and its outbox of status events.
- `leases`: the outbox relay's leases (eventkit.outbox).
- `units`, `procedures`: the newest published version of each (`_id` = code, `version`), from
  processing's compacted topics, for what letters print (names, addresses, legal times).
- `register`, `register_counters`, `postal_items`, `postal_items_counters`: the outgoing register
  and the postal item numbers (section "outgoing register").
- `letters`, `batches`, `postal_reports`: official letters, the daily print batches and the
  postal operator's reports applied (section "letters").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from eventkit.blobs import BlobStore
from eventkit.config import ServiceConfig
from eventkit.inbox import apply_newer_document
from eventkit.mongo import Db, Document
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import add_outbox, ensure_outbox_index, insert_with_outbox, update_with_outbox

# Notify's copy of processing's catalogue (eventkit.projections.keep_latest): `_id` = code.
PROCEDURES, UNITS = "procedures", "units"
# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["notifications", "letters"]
# The low end of every time range: FerretDB pushes down only ranges bounded on both sides.
EPOCH = datetime(2001, 9, 10, tzinfo=UTC)
LATEST = datetime(2286, 11, 19, tzinfo=UTC)


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
    # The sender: notifications of a status whose next attempt is due (equality, then a range).
    db.notifications.create_index(
        [("status", ASCENDING), ("send_after", ASCENDING)], name="status_send_after"
    )
    # The sweeper: notifications left in `sending` past their lease.
    db.notifications.create_index(
        [("status", ASCENDING), ("lease_until", ASCENDING)], name="status_lease_until"
    )
    # The API: a dossier's notifications.
    db.notifications.create_index(
        [("dossier", ASCENDING), ("created_at", ASCENDING)], name="dossier_created_at"
    )
    # The tracking register (Mẫu 06): a unit's dossiers received in a period.
    db.dossiers.create_index(
        [("receiving_unit", ASCENDING), ("received_time", ASCENDING)], name="receiving_unit_received_time"
    )
    ensure_register_indexes(db)
    ensure_letter_indexes(db)


# -- dossiers -------------------------------------------------------------------------------------

SEQUENCE_FIELDS = ("intake_sequence", "processing_sequence")
MAX_SLIP_ROWS = 100


def _push_row(row: Document) -> Document:
    # `slip_keys` holds the rows' keys as plain strings: `$ne` on them is what an apply-once
    # filter needs (FerretDB does not match `$ne` through a path into an array of documents).
    # The newest rows are kept past the bound (a guard: a dossier has tens of steps).
    return {
        "control_slip": {"$each": [row], "$slice": -MAX_SLIP_ROWS},
        "slip_keys": {"$each": [row["key"]], "$slice": -MAX_SLIP_ROWS},
    }


def apply_to_dossier(
    db: Db, code: str, sequence_field: str, sequence: int, fields: Document, row: Document | None = None
) -> Document | None:
    """Set `fields` on the copy, and append its control-slip `row`, if `sequence` is newer than the
    source's applied one; the copy is created at the first event. The copy after the write, None
    when the event was not newer (one find-and-modify)."""
    update: Document = {"$set": fields} if fields else {}
    if row is not None:
        update["$push"] = _push_row(row)
    on_insert = {"code": code, **dict.fromkeys(SEQUENCE_FIELDS, 0)}
    return apply_newer_document(db.dossiers, code, update, sequence_field, sequence, on_insert)


def add_slip_row(db: Db, code: str, row: Document) -> bool:
    """Append `row` unless a row with its key is there (an overtaken event's row, added once)."""
    result = db.dossiers.update_one(
        {"_id": code, "slip_keys": {"$ne": row["key"]}}, {"$push": _push_row(row)}
    )
    return result.matched_count == 1


def received_filter(unit: str, since: datetime, until: datetime) -> Document:
    return {"receiving_unit": unit, "received_time": {"$gte": since, "$lt": until}}


def dossiers_received(db: Db, unit: str, since: datetime, until: datetime, limit: int) -> list[Document]:
    """Dossiers received at `unit` in [since, until), at most `limit` (a seek on
    receiving_unit_received_time; unsorted, so the store stops at the limit)."""
    return list(db.dossiers.find(received_filter(unit, since, until)).limit(limit))


def get_dossier(db: Db, code: str) -> Document | None:
    return db.dossiers.find_one({"_id": code})


# -- notifications --------------------------------------------------------------------------------


def insert_notification(db: Db, notification: Document, entries: list[dict[str, Any]]) -> bool:
    """Insert a notification with its first status event; False if its `_id` exists already."""
    try:
        insert_with_outbox(db.notifications, notification, entries)
    except DuplicateKeyError:
        return False
    return True


def get_notification(db: Db, notification_id: str) -> Document | None:
    return db.notifications.find_one({"_id": notification_id})


# The filters of the sender, the sweeper and the API, each an equality and a two-sided range on
# the leading fields of its index (tests/integration/test_notify_store.py checks the plans).


NO_OUTBOX = {"outbox": 0, "outbox_parked": 0}


@dataclass(frozen=True)
class NotificationChange:
    """One conditional write of a notification: by `_id` and `expected`, with its status events."""

    notification_id: str
    expected: Document
    update: Document
    entries: list[dict[str, Any]]


def due_filter(status: str, now: datetime) -> Document:
    return due_window_filter(status, EPOCH, now, closed=True)


def due_window_filter(status: str, since: datetime, until: datetime, closed: bool) -> Document:
    return {"status": status, "send_after": {"$gte": since, "$lte" if closed else "$lt": until}}


def stuck_filter(now: datetime) -> Document:
    return {"status": "sending", "lease_until": {"$gte": EPOCH, "$lt": now}}


def of_dossier_filter(code: str) -> Document:
    return {"dossier": code, "created_at": {"$gte": EPOCH, "$lte": LATEST}}


def due_notifications(db: Db, status: str, now: datetime, limit: int) -> list[Document]:
    """Notifications in `status` whose next attempt is due, oldest first (index `status_send_after`)."""
    cursor = db.notifications.find(due_filter(status, now), NO_OUTBOX)
    return list(cursor.sort("send_after", ASCENDING).limit(limit))


def due_window(db: Db, status: str, since: datetime, until: datetime, closed: bool) -> list[Document]:
    """Notifications in `status` with `send_after` from `since` to `until` (included if `closed`)."""
    return list(db.notifications.find(due_window_filter(status, since, until, closed), NO_OUTBOX))


def stuck_notifications(db: Db, now: datetime, limit: int) -> list[Document]:
    """Notifications in `sending` whose lease ended (index `status_lease_until`)."""
    cursor = db.notifications.find(stuck_filter(now), NO_OUTBOX)
    return list(cursor.limit(limit))


def change_notification(
    db: Db, notification_id: str, expected: Document, update: Document, entries: list[dict[str, Any]]
) -> bool:
    """One conditional write by `_id` and the `expected` fields (status, sequence) with its events."""
    return update_with_outbox(db.notifications, {"_id": notification_id, **expected}, update, entries)


def change_notifications(db: Db, changes: list[NotificationChange]) -> int:
    """Several conditional writes as `change_notification`'s, in one request; how many matched."""
    if not changes:
        return 0
    writes = [
        UpdateOne(
            {"_id": change.notification_id, **change.expected}, add_outbox(change.update, change.entries)
        )
        for change in changes
    ]
    return int(db.notifications.bulk_write(writes, ordered=False).matched_count)


def notifications_of_dossier(db: Db, code: str, limit: int) -> list[Document]:
    cursor = db.notifications.find(
        of_dossier_filter(code), {"outbox": 0, "outbox_parked": 0, "personalisation": 0}
    )
    return list(cursor.sort("created_at", ASCENDING).limit(limit))


# -- outgoing register (sổ đăng ký văn bản đi) --------------------------------------------------
# `register` (`_id` = `<unit>|<year>|<number:06d>`): one entry per number given, naming its letter
# (unique index on `letter_id`, so a letter never holds two numbers); `register_counters` (`_id` =
# `<unit>|<year>`): the highest number known to be given, a hint where to start. `postal_items`
# and `postal_items_counters` number the letters sent by post the same way (one series).


def ensure_register_indexes(db: Db) -> None:
    for name in ("register", "postal_items", "tracking"):
        db[name].create_index([("letter_id", ASCENDING)], name="letter_id", unique=True)


def take_register_number(db: Db, unit: str, year: int, letter_id: str, at: datetime) -> int:
    """The number of `letter_id` in `unit`'s register of `year`: the one it holds, or the next one."""
    return _take_number(db, "register", f"{unit}|{year}", letter_id, {"unit": unit, "year": year, "at": at})


def take_item_number(db: Db, letter_id: str, at: datetime) -> int:
    """The serial of `letter_id`'s postal item number (postal.item_number): held or next."""
    return _take_number(db, "postal_items", "postal", letter_id, {"at": at})


def _take_number(db: Db, collection: str, series: str, letter_id: str, fields: Document) -> int:
    """The number `letter_id` holds in `series` of `collection`, or the next one of the series.

    A number is given by inserting its entry (`_id` = `<series>|<number:06d>`), which no two writers
    can both insert, so two letters never share one, and the unique index on `letter_id` keeps a
    letter from holding two. `<collection>_counters` is only a hint and may lag (a writer that
    stopped after its insert): the next writer finds that number taken and moves on. So numbers are
    given in order with no gaps, since a failed insert gives nothing.
    """
    entries, counters = db[collection], db[f"{collection}_counters"]
    held = _number_of(entries, letter_id)
    if held is not None:
        return held
    counter = counters.find_one({"_id": series})
    number = (int(counter["last"]) if counter else 0) + 1
    while True:
        try:
            entries.insert_one(
                {"_id": f"{series}|{number:06d}", **fields, "number": number, "letter_id": letter_id}
            )
            break
        except DuplicateKeyError:
            # Either the number is taken (try the next) or another writer numbered this letter.
            held = _number_of(entries, letter_id)
            if held is not None:
                return held
            number += 1
    try:
        counters.update_one({"_id": series}, {"$max": {"last": number}}, upsert=True)
    except DuplicateKeyError:
        counters.update_one({"_id": series}, {"$max": {"last": number}})
    return number


def _number_of(entries: Any, letter_id: str) -> int | None:
    entry = entries.find_one({"letter_id": letter_id}, {"number": 1})
    return None if entry is None else int(entry["number"])


# -- letters ------------------------------------------------------------------------------------
# `letters` (`_id` = letter id): one official letter, its status and history, where it is in the
# post (`post`: `waiting` for a batch, `batched`, `cancelled`; absent when not sent by post), the
# day of its batch, and its outbox; its signed PDF is the blob `letter-<sha256 of the id>`. `batches` (`_id` =
# the day, YYYY-MM-DD): a daily print batch, closing then closed; its PDF and manifest are the
# blobs `batch-<day>.pdf` and `batch-<day>.csv`. `postal_reports` (`_id` = the operator's report
# id): each status report applied, so a replayed one is refused.


def ensure_letter_indexes(db: Db) -> None:
    # A batch takes the letters waiting for the post signed before its cut-off, oldest first.
    db.letters.create_index([("post", ASCENDING), ("signed_at", ASCENDING)], name="post_signed_at")
    # A dossier's letters, for the staff.
    db.letters.create_index(
        [("dossier_code", ASCENDING), ("created_at", ASCENDING)], name="dossier_created_at"
    )
    # The letters recorded and not issued yet, oldest first.
    db.letters.create_index([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created_at")
    # A batch's PDF and manifest list its letters.
    db.letters.create_index([("batch", ASCENDING), ("item_serial", ASCENDING)], name="batch_item_serial")


def insert_letter(db: Db, letter: Document) -> bool:
    """False if a letter with that id exists (it was created by an earlier delivery of the event)."""
    try:
        insert_with_outbox(db.letters, letter, [])
    except DuplicateKeyError:
        return False
    return True


def get_letter(db: Db, letter_id: str) -> Document | None:
    return db.letters.find_one({"_id": letter_id}, {"outbox": 0})


def update_letter(db: Db, letter_id: str, expected: Document, update: Document, entries: list[Any]) -> bool:
    """One conditional write of the letter with its events: False if it is no longer as expected."""
    return update_with_outbox(db.letters, {"_id": letter_id, **expected}, update, entries)


def letters_waiting_for_post(db: Db, since: datetime, until: datetime, limit: int) -> list[Document]:
    """Letters waiting for a batch, signed in [since, until), oldest first (a seek on post_signed_at)."""
    cursor = (
        db.letters.find({"post": "waiting", "signed_at": {"$gte": since, "$lt": until}}, {"outbox": 0})
        .sort("signed_at", ASCENDING)
        .limit(limit)
    )
    return list(cursor)


def letters_of_dossier(db: Db, code: str, limit: int) -> list[Document]:
    """A dossier's letters, oldest first (a seek on dossier_created_at)."""
    cursor = db.letters.find(
        {"dossier_code": code, "created_at": {"$gte": EPOCH, "$lt": LATEST}}, {"outbox": 0, "form_data": 0}
    )
    return list(cursor.sort("created_at", ASCENDING).limit(limit))


def letters_created(db: Db, since: datetime, until: datetime, limit: int) -> list[Document]:
    """Letters recorded in [since, until) and not issued yet, oldest first (status_created_at)."""
    cursor = (
        db.letters.find({"status": "created", "created_at": {"$gte": since, "$lt": until}}, {"outbox": 0})
        .sort("created_at", ASCENDING)
        .limit(limit)
    )
    return list(cursor)


def tracking_entry(db: Db, unit: str, year: int, code: str, at: datetime) -> int:
    """The dossier's number in the unit's tracking register (sổ theo dõi hồ sơ, Mẫu 06) of `year`."""
    return _take_number(db, "tracking", f"{unit}|{year}", code, {"unit": unit, "year": year, "at": at})


def tracking_number_of(db: Db, code: str) -> int | None:
    """The dossier's number in its unit's tracking register, if it was given one (by `letter_id`)."""
    return _number_of(db.tracking, code)


def batch_letters(db: Db, day: str) -> list[Document]:
    """The letters of the batch of `day`, in item-number order (a seek on batch_item_serial)."""
    cursor = db.letters.find({"batch": day}, {"outbox": 0, "history": 0}).sort("item_serial", ASCENDING)
    return list(cursor)


def letter_blob_key(letter_id: str) -> str:
    # Letter ids may hold characters a blob key may not (`:`): the key is the id's digest.
    return f"letter-{hashlib.sha256(letter_id.encode()).hexdigest()}"


def save_letter_pdf(blobs: BlobStore, letter_id: str, data: bytes) -> None:
    blobs.put(letter_blob_key(letter_id), data)


def letter_pdf(blobs: BlobStore, letter_id: str) -> bytes:
    return b"".join(blobs.chunks(letter_blob_key(letter_id)))


# A dossier's signed result, as processing sent it (processing.results.v1): the blob
# `result-<code>-<sha256 of the file>` (the code hashed if it holds characters a key may not), so
# each signing has its own key and a second delivery writes the same bytes under the same key.
_SAFE_KEY_PART = re.compile(r"^[A-Za-z0-9._-]{1,120}$")


def result_blob_key(code: str, sha256: str) -> str:
    name = code if _SAFE_KEY_PART.match(code) else hashlib.sha256(code.encode()).hexdigest()
    return f"result-{name}-{sha256}"


def save_result_pdf(blobs: BlobStore, code: str, sha256: str, data: bytes) -> None:
    blobs.put(result_blob_key(code, sha256), data)


def result_pdf(blobs: BlobStore, code: str, sha256: str) -> bytes:
    """The signed result's bytes; BlobMissing while it has not arrived."""
    return b"".join(blobs.chunks(result_blob_key(code, sha256)))


def get_batch(db: Db, day: str) -> Document | None:
    return db.batches.find_one({"_id": day})


def open_batch(db: Db, day: str, at: datetime) -> None:
    """Create the batch of `day` as `closing` unless it exists."""
    try:
        db.batches.insert_one({"_id": day, "status": "closing", "started_at": at})
    except DuplicateKeyError:
        pass


def close_batch(db: Db, day: str, fields: Document) -> None:
    db.batches.update_one({"_id": day}, {"$set": {**fields, "status": "closed"}})


def save_batch_files(blobs: BlobStore, day: str, pdf: bytes, manifest: bytes) -> None:
    blobs.put(f"batch-{day}.pdf", pdf)
    blobs.put(f"batch-{day}.csv", manifest)


def batch_file(blobs: BlobStore, day: str, kind: str) -> bytes:
    return b"".join(blobs.chunks(f"batch-{day}.{kind}"))


def record_postal_report(db: Db, report_id: str, letter_id: str, at: datetime) -> bool:
    """False if the report was applied before (a replay)."""
    try:
        db.postal_reports.insert_one({"_id": report_id, "letter_id": letter_id, "at": at})
    except DuplicateKeyError:
        return False
    return True


# -- catalogue copy -----------------------------------------------------------------------------


def get_unit(db: Db, code: str) -> Document | None:
    return db[UNITS].find_one({"_id": code})


def get_procedure(db: Db, code: str) -> Document | None:
    return db[PROCEDURES].find_one({"_id": code})
