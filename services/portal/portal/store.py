"""Every read and write of portal's database (the only module that uses pymongo)."""

from typing import Any

from eventkit.config import ServiceConfig
from eventkit.mongo import Db
from eventkit.mongo import connect as mongo_connect
from portal.search.store_index import ensure_search_indexes

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = []


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    # The search index keeps its own collections (portal.search.store_index).
    ensure_search_indexes(db)


# Projections of processing's catalogue (compacted topics), keyed by code, newest version only.
PROCEDURES = "procedures"
UNITS = "units"


def get_published(db: Db, collection: str, code: str) -> dict[str, Any] | None:
    return db[collection].find_one({"_id": code})
