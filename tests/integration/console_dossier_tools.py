"""Dossiers in processing's store for the console's tests, put there as intake's events arrive
(through the consumer group's own handler), and officers of the directory who sign in."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from eventkit.topics import Groups
from processing import deadlines
from processing.handlers import build_handlers
from processing.importer import SEED_DIR
from processing.schemas import ProcedureSchema, UnitSchema
from processing.service import catalogue
from processing.service import staff as staff_directory
from tests.factories import intake_event, new_code
from tests.integration.console_tools import sign_in, with_password

PROCEDURE = "1.004884"  # re-registration of a birth: 5 working days
UNIT = "09496"  # Thị trấn Thứa
OTHER_UNIT = "09499"
TZ = deadlines.TZ
# Friday 27/10/2023 09:32: due five working days later, long past by now.
FILED = datetime(2023, 10, 27, 9, 32, tzinfo=TZ)
# Officers beside the shared directory (which has no receptionist).
COUNTER = [
    {
        "user_id": user_id,
        "name": name,
        "email": f"{user_id}@luongtai.example.vn",
        "roles": [role],
        "units": [unit],
    }
    for user_id, name, role, unit in (
        ("receptionist-1", "Đỗ Thị Tiếp Nhận", "receptionist", UNIT),
        ("receptionist-2", "Vũ Văn Một Cửa", "receptionist", UNIT),
        ("receptionist-x", "Lý Thị Xã Khác", "receptionist", OTHER_UNIT),
        ("admin-1", "Quản Trị Viên", "admin", UNIT),
    )
]


def _seed_item(kind: str, code: str) -> dict[str, Any]:
    items = json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    return next(item for item in items if item["code"] == code)


def prepare(db: Any) -> None:
    """The units and procedure the dossiers need, and the counter officers."""
    for code in ("27", "264", "264.TP", UNIT, OTHER_UNIT):
        catalogue.create(db, catalogue.UNITS, UnitSchema().load(_seed_item("units", code)), "seed")
    procedure = {
        **_seed_item("procedures", PROCEDURE),
        "receiving_units": [UNIT, OTHER_UNIT],
        "resolving_units": [UNIT, OTHER_UNIT],
    }
    catalogue.create(db, catalogue.PROCEDURES, ProcedureSchema().load(procedure), "seed")
    staff_directory.seed(db, COUNTER, actor="test")


def deliver(db: Any, event: dict[str, Any]) -> None:
    """Through the consumer group's own handler, as the worker would."""
    handler = build_handlers(db)[Groups.PROCESSING_INTAKE_DOSSIERS][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


def file_dossier(
    db: Any,
    *,
    unit: str = UNIT,
    channel: str = "online",
    at: datetime = FILED,
    name: str = "Nguyễn Thị Hoa",
    id_number: str = "027190001234",
    unit_id: str = "000.21.26.H06",
) -> str:
    """A dossier filed at `unit` as intake's `submitted` brings it; its code."""
    code = new_code(unit_id)
    deliver(
        db,
        intake_event(
            "submitted",
            code,
            1,
            procedure_code=PROCEDURE,
            procedure_version=1,
            unit=unit,
            channel=channel,
            received_by="receptionist-1" if channel == "counter" else None,
            delivery={"method": "counter", "address": None},
            documents=[{"type": "TP01", "upload_id": "up-1", "sha256": "0" * 64}],
            applicant={"full_name": name, "id_number": id_number, "phone": "0912345678"},
            form={"person_full_name": "Nguyễn Văn Bình", "person_birth_date": "2015-03-01"},
            submitted_at=at,
            lookup_secret_hash="x",
        ),
    )
    return code


def signed_in(app: Any, user_id: str) -> Any:
    """A test client of `app` with `user_id` signed in through the console's form."""
    client = app.test_client()
    with_password(app.extensions["db"], user_id)
    answer = sign_in(client, user_id)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client
