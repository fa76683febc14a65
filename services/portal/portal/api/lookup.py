"""Dossier lookup as JSON (`POST /api/v1/lookup`): code + secret → the dossier's public status.

A wrong secret and an unknown code get the same 404 after the same work
(`portal.service.dossiers.verified_dossier`), so the answer tells nobody which codes exist. Each
client address may look up `LOOKUP_RATE_LIMIT` times (`limits` notation, default "20/minute"),
counted in `RATE_LIMIT_STORAGE_URI` ("memory://": per API process; a shared store such as Redis
makes it exact across processes), and only on this route, as intake counts its uploads.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import fields
from werkzeug.http import HTTP_STATUS_CODES

from eventkit.ratelimit import ClientLimit
from eventkit.schemas import BaseSchema, length
from eventkit.web import current_db
from portal.service import dossiers

NOT_FOUND = "Không tìm thấy hồ sơ với mã và mã tra cứu đã nhập. Vui lòng kiểm tra lại."
TOO_MANY = "Bạn tra cứu quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi thử lại."

blp = Blueprint("lookup", __name__, url_prefix="/api/v1/lookup", description="Dossier lookup")


class LookupSchema(BaseSchema):
    code = fields.String(required=True, validate=length(1, 40))
    secret = fields.String(required=True, validate=length(1, 40))


class StepSchema(BaseSchema):
    step = fields.String()
    label = fields.String()
    at = fields.AwareDateTime(allow_none=True)
    unit = fields.String()
    due_at = fields.AwareDateTime()
    method = fields.String()


class LetterSchema(BaseSchema):
    letter_id = fields.String()
    template_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    status_label = fields.String(allow_none=True)
    at = fields.Raw(allow_none=True)


class NotificationSchema(BaseSchema):
    channel = fields.String(allow_none=True)
    template = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    status_label = fields.String(allow_none=True)
    at = fields.Raw(allow_none=True)


class PublicStatusSchema(BaseSchema):
    code = fields.String(required=True)
    procedure_code = fields.String(allow_none=True)
    procedure_name = fields.String(allow_none=True)
    receiving_unit = fields.String(allow_none=True)
    current_unit = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    applicant_name = fields.String(metadata={"description": "Masked: initials and the given name"})
    state = fields.String(required=True)
    state_label = fields.String()
    submitted_at = fields.AwareDateTime(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    extended = fields.Boolean()
    resolved_at = fields.AwareDateTime(allow_none=True)
    return_method = fields.String(allow_none=True)
    timeliness = fields.String(allow_none=True)
    timeliness_label = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(StepSchema))
    letters = fields.List(fields.Nested(LetterSchema))
    notifications = fields.List(fields.Nested(NotificationSchema))


def lookup_limit() -> ClientLimit:
    """The count the lookup page keeps too (portal.web.lookup.init_lookup): one per client."""
    limit: ClientLimit = current_app.extensions["portal_lookup"]
    return limit


@blp.before_request
def count_lookup() -> Any:
    if request.method != "POST":
        return None
    client = request.remote_addr or "unknown"
    limit = lookup_limit()
    if limit.allows(client):
        return None
    response = jsonify({"code": 429, "status": HTTP_STATUS_CODES[429], "message": TOO_MANY})
    response.status_code = 429
    response.headers["Retry-After"] = str(limit.retry_after(client))
    return response


@blp.route("")
class Lookup(MethodView):
    @blp.arguments(LookupSchema())
    @blp.response(200, PublicStatusSchema)
    @blp.alt_response(404, description="No dossier with this code and secret (the same for either wrong)")
    @blp.alt_response(429, description="Too many lookups from this client address")
    def post(self, body: dict[str, Any]) -> Any:
        """The public status of a dossier, given its code and lookup secret."""
        view = dossiers.lookup(current_db(), body["code"].strip(), body["secret"])
        if view is None:
            abort(404, message=NOT_FOUND)
        return view
