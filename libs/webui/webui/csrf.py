"""CSRF protection for forms: a signed token bound to a per-visitor cookie.

The cookie holds a random value; a form's hidden field `csrf_token` holds that value signed with
the service's secret (itsdangerous). Every unsafe request to a page blueprint must carry a field
(or `X-CSRF-Token` header) whose signature is valid, not older than `MAX_AGE`, and that names the
cookie's value; anything else is 400. A cross-site page can neither read the cookie nor mint a
signature, and a cookie planted from a sibling domain has no matching signed field.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, current_app, g, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest

COOKIE = "motcua_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SALT = "webui.csrf"
MAX_AGE = 8 * 3600  # a form left open for a working day still posts
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfFailed(BadRequest):
    description = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và gửi lại."
    page_message = description


def site_secret() -> str:
    """The site's key (made once when it comes from a callable)."""
    state = current_app.extensions["webui"]
    secret = state["secret_key"]
    if callable(secret):
        secret = state["secret_key"] = secret()
    return str(secret)


def signer(salt: str) -> URLSafeTimedSerializer:
    """Timed tokens signed with the site's key, kept apart per use by `salt`: the forms' CSRF
    tokens here, others' elsewhere."""
    return URLSafeTimedSerializer(site_secret(), salt=salt)


def _serializer() -> URLSafeTimedSerializer:
    return signer(SALT)


def _visitor_value() -> str:
    value = g.get("csrf_value") or request.cookies.get(COOKIE)
    if not value or len(value) > 100:
        value = secrets.token_urlsafe(32)
        g.csrf_new_cookie = True
    g.csrf_value = value
    return value


def token_for_form() -> str:
    """The hidden field's value for a form on this page (the page is then private to the visitor)."""
    g.csrf_issued = True
    return str(_serializer().dumps(_visitor_value()))


def verify_request() -> None:
    sent = request.form.get(FIELD) or request.headers.get(HEADER)
    cookie = request.cookies.get(COOKIE)
    if not sent or not cookie:
        raise CsrfFailed
    try:
        value = _serializer().loads(sent, max_age=MAX_AGE)
    except BadData:
        raise CsrfFailed from None
    if not isinstance(value, str) or not hmac.compare_digest(value, cookie):
        raise CsrfFailed


def set_cookie_if_issued(response: Response) -> None:
    if g.get("csrf_new_cookie"):
        response.set_cookie(
            COOKIE,
            g.csrf_value,
            httponly=True,
            secure=request.is_secure,
            samesite="Lax",
            path="/",
        )
