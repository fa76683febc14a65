"""The staff console's blueprint and what its pages share: the signed-in officer and the page helper.

Every console route joins `blp` (under `/console`); the modules beside this one each hold the
routes of one screen. A route is for signed-in officers unless it is in `PUBLIC_ENDPOINTS`.
"""

from __future__ import annotations

import re
from typing import Any, cast

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from eventkit.auth import Staff
from eventkit.web import current_db
from processing import store
from processing.identity import sessions
from processing.service.catalogue import UNITS
from webui import PageError

blp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
SESSION_COOKIE = "motcua_staff_session"
COOKIE_PATH = "/console"
# The sign-in pages themselves (and the change of a temporary password) need no session.
PUBLIC_ENDPOINTS = frozenset(
    {
        "console.signin_form",
        "console.signin_submit",
        "console.second_factor",
        "console.oidc_start",
        "console.oidc_callback",
    }
)
PASSWORD_ENDPOINTS = frozenset({"console.password_form", "console.change_password", "console.signout"})

ROLE_LABELS = {
    "receptionist": "Cán bộ tiếp nhận",
    "specialist": "Chuyên viên xử lý",
    "leader": "Lãnh đạo",
    "admin": "Quản trị hệ thống",
    "editor": "Biên tập cổng thông tin",
}


def officer() -> Staff:
    """The officer signed in for this request (every console page but the sign-in ones has one)."""
    return cast(Staff, g.staff)


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, officer=g.get("staff"), role_labels=ROLE_LABELS, **context), status


ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@blp.app_template_filter("unit_name")
def unit_name(code: str | None) -> str:
    """A unit as officers call it, "Thị trấn Thứa (09496)"; its code alone if unknown.
    One read by `_id` per unit and request."""
    if not code:
        return "—"
    names = g.setdefault("unit_names", {})
    if code not in names:
        unit = store.get_reference(current_db(), UNITS.collection, code)
        name = unit and (unit.get("short_name") or unit.get("name"))
        names[code] = f"{name} ({code})" if name else code
    return cast(str, names[code])


@blp.app_template_filter("shown")
def shown(value: Any) -> str:
    """A form value as a person reads it: dates day first, yes/no, lists joined, nothing as "—"."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, str) and (day := ISO_DATE.match(value)):
        return f"{day[3]}/{day[2]}/{day[1]}"
    return str(value)


@blp.before_request
def require_session() -> Response | None:
    """Resume the session of the cookie; without one, to the sign-in page (back here after)."""
    g.private_page = True  # every console page is for one officer: never kept by a cache
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    session = sessions.resume(current_db(), request.cookies.get(SESSION_COOKIE))
    if session is None:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("console.signin_form", next=target.rstrip("?") if target else None))
    g.staff = session.staff
    g.session = session
    if session.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
        return redirect(url_for("console.password_form"))
    return None


def require_role(*roles: str) -> None:
    """403 page unless the officer holds one of `roles`."""
    if not officer().has_any_role(frozenset(roles)):
        raise PageError(403, "Tài khoản của bạn không có vai trò cần cho trang này.")


def require_unit(unit: str) -> None:
    if not officer().serves(unit):
        raise PageError(403, "Hồ sơ hoặc trang này thuộc đơn vị khác; tài khoản của bạn không được xem.")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    if target and target.startswith(COOKIE_PATH + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.home")
