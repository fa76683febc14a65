"""MongoDB client with options that work on both MongoDB and FerretDB (SQLite backend)."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

Document = dict[str, Any]
Db = Database[Document]
Coll = Collection[Document]


def connect(url: str, database: str, app_name: str, timeout_ms: int = 3000) -> Db:
    """A lazily connecting client; nothing is contacted until the first operation."""
    client: MongoClient[Document] = MongoClient(
        url,
        appname=app_name,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms, 10_000),
        # FerretDB has no sessions or transactions; retryable writes need them.
        retryWrites=False,
        tz_aware=True,
    )
    return client[database]


def ping(db: Db) -> bool:
    try:
        db.command("ping")
        return True
    except PyMongoError:
        return False
