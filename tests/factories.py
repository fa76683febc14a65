"""Factories of valid requests, shared by the tests and the benchmarks."""

from __future__ import annotations

import json
import uuid
from typing import Any

from eventkit.envelope import Event, jsonable, new_event

# 1.004884: re-registration of a birth; commune level, 5 working days, document TP01 mandatory.
PROCEDURE = "1.004884"
UNIT = "09496"  # Thị trấn Thứa, electronic id 000.21.26.H06 in the seed


def new_code(unit_id: str = "000.21.26.H06") -> str:
    """A dossier code of the real shape (unit, day, number), unique per call."""
    number = uuid.uuid4().int
    return f"{unit_id}-{number % 1_000_000:06d}-{number // 1_000_000 % 10_000:04d}"


def intake_event(kind: str, code: str, sequence: int, **data: Any) -> Event:
    """An intake dossier event (`vn.motcua.intake.dossier.<kind>.v1`) as intake sends it."""
    return new_event(
        type=f"vn.motcua.intake.dossier.{kind}.v1",
        source="/services/intake",
        subject=code,
        data=jsonable({"code": code, **data}),
        sequence=sequence,
    )


def online_filing(upload_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid online filing of PROCEDURE at UNIT with one document; keys in `overrides` replace."""
    body: dict[str, Any] = {
        "procedure_code": PROCEDURE,
        "unit": UNIT,
        "channel": "online",
        "applicant": {
            "full_name": "Nguyễn Thị Hoa",
            "id_number": "027190001234",
            "date_of_birth": "1990-05-12",
            "phone": "0912 345 678",
            "email": "hoa@example.vn",
            "address": "Thị trấn Thứa, Lương Tài, Bắc Ninh",
        },
        "delivery": {"method": "post", "address": "Thị trấn Thứa, Lương Tài, Bắc Ninh"},
        "form": {
            "person_full_name": "Nguyễn Văn Bình",
            "person_birth_date": "2015-03-01",
            "original_registration_place": "UBND thị trấn Thứa",
        },
        "documents": [{"type": "TP01", "upload_id": upload_id}],
    }
    body.update(overrides)
    return body


def fill_catalogue_projection(db: Any) -> None:
    """A service's projection of the shipped units and procedures, as their events leave it."""
    from eventkit.projections import upsert_latest
    from processing.importer import SEED_DIR

    for collection in ("units", "procedures"):
        for item in json.loads((SEED_DIR / f"{collection}.json").read_text(encoding="utf-8")):
            fields = {k: v for k, v in item.items() if k != "code"}
            upsert_latest(db[collection], item["code"], 1, fields)


def pdf_bytes(size: int = 1024) -> bytes:
    """A well-formed one-page PDF of about `size` bytes (the page's content stream pads it)."""
    filler = b"% " + b"0" * max(0, size - 420) + b"\n"
    content = filler + b"BT /F1 12 Tf 72 720 Td (MotCua) Tj ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def image_bytes(kind: str = "PNG", width: int = 16, height: int = 16) -> bytes:
    """A well-formed PNG or JPEG image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def feed_portal_catalogue(db: Any, procedure_codes: list[str] | None = None) -> None:
    """The shipped units and procedures (those of `procedure_codes`, else all) handed to the portal's
    catalogue handlers as processing's events, as its worker would."""
    from eventkit.envelope import new_event
    from eventkit.topics import Groups
    from portal.events import ConsumedTypes
    from portal.handlers import build_handlers
    from processing.importer import SEED_DIR

    handlers = build_handlers(db)[Groups.PORTAL_CATALOGUE]
    kinds = (("units", ConsumedTypes.UNIT_PUBLISHED), ("procedures", ConsumedTypes.PROCEDURE_PUBLISHED))
    for collection, event_type in kinds:
        for item in json.loads((SEED_DIR / f"{collection}.json").read_text(encoding="utf-8")):
            if (
                collection == "procedures"
                and procedure_codes is not None
                and item["code"] not in procedure_codes
            ):
                continue
            data = {**item, "version": 1, "updated_at": "2019-01-01T00:00:00Z"}
            event = new_event(
                type=event_type, source="/processing", subject=item["code"], data=data, sequence=1
            )
            handler = handlers[event_type]
            handler.handle(event, handler.schema.load(data))
