"""Uploaded documents: stored with their size, real type (read from the bytes) and SHA-256."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from eventkit.auth import Staff
from eventkit.mongo import Db
from eventkit.secrets import verify_secret
from intake import store
from intake.service import Forbidden, InvalidData, NotFound, TooLarge, Unauthenticated, UnsupportedType

MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes, never from what the client claims."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def save(db: Db, data: bytes, max_bytes: int) -> dict[str, Any]:
    if not data:
        raise InvalidData({"file": ["Tệp rỗng."]})
    if len(data) > max_bytes:
        raise TooLarge(f"Tệp vượt quá {max_bytes // (1024 * 1024)} MB.")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedType("Chỉ nhận tệp PDF, JPEG hoặc PNG.")
    upload_id = uuid.uuid4().hex
    metadata = {"size": len(data), "content_type": kind, "sha256": hashlib.sha256(data).hexdigest()}
    store.save_upload(db, upload_id, data, metadata)
    return {"id": upload_id, **metadata, "content_type": MEDIA_TYPES[kind]}


def read(db: Db, upload_id: str, *, staff: Staff | None, secret: str | None) -> tuple[bytes, str]:
    """The file, for staff of the dossier's units or the citizen holding the dossier's secret."""
    upload = store.get_uploads(db, [upload_id]).get(upload_id)
    dossier = store.get_dossier(db, upload["attached_to"]) if upload and upload["attached_to"] else None
    if upload is None or dossier is None:
        # Unattached files are nobody's to read yet; say nothing about whether they exist.
        raise NotFound("Không tìm thấy tệp.")
    if staff is not None:
        if not any(staff.serves(unit) for unit in [dossier["unit"], *dossier.get("resolving_units", [])]):
            raise Forbidden("Tài khoản không thuộc đơn vị xử lý hồ sơ này.")
    elif secret is None:
        raise Unauthenticated("Cần mã tra cứu của hồ sơ hoặc đăng nhập cán bộ.")
    elif not verify_secret(secret, dossier["lookup_secret_hash"]):
        raise Forbidden("Mã tra cứu không đúng.")
    data = store.read_upload(db, upload_id, upload["chunks"])
    if data is None:
        raise NotFound("Không tìm thấy tệp.")
    return data, MEDIA_TYPES[upload["content_type"]]


def clean_up(db: Db, now: datetime, ttl: timedelta) -> dict[str, int]:
    """Release claims whose dossier was never written; remove uploads no dossier took within `ttl`."""
    counts = {"deleted": 0, "kept": 0, "released": 0}
    for claim in store.unchecked_claims(db, now - timedelta(hours=1)):
        if store.dossier_exists(db, claim["dossier"]):
            store.mark_claim_checked(db, claim["_id"])
        else:
            store.release_uploads(db, [claim["_id"]], claim["dossier"])
            counts["released"] += 1
    for upload in store.unchecked_uploads(db, now - ttl):
        if store.is_claimed(db, upload["_id"]):
            store.mark_upload_kept(db, upload["_id"])
            counts["kept"] += 1
        elif store.delete_upload(db, upload["_id"]):
            counts["deleted"] += 1
    return counts
