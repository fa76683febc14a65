"""Official letters and the daily print batches for the post; the postal operator's reports."""

import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from markupsafe import escape
from marshmallow import ValidationError

from eventkit.auth import Roles, Staff, authenticate, current_staff, link_staff, staff_required
from eventkit.errors import Forbidden, InvalidData, NotFound
from eventkit.web import attachment, current_blobs, current_db
from notify.postal import SIGNATURE_HEADER
from notify.schemas import (
    BatchSchema,
    CancelSchema,
    LetterSchema,
    NotificationQuerySchema,
    PostalReportSchema,
)
from notify.service import letters

blp = Blueprint("letters", __name__, url_prefix="/api/v1", description="Letters and postal dispatch")
SECURITY = [{"staffToken": []}]
PDF_RESPONSE = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Who handles the post at the one-stop unit: the counter, and the administrator.
POSTAL_ROLES = (Roles.RECEPTIONIST, Roles.ADMIN)


def _letter_for_staff(letter_id: str) -> dict[str, Any]:
    letter = letters.get(current_db(), letter_id)
    if not current_staff().serves(letter["unit"]):
        raise Forbidden("Tài khoản không thuộc đơn vị phát hành văn bản này.")
    return letter


def _day(day: str) -> str:
    if not _DAY.match(day):
        raise NotFound(f"Không có lô thư ngày {day} (ngày dạng YYYY-MM-DD).")
    return day


@blp.route("/letters")
class DossierLetters(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(NotificationQuerySchema(), location="query")
    @blp.response(200, LetterSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """A dossier's letters (`dossier`: its code), oldest first, for staff of the issuing unit."""
        return letters.of_dossier(current_db(), query["dossier"], current_staff().serves)


@blp.route("/letters/<letter_id>")
class Letter(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, LetterSchema)
    def get(self, letter_id: str) -> Any:
        """A letter: its form, register number, status and history (staff of the issuing unit)."""
        return _letter_for_staff(letter_id)


@blp.route("/letters/<letter_id>.pdf")
class LetterPdf(MethodView):
    @staff_required(links=True)
    @blp.doc(security=SECURITY, responses={"200": PDF_RESPONSE})
    @blp.response(200, description="The signed letter, as an attachment")
    def get(self, letter_id: str) -> Response:
        """The signed PDF of a letter (PAdES, the issuing unit's certificate). Also opened with a
        console link's `?token=` instead of the bearer token."""
        _letter_for_staff(letter_id)
        data = letters.pdf(current_db(), current_blobs(), letter_id)
        return attachment([data], "application/pdf", len(data), "van-ban.pdf")


@blp.route("/letters/<letter_id>/cancel")
class LetterCancel(MethodView):
    @staff_required(*POSTAL_ROLES)
    @blp.doc(security=SECURITY)
    @blp.arguments(CancelSchema())
    @blp.response(200, LetterSchema)
    @blp.alt_response(409, description="Not waiting for the post (batched already, or not by post)")
    def post(self, data: dict[str, Any], letter_id: str) -> Any:
        """Keep a letter out of the post while it waits for its batch, with the reason."""
        _letter_for_staff(letter_id)
        return letters.cancel(
            current_db(), letter_id, data["reason"], current_staff().user_id, datetime.now(UTC)
        )


@blp.route("/letters/<letter_id>/postal-events")
class PostalEvents(MethodView):
    @blp.doc(
        parameters=[
            {"in": "header", "name": SIGNATURE_HEADER, "schema": {"type": "string"}, "required": True}
        ],
        requestBody={"content": {"application/json": {"schema": PostalReportSchema}}},
    )
    @blp.response(200, LetterSchema)
    @blp.alt_response(
        401, description="Not signed with the postal key, outside the time tolerance, or replayed"
    )
    @blp.alt_response(409, description="The letter has not gone to the post")
    def post(self, letter_id: str) -> Any:
        """The postal operator reports `despatched`, `delivered` or `returned` (with `reason`).

        The body is signed: `X-Postal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
        "<t>.<body>">` with the shared key; a report is applied once (its `id`)."""
        body = request.get_data(cache=True)
        key = current_app.extensions["service_config"].postal_hmac_key
        if not key:
            raise letters.Unauthenticated("Chưa cấu hình khóa nhận báo cáo bưu chính.")
        letters.check_signature(request.headers.get(SIGNATURE_HEADER), body, key, datetime.now(UTC))
        try:
            report = PostalReportSchema().load(json.loads(body))
        except (ValueError, TypeError):
            raise InvalidData({"_schema": ["Dữ liệu phải là đối tượng JSON."]}) from None
        except ValidationError as exc:
            raise InvalidData(exc.normalized_messages()) from None
        return letters.report(current_db(), letter_id, report, datetime.now(UTC))


@blp.route("/batches/<day>")
class Batch(MethodView):
    @staff_required(*POSTAL_ROLES)
    @blp.doc(security=SECURITY)
    @blp.response(200, BatchSchema)
    def get(self, day: str) -> Any:
        """A day's print batch: its letters with their postal item numbers, in print order."""
        return letters.batch(current_db(), _day(day))


@blp.route("/batches/<day>.pdf")
class BatchPdf(MethodView):
    @staff_required(*POSTAL_ROLES)
    @blp.doc(security=SECURITY, responses={"200": PDF_RESPONSE})
    @blp.response(200, description="The batch's letters in one PDF, as an attachment")
    @blp.alt_response(409, description="The batch has not closed yet")
    def get(self, day: str) -> Response:
        """The closed batch's letters, one after the other, to print."""
        data = letters.batch_file(current_db(), current_blobs(), _day(day), "pdf")
        return attachment([data], "application/pdf", len(data), f"lo-thu-{day}.pdf")


@blp.route("/batches/<day>.csv")
class BatchManifest(MethodView):
    @staff_required(*POSTAL_ROLES)
    @blp.doc(security=SECURITY, responses={"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.response(200, description="The batch's manifest (UTF-8 CSV), as an attachment")
    @blp.alt_response(409, description="The batch has not closed yet")
    def get(self, day: str) -> Response:
        """The closed batch's manifest: item number, register number, recipient, address, letter."""
        data = letters.batch_file(current_db(), current_blobs(), _day(day), "csv")
        return attachment([data], "text/csv; charset=utf-8", len(data), f"lo-thu-{day}.csv")


# A receipt not signed yet is a few seconds away (the worker's next pass): ask again after this.
RECEIPT_RETRY_SECONDS = 3


def _waiting_page(message: str, *, retry: bool, headers: dict[str, str]) -> Response:
    refresh = f'<meta http-equiv="refresh" content="{RECEIPT_RETRY_SECONDS}">' if retry else ""
    body = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>Giấy tiếp nhận</title>{refresh}</head>"
        f"<body><p>{escape(message)}</p>"
        + ("<p>Trang sẽ tự tải lại sau vài giây.</p>" if retry else "")
        + "</body></html>"
    )
    response = Response(body, status=409, mimetype="text/html", headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bearer_or_link() -> Staff:
    """The officer of a link token for this path (the console's button), else of the bearer token."""
    staff = link_staff() or authenticate()
    if not staff.has_any_role(Roles.STAFF):
        abort(403, message="Tài khoản không có quyền thực hiện thao tác này.")
    return staff


@blp.route("/dossiers/<code>/receipt.pdf")
class ReceiptPdf(MethodView):
    @blp.doc(
        security=[{"staffToken": []}, {}],
        parameters=[
            {
                "in": "query",
                "name": "token",
                "required": False,
                "schema": {"type": "string"},
                "description": "A link token the console signed for this path (instead of a bearer token)",
            }
        ],
        responses={"200": PDF_RESPONSE},
    )
    @blp.response(200, description="The signed Mẫu 01 of the dossier, as an attachment")
    @blp.alt_response(401, description="No valid bearer or link token")
    @blp.alt_response(403, description="Not an officer of the receiving unit, or a link for another path")
    @blp.alt_response(409, description="Not issued yet (with Retry-After), or it could not be made")
    def get(self, code: str) -> Response:
        """The receipt and appointment slip (Mẫu 01) of a dossier, for staff of the receiving unit.

        The letter is recorded when notify applies processing's `accepted` (for a counter filing, at
        once) and signed by the worker seconds later: until then 409 with `Retry-After`."""
        staff = _bearer_or_link()
        try:
            data = letters.receipt_pdf(current_db(), current_blobs(), code, staff)
        except letters.NotIssuedYet as exc:
            headers = {"Retry-After": str(RECEIPT_RETRY_SECONDS)} if exc.retry else {}
            if request.args.get("token"):
                # The console's button opened this in the officer's browser: a page that asks
                # again by itself rather than a JSON body.
                return _waiting_page(str(exc), retry=exc.retry, headers=headers)
            abort(409, message=str(exc), headers=headers)
        return attachment([data], "application/pdf", len(data), f"giay-tiep-nhan-{code}.pdf")
