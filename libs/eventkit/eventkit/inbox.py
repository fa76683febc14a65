"""Idempotent consumers: an event applied twice changes nothing the second time.

Two ways, both single-document writes (no transactions on FerretDB):
- `apply_once`: the update of the target document also records the event id in it, and only
  matches while the id is absent. For aggregates whose event count stays small.
- `ProcessedEvents`: a collection keyed `<group>:<event id>`, for handlers with side effects
  outside the store (mark after the effect; at-least-once) or that touch many documents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.mongo import Coll

APPLIED = "applied_events"


def apply_once(
    collection: Coll,
    filter: dict[str, Any],
    update: dict[str, Any],
    event_id: str,
    upsert: bool = False,
) -> bool:
    """Apply `update` to the document matching `filter` unless `event_id` was applied to it.

    Returns True when applied now, False when it had been applied before (or nothing matched).
    """
    guarded_filter = {**filter, APPLIED: {"$ne": event_id}}
    guarded_update: dict[str, Any] = {op: dict(fields) for op, fields in update.items()}
    guarded_update.setdefault("$addToSet", {})[APPLIED] = event_id
    try:
        result = collection.update_one(guarded_filter, guarded_update, upsert=upsert)
    except DuplicateKeyError:
        # The upsert found the document already holding this event id.
        return False
    return result.modified_count == 1 or result.upserted_id is not None


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
