"""Handlers of the events processing consumes, by consumer group and event type."""

from eventkit.consumer import Handler
from eventkit.mongo import Db
from eventkit.topics import Groups


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Each group of the topic registry has its table; event types without a handler are skipped.
    return {
        Groups.PROCESSING_INTAKE_DOSSIERS: {},
    }
