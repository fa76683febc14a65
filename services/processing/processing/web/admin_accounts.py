"""Administration: the staff accounts of the units the administrator serves (service/staff.py,
as /api/v1/staff): list by unit and role, create, edit on a version, a temporary password, history."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.datastructures import MultiDict

from eventkit.mongo import Document
from eventkit.web import current_db
from processing import store
from processing.schemas import (
    PasswordResetSchema,
    StaffAccountSchema,
    StaffAccountUpdateSchema,
    StaffQuerySchema,
)
from processing.service import Conflict, InvalidData, staff
from processing.service.catalogue import UNITS
from processing.web.admin import PREFIX
from processing.web.admin_forms import ROLE_OPTIONS, STALE, admin_page, flat_errors, load, optional, text
from processing.web.pages import blp, officer, page

ACCOUNTS = f"{PREFIX}/tai-khoan"
ACTIONS = {
    "staff.created": "Tạo tài khoản",
    "staff.updated": "Sửa tài khoản",
    "staff.password_reset": "Cấp mật khẩu tạm",
    "staff.password_changed": "Cán bộ đổi mật khẩu",
}


def _unit_options() -> list[tuple[str, str]]:
    """The administrator's units, (code, "code – name"), by code: one seek on the ids."""
    codes = sorted(officer().units)
    found, _ = store.list_references(current_db(), UNITS.collection, {"_id": {"$in": codes}})
    names = {unit["code"]: unit["name"] for unit in found}
    return [(code, f"{code} – {names[code]}" if code in names else code) for code in codes]


def _state(account: Document) -> dict[str, Any]:
    return {**{k: account.get(k) for k in (*staff.FIELDS, "user_id", "version")}, "reason": ""}


def _form_state(form: MultiDict[str, str], user_id: str | None = None) -> dict[str, Any]:
    return {
        "user_id": user_id if user_id is not None else text(form, "user_id", 64),
        "name": text(form, "name", 200),
        "email": text(form, "email", 254),
        "roles": form.getlist("roles"),
        "units": form.getlist("units"),
        "active": "active" in form,
        "reason": text(form, "reason", 2000),
        "version": text(form, "version", 20),
    }


def _schema_input(state: dict[str, Any], creating: bool) -> dict[str, Any]:
    data = {k: state[k] for k in ("name", "roles", "units", "active", "reason")}
    data["email"] = optional(state["email"])
    if creating:
        data["user_id"] = state["user_id"]
    else:
        data["version"] = state["version"]
    return data


def _account_page(state: dict[str, Any], status: int = 200, **context: Any) -> tuple[str, int]:
    creating = not state.get("version")
    history = [] if creating else staff.history(current_db(), state["user_id"], officer())
    return page(
        "console/admin_account.html",
        status,
        state=state,
        creating=creating,
        role_options=ROLE_OPTIONS,
        unit_options=_unit_options(),
        history=history,
        actions=ACTIONS,
        password_errors=context.pop("password_errors", {}),
        **context,
    )


@blp.get(ACCOUNTS)
@admin_page
def admin_accounts() -> tuple[str, int]:
    units = sorted(officer().units)
    wanted = {k: v for k, v in request.args.items() if v}
    query, errors = load(StaffQuerySchema(), {"unit": units[0] if units else "", **wanted})
    accounts = [] if query is None else staff.list_unit(current_db(), query["unit"], query["role"], officer())
    return page(
        "console/admin_accounts.html",
        422 if errors else 200,
        accounts=accounts,
        errors=errors,
        unit=(query or {}).get("unit", request.args.get("unit", "")),
        role=(query or {}).get("role") or "",
        unit_options=_unit_options(),
        role_options=ROLE_OPTIONS,
    )


@blp.get(f"{ACCOUNTS}/moi")
@admin_page
def admin_account_new() -> tuple[str, int]:
    unit = request.args.get("unit", "")
    state = {"user_id": "", "name": "", "email": "", "roles": [], "active": True, "reason": "", "version": ""}
    return _account_page({**state, "units": [unit] if unit in officer().units else []})


@blp.post(f"{ACCOUNTS}/moi")
@admin_page
def admin_account_create() -> Any:
    state = {**_form_state(request.form), "version": ""}
    data, errors = load(StaffAccountSchema(), _schema_input(state, creating=True))
    if data is None:
        return _account_page(state, 422, errors=errors)
    try:
        staff.create(current_db(), data, officer())
    except InvalidData as invalid:
        return _account_page(state, 422, errors=flat_errors(invalid.errors))
    except Conflict as taken:
        return _account_page(state, 409, errors={"user_id": str(taken)})
    return redirect(url_for("console.admin_account", user_id=data["user_id"], da_luu=1))


@blp.get(f"{ACCOUNTS}/<user_id>")
@admin_page
def admin_account(user_id: str) -> tuple[str, int]:
    account = staff.get_for(current_db(), user_id, officer())
    return _account_page(
        _state(account), saved="da_luu" in request.args, password_given="da_cap" in request.args
    )


@blp.post(f"{ACCOUNTS}/<user_id>")
@admin_page
def admin_account_save(user_id: str) -> Any:
    db = current_db()
    current = staff.get_for(db, user_id, officer())
    state = _form_state(request.form, current["user_id"])
    data, errors = load(StaffAccountUpdateSchema(), _schema_input(state, creating=False))
    if data is None:
        return _account_page(state, 422, errors=errors)
    version = data.pop("version")
    try:
        staff.update(db, user_id, data, version, officer())
    except InvalidData as invalid:
        return _account_page(state, 422, errors=flat_errors(invalid.errors))
    except Conflict:
        fresh = {**_state(staff.get(db, user_id)), "reason": state["reason"]}
        return _account_page(fresh, 409, conflict=STALE)
    return redirect(url_for("console.admin_account", user_id=user_id, da_luu=1))


@blp.post(f"{ACCOUNTS}/<user_id>/mat-khau")
@admin_page
def admin_account_password(user_id: str) -> Any:
    db = current_db()
    account = staff.get_for(db, user_id, officer())
    given = {
        "password": request.form.get("password", "")[:128],
        "reason": text(request.form, "password_reason"),
    }
    data, errors = load(PasswordResetSchema(), given)
    if data is not None:
        try:
            staff.reset_password(db, user_id, data["password"], data["reason"], officer())
        except InvalidData as invalid:
            errors = flat_errors(invalid.errors)
    if errors:
        errors = {("password_reason" if k == "reason" else k): v for k, v in errors.items()}
        return _account_page(_state(account), 422, password_errors=errors, password_reason=given["reason"])
    return redirect(url_for("console.admin_account", user_id=user_id, da_cap=1))
