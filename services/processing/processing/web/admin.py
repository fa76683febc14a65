"""The administration screens' landing page and the sign-in rules (who must use a second factor).

The other screens each have a module: admin_accounts, admin_catalogue, admin_calendar.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from eventkit.web import current_db
from processing import store
from processing.identity import settings
from processing.schemas import SigninSettingsSchema
from processing.service import Conflict, InvalidData
from processing.web.admin_forms import ROLE_OPTIONS, STALE, admin_page, flat_errors, load, text, whole
from processing.web.pages import blp, officer, page

PREFIX = "/quan-tri"


@blp.get(f"{PREFIX}/")
@admin_page
def admin_home() -> tuple[str, int]:
    return page("console/admin_home.html")


def _signin_page(state: dict[str, Any], status: int = 200, **context: Any) -> tuple[str, int]:
    history = store.list_audit(current_db(), settings.TARGET)
    return page(
        "console/admin_signin.html",
        status,
        state=state,
        role_options=ROLE_OPTIONS,
        history=history,
        **context,
    )


@blp.get(f"{PREFIX}/dang-nhap")
@admin_page
def admin_signin_rules() -> tuple[str, int]:
    return _signin_page({**settings.get(current_db()), "reason": ""}, saved="da_luu" in request.args)


@blp.post(f"{PREFIX}/dang-nhap")
@admin_page
def admin_signin_rules_save() -> Any:
    form = request.form
    state = {
        "totp_required_roles": form.getlist("totp_required_roles"),
        # The API's version is a strict integer; the hidden box holds its digits.
        "version": whole(text(form, "version", 20)),
        "reason": text(form, "reason", 2000),
    }
    data, errors = load(SigninSettingsSchema(), state)
    if data is None:
        return _signin_page(state, 422, errors=errors)
    db = current_db()
    try:
        settings.update(db, data["totp_required_roles"], data["version"], data["reason"], officer())
    except InvalidData as invalid:
        return _signin_page(state, 422, errors=flat_errors(invalid.errors))
    except Conflict:
        return _signin_page({**settings.get(db), "reason": state["reason"]}, 409, conflict=STALE)
    return redirect(url_for("console.admin_signin_rules", da_luu=1))
