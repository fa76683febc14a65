"""Dossier lookup as JSON (`POST /api/v1/lookup`): code + secret → the dossier's public status.

A wrong secret and an unknown code get the same 404 after the same work
(`portal.service.dossiers.verified_dossier`), so the answer tells nobody which codes exist. Each
client address may look up `LOOKUP_RATE_LIMIT` times (`limits` notation, default "20/minute"),
counted in `RATE_LIMIT_STORAGE_URI` ("memory://": per API process; a shared store such as Redis
makes it exact across processes), and only on this route, as intake counts its uploads.
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from limits import parse, storage, strategies
from marshmallow import fields
from werkzeug.http import HTTP_STATUS_CODES

from eventkit.schemas import BaseSchema, length
from eventkit.web import current_db
from portal.service import dossiers

NOT_FOUND = "Không tìm thấy hồ sơ với mã và mã tra cứu đã nhập. Vui lòng kiểm tra lại."
TOO_MANY = "Bạn tra cứu quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi thử lại."
DEFAULT_LIMIT = "20/minute"

log = logging.getLogger(__name__)

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


class LookupLimit:
    """A moving window of lookups per client address; a shared store that fails does not stop
    lookups, they are counted in the process meanwhile."""

    def __init__(self, limit: str, storage_uri: str) -> None:
        self.limit = parse(limit)
        self.window = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        self.fallback = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    @classmethod
    def from_env(cls) -> LookupLimit:
        return cls(
            os.environ.get("LOOKUP_RATE_LIMIT") or DEFAULT_LIMIT,
            os.environ.get("RATE_LIMIT_STORAGE_URI") or "memory://",
        )

    def _counted(self, action: str, client: str) -> Any:
        try:
            return getattr(self.window, action)(self.limit, "portal:lookup", client)
        except Exception:
            log.warning("lookup limit store unreachable: counting in this process", exc_info=True)
            return getattr(self.fallback, action)(self.limit, "portal:lookup", client)

    def allows(self, client: str) -> bool:
        return bool(self._counted("hit", client))

    def retry_after(self, client: str) -> int:
        stats = self._counted("get_window_stats", client)
        return max(1, math.ceil(float(stats.reset_time) - time.time()))


def lookup_limit() -> LookupLimit:
    limit: LookupLimit | None = current_app.extensions.get("lookup_limit")
    if limit is None:
        limit = current_app.extensions["lookup_limit"] = LookupLimit.from_env()
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
