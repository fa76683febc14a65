"""MongoDB client with options that work on both MongoDB and FerretDB (SQLite backend)."""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

Document = dict[str, Any]
Db = Database[Document]
Coll = Collection[Document]


class _Database(Database[Document]):
    """A database that keeps its collection objects: pymongo builds a new `Collection` (its
    options copied and checked) on every `db.name` or `db["name"]`, a cost each store call paid."""

    def __init__(self, client: MongoClient[Document], name: str) -> None:
        super().__init__(client, name)
        self._collections: dict[str, Coll] = {}

    def __getitem__(self, name: str) -> Coll:
        collection = self._collections.get(name)
        if collection is None:
            # Two threads may both build one; either is the same collection.
            collection = self._collections.setdefault(name, super().__getitem__(name))
        return collection


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
    return _Database(client, database)


def ping(db: Db) -> bool:
    try:
        db.command("ping")
        return True
    except PyMongoError:
        return False


def shared_secret(collection: Collection[Document], name: str) -> str:
    """A random secret made once (by whichever process asks first) and read by every process."""
    found = collection.find_one({"_id": name})
    if found is None:
        try:
            collection.insert_one({"_id": name, "value": secrets.token_urlsafe(48)})
        except DuplicateKeyError:
            pass  # another process made it first
        found = collection.find_one({"_id": name})
    assert found is not None
    return str(found["value"])
