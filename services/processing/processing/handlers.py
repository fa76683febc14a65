"""Handlers of the events processing consumes, by consumer group and event type."""

from eventkit.consumer import Handler
from eventkit.mongo import Db


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups processing runs. `processing.intake-dossiers` is registered but has no handler
    # yet: it runs no consumer and commits nothing, so its handlers will find every dossier.
    return {}
