"""Every read and write of notify's database (the only module that uses pymongo).

Collections:
- `dossiers`: notify's copy of each dossier (`_id` = code): what notifications need (unit,
  procedure, applicant's name and email, delivery method, due time, state) and the newest sequence
  applied from each source (`intake_sequence`, `processing_sequence`).
- `notifications`: one document per (event, recipient, template) (`_id` derived from the three),
  with its status, attempts, the last error and its outbox of status events.
- `leases`: the outbox relay's leases (eventkit.outbox).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.config import ServiceConfig
from eventkit.inbox import apply_newer
from eventkit.mongo import Db, Document
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import ensure_outbox_index, insert_with_outbox, update_with_outbox

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["notifications"]
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
    ensure_register_indexes(db)


# -- dossiers -------------------------------------------------------------------------------------

SEQUENCE_FIELDS = ("intake_sequence", "processing_sequence")


def ensure_dossier(db: Db, code: str) -> None:
    """Create the copy with no event applied yet (each source's sequence at 0), if it is missing."""
    try:
        db.dossiers.update_one(
            {"_id": code}, {"$setOnInsert": {"code": code, **dict.fromkeys(SEQUENCE_FIELDS, 0)}}, upsert=True
        )
    except DuplicateKeyError:
        pass  # created by a racing consumer meanwhile


def apply_to_dossier(db: Db, code: str, sequence_field: str, sequence: int, fields: Document) -> bool:
    """Set `fields` on the copy if `sequence` is newer than the source's applied one (one write)."""
    return apply_newer(db.dossiers, code, {"$set": fields} if fields else {}, sequence_field, sequence)


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


def due_filter(status: str, now: datetime) -> Document:
    return {"status": status, "send_after": {"$gte": EPOCH, "$lte": now}}


def stuck_filter(now: datetime) -> Document:
    return {"status": "sending", "lease_until": {"$gte": EPOCH, "$lt": now}}


def of_dossier_filter(code: str) -> Document:
    return {"dossier": code, "created_at": {"$gte": EPOCH, "$lte": LATEST}}


def due_notifications(db: Db, status: str, now: datetime, limit: int) -> list[Document]:
    """Notifications in `status` whose next attempt is due, oldest first (index `status_send_after`)."""
    cursor = db.notifications.find(due_filter(status, now), {"outbox": 0, "outbox_parked": 0})
    return list(cursor.sort("send_after", ASCENDING).limit(limit))


def stuck_notifications(db: Db, now: datetime, limit: int) -> list[Document]:
    """Notifications in `sending` whose lease ended (index `status_lease_until`)."""
    cursor = db.notifications.find(stuck_filter(now), {"outbox": 0, "outbox_parked": 0})
    return list(cursor.limit(limit))


def change_notification(
    db: Db, notification_id: str, expected: Document, update: Document, entries: list[dict[str, Any]]
) -> bool:
    """One conditional write by `_id` and the `expected` fields (status, sequence) with its events."""
    return update_with_outbox(db.notifications, {"_id": notification_id, **expected}, update, entries)


def notifications_of_dossier(db: Db, code: str, limit: int) -> list[Document]:
    cursor = db.notifications.find(
        of_dossier_filter(code), {"outbox": 0, "outbox_parked": 0, "personalisation": 0}
    )
    return list(cursor.sort("created_at", ASCENDING).limit(limit))


# -- outgoing register (sổ đăng ký văn bản đi) --------------------------------------------------
# `register` (`_id` = `<unit>|<year>|<number:06d>`): one entry per number given, naming its letter
# (unique index on `letter_id`, so a letter never holds two numbers); `register_counters` (`_id` =
# `<unit>|<year>`): the highest number known to be given, a hint where to start.


def ensure_register_indexes(db: Db) -> None:
    db.register.create_index([("letter_id", ASCENDING)], name="letter_id", unique=True)


def register_entry_id(unit: str, year: int, number: int) -> str:
    return f"{unit}|{year}|{number:06d}"


def register_number_of(db: Db, letter_id: str) -> int | None:
    entry = db.register.find_one({"letter_id": letter_id}, {"number": 1})
    return None if entry is None else int(entry["number"])


def take_register_number(db: Db, unit: str, year: int, letter_id: str, at: datetime) -> int:
    """The number of `letter_id` in `unit`'s register of `year`: the one it holds, or the next one.

    A number is given by inserting its entry, whose `_id` no two writers can both insert, so two
    letters never share one; the counter is only a hint and may lag (a writer that stopped after
    the insert), in which case the next writer finds the number taken and moves on: numbers are
    given in order with no gaps, since a failed insert gives nothing.
    """
    key = f"{unit}|{year}"
    held = register_number_of(db, letter_id)
    if held is not None:
        return held
    counter = db.register_counters.find_one({"_id": key})
    number = (int(counter["last"]) if counter else 0) + 1
    while True:
        entry = {"unit": unit, "year": year, "number": number, "letter_id": letter_id, "at": at}
        try:
            db.register.insert_one({"_id": register_entry_id(unit, year, number), **entry})
            break
        except DuplicateKeyError:
            # Either the number is taken (try the next) or another writer numbered this letter.
            held = register_number_of(db, letter_id)
            if held is not None:
                return held
            number += 1
    try:
        db.register_counters.update_one({"_id": key}, {"$max": {"last": number}}, upsert=True)
    except DuplicateKeyError:
        db.register_counters.update_one({"_id": key}, {"$max": {"last": number}})
    return number
