"""Handlers of the events processing consumes, by consumer group and event type."""

from typing import Any

from marshmallow import INCLUDE, Schema, fields

from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.mongo import Db
from eventkit.topics import Groups, Topics
from processing.events import ConsumedTypes
from processing.service import dossiers, statistics


class IntakeEventSchema(Schema):
    """What processing needs of every intake dossier event; the rest is kept as sent."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)


class DossierSubmittedSchema(IntakeEventSchema):
    procedure_code = fields.String(required=True)
    procedure_version = fields.Integer(required=True)
    unit = fields.String(required=True)
    channel = fields.String(required=True)
    submitted_at = fields.String(required=True)
    applicant = fields.Dict(load_default=dict)
    delivery = fields.Dict(load_default=dict)
    documents = fields.List(fields.Dict(), load_default=list)
    form = fields.Dict(load_default=dict)
    received_by = fields.String(load_default=None, allow_none=True)


class DossierSupplementedSchema(IntakeEventSchema):
    documents = fields.List(fields.Dict(), load_default=list)
    supplemented_at = fields.String(load_default=None, allow_none=True)


class DossierWithdrawnSchema(IntakeEventSchema):
    withdrawn_at = fields.String(load_default=None, allow_none=True)


class LetterReturnedSchema(Schema):
    """A letter the postal operator brought back (notify's `letter.returned`)."""

    class Meta:
        unknown = INCLUDE

    letter_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    template_id = fields.String(load_default="")
    reason = fields.String(load_default="")
    at = fields.String(load_default=None, allow_none=True)


def letter_returned(db: Db) -> Handler:
    def handle_letter_returned(_event: Event, data: dict[str, Any]) -> None:
        dossiers.note_returned_letter(db, data)

    return Handler(LetterReturnedSchema(), handle_letter_returned)


def intake_dossier_event(db: Db, schema: Schema) -> Handler:
    def handle_intake_dossier_event(event: Event, data: dict[str, Any]) -> None:
        dossiers.apply_intake_event(db, event, data)

    return Handler(schema, handle_intake_dossier_event)


class DossierEventSchema(Schema):
    """What the statistics need of any dossier event is read by `stats.step`; the rest is kept."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)


def counted_event(db: Db) -> Handler:
    def handle_counted_event(event: Event, _data: dict[str, Any]) -> None:
        statistics.count_event(db, event)

    return Handler(DossierEventSchema(), handle_counted_event)


def stats_handlers(db: Db) -> dict[str, Handler]:
    # Every processing dossier event is counted, even those that move no counter: a withdrawal
    # waits until the standing holds the dossier's processing sequence.
    types = [
        ConsumedTypes.DOSSIER_SUBMITTED,
        ConsumedTypes.DOSSIER_WITHDRAWN,
        *Topics.PROCESSING_DOSSIERS.event_types,
    ]
    return {event_type: counted_event(db) for event_type in types}


def build_handlers(db: Db) -> dict[str, dict[str, Handler]]:
    # Only the groups processing runs; every type of their topics is handled or skipped (registry).
    return {
        Groups.PROCESSING_INTAKE_DOSSIERS: {
            ConsumedTypes.DOSSIER_SUBMITTED: intake_dossier_event(db, DossierSubmittedSchema()),
            ConsumedTypes.DOSSIER_SUPPLEMENTED: intake_dossier_event(db, DossierSupplementedSchema()),
            ConsumedTypes.DOSSIER_WITHDRAWN: intake_dossier_event(db, DossierWithdrawnSchema()),
        },
        Groups.PROCESSING_STATS: stats_handlers(db),
        Groups.PROCESSING_NOTIFY_LETTERS: {ConsumedTypes.LETTER_RETURNED: letter_returned(db)},
    }
