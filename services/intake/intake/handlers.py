"""Handlers of the events intake consumes, by consumer group and event type."""

from typing import Any

from marshmallow import INCLUDE, Schema

from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.mongo import Db
from eventkit.projections import keep_latest
from eventkit.topics import Groups
from intake import store
from intake.events import ConsumedTypes
from intake.service import dossiers


class DossierEventSchema(Schema):
    """Intake needs the dossier code (the event's subject), the type and `data.unit` (where the
    dossier is); it keeps nothing else of the payload."""

    class Meta:
        unknown = INCLUDE


def dossier_status(db: Db) -> Handler:
    def handle_dossier_status(event: Event, _data: dict[str, Any]) -> None:
        dossiers.apply_processing_event(db, event)

    return Handler(DossierEventSchema(), handle_dossier_status)


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups intake runs; the types of their topics they do not handle are listed as
    # skipped in the topic registry (any other type is dead-lettered).
    return {
        Groups.INTAKE_PROCESSING_DOSSIERS: {
            event_type: dossier_status(db) for event_type in ConsumedTypes.DOSSIER_STATUS
        },
        Groups.INTAKE_CATALOGUE: {
            ConsumedTypes.PROCEDURE_PUBLISHED: keep_latest(db[store.PROCEDURES]),
            ConsumedTypes.UNIT_PUBLISHED: keep_latest(db[store.UNITS]),
        },
    }
