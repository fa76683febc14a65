"""Handlers of the events portal consumes, by consumer group and event type."""

from eventkit.consumer import Handler
from eventkit.mongo import Db
from eventkit.projections import keep_latest
from eventkit.topics import Groups
from portal import store
from portal.events import ConsumedTypes


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Each group of the topic registry has its table; event types without a handler are skipped.
    return {
        Groups.PORTAL_INTAKE_DOSSIERS: {},
        Groups.PORTAL_PROCESSING_DOSSIERS: {},
        Groups.PORTAL_CATALOGUE: {
            ConsumedTypes.PROCEDURE_PUBLISHED: keep_latest(db[store.PROCEDURES]),
            ConsumedTypes.UNIT_PUBLISHED: keep_latest(db[store.UNITS]),
        },
        Groups.PORTAL_NOTIFICATIONS: {},
    }
