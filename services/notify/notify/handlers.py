"""Handlers of the events notify consumes, by consumer group and event type."""

from eventkit.consumer import Handler
from eventkit.mongo import Db


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups notify runs. Its registered groups have no handler yet: they run no consumer
    # and commit nothing, so their handlers will find every event.
    return {}
