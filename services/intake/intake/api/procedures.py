"""The procedures offered for filing: everything a filing client needs (public)."""

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.web import current_db
from intake.schemas import OfferedProcedureSchema, ProcedureQuerySchema
from intake.service import catalogue
from intake.service.dossiers import TZ

blp = Blueprint(
    "procedures", __name__, url_prefix="/api/v1/procedures", description="Procedures offered for filing"
)


def today() -> Any:
    return datetime.now(UTC).astimezone(TZ).date()


@blp.route("")
class Procedures(MethodView):
    @blp.arguments(ProcedureQuerySchema(), location="query")
    @blp.response(200, OfferedProcedureSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Procedures in force, with their form fields and document types."""
        return catalogue.list_offered(
            current_db(), channel=query.get("channel"), unit=query.get("unit"), today=today()
        )


@blp.route("/<code>")
class ProcedureByCode(MethodView):
    @blp.response(200, OfferedProcedureSchema)
    def get(self, code: str) -> Any:
        """One procedure in force."""
        return catalogue.get_offered(current_db(), code, today())
