"""Handlers of the events portal consumes, by consumer group and event type."""

from typing import Any

from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.mongo import Db
from eventkit.projections import keep_latest
from eventkit.topics import Groups
from portal import listing, store
from portal.events import ConsumedTypes


def procedure_published(db: Db) -> Handler:
    """Keep the newest version of the procedure, then rewrite its rows of the public list."""
    kept = keep_latest(db[store.PROCEDURES])

    def handle_procedure_published(event: Event, data: dict[str, Any]) -> None:
        kept.handle(event, data)
        code = data["code"]
        listing.refresh_procedure(db, code, store.get_published(db, store.PROCEDURES, code))

    return Handler(kept.schema, handle_procedure_published)


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups portal runs; its dossier and notification groups have no handler yet, so they
    # run no consumer and commit nothing until their handlers ship.
    return {
        Groups.PORTAL_CATALOGUE: {
            ConsumedTypes.PROCEDURE_PUBLISHED: procedure_published(db),
            ConsumedTypes.UNIT_PUBLISHED: keep_latest(db[store.UNITS]),
        },
    }
