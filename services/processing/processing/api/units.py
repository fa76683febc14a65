"""Administrative units and agencies: any staff member reads, the administrator writes."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import Roles, current_staff, staff_required
from eventkit.errors import InvalidData
from eventkit.web import current_db
from processing.schemas import UnitOutSchema, UnitQuerySchema, UnitSchema, UnitUpdateSchema
from processing.service import catalogue
from processing.service.catalogue import UNITS

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="Administrative units")
SECURITY = [{"staffToken": []}]


@blp.route("")
class Units(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(UnitQuerySchema(), location="query")
    @blp.response(200, UnitOutSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Units, by code, optionally the children of one parent or of one type."""
        return catalogue.list_units(current_db(), parent=query.get("parent"), type=query.get("type"))

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(UnitSchema())
    @blp.response(201, UnitOutSchema)
    @blp.alt_response(409, description="The code exists")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a unit.

        Beyond the schema: `parent`, when set, is an existing unit other than this one, and so is
        each of `successors`; `valid_to`, when set, is not before `valid_from`.
        """
        return catalogue.create(current_db(), UNITS, data, current_staff().user_id)


@blp.route("/<code>")
class UnitByCode(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, UnitOutSchema)
    def get(self, code: str) -> Any:
        """One unit."""
        return catalogue.get(current_db(), UNITS, code)

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(UnitUpdateSchema())
    @blp.response(200, UnitOutSchema)
    @blp.alt_response(409, description="Edited on a stale version")
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Edit a unit (e.g. close it with `valid_to` and name its `successors`).

        The body's `code` is the path's; otherwise the rules of adding a unit apply.
        """
        if data["code"] != code:
            raise InvalidData({"code": ["Mã đơn vị không khớp đường dẫn."]})
        version = data.pop("version")
        return catalogue.update(current_db(), UNITS, data, version, current_staff().user_id)
