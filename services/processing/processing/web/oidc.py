"""Signing in through the organisation's OpenID Connect provider, when OIDC_ISSUER_URL,
OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set: a button on the sign-in page, and the callback
that maps the provider's user to an active staff account and starts the same console session
(with processing's second factor where it is required)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, redirect, request, url_for
from itsdangerous import BadData

from eventkit.web import current_db
from processing import store as processing_store
from processing.config import ProcessingConfig
from processing.identity import oidc, signin
from processing.web.pages import COOKIE_PATH, blp, page
from processing.web.signin import limited_page, second_factor_page, signed_in_response
from webui import PageError, csrf

log = logging.getLogger(__name__)
# What the callback must find again (state, nonce, PKCE verifier), in a signed 10-minute cookie.
FLOW_COOKIE = "motcua_oidc_flow"
FLOW_SALT = "console.signin.oidc"
FLOW_MAX_AGE = 600
FAILED = "Đăng nhập qua hệ thống đăng nhập một lần không thành công; vui lòng thử lại."
NO_ACCOUNT = "Tài khoản đăng nhập một lần không ứng với cán bộ nào đang làm việc; liên hệ quản trị viên."


def _config() -> ProcessingConfig:
    config: ProcessingConfig = current_app.extensions["service_config"]
    return config


def _provider() -> oidc.Provider:
    config = _config()
    if not config.oidc_issuer_url:
        raise PageError(404, "Chưa cấu hình đăng nhập một lần.")
    found = current_app.extensions.get("oidc_provider")
    if found is None:
        found = current_app.extensions["oidc_provider"] = oidc.Provider(
            config.oidc_issuer_url,
            config.oidc_client_id,
            config.oidc_client_secret,
            config.oidc_username_claim,
        )
    return found


@blp.context_processor
def sso_button() -> dict[str, Any]:
    return {"sso_enabled": bool(_config().oidc_issuer_url)}


def _refused(message: str, status: int = 401) -> Any:
    answer = current_app.make_response(
        page("console/signin.html", status, error=message, user_id="", next="")
    )
    answer.delete_cookie(FLOW_COOKIE, path=COOKIE_PATH)
    return answer


@blp.get("/dang-nhap/sso")
def oidc_start() -> Any:
    provider = _provider()
    try:
        started = provider.start(url_for("console.oidc_callback", _external=True))
    except Exception:
        log.warning("oidc provider unreachable", exc_info=True)
        return _refused(FAILED, 503)
    flow = {
        "state": started.state,
        "nonce": started.nonce,
        "verifier": started.code_verifier,
        "next": request.args.get("next", "")[:500],
    }
    response = redirect(started.url)
    response.set_cookie(
        FLOW_COOKIE,
        csrf.signer(FLOW_SALT).dumps(flow),
        max_age=FLOW_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        secure=request.is_secure,
        samesite="Lax",  # the provider sends the browser back with a top-level GET
    )
    return response


@blp.get("/dang-nhap/sso/xong")
def oidc_callback() -> Any:
    provider = _provider()
    too_many = limited_page()
    if too_many:
        return too_many
    try:
        flow = csrf.signer(FLOW_SALT).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE)
    except BadData:
        flow = None
    state = request.args.get("state", "")
    if not isinstance(flow, dict) or not state or state != flow.get("state"):
        return _refused("Phiên đăng nhập đã hết hạn hoặc không hợp lệ; vui lòng đăng nhập lại.", 400)
    code = request.args.get("code", "")
    if not code:
        log.info("oidc sign-in refused", extra={"reason": request.args.get("error", "no code")[:64]})
        return _refused(FAILED)
    try:
        user_id = provider.username(
            url_for("console.oidc_callback", _external=True), code, flow["nonce"], flow["verifier"]
        )
    except oidc.OidcRefused as refused:
        log.warning("oidc sign-in refused", extra={"reason": str(refused)})
        return _refused(FAILED)
    db = current_db()
    account = processing_store.get_staff(db, user_id[:64])
    if account is None or not account["active"]:
        return _refused(NO_ACCOUNT)
    locked = signin.locked(db, account["user_id"])
    if locked:
        return _refused(locked)
    target = str(flow.get("next") or "")
    if signin.totp_required(db, account):
        enrolled = signin.totp_enabled(db, account["user_id"])
        answer = current_app.make_response(
            second_factor_page(account["user_id"], target, None if enrolled else signin.new_totp_secret())
        )
    else:
        answer = signed_in_response(account["user_id"], target)
    answer.delete_cookie(FLOW_COOKIE, path=COOKIE_PATH)
    return answer
