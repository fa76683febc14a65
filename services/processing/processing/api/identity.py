"""Staff tokens: the published key set, and a token for an API client that signs in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from eventkit.auth import Roles, current_staff, staff_required
from eventkit.ratelimit import ClientLimit
from eventkit.web import current_db
from processing.identity import settings, signin
from processing.identity.keys import KeySet, KeysUnavailable
from processing.schemas import SigninSettingsSchema, TokenRequestSchema, TokenSchema

blp = Blueprint("identity", __name__, description="Staff tokens and the key set that verifies them")
SIGNING_UNAVAILABLE = "Chưa cấu hình khoá ký mã xác thực (STAFF_KEYS_SECRET); không thể đăng nhập."


def key_set() -> KeySet:
    keys: KeySet = current_app.extensions["staff_keys"]
    return keys


def signin_allowed() -> bool:
    """Count one sign-in attempt of this client address (every account's together)."""
    limit: ClientLimit = current_app.extensions["signin_limit"]
    return limit.allows(request.remote_addr or "unknown")


@blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @blp.response(200)
    def get(self) -> Response:
        """The public keys that verify staff tokens (RFC 7517), current and previous."""
        response = jsonify(key_set().jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response


@blp.route("/api/v1/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong user id, password or code; or the account is locked")
    @blp.alt_response(403, description="The password must be changed in the console first")
    @blp.alt_response(429, description="Too many sign-ins from this client")
    @blp.alt_response(503, description="Tokens cannot be signed: STAFF_KEYS_SECRET is not set")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """A staff token for an API client, as the console's sign-in checks it (lockout, code).
        Use it as `Authorization: Bearer <access_token>`."""
        if not signin_allowed():
            abort(429, message="Đăng nhập quá nhiều lần từ địa chỉ này; vui lòng thử lại sau ít phút.")
        db = current_db()
        try:
            account = signin.check_password(db, data["user_id"], data["password"])
        except signin.SignInRefused as refused:
            abort(401, message=refused.message)
        if signin.totp_required(db, account):
            if not signin.totp_enabled(db, account["user_id"]):
                abort(403, message="Tài khoản cần đăng ký mã xác thực hai lớp trên trang đăng nhập trước.")
            if not data["totp"]:
                abort(
                    401,
                    message="Cần mã xác thực hai lớp (trường totp).",
                    errors={"json": {"totp": ["Bắt buộc."]}},
                )
            if not signin.check_totp(db, account["user_id"], data["totp"]):
                abort(401, message="Mã xác thực hai lớp không đúng hoặc đã dùng.")
        if signin.must_change_password(db, account["user_id"]):
            abort(403, message="Cần đổi mật khẩu tạm trên trang đăng nhập trước khi dùng API.")
        signin.signed_in(db, account["user_id"])
        ttl = timedelta(minutes=current_app.extensions["service_config"].staff_token_minutes)
        try:
            token = key_set().staff_token(account, ttl)
        except KeysUnavailable:
            abort(503, message=SIGNING_UNAVAILABLE)
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(ttl.total_seconds())}


@blp.route("/api/v1/signin-settings")
class SigninSettings(MethodView):
    @staff_required(Roles.ADMIN)
    @blp.doc(security=[{"staffToken": []}])
    @blp.response(200, SigninSettingsSchema)
    def get(self) -> Any:
        """Which roles must sign in with a second factor (TOTP)."""
        return settings.get(current_db())

    @staff_required(Roles.ADMIN)
    @blp.doc(security=[{"staffToken": []}])
    @blp.arguments(SigninSettingsSchema())
    @blp.response(200, SigninSettingsSchema)
    @blp.alt_response(409, description="Edited on a stale version")
    def put(self, data: dict[str, Any]) -> Any:
        """Require a second factor of `totp_required_roles` from their next sign-in (officers who
        have none enrol at that sign-in); `version` is the version edited. Audited."""
        return settings.update(
            current_db(), data["totp_required_roles"], data["version"], data["reason"], current_staff()
        )
