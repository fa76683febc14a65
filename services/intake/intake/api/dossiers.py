"""Filing a dossier (online: public; at the counter: a receptionist), supplements and withdrawal."""

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import authenticate
from eventkit.errors import InvalidData
from eventkit.web import current_db
from intake.api.auth import authenticate_first, request_staff
from intake.schemas import DossierStateSchema, FiledSchema, FilingSchema, SupplementSchema, WithdrawalSchema
from intake.service import dossiers

blp = Blueprint("dossiers", __name__, url_prefix="/api/v1/dossiers", description="Dossier filing")
IDEMPOTENCY_HEADER = "Idempotency-Key"
OPTIONAL_STAFF = [{"staffToken": []}, {}]


@blp.route("")
class Dossiers(MethodView):
    @authenticate_first
    @blp.doc(
        security=OPTIONAL_STAFF,
        parameters=[
            {"in": "header", "name": IDEMPOTENCY_HEADER, "schema": {"type": "string"}, "required": False}
        ],
    )
    @blp.arguments(FilingSchema())
    @blp.response(201, FiledSchema)
    @blp.alt_response(409, description="The Idempotency-Key was used for another request")
    def post(self, data: dict[str, Any]) -> Any:
        """File a dossier. `channel: counter` needs a receptionist token of the receiving unit."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not 1 <= len(key) <= 200:
            raise InvalidData({IDEMPOTENCY_HEADER: ["Idempotency-Key dài từ 1 đến 200 ký tự."]})
        # A counter filing needs the officer; the token (if any) was checked before the body.
        staff = (request_staff() or authenticate()) if data["channel"] == "counter" else None
        answer = dossiers.file(
            current_db(),
            data,
            body_hash=dossiers.request_hash(request.get_json()),
            idempotency_key=key,
            staff=staff,
        )
        return answer.body, answer.status


@blp.route("/<code>/supplements")
class Supplements(MethodView):
    @authenticate_first
    @blp.doc(security=OPTIONAL_STAFF)
    @blp.arguments(SupplementSchema())
    @blp.response(200, DossierStateSchema)
    @blp.alt_response(409, description="Processing has not asked for a supplement")
    def post(self, data: dict[str, Any], code: str) -> Any:
        """Bring the documents processing asked for (with the lookup secret, or at the counter)."""
        return dossiers.supplement(current_db(), code, data, staff=request_staff())


@blp.route("/<code>/withdraw")
class Withdrawal(MethodView):
    @authenticate_first
    @blp.doc(security=OPTIONAL_STAFF)
    @blp.arguments(WithdrawalSchema())
    @blp.response(200, DossierStateSchema)
    @blp.alt_response(409, description="The dossier is finished")
    def post(self, data: dict[str, Any], code: str) -> Any:
        """Withdraw a dossier that is not finished (with the lookup secret, or at the counter)."""
        return dossiers.withdraw(current_db(), code, data, staff=request_staff())
