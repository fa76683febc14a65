"""Every read and write of notify's database (the only module that uses pymongo)."""

from eventkit.config import ServiceConfig
from eventkit.mongo import Db
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import ensure_outbox_index

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["notifications"]


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
