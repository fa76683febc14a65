"""The staff directory: who works at which unit in which role, kept by the administrator.

Processing decides with it who a dossier may be assigned to (an active specialist of the unit that
holds it) and whom a deadline warning concerns (the assignee and the unit's active leaders). Every
change is audited (who, when, before, after, why). Signing in is `processing.identity`; here the
administrator only gives an account a temporary password.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventkit.auth import Roles, Staff
from eventkit.envelope import jsonable
from eventkit.errors import Forbidden
from eventkit.mongo import Db, Document
from processing import store
from processing.identity import passwords, sessions, signin
from processing.service import Conflict, InvalidData, NotFound
from processing.service.catalogue import UNITS
from processing.service.catalogue import get as get_reference

SEED_FILE = Path(__file__).parent.parent / "seed" / "staff.json"
FIELDS = ("name", "email", "roles", "units", "active")
# What a deadline warning needs of each person it concerns.
CONTACT_FIELDS = ("user_id", "name", "email")
# The demo tenant's accounts all sign in with this password (`make run` prints it).
DEMO_PASSWORD = "motcua.2019"


def _target(user_id: str) -> str:
    return f"staff:{user_id}"


def _check_admin_serves(admin: Staff, units: list[str]) -> None:
    foreign = sorted(set(units) - admin.units)
    if foreign:
        raise Forbidden(f"Tài khoản quản trị không thuộc đơn vị {', '.join(foreign)}.")


def _check_units(db: Db, units: list[str]) -> None:
    unknown = []
    for code in units:
        try:
            get_reference(db, UNITS, code)
        except NotFound:
            unknown.append(code)
    if unknown:
        raise InvalidData({"units": [f"Không có đơn vị {', '.join(unknown)}."]})


def get(db: Db, user_id: str) -> Document:
    account = store.get_staff(db, user_id)
    if account is None:
        raise NotFound(f"Không có tài khoản cán bộ {user_id}.")
    return account


def get_for(db: Db, user_id: str, admin: Staff) -> Document:
    account = get(db, user_id)
    _check_admin_serves(admin, account["units"])
    return account


def _record(data: Document, version: int, actor: str) -> Document:
    return {
        **{k: data[k] for k in FIELDS},
        "roles": sorted(data["roles"]),
        "units": sorted(data["units"]),
        "version": version,
        "updated_at": datetime.now(UTC),
        "updated_by": actor,
    }


def _audit_view(account: Document | None) -> Any:
    return None if account is None else jsonable({k: account.get(k) for k in ("version", *FIELDS)})


def _saved(db: Db, user_id: str, before: Document | None, actor: str, action: str, reason: str) -> Document:
    """After an account is written: its (unit, role) rows brought in line, the change audited."""
    after = get(db, user_id)
    store.sync_staff_roles(db, user_id, before, after)
    store.record_audit(
        db,
        actor=actor,
        action=action,
        target=_target(user_id),
        before=_audit_view(before),
        after=_audit_view(after),
        reason=reason,
    )
    return after


def create(db: Db, data: Document, admin: Staff) -> Document:
    _check_admin_serves(admin, data["units"])
    _check_units(db, data["units"])
    user_id = data["user_id"]
    record = _record(data, 1, admin.user_id)
    if not store.insert_staff(db, user_id, record):
        raise Conflict(f"Tên đăng nhập {user_id} đã có.")
    return _saved(db, user_id, None, admin.user_id, "staff.created", data.get("reason", ""))


def update(db: Db, user_id: str, data: Document, expected_version: int, admin: Staff) -> Document:
    current = get(db, user_id)
    # The administrator must serve every unit the account leaves or joins.
    _check_admin_serves(admin, list(set(current["units"]) | set(data["units"])))
    _check_units(db, data["units"])
    if current["version"] != expected_version:
        raise Conflict(
            f"Tài khoản {user_id} đã được sửa (phiên bản hiện tại {current['version']}); hãy tải lại."
        )
    record = _record(data, expected_version + 1, admin.user_id)
    if not store.replace_staff(db, user_id, expected_version, record):
        raise Conflict(f"Tài khoản {user_id} vừa được người khác sửa; hãy tải lại.")
    saved = _saved(db, user_id, current, admin.user_id, "staff.updated", data["reason"])
    if not saved["active"]:
        sessions.end_all(db, user_id)  # a deactivated officer is signed out everywhere at once
    return saved


def reset_password(db: Db, user_id: str, password: str, reason: str, admin: Staff) -> None:
    """A temporary password for the account, changed by its officer at the next sign-in; the lock
    is lifted and every session of the account ends. Audited without the password."""
    get_for(db, user_id, admin)
    weakness = passwords.weakness(password, user_id)
    if weakness:
        raise InvalidData({"password": [weakness]})
    signin.set_password(db, user_id, password, must_change=True)
    sessions.end_all(db, user_id)
    store.record_audit(
        db,
        actor=admin.user_id,
        action="staff.password_reset",
        target=_target(user_id),
        before=None,
        after=None,
        reason=reason,
    )


def list_unit(db: Db, unit: str, role: str | None, admin: Staff) -> list[Document]:
    """The accounts with `role` (any role without one) at `unit`, by user id."""
    _check_admin_serves(admin, [unit])
    accounts = (store.get_staff(db, user_id) for user_id in store.staff_ids_of_unit(db, unit, role))
    return [a for a in accounts if a is not None and _holds(a, unit, role)]


def history(db: Db, user_id: str, admin: Staff) -> list[Document]:
    get_for(db, user_id, admin)
    return store.list_audit(db, _target(user_id))


def _holds(account: Document, unit: str, role: str | None, active: bool | None = None) -> bool:
    """Whether the account itself (not a row of `staff_roles`, which may lag it) has the role there."""
    return (
        unit in account["units"]
        and (role is None or role in account["roles"])
        and (active is None or account["active"] is active)
    )


def check_assignee(db: Db, user_id: str, unit: str) -> Document:
    """The account of `user_id` if it is an active specialist of `unit`; InvalidData otherwise."""
    account = store.get_staff(db, user_id)
    if account is None:
        raise InvalidData({"assignee": [f"Không có cán bộ {user_id}."]})
    if not _holds(account, unit, Roles.SPECIALIST, active=True):
        raise InvalidData(
            {"assignee": [f"Cán bộ {user_id} không phải chuyên viên đang làm việc tại đơn vị {unit}."]}
        )
    return account


def contact(account: Document) -> Document:
    return {k: account.get(k) for k in CONTACT_FIELDS}


def leaders_of(db: Db, unit: str) -> list[Document]:
    """The active leaders of `unit`: a seek on (unit, role, active), each checked on its account."""
    accounts = (
        store.get_staff(db, user_id)
        for user_id in store.staff_ids_of_unit(db, unit, Roles.LEADER, active=True)
    )
    return [a for a in accounts if a is not None and _holds(a, unit, Roles.LEADER, active=True)]


def specialists_of(db: Db, unit: str) -> list[Document]:
    """The active specialists of `unit` (whom a dossier may be assigned to), like `leaders_of`."""
    accounts = (
        store.get_staff(db, user_id)
        for user_id in store.staff_ids_of_unit(db, unit, Roles.SPECIALIST, active=True)
    )
    return [a for a in accounts if a is not None and _holds(a, unit, Roles.SPECIALIST, active=True)]


def seed_accounts() -> list[Document]:
    """The demo tenant's accounts (`make run` seeds them; a real centre enters its own)."""
    accounts: list[Document] = json.loads(SEED_FILE.read_text(encoding="utf-8"))["items"]
    return accounts


def seed(
    db: Db, accounts: list[Document] | None = None, actor: str = "seed", password: str | None = None
) -> list[str]:
    """Store each account not stored yet (the demo tenant's by default), with `password` if given
    (the demo's shared one: never in a real centre); returns the user ids added."""
    added = []
    for data in seed_accounts() if accounts is None else accounts:
        data = {"email": None, "active": True, **data}
        if store.insert_staff(db, data["user_id"], _record(data, 1, actor)):
            _saved(db, data["user_id"], None, actor, "staff.created", "Tài khoản mẫu")
            added.append(data["user_id"])
        # An account stored before passwords existed gets one too; a password set since is kept.
        if password and not signin.has_password(db, data["user_id"]):
            signin.set_password(db, data["user_id"], password, must_change=False)
    return added
