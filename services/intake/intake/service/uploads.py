"""Uploaded documents: stored with their size, real type (read from the bytes) and SHA-256."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventkit.auth import Roles, Staff
from eventkit.blobs import BlobMissing, BlobStore
from eventkit.files import sniff, well_formed
from eventkit.mongo import Db, Document
from eventkit.secrets import verify_secret
from intake import store
from intake.service import Forbidden, InvalidData, NotFound, TooLarge, Unauthenticated, UnsupportedType

log = logging.getLogger(__name__)

MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
# Roles that handle dossiers, and so may read their files (an editor writes portal content only).
READERS = Roles.STAFF
# A claim younger than this may belong to a filing still being written.
CLAIM_SETTLED_AFTER = timedelta(hours=1)
BATCH = 100


def save(db: Db, blobs: BlobStore, data: bytes, max_bytes: int) -> dict[str, Any]:
    if not data:
        raise InvalidData({"file": ["Tệp rỗng."]})
    if len(data) > max_bytes:
        raise TooLarge(f"Tệp vượt quá {max_bytes // (1024 * 1024)} MB.")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedType("Chỉ nhận tệp PDF, JPEG hoặc PNG.")
    if not well_formed(data, kind):
        raise UnsupportedType(f"Tệp {kind.upper()} bị hỏng hoặc không đúng định dạng.")
    upload_id = uuid.uuid4().hex
    metadata = {"size": len(data), "content_type": kind, "sha256": hashlib.sha256(data).hexdigest()}
    store.save_upload(db, blobs, upload_id, data, metadata)
    return {"id": upload_id, **metadata, "content_type": MEDIA_TYPES[kind]}


@dataclass(frozen=True)
class Download:
    chunks: Iterator[bytes]
    media_type: str
    size: int
    filename: str


def handling_units(dossier: Document) -> list[str]:
    """The units whose staff may read the dossier's files: the receiving unit and each unit
    processing has placed it in. A dossier stored before intake kept them falls back to the
    procedure's resolving units."""
    if "handling_units" not in dossier:
        return [dossier["unit"], *dossier.get("resolving_units", [])]
    return [dossier["unit"], *dossier["handling_units"]]


def read(db: Db, blobs: BlobStore, upload_id: str, *, staff: Staff | None, secret: str | None) -> Download:
    """The file, for staff handling dossiers in the dossier's units or the citizen holding its secret."""
    upload = store.get_uploads(db, [upload_id]).get(upload_id)
    dossier = store.get_dossier(db, upload["attached_to"]) if upload and upload["attached_to"] else None
    if upload is None or dossier is None:
        # Unattached files are nobody's to read yet; say nothing about whether they exist.
        raise NotFound("Không tìm thấy tệp.")
    if staff is not None:
        if not staff.has_any_role(READERS):
            raise Forbidden("Tài khoản không có quyền xem tệp của hồ sơ.")
        if not any(staff.serves(unit) for unit in handling_units(dossier)):
            raise Forbidden("Tài khoản không thuộc đơn vị xử lý hồ sơ này.")
    elif secret is None:
        raise Unauthenticated("Cần mã tra cứu của hồ sơ hoặc đăng nhập cán bộ.")
    elif not verify_secret(secret, dossier["lookup_secret_hash"]):
        raise Forbidden("Mã tra cứu không đúng.")
    chunks = store.upload_bytes(blobs, upload_id)
    # The first piece is read now, so a file whose bytes are gone is a 404, not an empty answer.
    try:
        first = next(chunks, b"")
    except BlobMissing:
        raise NotFound("Không tìm thấy tệp.") from None

    def stream() -> Iterator[bytes]:
        yield first
        yield from chunks

    kind = upload["content_type"]
    return Download(stream(), MEDIA_TYPES[kind], upload["size"], f"{upload_id}.{EXTENSIONS[kind]}")


def clean_up(
    db: Db, blobs: BlobStore, now: datetime, ttl: timedelta, until: float | None = None
) -> dict[str, int]:
    """Release claims whose dossier was never written; remove uploads no dossier took within `ttl`.

    Works through the whole backlog, a batch at a time, until it is drained or `until`
    (monotonic) passes. Before deleting an upload's bytes housekeeping claims it itself, so a
    filing racing with the deletion fails to claim it (a 422) instead of getting a dossier
    without its file."""
    counts = {"deleted": 0, "kept": 0, "released": 0}

    def time_left() -> bool:
        return until is None or time.monotonic() < until

    while time_left():
        claims = store.unchecked_claims(db, now - CLAIM_SETTLED_AFTER, limit=BATCH)
        for claim in claims:
            if claim.get("dossier") is None:
                # Housekeeping's own claim: finish a removal that stopped half-way, then forget it
                # (no filing that saw the upload runs for an hour).
                store.remove_upload(db, blobs, claim["_id"])
                store.drop_removal_claim(db, claim["_id"])
            elif store.dossier_exists(db, claim["dossier"]):
                store.mark_claim_checked(db, claim["_id"])
            else:
                store.release_uploads(db, [claim["_id"]], claim["dossier"])
                counts["released"] += 1
        if len(claims) < BATCH:
            break
    while time_left():
        expired = store.unchecked_uploads(db, now - ttl, limit=BATCH)
        for upload in expired:
            if not store.claim_for_removal(db, upload["_id"]):
                store.mark_upload_kept(db, upload["_id"])
                counts["kept"] += 1
            elif store.remove_upload(db, blobs, upload["_id"]):
                counts["deleted"] += 1
        if len(expired) < BATCH:
            break
    return counts
