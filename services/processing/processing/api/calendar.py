"""The working-day calendar per year, and the due time of a procedure received at a given time."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import Roles, current_staff, staff_required
from eventkit.web import current_db
from processing.schemas import (
    AuditEntrySchema,
    CalendarOutSchema,
    CalendarUpdateSchema,
    DueQuerySchema,
    DueSchema,
)
from processing.service import calendar

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar", description="Working-day calendar")
SECURITY = [{"staffToken": []}]


@blp.route("/due")
class Due(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(DueQuerySchema(), location="query")
    @blp.response(200, DueSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """When a dossier of `procedure` received at `received_at` is due."""
        return calendar.due_for(current_db(), query["procedure"], query["received_at"])


@blp.route("/<int:year>")
class CalendarYear(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, CalendarOutSchema)
    def get(self, year: int) -> Any:
        """Days off, swapped working days and working hours of a year."""
        return calendar.get_year(current_db(), year)

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(CalendarUpdateSchema())
    @blp.response(200, CalendarOutSchema)
    @blp.alt_response(409, description="Edited on a stale version")
    def put(self, data: dict[str, Any], year: int) -> Any:
        """Replace a year's calendar; `version` is the version edited. The change is audited.

        Beyond the schema: the year is 2015–2100 (404 otherwise); `hours` are in order, each
        session starting before it ends and after the previous one ended.
        """
        version = data.pop("version")
        return calendar.update_year(current_db(), year, data, version, current_staff().user_id)


@blp.route("/<int:year>/history")
class CalendarHistory(MethodView):
    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, year: int) -> Any:
        """Who changed the year's calendar, when, before and after (newest first)."""
        return calendar.history(current_db(), year)
