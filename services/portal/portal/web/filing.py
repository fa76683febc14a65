"""Online filing (`/thu-tuc/<code>/nop-ho-so`): the form, its files sent to intake, the receipt.

A double click or a resent form files once: the form carries an Idempotency-Key made when it was
rendered; the files it sent are kept under that key (store.FILING_UPLOADS), so the same form sent
again reuses their uploads and intake gets the same request, answered with the first answer. After
intake refuses the form, it is shown again with what was typed and the files already sent kept
(the citizen chooses a file again only to replace one, or where intake refused the file).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import segno
from flask import Flask, abort, current_app, render_template, request

from eventkit.logs import correlation_id
from eventkit.web import current_db
from portal import store
from portal.service.dossiers import TZ, instant
from portal.web import catalogue
from portal.web.pages import absolute, blp
from webui import PageError, filing
from webui.intake_client import IntakeClient, IntakeRefused, IntakeUnavailable

MIB = 1024 * 1024
KEY_FIELD = "filing_key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
INTAKE_DOWN = (
    "Hệ thống tiếp nhận hồ sơ tạm thời không truy cập được, hồ sơ của bạn chưa được nộp. "
    "Vui lòng thử lại sau ít phút."
)
TOO_MANY_UPLOADS = "Bạn gửi tệp quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi gửi lại."

# The forms that carry files: only these may be larger than the app's limit.
LARGE_FORMS = ("portal_web.file_dossier", "portal_web.supplement_dossier")

log = logging.getLogger(__name__)


def init_filing(app: Flask, env: Mapping[str, str]) -> None:
    """INTAKE_API_URL (else INTAKE_URL): intake's public API as the portal reaches it (inside a
    cluster, its internal address); PORTAL_UPLOAD_MAX_BYTES: the largest file (20 MiB, as intake's
    default); PORTAL_FILING_MAX_BYTES: the largest filing form with all its files."""
    url = (env.get("INTAKE_API_URL") or env.get("INTAKE_URL") or "").strip()
    state: dict[str, Any] = {
        "intake": IntakeClient(url, correlation=correlation_id.get) if url else None,
        "file_max": int(env.get("PORTAL_UPLOAD_MAX_BYTES") or 20 * MIB),
        "form_max": int(env.get("PORTAL_FILING_MAX_BYTES") or 50 * MIB),
    }
    app.extensions["portal_filing"] = state

    # Before the CSRF check reads the form.
    @app.before_request
    def allow_files() -> None:
        if request.endpoint in LARGE_FORMS and request.method == "POST":
            request.max_content_length = state["form_max"]


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = current_app.extensions["portal_filing"]
    return settings


def _procedure(code: str) -> dict[str, Any]:
    if len(code) > 40:
        abort(404)
    found = store.get_published(current_db(), store.PROCEDURES, code)
    if found is None or not catalogue.offers_online_filing(found):
        abort(404)
    return found


def _units(procedure: Mapping[str, Any]) -> dict[str, str]:
    db = current_db()
    units = {}
    for code in (procedure.get("receiving_units") or [])[:50]:
        unit = store.get_published(db, store.UNITS, code)
        units[code] = (unit or {}).get("name") or code
    return units


def _form_page(
    procedure: dict[str, Any],
    key: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    kept: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    code = procedure["_id"]
    body = render_template(
        "portal/filing.html",
        canonical_url=absolute("portal_web.file_dossier", code=code),
        procedure=procedure,
        code=code,
        units=_units(procedure),
        applicant_fields=filing.APPLICANT_FIELDS,
        delivery_methods=filing.DELIVERY_METHODS,
        accept=filing.accept_attribute,
        values=values or {},
        errors=errors or {},
        kept=kept or {},
        filing_key=key,
        file_max_mb=_settings()["file_max"] // MIB,
    )
    return body, status


@blp.get("/thu-tuc/<code>/nop-ho-so")
def filing_form(code: str) -> tuple[str, int]:
    return _form_page(_procedure(code), secrets.token_urlsafe(24))


def too_many(retry_after: str | None) -> tuple[str, int, dict[str, str]]:
    page = render_template("webui/error.html", code=429, title="Quá nhiều yêu cầu", message=TOO_MANY_UPLOADS)
    return page, 429, {"Retry-After": retry_after or "60"}


def send_form_files(
    intake: IntakeClient, procedure: Mapping[str, Any], key: str, citizen: dict[str, str]
) -> dict[str, list[str]]:
    """Send the files chosen in this request's form to intake, each kept under the form's `key`
    (store.FILING_UPLOADS), so the same form sent again sends none twice; the messages of the
    files refused, by field. Intake's 429 is raised (IntakeRefused) for the caller's page."""
    db, file_max = current_db(), _settings()["file_max"]

    def keep(document_type: str, record: dict[str, str]) -> None:
        store.keep_filing_upload(db, key, document_type, record, datetime.now(UTC))

    sent = filing.files_sent(procedure, request.files, file_max)
    kept = store.get_filing_uploads(db, key)
    return filing.send_files(intake, procedure, sent, file_max, kept, keep, citizen)


@blp.post("/thu-tuc/<code>/nop-ho-so")
def file_dossier(code: str) -> Any:
    procedure = _procedure(code)
    key = request.form.get(KEY_FIELD, "")
    if not KEY_PATTERN.fullmatch(key):
        raise PageError(400, "Biểu mẫu không hợp lệ. Vui lòng tải lại trang nộp hồ sơ và nhập lại.")
    settings = _settings()
    intake: IntakeClient | None = settings["intake"]
    if intake is None:
        log.error("INTAKE_API_URL (or INTAKE_URL) is not set: online filing is unavailable")
        raise PageError(503, INTAKE_DOWN)
    db = current_db()
    values = {name: value for name, value in request.form.items() if name not in ("csrf_token", KEY_FIELD)}
    citizen = {"X-Forwarded-For": request.remote_addr or "unknown"}
    try:
        try:
            errors = send_form_files(intake, procedure, key, citizen)
        except IntakeRefused as exc:  # 429: too many uploads from this citizen
            return too_many(exc.retry_after)
        kept = store.get_filing_uploads(db, key)
        if errors:
            return _form_page(procedure, key, values=values, errors=errors, kept=kept, status=422)
        upload_ids = {t: str(u["upload_id"]) for t, u in kept.items()}
        body = filing.filing_body(procedure, request.form, upload_ids)
        try:
            filed = intake.file(body, key, citizen)
        except IntakeRefused as exc:
            errors = filing.refusal_errors(procedure, request.form, upload_ids, exc)
            for name in errors:
                if name.startswith("documents.") and name[10:] in kept:
                    # The file itself was refused (expired, of a wrong type): it must be chosen again.
                    store.forget_filing_upload(db, key, name[10:])
            log.info("filing refused by intake", extra={"status": exc.status, "fields": sorted(errors)})
            kept = store.get_filing_uploads(db, key)
            return _form_page(procedure, key, values=values, errors=errors, kept=kept, status=exc.status)
    except IntakeUnavailable as exc:
        log.warning("intake unavailable", extra={"error_type": str(exc)})
        raise PageError(503, INTAKE_DOWN) from None
    return _receipt(procedure, filed)


def _receipt(procedure: Mapping[str, Any], filed: Mapping[str, Any]) -> str:
    code = str(filed["code"])
    lookup_url = absolute("portal_web.lookup_form", ma=code)
    qr = segno.make(lookup_url, error="m").svg_data_uri(scale=4, border=2)
    return render_template(
        "portal/filed.html",
        canonical_url=None,
        procedure=procedure,
        code=code,
        secret=str(filed["lookup_secret"]),
        submitted_at=local_time(str(filed.get("submitted_at") or "")),
        lookup_url=lookup_url,
        qr=qr,
    )


def local_time(value: str) -> str:
    """An ISO time as the citizen reads it: 09:32 ngày 27/10/2023 (local time)."""
    moment = instant(value)
    return moment.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y") if moment else ""
