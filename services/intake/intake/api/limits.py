"""How often clients without a staff token may upload (eventkit.ratelimit, checked on uploads
only: Flask-Limiter's per-request hooks cost each filing request a third of a millisecond)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix

from eventkit.auth import AuthError, TokenVerifier
from eventkit.ratelimit import ClientLimit
from intake.api import uploads
from intake.config import IntakeConfig

TOO_MANY_UPLOADS = "Bạn gửi tệp quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi thử lại."


def _has_valid_staff_token(app: Flask) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    verifier: TokenVerifier = app.extensions["token_verifier"]
    try:
        verifier.verify(token.strip())
    except AuthError:
        return False
    return True


def _too_many(retry_after: int) -> Any:
    response = jsonify({"code": 429, "status": HTTP_STATUS_CODES[429], "message": TOO_MANY_UPLOADS})
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def limit_uploads(app: Flask, config: IntakeConfig) -> ClientLimit:
    """Uploads sent without a staff token are limited per client address (`UPLOAD_RATE_LIMIT`);
    officers at the counter upload for citizens without a limit. Behind proxies (`PROXY_HOPS`) the
    client's address is taken from X-Forwarded-For."""
    if config.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops)  # type: ignore[method-assign]
    upload_limit = ClientLimit(
        config.upload_rate_limit, config.rate_limit_storage_uri, f"{config.service}:uploads"
    )

    @app.before_request
    def count_upload() -> Any:
        if request.method != "POST" or request.blueprint != uploads.blp.name:
            return None
        if _has_valid_staff_token(app):
            return None  # not counted: the counter's officers share one address
        client = request.remote_addr or "unknown"
        if upload_limit.allows(client):
            return None
        return _too_many(upload_limit.retry_after(client))

    return upload_limit
