"""Read models fed by events: keep the latest version of each keyed item.

Compacted topics (procedures, units) end with the latest version per key; a consumer starting
from the beginning, or receiving a record twice or late, converges on that latest version.
"""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields
from pymongo.errors import DuplicateKeyError

from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.mongo import Coll


def upsert_latest(collection: Coll, key: str, version: int, fields: dict[str, Any]) -> bool:
    """Store `fields` under `key` unless a version at least as new is stored; True when stored."""
    try:
        collection.update_one(
            {"_id": key, "version": {"$lt": version}},
            {"$set": {**fields, "version": version}},
            upsert=True,
        )
    except DuplicateKeyError:
        # The filter missed because the stored version is newer or equal; the insert then collides.
        return False
    return True


class VersionedSchema(Schema):
    """A published item (procedure, unit): a reader needs its code and version and keeps the rest."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)
    version = fields.Integer(required=True)


def keep_latest(collection: Coll) -> Handler:
    """A handler that keeps the newest version of each published item in `collection`."""

    def handle_published(_event: Event, data: dict[str, Any]) -> None:
        fields_ = {k: v for k, v in data.items() if k not in ("code", "version")}
        upsert_latest(collection, data["code"], data["version"], fields_)

    return Handler(VersionedSchema(), handle_published)
