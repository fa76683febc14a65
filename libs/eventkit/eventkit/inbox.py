"""Idempotent consumers: an event applied twice changes nothing the second time.

Three ways, all without transactions (FerretDB has none):
- `apply_newer`: the update of the target document also records the event's `sequence` in it,
  unless a number at least as high is recorded (one conditional update). For state that follows
  another service's aggregate: a duplicate, and an event overtaken by a newer one, change nothing.
  `apply_newer_document` does the same, creating the document when it is missing, and returns it
  as it is after the write (one find-and-modify instead of an upsert, an update and a read).
- `apply_once`: the update of the target document also records the event id in it, unless the id
  is there already (one conditional update). For aggregates whose event count stays small.
- `ProcessedEvents`: a collection keyed `<group>:<event id>`, for handlers with side effects
  outside the store (mark after the effect; at-least-once) or that touch many documents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from eventkit.mongo import Coll

APPLIED = "applied_events"


def apply_newer(collection: Coll, key: Any, update: dict[str, Any], field: str, sequence: int) -> bool:
    """Apply `update` to the document `key` if `field` holds a lower sequence; True when applied now.

    The document must exist with `field` set (0 before any event): `$lt` does not match a missing
    field. One conditional update by `_id`, an index search on FerretDB too.
    """
    recorded: dict[str, Any] = {op: dict(fields) for op, fields in update.items()}
    recorded.setdefault("$set", {})[field] = sequence
    result = collection.update_one({"_id": key, field: {"$lt": sequence}}, recorded)
    return result.matched_count == 1


def apply_newer_document(
    collection: Coll,
    key: Any,
    update: dict[str, Any],
    field: str,
    sequence: int,
    on_insert: dict[str, Any],
) -> dict[str, Any] | None:
    """`apply_newer`, creating the document `key` with `on_insert` when it is missing (a field the
    update writes, `field` included, takes the update's value); the document after the write, or
    None when it held `sequence` or a newer one. A missing document matches no filter on `field`:
    the upsert creates it. One that exists with a newer sequence misses the filter too, and the
    insert then collides on `_id`; so does a document another consumer created just now, hence the
    second try without the insert."""
    recorded: dict[str, Any] = {op: dict(fields) for op, fields in update.items()}
    recorded.setdefault("$set", {})[field] = sequence
    # The store refuses an update that names a field twice (in `$setOnInsert` and `$set`).
    written = {name for fields in recorded.values() for name in fields}
    inserted = {name: value for name, value in on_insert.items() if name not in written}
    newer = {"_id": key, field: {"$lt": sequence}}
    try:
        return collection.find_one_and_update(
            newer, {**recorded, "$setOnInsert": inserted}, upsert=True, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:
        return collection.find_one_and_update(newer, recorded, return_document=ReturnDocument.AFTER)


def apply_once(
    collection: Coll,
    key: Any,
    update: dict[str, Any],
    event_id: str,
    upsert: bool = False,
) -> bool:
    """Apply `update` to the document `key` unless `event_id` was applied to it; True when applied now.

    One conditional update by `_id` (an index search, on FerretDB too), as `upsert_latest` does.
    With `upsert`, a missing document is created; when the document exists with the event
    applied, the filter misses and the insert collides, so nothing changes.
    """
    recorded: dict[str, Any] = {op: dict(fields) for op, fields in update.items()}
    recorded.setdefault("$addToSet", {})[APPLIED] = event_id
    try:
        result = collection.update_one({"_id": key, APPLIED: {"$ne": event_id}}, recorded, upsert=upsert)
    except DuplicateKeyError:
        return False
    return result.matched_count == 1 or result.upserted_id is not None


class ProcessedEvents:
    def __init__(self, collection: Coll, group: str) -> None:
        self.collection = collection
        self.group = group

    def ensure_indexes(self) -> None:
        self.collection.create_index([("at", ASCENDING)], name="at")

    def _key(self, event_id: str) -> str:
        return f"{self.group}:{event_id}"

    def seen(self, event_id: str) -> bool:
        return self.collection.count_documents({"_id": self._key(event_id)}, limit=1) == 1

    def mark(self, event_id: str) -> bool:
        """Record the event; False when it was already recorded."""
        try:
            self.collection.insert_one({"_id": self._key(event_id), "at": datetime.now(UTC)})
        except DuplicateKeyError:
            return False
        return True

    def prune(self, older_than: datetime) -> int:
        # The store has no TTL indexes, so the worker prunes old ids itself.
        return self.collection.delete_many({"at": {"$lt": older_than}}).deleted_count
