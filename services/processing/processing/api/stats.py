"""Statistics of dossier processing (Decision 766) and the tracking register (Mẫu 06)."""

from datetime import UTC, datetime
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import current_staff, staff_required
from eventkit.web import current_db
from processing import stats
from processing.schemas import RegisterQuerySchema, StatsQuerySchema, StatsReportSchema
from processing.service import statistics

blp = Blueprint("stats", __name__, url_prefix="/api/v1", description="Statistics and the register")
SECURITY = [{"staffToken": []}]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/stats")
class Stats(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(StatsQuerySchema(), location="query")
    @blp.response(200, StatsReportSchema)
    @blp.alt_response(403, description="Not an officer of the unit")
    def get(self, query: dict[str, Any]) -> Any:
        """Counters and rates per unit, procedure, channel or month over months `from`–`to`.

        At most 36 months; the unit must be one the caller serves (default: all of them). Carried
        over is the stock at the start of the period (of each month with `group_by=month`), in
        progress the stock at its end; on-time rate = 100 % − late rate.
        """
        return statistics.report(
            current_db(),
            current_staff(),
            unit=query.get("unit"),
            first=query["from_month"],
            last=query["to_month"],
            group_by=query["group_by"],
        )


@blp.route("/register")
class Register(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(RegisterQuerySchema(), location="query")
    @blp.response(200, description="The register as CSV (UTF-8 with BOM) or an Excel workbook")
    @blp.alt_response(403, description="Not an officer of the unit")
    def get(self, query: dict[str, Any]) -> Any:
        """The tracking register (Mẫu 06) of the dossiers received at a unit on days `from`–`to`."""
        first, last = query["from_day"], query["to_day"]
        unit, rows = statistics.register(
            current_db(),
            current_staff(),
            unit=query.get("unit"),
            first=first,
            last=last,
            now=datetime.now(UTC),
        )
        name = f"so-theo-doi-ho-so-{unit}-{first:%Y%m%d}-{last:%Y%m%d}.{query['format']}"
        if query["format"] == "xlsx":
            body, mimetype = stats.register_xlsx(rows), XLSX
        else:
            body, mimetype = stats.register_csv(rows), "text/csv; charset=utf-8"
        return Response(
            body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
