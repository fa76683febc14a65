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
        """File a dossier. `channel: counter` needs a receptionist token of the receiving unit.

        The request schema gives each field's type, length and pattern. These rules depend on
        other fields or on the catalogue; every error is answered at once, as a 422 naming the field:

        - `procedure_code`: a procedure in force offered on `channel`
          (`GET /api/v1/procedures?channel=online`); `unit`: one of its `receiving_units`, required
          when it has several, an open unit.
        - `applicant.id_number`: the first 3 digits a province code of Thông tư 59/2021/TT-BCA
          (001–096, not every number is used); the 4th digit the century and gender of
          `applicant.date_of_birth` (1900s: 0 male, 1 female; 2000s: 2, 3; 2100s: 4, 5; 2200s: 6, 7;
          1800s: 8, 9); the 5th and 6th its year's last two digits (a woman born in 1990 whose
          birth was registered in Bắc Ninh, 027: `027190` and 6 more digits).
        - `applicant.full_name`: after trimming, 2–100 characters, letters (any script, with
          diacritics), spaces, `'`, `’` and `-`; no digits; at least one letter.
        - `applicant.phone`: spaces, dots and dashes removed and +84 or 84 read as 0, 10 digits from
          03, 05, 07, 08 or 09, or 11 digits from 02.
        - `delivery.address`: required when `delivery.method` is `post`.
        - `form`: exactly the procedure's `form_fields` by `name`; a `required` one present and not
          blank. By `type`: `text` a string of at most 1000 characters; `date` `YYYY-MM-DD`, at most
          366 days after today; `number` a finite JSON number; `choice` one of its `choices`; `cccd`
          12 digits starting with a province code.
        - `documents`: `type` one of the procedure's `documents[].code`, every `mandatory` one
          present; `upload_id` an upload of this client that has not expired, is not attached to
          another dossier, is named once, and whose file type is in the type's `file_types`.
        - `Idempotency-Key` (optional, 1–200 characters): a retry with the same key and body gets
          the first answer; the same key with another body is 409.
        """
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
