"""Result files: the drafts officers upload, and the signed result a dossier's issue keeps.

A draft is checked from its bytes (a PDF that opens, eventkit.files) and kept in processing's own
blob store with the unit it belongs to. Issuing a dossier's result signs the draft with the
certificate of the unit handling the dossier and stores the signed file before the dossier's
conditional write; a write that loses leaves an unreferenced blob under its own key, never a
replaced one.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from eventkit import signing
from eventkit.auth import Roles, Staff
from eventkit.blobs import BlobMissing, BlobStore
from eventkit.errors import Forbidden, NotFound, TooLarge, UnsupportedType
from eventkit.files import sniff, well_formed
from eventkit.mongo import Db, Document
from processing import store
from processing.service import InvalidData, dossiers
from processing.service.catalogue import UNITS

MIB = 1024 * 1024
# Who prepares and issues results: the specialist drafts, the leader signs off.
UPLOADERS = frozenset({Roles.LEADER, Roles.SPECIALIST})
MEDIA_TYPE = "application/pdf"
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _uploader_unit(staff: Staff, unit: str | None) -> str:
    if unit is not None:
        if not staff.serves(unit):
            raise Forbidden("Tài khoản không thuộc đơn vị này.")
        return unit
    if len(staff.units) != 1:
        raise InvalidData({"unit": ["Tài khoản thuộc nhiều đơn vị: cần nêu đơn vị của tệp kết quả."]})
    return next(iter(staff.units))


def save(
    db: Db,
    blobs: BlobStore,
    data: bytes,
    max_bytes: int,
    staff: Staff,
    unit: str | None = None,
    now: datetime | None = None,
) -> Document:
    """Keep a draft result of `unit` (the uploader's, when they serve one); its id, hash and size."""
    if not staff.has_any_role(UPLOADERS):
        raise Forbidden("Chỉ lãnh đạo hoặc chuyên viên được tải lên tệp kết quả giải quyết.")
    owner = _uploader_unit(staff, unit)
    if not data:
        raise InvalidData({"file": ["Tệp rỗng."]})
    if len(data) > max_bytes:
        raise TooLarge(f"Tệp vượt quá {max_bytes // MIB} MB.")
    if sniff(data) != "pdf":
        raise UnsupportedType("Kết quả giải quyết chỉ nhận tệp PDF.")
    if not well_formed(data, "pdf"):
        raise UnsupportedType("Tệp PDF bị hỏng hoặc không đúng định dạng.")
    file_id = uuid.uuid4().hex
    record = {
        "unit": owner,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "created_by": staff.user_id,
        "created_at": now or datetime.now(UTC),
    }
    store.save_result_file(db, blobs, file_id, data, record)
    return {"id": file_id, "sha256": record["sha256"], "size": record["size"]}


@dataclass(frozen=True)
class ResultSigning:
    """What issuing a result needs beside the database: the blob store and the units' certificates."""

    blobs: BlobStore
    certs_dir: str | None
    # A signed result at most this large travels to notify for the citizen's email (online delivery).
    attach_max_bytes: int = 5 * MIB

    def sign(self, db: Db, dossier: Document, file_id: str, staff: Staff, now: datetime) -> Document:
        """Sign draft `file_id` for `dossier` and store the signed file; the result it records."""
        return self.sign_file(db, dossier, file_id, staff, now)[0]

    def sign_file(
        self, db: Db, dossier: Document, file_id: str, staff: Staff, now: datetime
    ) -> tuple[Document, bytes]:
        """As `sign`, with the signed file's bytes.

        Refusals: InvalidData naming `upload_id` (no such draft in a unit `staff` serves, or a PDF
        that cannot be signed), signing.SigningUnavailable (no certificate for the unit)."""
        record = store.get_result_file(db, file_id)
        draft = store.read_result_file(self.blobs, file_id) if record is not None else None
        if record is None or draft is None or not staff.serves(record["unit"]):
            raise InvalidData({"upload_id": ["Không tìm thấy tệp kết quả này trong đơn vị của tài khoản."]})
        unit_code = dossier["unit"]
        unit = store.get_reference(db, UNITS.collection, unit_code) or {}
        try:
            signed = signing.sign_result(
                draft,
                self.certs_dir,
                unit_code=unit_code,
                unit_address=unit.get("address") or unit.get("name") or unit_code,
                dossier_code=dossier["code"],
                signed_at=now,
            )
        except signing.SigningError as exc:
            raise InvalidData({"upload_id": [str(exc)]}) from exc
        sha256 = hashlib.sha256(signed).hexdigest()
        store.save_signed_result(self.blobs, dossier["code"], sha256, signed)
        record = {
            "file_id": file_id,
            "sha256": sha256,
            "size": len(signed),
            "signed": True,
            "signed_by_unit": unit_code,
        }
        return record, signed


def file_event_data(code: str, result: Document, signed: bytes) -> Document:
    """The payload of the signed result sent to notify (processing.results.v1)."""
    return {
        "code": code,
        "file_id": result["file_id"],
        "sha256": result["sha256"],
        "size": result["size"],
        "signed_by_unit": result["signed_by_unit"],
        "media_type": MEDIA_TYPE,
        "content_base64": base64.b64encode(signed).decode("ascii"),
    }


@dataclass(frozen=True)
class Download:
    chunks: Iterator[bytes]
    size: int
    filename: str
    media_type: str = MEDIA_TYPE


def read_signed(db: Db, blobs: BlobStore, code: str, staff: Staff) -> Download:
    """The dossier's signed result, for staff who may read the dossier."""
    dossier = dossiers.get(db, code, staff)
    result = dossier.get("result") or {}
    if not result.get("signed") or not result.get("sha256"):
        raise NotFound(f"Hồ sơ {code} chưa có kết quả giải quyết đã ký.")
    chunks = store.signed_result_bytes(blobs, code, result["sha256"])
    # The first piece is read now, so a file whose bytes are gone is a 404, not an empty answer.
    try:
        first = next(chunks, b"")
    except BlobMissing:
        raise NotFound(f"Không tìm thấy tệp kết quả của hồ sơ {code}.") from None

    def stream() -> Iterator[bytes]:
        yield first
        yield from chunks

    return Download(stream(), int(result["size"]), f"ket-qua-{_FILENAME_UNSAFE.sub('_', code)}.pdf")
