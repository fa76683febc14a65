"""Handlers of the events portal consumes, by consumer group and event type."""

from eventkit.consumer import Handler
from eventkit.mongo import Db
from eventkit.topics import Groups


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Each group of the topic registry has its table; event types without a handler are skipped.
    return {
        Groups.PORTAL_INTAKE_DOSSIERS: {},
        Groups.PORTAL_PROCESSING_DOSSIERS: {},
        Groups.PORTAL_CATALOGUE: {},
        Groups.PORTAL_NOTIFICATIONS: {},
    }
