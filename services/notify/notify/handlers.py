"""Handlers of the events notify consumes, by consumer group and event type.

Every dossier event of both sources is applied to notify's copy of the dossier (its unit, state and
due time follow processing's events), and some also make notifications (service/triggers.py).
"""

from collections.abc import Callable
from typing import Any

from marshmallow import INCLUDE, Schema, fields

from eventkit.blobs import BlobStore
from eventkit.consumer import Handler
from eventkit.envelope import Event
from eventkit.errors import TransientError
from eventkit.mongo import Db
from eventkit.projections import keep_latest
from eventkit.topics import Groups, Topics
from notify import store
from notify.events import ConsumedTypes
from notify.service import notifications, results
from notify.service.slips import SlipSettings
from notify.templates import Renderer, RenderError


class DossierEventSchema(Schema):
    """What notify needs of every dossier event; the rest is read where it is used."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)


class DossierSubmittedSchema(DossierEventSchema):
    procedure_code = fields.String(required=True)
    unit = fields.String(required=True)
    channel = fields.String(required=True)
    applicant = fields.Dict(load_default=dict)
    delivery = fields.Dict(load_default=dict)


class DeadlineWarningSchema(DossierEventSchema):
    recipients = fields.List(fields.Dict(), load_default=list)


def template_versions(renderer: Renderer) -> Callable[[str], str | None]:
    def version_of(template: str) -> str | None:
        try:
            return renderer.latest_version(template)
        except RenderError:
            return None  # recorded without a version: the sender marks it a technical failure

    return version_of


def dossier_event(
    db: Db,
    schema: Schema,
    version_of: Callable[[str], str | None],
    slip_settings: SlipSettings,
    recorded: Callable[[], None],
) -> Handler:
    def handle_dossier_event(event: Event, data: dict[str, Any]) -> None:
        notifications.handle_dossier_event(db, event, data, version_of, slip_settings=slip_settings)
        recorded()

    return Handler(schema, handle_dossier_event)


SCHEMA_OF: dict[str, type[Schema]] = {
    ConsumedTypes.DOSSIER_SUBMITTED: DossierSubmittedSchema,
    ConsumedTypes.DOSSIER_DUE_SOON: DeadlineWarningSchema,
    ConsumedTypes.DOSSIER_OVERDUE: DeadlineWarningSchema,
}


def result_file(blobs: BlobStore | None) -> Handler:
    def keep_result(event: Event, data: dict[str, Any]) -> None:
        if blobs is None:  # handlers built without a store (a tool, a test): nothing is committed
            raise TransientError("notify has no blob store to keep the signed result in")
        results.keep(blobs, event, data)

    return Handler(results.ResultFileSchema(), keep_result)


def build_handlers(
    db: Db,
    renderer: Renderer | None = None,
    blobs: BlobStore | None = None,
    recorded: Callable[[], None] = lambda: None,
) -> dict[str, dict[str, Handler]]:
    """Only the groups notify runs; each handles every type of its topic. The worker gives
    `blobs`, where the signed results are kept, and `recorded`, called after each dossier event
    (it wakes the sender, so an email goes out now rather than at the sender's next pass)."""
    renderer = renderer or Renderer(portal_url="http://127.0.0.1")
    version_of = template_versions(renderer)
    slip_settings = SlipSettings(portal_url=renderer.portal_url)

    def table(types: tuple[str, ...]) -> dict[str, Handler]:
        return {
            t: dossier_event(db, SCHEMA_OF.get(t, DossierEventSchema)(), version_of, slip_settings, recorded)
            for t in types
        }

    groups = {
        Groups.NOTIFY_INTAKE_DOSSIERS: table(Topics.INTAKE_DOSSIERS.event_types),
        Groups.NOTIFY_PROCESSING_DOSSIERS: table(Topics.PROCESSING_DOSSIERS.event_types),
        # The newest version of each unit and procedure, for what letters print of them.
        Groups.NOTIFY_CATALOGUE: {
            ConsumedTypes.PROCEDURE_PUBLISHED: keep_latest(db[store.PROCEDURES]),
            ConsumedTypes.UNIT_PUBLISHED: keep_latest(db[store.UNITS]),
        },
    }
    # The signed results of dossiers delivered online, kept for their `result_issued` email.
    groups[Groups.NOTIFY_RESULTS] = {ConsumedTypes.RESULT_FILE: result_file(blobs)}
    return groups
