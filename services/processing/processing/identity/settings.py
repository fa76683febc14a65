"""Sign-in rules the administrator sets: which roles must use a second factor (TOTP). Audited."""

from __future__ import annotations

from typing import Any

from eventkit.auth import Roles, Staff
from eventkit.mongo import Db, Document
from processing import store as processing_store
from processing.identity import store
from processing.service import Conflict, InvalidData

TARGET = "settings:signin"


def get(db: Db) -> Document:
    found = store.get_settings(db)
    return {"totp_required_roles": sorted(found.get("totp_required_roles", [])), "version": found["version"]}


def update(db: Db, roles: list[str], expected_version: int, reason: str, admin: Staff) -> Document:
    """Require the second factor of `roles` from their next sign-in; 409 on a stale version."""
    unknown = sorted(set(roles) - Roles.STAFF)
    if unknown:
        raise InvalidData({"totp_required_roles": [f"Không có vai trò {', '.join(unknown)}."]})
    before = get(db)
    fields: dict[str, Any] = {"totp_required_roles": sorted(set(roles))}
    if before["version"] != expected_version or not store.replace_settings(db, expected_version, fields):
        raise Conflict("Quy định đăng nhập vừa được người khác sửa; hãy tải lại.")
    after = get(db)
    processing_store.record_audit(
        db,
        actor=admin.user_id,
        action="settings.signin_updated",
        target=TARGET,
        before=before,
        after=after,
        reason=reason,
    )
    return after
