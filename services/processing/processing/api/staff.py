"""The signed-in officer: who the token says they are, their roles and units."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import current_staff, staff_required
from processing.schemas import StaffSchema

blp = Blueprint("staff", __name__, url_prefix="/api/v1", description="The signed-in officer")


@blp.route("/me")
class Me(MethodView):
    @staff_required()
    @blp.doc(security=[{"staffToken": []}])
    @blp.response(200, StaffSchema)
    def get(self) -> dict[str, Any]:
        """The identity carried by the bearer token."""
        staff = current_staff()
        return {
            "user_id": staff.user_id,
            "name": staff.name,
            "roles": sorted(staff.roles),
            "units": sorted(staff.units),
        }
