"""How often clients without a staff token may upload.

Counted with `limits` (the library under Flask-Limiter) and checked only where it applies: an
upload. Flask-Limiter's per-request hooks resolve every route's limits, which cost each filing
request a third of a millisecond of a worker's time although only uploads are limited.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Flask, jsonify, request
from limits import parse, storage, strategies
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix

from eventkit.auth import AuthError, TokenVerifier
from intake.api import uploads
from intake.config import IntakeConfig

TOO_MANY_UPLOADS = "Bạn gửi tệp quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi thử lại."

log = logging.getLogger(__name__)


class UploadLimit:
    """A moving window of `UPLOAD_RATE_LIMIT` uploads per client address.

    Counts live in `RATE_LIMIT_STORAGE_URI`: "memory://" keeps them per API process; a store shared
    by the processes (e.g. Redis) makes the limit exact across them. A shared store that fails does
    not stop uploads: they are counted in the process meanwhile.
    """

    def __init__(self, config: IntakeConfig) -> None:
        self.limit = parse(config.upload_rate_limit)
        self.namespace = f"{config.service}:uploads"
        self.window = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(config.rate_limit_storage_uri)
        )
        self.fallback = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def _counted(self, action: str, client: str) -> Any:
        try:
            return getattr(self.window, action)(self.limit, self.namespace, client)
        except Exception:
            log.warning("upload limit store unreachable: counting in this process", exc_info=True)
            return getattr(self.fallback, action)(self.limit, self.namespace, client)

    def allows(self, client: str) -> bool:
        """Count one upload of `client`; False once it is over the limit."""
        return bool(self._counted("hit", client))

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may upload again."""
        stats = self._counted("get_window_stats", client)
        return max(1, math.ceil(stats.reset_time - time.time()))


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


def limit_uploads(app: Flask, config: IntakeConfig) -> UploadLimit:
    """Uploads sent without a staff token are limited per client address (`UPLOAD_RATE_LIMIT`);
    officers at the counter upload for citizens without a limit. Behind proxies (`PROXY_HOPS`) the
    client's address is taken from X-Forwarded-For."""
    if config.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops)  # type: ignore[method-assign]
    upload_limit = UploadLimit(config)

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
