"""Supplementing a dossier from the lookup (`/tra-cuu/bo-sung`), when processing asked for it.

Intake takes a supplement with the dossier's lookup secret: the form carries it encrypted in its
token (`lookup.supplement_token`), so the citizen does not type it twice. The files go to intake
as the filing's do (`webui.filing.send_files`), kept under the token, so the same form sent again
sends no file twice; intake answers a second supplement of the same request with a 409.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import current_app, render_template, request

from eventkit.web import current_db
from portal import store
from portal.web.filing import send_form_files, too_many
from portal.web.lookup import limited, lookup_page, lookup_view, read_supplement_token, supplement_procedure
from portal.web.pages import blp
from webui import PageError, filing
from webui.intake_client import IntakeClient, IntakeRefused, IntakeUnavailable

NOTE_MAX = 2000
EXPIRED = "Phiên bổ sung hồ sơ đã hết hạn. Vui lòng tra cứu lại hồ sơ rồi gửi tệp bổ sung."
NO_FILE = "Hãy chọn ít nhất một tệp giấy tờ cần bổ sung."
NOT_ASKED = "Hồ sơ không còn ở trạng thái chờ bổ sung (có thể đã được bổ sung trước đó)."
INTAKE_DOWN = (
    "Hệ thống tiếp nhận hồ sơ tạm thời không truy cập được, hồ sơ chưa được bổ sung. "
    "Vui lòng thử lại sau ít phút."
)

log = logging.getLogger(__name__)


@blp.post("/tra-cuu/bo-sung")
def supplement_dossier() -> Any:
    if (refused := limited()) is not None:
        return refused
    token = request.form.get("supplement_token", "")
    held = read_supplement_token(token)
    if held is None:
        return lookup_page(400, message=EXPIRED)
    code, secret = held
    view = lookup_view(code, secret)
    if view is None or view["state"] != "supplement_requested":
        return lookup_page(409, message=NOT_ASKED, view=view)
    procedure = supplement_procedure(view)
    settings = current_app.extensions["portal_filing"]
    intake: IntakeClient | None = settings["intake"]
    if intake is None:
        log.error("INTAKE_API_URL (or INTAKE_URL) is not set: supplements are unavailable")
        raise PageError(503, INTAKE_DOWN)
    db = current_db()
    # The same form sent again carries the same token: its files are kept under it.
    key = "supplement-" + hashlib.sha256(token.encode()).hexdigest()[:40]
    citizen = {"X-Forwarded-For": request.remote_addr or "unknown"}
    note = (request.form.get("note") or "").strip()[:NOTE_MAX]

    def again(status: int, errors: dict[str, list[str]]) -> tuple[str, int]:
        return lookup_page(
            status,
            view=view,
            supplement_token=token,
            supplement_procedure=procedure,
            supplement_errors=errors,
            supplement_kept=store.get_filing_uploads(db, key),
            supplement_note=note,
        )

    try:
        try:
            errors = send_form_files(intake, procedure, key, citizen)
        except IntakeRefused as exc:  # 429: too many uploads from this citizen
            return too_many(exc.retry_after)
        kept = store.get_filing_uploads(db, key)
        if errors:
            return again(422, errors)
        if not kept:
            return again(422, {"documents": [NO_FILE]})
        upload_ids = {t: str(u["upload_id"]) for t, u in kept.items()}
        order = filing.document_order(procedure, upload_ids)
        body = {
            "lookup_secret": secret,
            "note": note,
            "documents": [{"type": t, "upload_id": upload_ids[t]} for t in order],
        }
        try:
            intake.supplement(code, body, citizen)
        except IntakeRefused as exc:
            log.info("supplement refused by intake", extra={"status": exc.status})
            if exc.status == 409:
                return lookup_page(409, message=NOT_ASKED, view=view)
            errors = filing.field_errors(exc.errors, order) if exc.errors else {}
            for name in errors:
                if name.startswith("documents.") and name[10:] in kept:
                    store.forget_filing_upload(db, key, name[10:])  # that file must be chosen again
            return again(exc.status, errors or {filing.GENERAL: [exc.message or NOT_ASKED]})
    except IntakeUnavailable as exc:
        log.warning("intake unavailable", extra={"error_type": str(exc)})
        raise PageError(503, INTAKE_DOWN) from None
    names = {d["code"]: d.get("name") or d["code"] for d in procedure.get("documents") or []}
    return render_template(
        "portal/supplemented.html",
        canonical_url=None,
        code=code,
        documents=[names[t] for t in order],
    )
