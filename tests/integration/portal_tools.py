"""Helpers of the portal's tests: events delivered through portal's real handlers, and the read
models as plain data to compare."""

from __future__ import annotations

from typing import Any

from flask import Flask

from eventkit.config import ServiceConfig
from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.mongo import Db
from portal import store
from portal.handlers import build_handlers
from tests.factories import feed_portal_catalogue


def catalogued_portal_app(service_environ: dict[str, str]) -> Flask:
    """The portal's app on the test store (settings the site reads from the process environment
    set by the caller), its indexes made and its catalogue fed through its own handlers."""
    from portal import create_app

    app = create_app(ServiceConfig.from_env("portal", environ=service_environ))
    db = app.extensions["db"]
    store.ensure_indexes(db)
    feed_portal_catalogue(db)
    return app


class Deliverer:
    """Delivers events as the consumer runner would: the group's handler for the type, its
    schema's load, then the handler."""

    def __init__(self, db: Db) -> None:
        self.by_type: dict[str, Handler] = {}
        for table in build_handlers(db).values():
            self.by_type.update(table)

    def __call__(self, *events: Event) -> None:
        for event in events:
            handler = self.by_type[event["type"]]
            handler.handle(event, handler.schema.load(event["data"]))


def snapshot(db: Db, codes: set[str] | None = None, units: set[str] | None = None) -> dict[str, Any]:
    """The read models' documents (of these dossiers and units only, when given), keyed by `_id`;
    the counters' applied keys as sets (their order is the order of arrival)."""
    dossiers = {d["_id"]: d for d in db[store.DOSSIERS].find() if codes is None or d["_id"] in codes}
    counters = {}
    for counter in db[store.STATS_COUNTERS].find():
        if units is None or counter["unit"] in units:
            counter["applied_events"] = set(counter.get("applied_events") or [])
            counters[counter["_id"]] = counter
    letters = {
        d["_id"]: d
        for d in db[store.LETTER_STATUSES].find()
        if codes is None or d.get("dossier_code") in codes
    }
    notifications = {
        d["_id"]: d
        for d in db[store.NOTIFICATION_STATUSES].find()
        if codes is None or d.get("dossier") in codes
    }
    return {"dossiers": dossiers, "counters": counters, "letters": letters, "notifications": notifications}
