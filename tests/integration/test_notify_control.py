"""The control slip (Mẫu 05) and the tracking register (Mẫu 06) on the real store: processing's
dossier events through notify's own handlers leave one row per hand-over, once, whatever the
order they arrive in; the API prints both forms for the staff of the unit."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from eventkit.auth import Staff
from eventkit.blobs import open_blob_store
from eventkit.topics import Groups
from notify import create_app, store
from notify.config import load_config
from notify.handlers import build_handlers
from notify.service import control
from notify.service import letters as letter_service
from notify.service.slips import SlipSettings
from notify.templates import Renderer
from processing.importer import SEED_DIR
from tests.integration.notify_tools import OFFICE, UNIT, new_address, new_code, processing_event, submitted
from tests.integration.test_store_indexes import BETWEEN, EQUAL, explain

pytestmark = pytest.mark.integration

PORTAL = "https://dichvucong.luongtai.example.vn"
DUE = "2026-12-04T09:30:00+07:00"
MM = 72 / 25.4


def load_catalogue(db) -> None:
    """Notify's copy of the shipped units and procedures, as their topics leave it."""
    catalogue = build_handlers(db)[Groups.NOTIFY_CATALOGUE]
    for kind in ("units", "procedures"):
        handler = catalogue[f"vn.motcua.processing.{kind[:-1]}.published.v1"]
        for item in json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8")):
            handler.handle({"type": "", "subject": item["code"]}, handler.schema.load({**item, "version": 1}))


@pytest.fixture
def db(mongo_db):
    store.ensure_indexes(mongo_db)
    load_catalogue(mongo_db)
    return mongo_db


def deliver(db, event: dict[str, Any]) -> None:
    """Through the consumer group's own handler, as the worker would."""
    group = (
        Groups.NOTIFY_INTAKE_DOSSIERS if ".intake." in event["type"] else Groups.NOTIFY_PROCESSING_DOSSIERS
    )
    handler = build_handlers(db, Renderer(PORTAL))[group][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


def accepted(code: str, received_at: str, due_at: str = DUE) -> dict[str, Any]:
    return processing_event(
        "accepted",
        code,
        1,
        "accepted",
        at=received_at,
        by="tn-1",
        by_name="Trần Văn Đức",
        received_at=received_at,
        due_at=due_at,
        procedure_name="Thủ tục đăng ký lại khai sinh",
        applicant={
            "full_name": "Nguyễn Thị Hoa",
            "phone": "0912345678",
            "email": new_address(),
            "address": "Khu 1, thị trấn Thứa, huyện Lương Tài",
        },
        delivery={"method": "post", "address": "Khu 1, thị trấn Thứa, huyện Lương Tài"},
        documents=[],
        received_by="tn-1",
        received_by_name="Trần Văn Đức",
    )


def journey(code: str) -> list[dict[str, Any]]:
    """A dossier's way, as processing publishes it: accepted at the counter of UNIT, sent to
    OFFICE, assigned, approved, its result issued, returned by post late."""
    return [
        accepted(code, "2026-12-01T09:30:00+07:00"),
        processing_event(
            "transferred",
            code,
            2,
            "accepted",
            unit=OFFICE,
            at="2026-12-01T10:00:00+07:00",
            by_name="Trần Văn Đức",
            from_unit=UNIT,
            to_unit=OFFICE,
            note="",
            on_time=True,
        ),
        processing_event(
            "assigned",
            code,
            3,
            "in_progress",
            unit=OFFICE,
            at="2026-12-01T14:00:00+07:00",
            by_name="Lê Thị Thu Hà",
            assignee="cv-1",
            assignee_name="Phạm Minh Quân",
        ),
        processing_event(
            "approved",
            code,
            4,
            "approved",
            unit=OFFICE,
            at="2026-12-04T08:10:00+07:00",
            by_name="Lê Thị Thu Hà",
            note="",
        ),
        processing_event(
            "result_issued",
            code,
            5,
            "result_ready",
            unit=OFFICE,
            at="2026-12-04T08:40:00+07:00",
            by_name="Lê Thị Thu Hà",
            result={
                "file_id": "f-1",
                "sha256": "0" * 64,
                "size": 1,
                "signed": True,
                "signed_by_unit": OFFICE,
            },
        ),
        processing_event(
            "returned",
            code,
            6,
            "returned",
            unit=OFFICE,
            at="2026-12-04T10:15:00+07:00",
            by_name="Trần Văn Đức",
            method="post",
            resolved_at="2026-12-04T10:15:00+07:00",
            due_at=DUE,
            timeliness="late",
        ),
    ]


def copy_of(db, code: str) -> dict[str, Any]:
    return db.dossiers.find_one({"_id": code})


def test_each_event_leaves_its_row_once_whatever_the_order(db):
    code = new_code()
    deliver(db, submitted(code, new_address()))
    events = journey(code)
    # The assignment is overtaken (a retry that came back after the newer events).
    for event in (events[0], events[1], events[3], events[4], events[5]):
        deliver(db, event)
    before_late = copy_of(db, code)
    deliver(db, events[2])
    after_late = copy_of(db, code)

    # The late event moved nothing back ...
    for field in ("state", "unit", "due_at", "processing_sequence", "received_time"):
        assert after_late[field] == before_late[field], field
    assert (after_late["state"], after_late["unit"], after_late["processing_sequence"]) == (
        "returned",
        OFFICE,
        6,
    )
    # ... but the hand-over it stands for is on the slip, in its place.
    rows = control.ordered(after_late["control_slip"])
    assert [(r["key"], r["step"], r["from_unit"], r["to_unit"], r["outcome"]) for r in rows] == [
        ("processing:1", "accepted", None, UNIT, None),
        ("processing:2", "transferred", UNIT, OFFICE, "early"),
        ("processing:3", "assigned", OFFICE, OFFICE, "early"),
        ("processing:4", "approved", OFFICE, UNIT, "on_time"),
        ("processing:5", "result_issued", OFFICE, UNIT, "on_time"),
        ("processing:6", "returned", UNIT, None, "late"),
    ]
    assert [(r["giver"], r["receiver"]) for r in rows[:3]] == [
        ("", "Trần Văn Đức"),
        ("Trần Văn Đức", ""),
        ("Lê Thị Thu Hà", "Phạm Minh Quân"),
    ]
    assert after_late["received_time"] == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert after_late["applicant"]["phone"] == "0912345678"

    # Delivered again, in order or not, nothing changes.
    for event in (events[5], events[2], events[0], events[1]):
        deliver(db, event)
    assert copy_of(db, code) == after_late


def test_the_control_slip_prints_the_rows_with_the_catalogue_s_names(db, tmp_path, signing_certs):
    code = new_code()
    deliver(db, submitted(code, new_address()))
    for event in journey(code):
        deliver(db, event)
    # The sender's duty issues the receipt (Mẫu 01) the acceptance recorded: the slip names it.
    blobs = open_blob_store((tmp_path / "blobs").as_uri())
    letter_service.issue_pending(db, blobs, str(signing_certs), datetime.now(UTC))
    staff = Staff(user_id="u-1", name="Cán bộ", roles=frozenset({"receptionist"}), units=frozenset({UNIT}))

    pdf = control.control_slip(db, code, staff, SlipSettings(portal_url=PORTAL))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    lines = [line.strip() for line in text.splitlines()]
    flat = " ".join(lines)

    assert "ỦY BAN NHÂN DÂN HUYỆN LƯƠNG TÀI" in lines and "ỦY BAN NHÂN DÂN THỊ TRẤN THỨA" in lines
    assert f"Mã hồ sơ: {code}" in lines
    assert "(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả số: 1/GTN)" in flat
    assert "Kèm theo hồ sơ của: Nguyễn Thị Hoa" in lines
    assert "Số điện thoại: 0912345678" in lines
    assert "Nội dung yêu cầu giải quyết: Thủ tục đăng ký lại khai sinh" in lines
    assert "Cơ quan (bộ phận) giải quyết hồ sơ: Phòng Tư pháp huyện Lương Tài" in lines
    assert "1. Giao: Ủy ban nhân dân thị trấn Thứa 2. Nhận: Phòng Tư pháp huyện Lương Tài" in flat
    for expected in (
        "Người nhận: Phạm Minh Quân",
        "10:15 ngày 04/12/2026",
        "Quá hạn",
        "Đúng hạn",
    ):
        assert expected in lines, expected
    assert "Ban hành kết quả" in flat
    assert not any(line.startswith("Số:") for line in lines), "not numbered in the outgoing register"


@pytest.fixture
def app(service_environ):
    app = create_app(load_config(environ=service_environ))
    db = app.extensions["db"]
    store.ensure_indexes(db)
    load_catalogue(db)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def received(db, received_at: str, unit: str = UNIT) -> str:
    code = new_code()
    event = accepted(code, received_at)
    event["data"]["receiving_unit"] = event["data"]["unit"] = unit
    deliver(db, event)
    return code


def test_the_register_lists_the_dossiers_received_in_the_period_in_order(client, app, staff_headers):
    db = app.extensions["db"]
    late_evening = received(db, "2026-12-02T23:59:00+07:00")
    morning = received(db, "2026-12-01T00:00:00+07:00")
    received(db, "2026-11-30T23:59:00+07:00")  # before the period
    received(db, "2026-12-03T00:00:00+07:00")  # after it
    received(db, "2026-12-01T10:00:00+07:00", unit="09499")  # another unit's
    journeyed = new_code()
    deliver(db, submitted(journeyed, new_address()))
    for event in journey(journeyed):
        deliver(db, event)

    answer = client.get(
        "/api/v1/register.pdf",
        query_string={"unit": UNIT, "from": "2026-12-01", "to": "2026-12-02"},
        headers=staff_headers("receptionist", UNIT),
    )

    assert answer.status_code == 200, answer.json
    assert answer.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.data))
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(297 * MM, abs=0.5)
    assert float(page.mediabox.height) == pytest.approx(210 * MM, abs=0.5)
    flat = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "SỔ THEO DÕI HỒ SƠ" in flat and "Từ ngày 01/12/2026 đến ngày 02/12/2026" in flat
    positions = [flat.find(code) for code in (morning, journeyed, late_evening)]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), "in the order received"
    assert flat.count("000.21.26.H06-") == 3, "nothing outside the period or of another unit"
    # STT: each dossier's number in the unit's book, given in the order the receipts were made.
    for number, code in ((2, morning), (5, journeyed), (1, late_evening)):
        assert f"{number} {code}" in flat, (number, code)
    assert "Phòng Tư pháp huyện Lương Tài" in flat and "Quá hạn; Trả qua bưu chính" in flat


def test_the_register_s_query_seeks_its_index(app):
    db = app.extensions["db"]
    for day in range(1, 9):
        received(db, f"2026-12-0{day}T09:00:00+07:00")
    since, until = datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)
    filter = store.received_filter(UNIT, since, until)
    assert db.dossiers.count_documents(filter) == 3
    planner = explain(db, "dossiers", filter, None)["queryPlanner"]
    if "Plan" not in planner:  # MongoDB
        assert "receiving_unit_received_time" in repr(planner["winningPlan"])
        return
    reads = [line.split("detail=", 1)[1] for line in planner["Plan"] if "detail=S" in line]
    assert reads and all(read.startswith("SEARCH ") for read in reads), reads
    assert any(f"_receiving_unit_received_time ({EQUAL} AND {BETWEEN})" in read for read in reads), reads


def test_too_many_dossiers_for_one_print_is_a_422_naming_the_period(client, app, staff_headers, monkeypatch):
    db = app.extensions["db"]
    for hour in (8, 9, 10):
        received(db, f"2026-12-01T{hour:02d}:00:00+07:00")
    monkeypatch.setattr(control, "MAX_REGISTER_ROWS", 2)

    answer = client.get(
        "/api/v1/register.pdf",
        query_string={"unit": UNIT, "from": "2026-12-01", "to": "2026-12-01"},
        headers=staff_headers("receptionist", UNIT),
    )

    assert answer.status_code == 422
    errors = answer.json["errors"]["query"]
    assert set(errors) == {"from", "to"} and "hơn 2 hồ sơ" in errors["from"][0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-12-40", "to": "2026-12-31"}, "from"),
        ({"from": "2026-12-01", "to": "ngày mai"}, "to"),
        ({"from": "2026-12-31", "to": "2026-12-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "from"),
        ({"to": "2026-12-31"}, "from"),
    ],
)
def test_a_bad_period_is_a_422_naming_the_field(client, staff_headers, query, field):
    answer = client.get(
        "/api/v1/register.pdf", query_string={"unit": UNIT, **query}, headers=staff_headers("leader", UNIT)
    )
    assert answer.status_code == 422
    assert field in answer.json["errors"]["query"]
    assert answer.json["errors"]["query"][field][0]


def test_the_forms_are_for_the_staff_of_the_unit(client, app, staff_headers):
    db = app.extensions["db"]
    code = new_code()
    deliver(db, submitted(code, new_address()))
    for event in journey(code):
        deliver(db, event)
    slip = f"/api/v1/dossiers/{code}/control-slip.pdf"
    register = ("/api/v1/register.pdf", {"unit": UNIT, "from": "2026-12-01", "to": "2026-12-31"})

    assert client.get(slip).status_code == 401
    assert client.get(register[0], query_string=register[1]).status_code == 401
    foreign = staff_headers("leader", "09499")
    answer = client.get(slip, headers=foreign)
    assert (
        answer.status_code == 403
        and answer.json["message"] == "Tài khoản không thuộc đơn vị xử lý hồ sơ này."
    )
    assert client.get(register[0], query_string=register[1], headers=foreign).status_code == 403
    # The office handling the dossier and the unit that received it both print its slip.
    for unit in (OFFICE, UNIT):
        answer = client.get(slip, headers=staff_headers("specialist", unit))
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/pdf"
        page = PdfReader(io.BytesIO(answer.data)).pages[0]
        assert float(page.mediabox.width) == pytest.approx(148 * MM, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(210 * MM, abs=0.5)
    # The register is the receiving unit's book, not the office's.
    assert (
        client.get(register[0], query_string=register[1], headers=staff_headers("leader", OFFICE)).status_code
        == 403
    )


def test_an_unknown_dossier_is_404_and_one_not_received_yet_409(client, app, staff_headers):
    answer = client.get(
        f"/api/v1/dossiers/{new_code()}/control-slip.pdf", headers=staff_headers("leader", UNIT)
    )
    assert answer.status_code == 404
    assert answer.json["code"] and answer.json["message"].startswith("Không tìm thấy hồ sơ")
    waiting = new_code()
    deliver(app.extensions["db"], submitted(waiting, new_address()))
    answer = client.get(f"/api/v1/dossiers/{waiting}/control-slip.pdf", headers=staff_headers("leader", UNIT))
    assert answer.status_code == 409 and "chưa được tiếp nhận" in answer.json["message"]
