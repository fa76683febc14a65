"""A dossier's notifications, for the staff of its unit."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import current_staff, staff_required
from eventkit.web import current_db
from notify.schemas import NotificationListSchema, NotificationQuerySchema
from notify.service import notifications

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Notifications")
SECURITY = [{"staffToken": []}]


@blp.route("/notifications")
class Notifications(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(NotificationQuerySchema(), location="query")
    @blp.response(200, NotificationListSchema)
    @blp.alt_response(403, description="Not an officer of the dossier's unit or of the unit that received it")
    @blp.alt_response(404, description="No dossier with this code has reached notify")
    def get(self, query: dict[str, Any]) -> Any:
        """The notifications of a dossier (`dossier` = its code), oldest first, with their statuses."""
        return {"items": notifications.list_for_dossier(current_db(), query["dossier"], current_staff())}
