"""Every read and write of the editors' content (pymongo, beside store.py): articles, directive
documents, their revisions, the public lists' rows and the view counters.

Articles and documents are aggregates with an outbox (eventkit.outbox): a publication and its
`content.published` event are one write. Each list the public site shows is one equality on an
indexed `facet` (as `listing.py` does for procedures), so no page reads more than it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from eventkit.mongo import Db, Document
from eventkit.outbox import ensure_outbox_index, insert_with_outbox, update_with_outbox

ARTICLES = "articles"
DOCUMENTS = "documents"
CONTENT = (ARTICLES, DOCUMENTS)
# One document per saved version of an item (`_id` = `<item>:<version>`), read by item.
REVISIONS = "content_revisions"
# What the public lists show: one row per published item and filter combination it answers.
CONTENT_LISTING = "content_listing"
# Views per item, raised by `$inc` from each API process's counts (never one write per view).
CONTENT_VIEWS = "content_views"
# The lower bound of the scheduled-publishing range: FerretDB seeks a range only when both sides
# are given.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ensure_content_indexes(db: Db) -> None:
    for name in CONTENT:
        ensure_outbox_index(db[name])
        # The editors' lists: their unit's items, newest edit first, of one status or all.
        db[name].create_index([("unit", ASCENDING), ("status", ASCENDING), ("updated_at", DESCENDING)])
        db[name].create_index([("unit", ASCENDING), ("updated_at", DESCENDING)])
        # The worker's scheduled publishing: equality on status, range on publish_at.
        db[name].create_index([("status", ASCENDING), ("publish_at", ASCENDING)], name="status_publish_at")
    db[REVISIONS].create_index([("item", ASCENDING), ("version", ASCENDING)])
    db[CONTENT_LISTING].create_index([("facet", ASCENDING), ("sort_key", ASCENDING)])
    db[CONTENT_LISTING].create_index([("item", ASCENDING)])


def insert_item(db: Db, collection: str, document: Document, entries: list[Document]) -> None:
    insert_with_outbox(db[collection], document, entries)


def update_item(
    db: Db, collection: str, item_id: str, version: int, fields: Mapping[str, Any], entries: list[Document]
) -> bool:
    """Set `fields` on the item if it is still at `version` (one write with its events); False if
    it moved on meanwhile."""
    return update_with_outbox(
        db[collection], {"_id": item_id, "version": version}, {"$set": dict(fields)}, entries
    )


def get_item(db: Db, collection: str, item_id: str) -> Document | None:
    return db[collection].find_one({"_id": item_id}, {"outbox": 0})


def items_of_unit(
    db: Db, collection: str, unit: str, status: str | None, skip: int, limit: int
) -> list[Document]:
    query: Document = {"unit": unit} if status is None else {"unit": unit, "status": status}
    cursor = db[collection].find(query, {"outbox": 0}).sort("updated_at", DESCENDING).skip(skip).limit(limit)
    return list(cursor)


def due_scheduled(db: Db, collection: str, now: datetime, limit: int) -> list[Document]:
    """Scheduled items whose time has come, oldest first (index `status_publish_at`)."""
    query = {"status": "scheduled", "publish_at": {"$gte": EPOCH, "$lte": now}}
    return list(db[collection].find(query, {"outbox": 0}).sort("publish_at", ASCENDING).limit(limit))


def add_revision(db: Db, revision: Document) -> None:
    # Keyed by item and version: saving it again after a retry writes the same document.
    db[REVISIONS].replace_one({"_id": revision["_id"]}, revision, upsert=True)


def revisions_of(db: Db, item_id: str, limit: int = 200) -> list[Document]:
    return list(db[REVISIONS].find({"item": item_id}).sort("version", DESCENDING).limit(limit))


def replace_listing(db: Db, item_id: str, rows: list[Document]) -> None:
    """The item's list rows become `rows` (none when it is not public)."""
    coll = db[CONTENT_LISTING]
    if rows:
        for row in rows:
            coll.replace_one({"_id": row["_id"]}, row, upsert=True)
    keep = [row["_id"] for row in rows]
    coll.delete_many({"item": item_id, "_id": {"$nin": keep}} if keep else {"item": item_id})


def count_listed(db: Db, facet: str) -> int:
    return db[CONTENT_LISTING].count_documents({"facet": facet})


def find_listed(db: Db, facet: str, skip: int, limit: int) -> list[Document]:
    cursor = db[CONTENT_LISTING].find({"facet": facet}).sort("sort_key", ASCENDING).skip(skip).limit(limit)
    return list(cursor)


def add_views(db: Db, counts: Mapping[str, int]) -> None:
    """One `$inc` per item for all the views an API process counted since its last flush."""
    for item_id, count in counts.items():
        if count > 0:
            db[CONTENT_VIEWS].update_one({"_id": item_id}, {"$inc": {"views": count}}, upsert=True)


def views_of(db: Db, item_id: str) -> int:
    found = db[CONTENT_VIEWS].find_one({"_id": item_id})
    return int((found or {}).get("views") or 0)
