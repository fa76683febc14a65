"""The internal control forms of a dossier and a unit, as PDF: the processing control slip (Mẫu 05)
and the tracking register (Mẫu 06), printed from notify's copy of the dossier events."""

from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import current_staff, staff_required
from eventkit.web import attachment, current_db
from notify.schemas import RegisterQuerySchema
from notify.service import control
from notify.service.slips import TZ, SlipSettings

blp = Blueprint("forms", __name__, url_prefix="/api/v1", description="Control slip and tracking register")
SECURITY = [{"staffToken": []}]
PDF_RESPONSE = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}


def _settings() -> SlipSettings:
    return SlipSettings(portal_url=current_app.extensions["service_config"].portal_url)


def _pdf(data: bytes, filename: str) -> Response:
    return attachment([data], "application/pdf", len(data), filename)


@blp.route("/dossiers/<code>/control-slip.pdf")
class ControlSlip(MethodView):
    @staff_required(links=True)
    @blp.doc(security=SECURITY, responses={"200": PDF_RESPONSE})
    @blp.response(200, description="Mẫu 05 of the dossier, as an attachment (not signed, not numbered)")
    @blp.alt_response(404, description="A dossier notify has not seen")
    @blp.alt_response(409, description="The dossier has not been received yet")
    def get(self, code: str) -> Response:
        """The processing control slip (Mẫu 05, A5): every hand-over with its time, the units and
        officers, and the outcome against the due time; staff of the dossier's current or
        receiving unit. Also opened with a console link's `?token=` instead of the bearer token."""
        data = control.control_slip(current_db(), code, current_staff(), _settings())
        return _pdf(data, f"phieu-kiem-soat-{code}.pdf")


@blp.route("/register.pdf")
class Register(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY, responses={"200": PDF_RESPONSE})
    @blp.arguments(RegisterQuerySchema(), location="query")
    @blp.response(200, description="Mẫu 06 of the unit for the period, as an attachment")
    def get(self, query: dict[str, Any]) -> Response:
        """The tracking register (Mẫu 06, A4 across) of `unit`: one row per dossier it received
        from `from` to `to` (local days, both included, at most 366 days and 1000 dossiers);
        staff of that unit."""
        today = datetime.now(UTC).astimezone(TZ).date()
        data = control.register(
            current_db(), query["unit"], query["first"], query["last"], current_staff(), _settings(), today
        )
        return _pdf(data, f"so-theo-doi-ho-so-{query['unit']}-{query['first']}-{query['last']}.pdf")
