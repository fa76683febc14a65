"""The procedure catalogue: any staff member reads, the administrator writes."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import Roles, current_staff, staff_required
from eventkit.errors import InvalidData
from eventkit.web import current_db
from processing.schemas import (
    ProcedureListSchema,
    ProcedureOutSchema,
    ProcedureQuerySchema,
    ProcedureSchema,
    ProcedureUpdateSchema,
)
from processing.service import catalogue
from processing.service.catalogue import PROCEDURES

blp = Blueprint("procedures", __name__, url_prefix="/api/v1/procedures", description="Procedure catalogue")
SECURITY = [{"staffToken": []}]


@blp.route("")
class Procedures(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(ProcedureQuerySchema(), location="query")
    @blp.response(200, ProcedureListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Procedures, by code, optionally of one level, field or receiving unit."""
        items, total = catalogue.list_procedures(
            current_db(),
            level=query.get("level"),
            field=query.get("field"),
            unit=query.get("unit"),
            page=query["page"],
            page_size=query["page_size"],
        )
        return {"items": items, "total": total, "page": query["page"], "page_size": query["page_size"]}

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(ProcedureSchema())
    @blp.response(201, ProcedureOutSchema)
    @blp.alt_response(409, description="The code exists")
    def post(self, data: dict[str, Any]) -> Any:
        """Publish a new procedure (version 1).

        Beyond the schema: `receiving_units` and `resolving_units` name existing units;
        `documents[].code`, `form_fields[].name` and `receiving_units` have no repeats; a
        `same_day` procedure has `same_day_cutoff`; `valid_to`, when set, is not before
        `valid_from`; a `choice` field has `choices`, no other type has them; an `exempt` fee is 0.
        """
        return catalogue.create(current_db(), PROCEDURES, data, current_staff().user_id)


@blp.route("/<code>")
class ProcedureByCode(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, ProcedureOutSchema)
    def get(self, code: str) -> Any:
        """The current version of a procedure."""
        return catalogue.get(current_db(), PROCEDURES, code)

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(ProcedureUpdateSchema())
    @blp.response(200, ProcedureOutSchema)
    @blp.alt_response(409, description="Edited on a stale version")
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Edit a procedure: a new version unless nothing changed. `version` is the version edited.

        The body's `code` is the path's; otherwise the rules of publishing a procedure apply.
        """
        if data["code"] != code:
            raise InvalidData({"code": ["Mã thủ tục không khớp đường dẫn."]})
        version = data.pop("version")
        return catalogue.update(current_db(), PROCEDURES, data, version, current_staff().user_id)


@blp.route("/<code>/versions")
class ProcedureVersions(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, ProcedureOutSchema(many=True))
    def get(self, code: str) -> Any:
        """Every version of a procedure, oldest first."""
        return catalogue.procedure_versions(current_db(), code)
