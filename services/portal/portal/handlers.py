"""Handlers of the events portal consumes, by consumer group and event type."""

from eventkit.consumer import Handler
from eventkit.mongo import Db
from eventkit.projections import keep_latest
from eventkit.topics import Groups
from portal import store
from portal.events import ConsumedTypes


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups portal runs; its dossier and notification groups have no handler yet, so they
    # run no consumer and commit nothing until their handlers ship.
    return {
        Groups.PORTAL_CATALOGUE: {
            ConsumedTypes.PROCEDURE_PUBLISHED: keep_latest(db[store.PROCEDURES]),
            ConsumedTypes.UNIT_PUBLISHED: keep_latest(db[store.UNITS]),
        },
    }
