"""An officer's own second factor (TOTP): turn it on from the console, and off again unless their
role requires it. Turning it on takes a code of the new key, as the sign-in's enrolment does;
turning it off takes a current code, so an unattended signed-in screen cannot remove it."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from itsdangerous import BadData

from eventkit.web import current_db
from processing import store as processing_store
from processing.identity import signin
from processing.web.pages import blp, officer, page
from processing.web.signin import qr_data_uri
from webui import PageError, csrf

# The key being enrolled travels in a signed form field between showing it and confirming it.
ENROL_SALT = "console.second_factor.enrol"
ENROL_MAX_AGE = 600
WRONG_CODE = "Mã xác thực không đúng hoặc đã được dùng; nhập mã mới."
TEMPLATE = "console/second_factor_settings.html"


def _state(**context: Any) -> dict[str, Any]:
    db = current_db()
    staff = officer()
    return {
        "enabled": signin.totp_enabled(db, staff.user_id),
        "required": signin.role_requires_totp(db, staff.roles),
        **context,
    }


def _enrol_page(secret: str, status: int = 200, error: str | None = None) -> tuple[str, int]:
    user_id = officer().user_id
    token = csrf.signer(ENROL_SALT).dumps({"user_id": user_id, "secret": secret})
    return page(
        TEMPLATE,
        status,
        **_state(
            enrol_token=token,
            enrol_secret=secret,
            enrol_qr=qr_data_uri(signin.totp_uri(secret, user_id)),
            errors={"code": error} if error else {},
        ),
    )


def _audit(action: str, reason: str) -> None:
    user_id = officer().user_id
    processing_store.record_audit(
        current_db(),
        actor=user_id,
        action=action,
        target=f"staff:{user_id}",
        before=None,
        after=None,
        reason=reason,
    )


@blp.get("/xac-thuc-hai-lop")
def second_factor_settings() -> tuple[str, int]:
    return page(TEMPLATE, **_state(done=request.args.get("xong")))


@blp.post("/xac-thuc-hai-lop/bat")
def second_factor_start() -> Any:
    if signin.totp_enabled(current_db(), officer().user_id):
        return redirect(url_for("console.second_factor_settings"))
    return _enrol_page(signin.new_totp_secret())


@blp.post("/xac-thuc-hai-lop/xac-nhan")
def second_factor_confirm() -> Any:
    try:
        pending = csrf.signer(ENROL_SALT).loads(request.form.get("enrol", ""), max_age=ENROL_MAX_AGE)
    except BadData:
        pending = None
    if not isinstance(pending, dict) or pending.get("user_id") != officer().user_id:
        raise PageError(400, "Trang đăng ký đã hết hạn; hãy bắt đầu lại.")
    db = current_db()
    if not signin.enrol_totp(
        db, officer().user_id, str(pending["secret"]), request.form.get("code", "")[:12]
    ):
        locked = signin.locked(db, officer().user_id)
        return _enrol_page(str(pending["secret"]), 422, locked or WRONG_CODE)
    _audit("staff.second_factor_enabled", "Cán bộ tự bật xác thực hai lớp")
    return redirect(url_for("console.second_factor_settings", xong="bat"))


@blp.post("/xac-thuc-hai-lop/tat")
def second_factor_stop() -> Any:
    db = current_db()
    staff = officer()
    if signin.role_requires_totp(db, staff.roles):
        raise PageError(403, "Vai trò của bạn bắt buộc xác thực hai lớp; không thể tắt.")
    if not signin.totp_enabled(db, staff.user_id):
        return redirect(url_for("console.second_factor_settings"))
    if not signin.check_totp(db, staff.user_id, request.form.get("code", "")[:12]):
        locked = signin.locked(db, staff.user_id)
        return page(TEMPLATE, 422, **_state(errors={"off_code": locked or WRONG_CODE}))
    signin.disable_totp(db, staff.user_id)
    _audit("staff.second_factor_disabled", "Cán bộ tự tắt xác thực hai lớp")
    return redirect(url_for("console.second_factor_settings", xong="tat"))
