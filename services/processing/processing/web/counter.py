"""Counter filing (`/console/quay/...`, receptionists): a procedure one of the officer's units
receives, its form (as the portal's online filing asks it, `webui.filing`), the scanned documents
sent to intake and the dossier filed there with `channel: counter`, then the code and lookup secret
for the citizen and the receipt slip (Mẫu 01) from notify.

The console is a client of intake's public API here, as the portal is: each file goes to
`POST {INTAKE_URL}/api/v1/uploads`, then the filing to `POST {INTAKE_URL}/api/v1/dossiers`, with a
five-minute staff token of the signed-in officer. A counter filing arrives at processing accepted
(the receptionist checked it at the counter), so processing publishes `dossier.accepted` at once
and notify issues the receipt seconds later.

A double submit files once: the form carries an Idempotency-Key made when it was rendered; the
uploads it sent are kept under that key (store.COUNTER_FILINGS), so the same form sent again
uploads nothing new and intake answers the same request with its first answer.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, redirect, request
from werkzeug.wrappers import Response

from eventkit.auth import Roles
from eventkit.errors import NotFound
from eventkit.logs import correlation_id
from eventkit.web import current_db
from processing import store
from processing.identity.links import signed_link
from processing.service import catalogue
from processing.service.catalogue import PROCEDURES, UNITS
from processing.web.pages import blp, officer, page, require_role
from webui import PageError, filing
from webui.intake_client import IntakeClient, IntakeRefused, IntakeUnavailable

MIB = 1024 * 1024
KEY_FIELD = "filing_key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
CODE_PATTERN = re.compile(r"^[0-9A-Za-z.\-]{1,40}$")
# The largest counter filing form with all its scanned documents (the app keeps 1 MiB elsewhere).
FORM_MAX_BYTES = 50 * MIB
TOKEN_TTL = timedelta(minutes=5)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
INTAKE_DOWN = (
    "Hệ thống tiếp nhận hồ sơ tạm thời không truy cập được, hồ sơ chưa được nộp. "
    "Vui lòng thử lại sau ít phút."
)
MAX_PROCEDURES = 200

log = logging.getLogger(__name__)


@blp.before_app_request
def allow_files() -> None:
    # Before the CSRF check reads the form: only the counter filing form may be this large.
    if request.endpoint == "console.counter_file" and request.method == "POST":
        request.max_content_length = FORM_MAX_BYTES


def _counter_units() -> list[str]:
    require_role(Roles.RECEPTIONIST)
    return sorted(officer().units)


def _offered(units: list[str]) -> list[dict[str, Any]]:
    """The procedures received at any of `units` (one seek on `receiving_units` per unit)."""
    found: dict[str, dict[str, Any]] = {}
    for unit in units:
        procedures, _ = catalogue.list_procedures(
            current_db(), level=None, field=None, unit=unit, page=1, page_size=MAX_PROCEDURES
        )
        for procedure in procedures:
            found.setdefault(procedure["code"], procedure)
    return sorted(found.values(), key=lambda p: (p.get("field") or "", p.get("name") or "", p["code"]))


def _procedure(code: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The procedure (keyed as intake's catalogue keys it, `_id` = code) and the officer's units
    that receive it (code → name); 404 page when none of them does."""
    units = _counter_units()
    if not CODE_PATTERN.fullmatch(code):
        raise PageError(404, "Không có thủ tục này.")
    try:
        procedure = catalogue.get(current_db(), PROCEDURES, code)
    except NotFound:
        raise PageError(404, "Không có thủ tục này.") from None
    receiving = [u for u in procedure.get("receiving_units") or [] if u in units]
    if not receiving:
        raise PageError(404, "Thủ tục này không được tiếp nhận tại đơn vị của bạn.")
    names = {}
    for unit in receiving:
        record = store.get_reference(current_db(), UNITS.collection, unit)
        names[unit] = (record or {}).get("name") or unit
    return {**procedure, "_id": procedure["code"], "receiving_units": receiving}, names


@blp.get("/quay/")
def counter_procedures() -> tuple[str, int]:
    units = _counter_units()
    return page("console/counter_procedures.html", procedures=_offered(units))


def _form_page(
    procedure: dict[str, Any],
    units: dict[str, str],
    key: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    kept: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return page(
        "console/counter_form.html",
        status,
        procedure=procedure,
        code=procedure["_id"],
        units=units,
        applicant_fields=filing.APPLICANT_FIELDS,
        delivery_methods=filing.DELIVERY_METHODS,
        accept=filing.accept_attribute,
        values=values or {},
        errors=errors or {},
        kept=kept or {},
        filing_key=key,
        file_max_mb=current_app.extensions["service_config"].upload_max_bytes // MIB,
    )


@blp.get("/quay/<code>")
def counter_form(code: str) -> tuple[str, int]:
    procedure, units = _procedure(code)
    return _form_page(procedure, units, secrets.token_urlsafe(24))


def _intake() -> IntakeClient:
    """Intake's API with a short-lived token of the officer as the directory holds them now."""
    config = current_app.extensions["service_config"]
    if not config.intake_api_url:
        log.error("INTAKE_API_URL (or INTAKE_URL) is not set: counter filing is unavailable")
        raise PageError(503, INTAKE_DOWN)
    account = store.get_staff(current_db(), officer().user_id)
    if account is None or not account.get("active", True):
        raise PageError(403, "Tài khoản của bạn không còn hoạt động.")
    token = current_app.extensions["staff_keys"].staff_token(account, TOKEN_TTL)
    return IntakeClient(
        config.intake_api_url, {"Authorization": f"Bearer {token}"}, correlation=correlation_id.get
    )


@blp.post("/quay/<code>")
def counter_file(code: str) -> Any:
    procedure, units = _procedure(code)
    key = request.form.get(KEY_FIELD, "")
    if not KEY_PATTERN.fullmatch(key):
        raise PageError(400, "Biểu mẫu không hợp lệ. Vui lòng mở lại trang tiếp nhận và nhập lại.")
    intake = _intake()
    db, by = current_db(), officer().user_id
    limit = current_app.extensions["service_config"].upload_max_bytes
    form: dict[str, str] = {n: v for n, v in request.form.items() if n not in ("csrf_token", KEY_FIELD)}
    if len(units) == 1:
        form["unit"] = next(iter(units))
    kept = store.get_counter_uploads(db, key, by)

    def keep(document_type: str, record: dict[str, str]) -> None:
        store.keep_counter_upload(db, key, by, document_type, record, datetime.now(UTC))

    try:
        sent = filing.files_sent(procedure, request.files, limit)
        errors = filing.send_files(intake, procedure, sent, limit, kept, keep)
        kept = store.get_counter_uploads(db, key, by)
        if errors:
            return _form_page(procedure, units, key, values=form, errors=errors, kept=kept, status=422)
        upload_ids = {t: str(u["upload_id"]) for t, u in kept.items()}
        body = filing.filing_body(procedure, form, upload_ids, channel="counter")
        try:
            filed = intake.file(body, key)
        except IntakeRefused as exc:
            if exc.status == 401:
                # Intake does not trust processing's key set (JWT_JWKS_URL): nothing was filed.
                log.error("intake refused the officer's staff token")
                raise PageError(503, INTAKE_DOWN) from None
            errors = filing.refusal_errors(procedure, form, upload_ids, exc)
            for name in errors:
                if name.startswith("documents.") and name[10:] in kept:
                    # The file itself was refused (expired, of a wrong type): it must be chosen again.
                    store.forget_counter_upload(db, key, by, name[10:])
            log.info(
                "counter filing refused by intake", extra={"status": exc.status, "fields": sorted(errors)}
            )
            kept = store.get_counter_uploads(db, key, by)
            status = exc.status if exc.status in (403, 409, 422) else 422
            return _form_page(procedure, units, key, values=form, errors=errors, kept=kept, status=status)
    except IntakeRefused:
        # Only uploads are limited per client, and intake never limits an officer's token.
        raise PageError(503, INTAKE_DOWN) from None
    except IntakeUnavailable as exc:
        log.warning("intake unavailable", extra={"error_type": str(exc)})
        raise PageError(503, INTAKE_DOWN) from None
    log.info("counter filing filed", extra={"dossier": str(filed["code"])})
    return page(
        "console/counter_filed.html",
        procedure=procedure,
        code=str(filed["code"]),
        secret=str(filed["lookup_secret"]),
        submitted_at=_local(str(filed.get("submitted_at") or "")),
    )


def _local(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    return moment.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y")


@blp.get("/quay/ho-so/<code>/giay-tiep-nhan")
def counter_receipt(code: str) -> Response:
    """To the receipt slip (Mẫu 01) at notify, by a link signed now (a link lives ten minutes)."""
    require_role(Roles.RECEPTIONIST)
    if not CODE_PATTERN.fullmatch(code):
        raise PageError(404, "Không có hồ sơ này.")
    config = current_app.extensions["service_config"]
    path = f"/api/v1/dossiers/{code}/receipt.pdf"
    return redirect(signed_link(current_app.extensions["staff_keys"], config.notify_url, path, officer()))
