"""Signing in and out of the console: password, the second factor where required, a temporary
password changed at first sign-in. The session is an HttpOnly, SameSite=Lax cookie (Secure over
HTTPS) scoped to `/console`; every form carries a CSRF token (webui)."""

from __future__ import annotations

from typing import Any

import segno
from flask import current_app, g, redirect, request, url_for
from itsdangerous import BadData
from werkzeug.wrappers import Response

from eventkit.web import current_db
from processing import store as processing_store
from processing.api.identity import signin_allowed
from processing.identity import passwords, sessions, signin
from processing.web.pages import COOKIE_PATH, SESSION_COOKIE, blp, page, safe_next
from webui import csrf

# The step between the password and the code: a signed, 5-minute proof that the password passed.
PENDING_SALT = "console.signin.pending"
PENDING_MAX_AGE = 300
TOO_MANY = "Đăng nhập quá nhiều lần từ địa chỉ này; vui lòng thử lại sau ít phút."


def _pending_token(user_id: str, target: str, secret: str | None) -> str:
    return str(csrf.signer(PENDING_SALT).dumps({"user_id": user_id, "next": target, "secret": secret}))


def _pending(token: str) -> dict[str, Any] | None:
    try:
        value = csrf.signer(PENDING_SALT).loads(token, max_age=PENDING_MAX_AGE)
    except BadData:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("user_id"), str) else None


def qr_data_uri(text: str) -> str:
    # A standalone SVG image (with its namespace: the inline form shows nothing as an <img>).
    return str(segno.make(text, error="m").svg_data_uri(scale=4))


def signed_in_response(user_id: str, target: str) -> Response:
    db = current_db()
    signin.signed_in(db, user_id)
    response = redirect(safe_next(target))
    response.set_cookie(
        SESSION_COOKIE,
        sessions.start(db, user_id),
        max_age=int(sessions.LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=request.is_secure,
        samesite="Lax",
    )
    return response


def limited_page() -> tuple[str, int] | None:
    if signin_allowed():
        return None
    return page("console/signin.html", 429, error=TOO_MANY, user_id="", next=request.values.get("next"))


@blp.get("/dang-nhap")
def signin_form() -> tuple[str, int]:
    return page("console/signin.html", user_id="", next=request.args.get("next"))


@blp.post("/dang-nhap")
def signin_submit() -> Any:
    too_many = limited_page()
    if too_many:
        return too_many
    db = current_db()
    user_id = request.form.get("user_id", "").strip()[:64]
    target = request.form.get("next", "")
    try:
        account = signin.check_password(db, user_id, request.form.get("password", "")[:128])
    except signin.SignInRefused as refused:
        return page("console/signin.html", 401, error=refused.message, user_id=user_id, next=target)
    if not signin.totp_required(db, account):
        return signed_in_response(account["user_id"], target)
    enrolled = signin.totp_enabled(db, account["user_id"])
    secret = None if enrolled else signin.new_totp_secret()
    return second_factor_page(account["user_id"], target, secret)


def second_factor_page(user_id: str, target: str, secret: str | None, error: str | None = None) -> Any:
    uri = signin.totp_uri(secret, user_id) if secret else None
    return page(
        "console/second_factor.html",
        401 if error else 200,
        pending=_pending_token(user_id, target, secret),
        enrol_secret=secret,
        enrol_qr=qr_data_uri(uri) if uri else None,
        error=error,
    )


@blp.post("/xac-thuc")
def second_factor() -> Any:
    too_many = limited_page()
    if too_many:
        return too_many
    pending = _pending(request.form.get("pending", ""))
    if pending is None:
        expired = "Phiên đăng nhập đã hết hạn; vui lòng đăng nhập lại."
        return page("console/signin.html", 401, error=expired, user_id="", next="")
    db = current_db()
    user_id, target, secret = pending["user_id"], str(pending.get("next") or ""), pending.get("secret")
    account = processing_store.get_staff(db, user_id)
    if account is None or not account["active"]:
        return page("console/signin.html", 401, error=signin.WRONG, user_id="", next="")
    locked = signin.locked(db, user_id)
    if locked:
        return page("console/signin.html", 401, error=locked, user_id=user_id, next=target)
    code = request.form.get("code", "")[:12]
    accepted = (
        signin.enrol_totp(db, user_id, secret, code) if secret else signin.check_totp(db, user_id, code)
    )
    if not accepted:
        locked = signin.locked(db, user_id)
        if locked:
            return page("console/signin.html", 401, error=locked, user_id=user_id, next=target)
        return second_factor_page(
            user_id, target, secret, "Mã xác thực không đúng hoặc đã được dùng; nhập mã mới."
        )
    return signed_in_response(user_id, target)


@blp.post("/dang-xuat")
def signout() -> Response:
    sessions.end(current_db(), request.cookies.get(SESSION_COOKIE))
    response = redirect(url_for("console.signin_form"))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@blp.get("/doi-mat-khau")
def password_form() -> tuple[str, int]:
    return page("console/password.html", forced=g.session.must_change_password)


@blp.post("/doi-mat-khau")
def change_password() -> Any:
    db = current_db()
    staff = g.staff
    errors: dict[str, str] = {}
    current = request.form.get("current", "")[:128]
    new, again = request.form.get("new", "")[:200], request.form.get("again", "")[:200]
    try:
        signin.check_password(db, staff.user_id, current)
    except signin.SignInRefused:
        errors["current"] = "Mật khẩu hiện tại không đúng."
    weakness = passwords.weakness(new, staff.user_id)
    if weakness:
        errors["new"] = weakness
    elif new != again:
        errors["again"] = "Hai lần nhập mật khẩu mới không giống nhau."
    elif new == current:
        errors["new"] = "Mật khẩu mới phải khác mật khẩu hiện tại."
    if errors:
        return page("console/password.html", 422, errors=errors, forced=g.session.must_change_password)
    signin.set_password(db, staff.user_id, new, must_change=False)
    processing_store.record_audit(
        db,
        actor=staff.user_id,
        action="staff.password_changed",
        target=f"staff:{staff.user_id}",
        before=None,
        after=None,
        reason="Cán bộ tự đổi mật khẩu",
    )
    current_app.logger.info("password changed", extra={"user_id": staff.user_id})
    # Every other session of the account ends; this one goes on with a new cookie.
    sessions.end_all(db, staff.user_id)
    return signed_in_response(staff.user_id, url_for("console.home"))
