"""Handlers of the events portal consumes, by consumer group and event type."""

from collections.abc import Callable
from typing import Any

from marshmallow import INCLUDE, Schema, fields

from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.mongo import Db
from eventkit.projections import keep_latest
from eventkit.topics import Groups
from portal import listing, store
from portal.events import ConsumedTypes
from portal.search import sources
from portal.search.store_index import StoreSearch
from portal.service import dossiers, letters, statistics


class DossierEventSchema(Schema):
    """What portal needs of every dossier event; the rest is read where it is used."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)


class DossierSubmittedSchema(DossierEventSchema):
    procedure_code = fields.String(required=True)
    unit = fields.String(required=True)
    channel = fields.String(required=True)
    # Without it the dossier is counted and shown to no one (the lookup needs it).
    lookup_secret_hash = fields.String(load_default=None, allow_none=True)


class ProcessingDossierSchema(DossierEventSchema):
    state = fields.String(required=True)


class StatusEventSchema(Schema):
    class Meta:
        unknown = INCLUDE

    status = fields.String(required=True)


class LetterStatusSchema(StatusEventSchema):
    letter_id = fields.String(required=True)
    dossier_code = fields.String(required=True)


class NotificationStatusSchema(StatusEventSchema):
    id = fields.String(required=True)
    dossier = fields.String(required=True)


def dossier_event(db: Db, schema: Schema) -> Handler:
    def handle_dossier_event(event: Event, data: dict[str, Any]) -> None:
        dossiers.apply(db, event, data)
        # Also after a repeat: a crash may have come between the status and its counts.
        statistics.count(db, event["subject"])

    return Handler(schema, handle_dossier_event)


def status_event(schema: Schema, apply: Callable[[Db, Event, dict[str, Any]], bool], db: Db) -> Handler:
    def handle_status_event(event: Event, data: dict[str, Any]) -> None:
        apply(db, event, data)

    return Handler(schema, handle_status_event)


def procedure_published(db: Db) -> Handler:
    """Keep the newest version of the procedure, then rewrite its rows of the public list and
    what the search index holds of it (both from the version kept, so a late record changes
    neither)."""
    kept = keep_latest(db[store.PROCEDURES])
    index = StoreSearch(db)

    def handle_procedure_published(event: Event, data: dict[str, Any]) -> None:
        kept.handle(event, data)
        code = data["code"]
        procedure = store.get_published(db, store.PROCEDURES, code)
        listing.refresh_procedure(db, code, procedure)
        if procedure:
            sources.put(index, sources.procedure_entry({**procedure, "code": code}))
        else:
            index.remove("procedure", code)

    return Handler(kept.schema, handle_procedure_published)


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups portal runs; each handles every type of its topics.
    intake = {
        t: dossier_event(
            db, DossierSubmittedSchema() if t == ConsumedTypes.DOSSIER_SUBMITTED else DossierEventSchema()
        )
        for t in ConsumedTypes.INTAKE
    }
    processing = {t: dossier_event(db, ProcessingDossierSchema()) for t in ConsumedTypes.PROCESSING}
    statuses = {
        t: status_event(LetterStatusSchema(), letters.apply_letter, db) for t in ConsumedTypes.LETTERS
    }
    statuses.update(
        {
            t: status_event(NotificationStatusSchema(), letters.apply_notification, db)
            for t in ConsumedTypes.NOTIFICATIONS
        }
    )
    return {
        Groups.PORTAL_CATALOGUE: {
            ConsumedTypes.PROCEDURE_PUBLISHED: procedure_published(db),
            ConsumedTypes.UNIT_PUBLISHED: keep_latest(db[store.UNITS]),
        },
        Groups.PORTAL_INTAKE_DOSSIERS: intake,
        Groups.PORTAL_PROCESSING_DOSSIERS: processing,
        Groups.PORTAL_NOTIFICATIONS: statuses,
    }
