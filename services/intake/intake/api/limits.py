"""How often clients without a staff token may upload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix

from eventkit.auth import AuthError, TokenVerifier
from intake.api import uploads
from intake.config import IntakeConfig

TOO_MANY_UPLOADS = "Bạn gửi tệp quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi thử lại."


def _has_valid_staff_token(app: Flask) -> Callable[[], bool]:
    def exempt() -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        verifier: TokenVerifier = app.extensions["token_verifier"]
        try:
            verifier.verify(token.strip())
        except AuthError:
            return False
        return True

    return exempt


def _too_many(_exc: RateLimitExceeded) -> Any:
    response = jsonify({"code": 429, "status": HTTP_STATUS_CODES[429], "message": TOO_MANY_UPLOADS})
    response.status_code = 429
    return response


def limit_uploads(app: Flask, config: IntakeConfig) -> Limiter:
    """Uploads sent without a staff token are limited per client address (`UPLOAD_RATE_LIMIT`).

    Counts live in `RATE_LIMIT_STORAGE_URI`: "memory://" keeps them per API process; a store
    shared by the processes (e.g. Redis) makes the limit exact across them. Behind proxies
    (`PROXY_HOPS`) the client's address is taken from X-Forwarded-For.
    """
    if config.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops)  # type: ignore[method-assign]
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=config.rate_limit_storage_uri,
        strategy="moving-window",
        headers_enabled=True,
        key_prefix=config.service,
        # A shared count store that is down must not stop uploads: count in the process meanwhile.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    # The platform's error shape, in Vietnamese, instead of the limiter's English text.
    app.register_error_handler(RateLimitExceeded, _too_many)
    exempt = _has_valid_staff_token(app)
    limiter.limit(config.upload_rate_limit, methods=["POST"], exempt_when=exempt)(uploads.blp)
    return limiter
