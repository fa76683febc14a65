"""The dossier workflow: officers read a dossier, see what they may do, and act on it."""

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.http import HTTP_STATUS_CODES

from eventkit.auth import current_staff, staff_required
from eventkit.web import current_blobs, current_db
from processing.schemas import DossierActionSchema, DossierActionsSchema, DossierSchema, NotAllowedSchema
from processing.service import dossiers
from processing.service.results import ResultSigning
from processing.workflow import ACTIONS, NotAllowed

blp = Blueprint("dossiers", __name__, url_prefix="/api/v1/dossiers", description="Dossier workflow")
SECURITY = [{"staffToken": []}]


@blp.errorhandler(NotAllowed)
def not_allowed(exc: NotAllowed) -> Any:
    """409 naming the state the dossier is in and what the caller may do there."""
    body = {
        "code": 409,
        "status": HTTP_STATUS_CODES[409],
        "message": str(exc),
        "state": exc.state,
        "allowed": exc.allowed,
    }
    return body, 409


@blp.route("/<code>")
class Dossier(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, DossierSchema)
    @blp.alt_response(403, description="Not an officer of the dossier's unit or receiving unit")
    @blp.alt_response(404, description="No such dossier")
    def get(self, code: str) -> Any:
        """A dossier: its state, deadlines, documents (each with `download_url`, its file at intake,
        read with the same token), control-slip rows (Mẫu 05) and history."""
        intake_url = current_app.extensions["service_config"].intake_url
        return dossiers.get(current_db(), code, current_staff(), intake_url)


@blp.route("/<code>/actions")
class DossierActions(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, DossierActionsSchema)
    @blp.alt_response(403, description="Not an officer of the dossier's unit or receiving unit")
    @blp.alt_response(404, description="No such dossier")
    def get(self, code: str) -> Any:
        """What the signed-in officer may do with the dossier now, with each action's fields."""
        return dossiers.actions_for(current_db(), code, current_staff())


# The action is checked after the token (an unknown one is a 404), so it is a plain path segment.
ACTION_PARAMETER = {
    "in": "path",
    "name": "action",
    "required": True,
    "schema": {"type": "string", "enum": list(ACTIONS)},
}


@blp.route("/<code>/actions/<action>")
class DossierAction(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY, parameters=[ACTION_PARAMETER])
    @blp.arguments(DossierActionSchema())
    @blp.response(200, DossierSchema)
    @blp.alt_response(403, description="Not an officer of the dossier's unit, or not a role that may")
    @blp.alt_response(404, description="No such dossier")
    @blp.alt_response(409, schema=NotAllowedSchema, description="Not from the dossier's state")
    def post(self, data: dict[str, Any], code: str, action: str) -> Any:
        """Take an action on the dossier; the dossier as it is after it.

        Fields each action needs (a missing one is a 422 naming it): accept (`note`),
        request_supplement `missing`, `reason`; refuse `reasons`; assign `assignee`; transfer
        `to_unit`, `note`; propose `note` (`draft_upload_id`); send_back `reason`; approve
        (`note`); reject `reason`; extend `reason`, `new_due_at` (later than the due time, once);
        issue_result `upload_id`; return_result `method`; stop `reason`.
        Only officers of the unit now handling the dossier act on it, each in the role the step
        wants: 403 otherwise. An action not possible from the dossier's state, or a dossier
        changed meanwhile by another officer, is a 409 naming its state and what the caller may do.
        """
        config = current_app.extensions["service_config"]
        signing = ResultSigning(current_blobs(), config.signing_certs_dir, config.result_attach_max_bytes)
        return dossiers.perform(current_db(), code, action, data, current_staff(), results=signing)
