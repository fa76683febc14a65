"""The staff directory, kept by the administrator: accounts of the units they serve, audited."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import Roles, current_staff, staff_required
from eventkit.web import current_db
from processing.schemas import (
    AuditEntrySchema,
    PasswordResetSchema,
    StaffAccountOutSchema,
    StaffAccountSchema,
    StaffAccountUpdateSchema,
    StaffQuerySchema,
)
from processing.service import staff

blp = Blueprint("staff_directory", __name__, url_prefix="/api/v1/staff", description="Staff directory")
SECURITY = [{"staffToken": []}]


@blp.route("")
class StaffAccounts(MethodView):
    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(StaffQuerySchema(), location="query")
    @blp.response(200, StaffAccountOutSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The accounts of a unit (with `role`: those holding it there), by user id."""
        return staff.list_unit(current_db(), query["unit"], query["role"], current_staff())

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(StaffAccountSchema())
    @blp.response(201, StaffAccountOutSchema)
    @blp.alt_response(409, description="The user id is taken")
    def post(self, data: dict[str, Any]) -> Any:
        """Create an account in units the administrator serves. The change is audited."""
        return staff.create(current_db(), data, current_staff())


@blp.route("/<user_id>")
class StaffAccount(MethodView):
    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.response(200, StaffAccountOutSchema)
    def get(self, user_id: str) -> Any:
        """One account."""
        return staff.get_for(current_db(), user_id, current_staff())

    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(StaffAccountUpdateSchema())
    @blp.response(200, StaffAccountOutSchema)
    @blp.alt_response(409, description="Edited on a stale version")
    def put(self, data: dict[str, Any], user_id: str) -> Any:
        """Replace an account's name, email, roles, units and whether it is active; `version` is the
        version edited and `reason` says why (both required). The change is audited."""
        version = data.pop("version")
        return staff.update(current_db(), user_id, data, version, current_staff())


@blp.route("/<user_id>/password")
class StaffPassword(MethodView):
    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.arguments(PasswordResetSchema())
    @blp.response(204)
    def put(self, data: dict[str, Any], user_id: str) -> None:
        """Give the account a temporary password (at least 10 characters), which its officer must
        change at the next sign-in; lifts a lock and ends the account's sessions. Audited."""
        staff.reset_password(current_db(), user_id, data["password"], data["reason"], current_staff())


@blp.route("/<user_id>/history")
class StaffAccountHistory(MethodView):
    @staff_required(Roles.ADMIN)
    @blp.doc(security=SECURITY)
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, user_id: str) -> Any:
        """Who changed the account, when, before and after, and why (newest first)."""
        return staff.history(current_db(), user_id, current_staff())
