"""Dossier lookup (`/tra-cuu`) and the rating after the result is returned.

The code and the lookup secret are POSTed, so the secret is never in a URL or a request log. A
wrong secret and an unknown code get the same page after the same work
(`service.dossiers.lookup`). Lookups and ratings are limited per client address
(`LOOKUP_RATE_LIMIT`, counted with `limits` as intake counts uploads). The rating form carries no
secret: the lookup that showed it signs a token naming the dossier, valid for `RATING_TOKEN_AGE`.
The supplement form (web/supplement.py) needs the secret, which intake asks for: its token holds the
code and the secret encrypted (Fernet, with a key derived from the site's key), valid for
`SUPPLEMENT_TOKEN_AGE`, so the secret never stands in the page in clear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, current_app, redirect, render_template, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from eventkit.mongo import Document
from eventkit.ratelimit import ClientLimit
from eventkit.web import current_db
from portal import store
from portal.service import ratings
from portal.service.dossiers import TZ, lookup, public_view
from portal.web.pages import absolute, blp
from webui import filing
from webui.csrf import signer, site_secret

RATING_SALT = "portal.rating"
RATING_TOKEN_AGE = 30 * 60
SUPPLEMENT_TOKEN_AGE = 30 * 60
CODE_MAX = 40
SECRET_MAX = 40
TOO_MANY_LOOKUPS = "Bạn tra cứu quá nhiều lần trong thời gian ngắn; vui lòng đợi một lát rồi thử lại."
NOT_FOUND = (
    "Không tìm thấy hồ sơ với mã và mã tra cứu đã nhập. Vui lòng kiểm tra lại mã hồ sơ và mã tra cứu "
    "trên giấy tiếp nhận."
)

log = logging.getLogger(__name__)


def init_lookup(app: Flask, env: Mapping[str, str]) -> None:
    """One count of lookups per client for the page and the JSON API (api/lookup.py) alike."""
    app.extensions["portal_lookup"] = ClientLimit(
        env.get("LOOKUP_RATE_LIMIT") or "20/minute",
        env.get("RATE_LIMIT_STORAGE_URI") or "memory://",
        "portal:lookups",
    )


def limited() -> Any:
    """The 429 page when this client looked up too often, else None."""
    limit: ClientLimit = current_app.extensions["portal_lookup"]
    client = request.remote_addr or "unknown"
    if limit.allows(client):
        return None
    page = render_template("webui/error.html", code=429, title="Quá nhiều yêu cầu", message=TOO_MANY_LOOKUPS)
    return page, 429, {"Retry-After": str(limit.retry_after(client))}


def _tokens() -> URLSafeTimedSerializer:
    return signer(RATING_SALT)


def _typed(name: str, longest: int) -> str:
    return (request.form.get(name) or "").strip()[:longest]


def local(moment: datetime | None) -> str:
    return moment.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y") if moment else ""


def lookup_page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("code", "")
    context.setdefault("message", None)
    context.setdefault("view", None)
    body = render_template(
        "portal/lookup.html",
        canonical_url=absolute("portal_web.lookup_form"),
        local=local,
        criteria=ratings.CRITERIA,
        levels=ratings.LEVELS,
        accept=filing.accept_attribute,
        **context,
    )
    return body, status


@blp.get("/tra-cuu")
def lookup_form() -> tuple[str, int]:
    code = (request.args.get("ma") or "").strip()
    return lookup_page(code=code if len(code) <= CODE_MAX else "")


@blp.get("/tra-cuu-ho-so")
def lookup_link() -> Any:
    """The address notify's emails and slips link to (`?ma=<code>`): the lookup with the code."""
    code = (request.args.get("ma") or "").strip()
    if code and len(code) <= CODE_MAX:
        return redirect(url_for("portal_web.lookup_form", ma=code), code=301)
    return redirect(url_for("portal_web.lookup_form"), code=301)


@blp.post("/tra-cuu")
def lookup_dossier() -> Any:
    if (refused := limited()) is not None:
        return refused
    code, secret = _typed("code", CODE_MAX), _typed("secret", SECRET_MAX)
    if not code or not secret:
        errors = {
            name: message
            for name, value, message in (
                ("code", code, "Hãy nhập mã hồ sơ."),
                ("secret", secret, "Hãy nhập mã tra cứu."),
            )
            if not value
        }
        return lookup_page(422, code=code, errors=errors)
    view = lookup_view(code, secret)
    if view is None:
        # The same page for an unknown code and a wrong secret: the code typed is not echoed.
        return lookup_page(404, message=NOT_FOUND)
    return lookup_page(view=view, **_rating_context(view), **_supplement_context(view, secret))


def lookup_view(code: str, secret: str) -> Document | None:
    """The dossier's public view if `secret` is its lookup secret, else None."""
    return lookup(current_db(), code, secret)


def _fernet() -> Fernet:
    key = hashlib.sha256(b"portal.supplement|" + site_secret().encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def supplement_token(code: str, secret: str) -> str:
    """The supplement form's token: the dossier's code and lookup secret, encrypted and timed."""
    return _fernet().encrypt(json.dumps({"code": code, "secret": secret}).encode()).decode()


def read_supplement_token(token: str) -> tuple[str, str] | None:
    """(code, secret) of a token this site made less than SUPPLEMENT_TOKEN_AGE ago, else None."""
    try:
        held = json.loads(_fernet().decrypt(token[:2000].encode(), ttl=SUPPLEMENT_TOKEN_AGE))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(held, dict) or not all(isinstance(held.get(k), str) for k in ("code", "secret")):
        return None
    return held["code"], held["secret"]


def supplement_procedure(view: Document) -> Document:
    """The dossier's procedure as the portal publishes it (its document types), else {}."""
    code = view.get("procedure_code")
    found = store.get_published(current_db(), store.PROCEDURES, code) if isinstance(code, str) else None
    return found or {}


def _supplement_context(view: Document, secret: str) -> dict[str, Any]:
    """The supplement form's token and document types, when processing asked for a supplement."""
    if view["state"] != "supplement_requested":
        return {}
    procedure = supplement_procedure(view)
    if not procedure.get("documents"):
        return {}
    return {"supplement_token": supplement_token(view["code"], secret), "supplement_procedure": procedure}


def _rating_context(view: Document) -> dict[str, Any]:
    if view["state"] != "returned":
        return {}
    if store.get_rating(current_db(), view["code"]) is not None:
        return {"rated": True}
    return {"rating_token": _tokens().dumps(view["code"])}


@blp.post("/tra-cuu/danh-gia")
def rate_dossier() -> Any:
    if (refused := limited()) is not None:
        return refused
    try:
        code = _tokens().loads(request.form.get("rating_token", ""), max_age=RATING_TOKEN_AGE)
    except BadData:
        return lookup_page(400, message="Phiên đánh giá đã hết hạn. Vui lòng tra cứu lại hồ sơ để đánh giá.")
    db = current_db()
    doc = store.get_dossier(db, str(code))
    if doc is None or not ratings.may_rate(doc):
        return lookup_page(409, message="Hồ sơ chỉ được đánh giá sau khi đã trả kết quả.")
    try:
        levels = ratings.check_levels({name: request.form.get(name, "") for name in ratings.CRITERIA})
    except ratings.BadRating as exc:
        view = lookup_view_for_rating(doc)
        return lookup_page(
            422, view=view, rating_token=request.form["rating_token"], rating_errors=exc.errors
        )
    rated = ratings.rate(db, doc, levels)
    return render_template("portal/rated.html", canonical_url=None, code=code, stored_now=rated.stored_now), (
        200 if rated.stored_now else 409
    )


def lookup_view_for_rating(doc: Document) -> Document:
    """What the rating form shows again beside its errors: the dossier's public view."""
    return public_view(doc, datetime.now(TZ))
