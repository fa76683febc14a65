"""Every read and write of portal's database (the only module that uses pymongo)."""

import secrets
from typing import Any

from pymongo.errors import DuplicateKeyError

from eventkit.config import ServiceConfig
from eventkit.mongo import Db
from eventkit.mongo import connect as mongo_connect
from portal import listing

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = []


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    # The portal's read models and content arrive with their features.
    listing.ensure_indexes(db)


# Projections of processing's catalogue (compacted topics), keyed by code, newest version only.
PROCEDURES = "procedures"
UNITS = "units"


def get_published(db: Db, collection: str, code: str) -> dict[str, Any] | None:
    return db[collection].find_one({"_id": code})


# Settings the portal keeps for all its processes (the pages' CSRF signing key when none is set).
SETTINGS = "settings"


def shared_secret(db: Db, name: str) -> str:
    """A random secret made once and read by every process of the portal."""
    found = db[SETTINGS].find_one({"_id": name})
    if found is None:
        try:
            db[SETTINGS].insert_one({"_id": name, "value": secrets.token_urlsafe(48)})
        except DuplicateKeyError:
            pass  # another process made it first
        found = db[SETTINGS].find_one({"_id": name})
    assert found is not None
    return str(found["value"])
