"""Officers' work queues and search over the dossiers of the units they serve."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import current_staff, staff_required
from eventkit.web import current_db
from processing.schemas import DossierPageSchema, DossierQuerySchema
from processing.service import queues

# Beside `dossiers` (same prefix): this one serves the collection, that one each dossier.
blp = Blueprint("queues", __name__, url_prefix="/api/v1/dossiers", description="Work queues and search")


@blp.route("")
class Dossiers(MethodView):
    @staff_required()
    @blp.doc(security=[{"staffToken": []}])
    @blp.arguments(DossierQuerySchema(), location="query")
    @blp.response(200, DossierPageSchema)
    @blp.alt_response(403, description="A unit the caller does not serve")
    def get(self, query: dict[str, Any]) -> Any:
        """Dossiers of the caller's units, due first (not yet accepted: by filing time).

        Filters: `unit` (one the caller serves; default all of them), `state` (repeat it for more
        than one; default the open states), `procedure`, `assignee` (`me` for the caller),
        `overdue`, `due_before`. `q` finds a dossier by its code, or the dossiers of an applicant
        by ID number (CMND/CCCD) or full name (case and diacritics do not matter); with `q` and
        no `state`, dossiers in any state are found. Pages: `limit` (at most 100) and `cursor`,
        the `next_cursor` of the page before (null on the last page).
        """
        staff = current_staff()
        return queues.page(current_db(), queues.criteria(staff, query))
