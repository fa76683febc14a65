"""The control slip (Mẫu 05) and the tracking register (Mẫu 06) from processing-shaped events:
the rows each event leaves, and the forms printed from them, read back with pypdf."""

from __future__ import annotations

import unicodedata
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from pypdf import PdfReader

from eventkit.errors import InvalidData
from notify import letters
from notify.events import ConsumedTypes
from notify.service import control

CODE = "000.00.26.H06-261201-0007"
MC, TP = "264.MC", "264.TP"
NAMES = {
    MC: "Bộ phận Tiếp nhận và Trả kết quả huyện Lương Tài",
    TP: "Phòng Tư pháp huyện Lương Tài",
}
HEADING = {"parent_name": "Ủy ban nhân dân huyện Lương Tài", "name": NAMES[MC]}
PORTAL = "https://dichvucong.luongtai.example.vn"
MM = 72 / 25.4
ARTIFACTS = Path(__file__).resolve().parents[3] / ".local" / "artifacts" / "letters"


def event(kind: str, sequence: int, at: str, unit: str = MC, **data: Any) -> tuple[dict, dict]:
    """A processing dossier event as processing publishes it (docs/events.md)."""
    envelope = {
        "type": f"vn.motcua.processing.dossier.{kind}.v1",
        "subject": CODE,
        "sequence": sequence,
        "time": at,
    }
    payload = {
        "code": CODE,
        "unit": unit,
        "receiving_unit": MC,
        "procedure_code": "1.001193",
        "channel": "counter",
        "by": "u-1",
        "at": at,
        "sequence": sequence,
        **data,
    }
    return envelope, payload


DUE = "2026-12-04T09:30:00+07:00"
STEPS = [
    event(
        "accepted",
        1,
        "2026-12-01T09:30:00+07:00",
        state="accepted",
        by_name="Trần Văn Đức",
        received_by_name="Trần Văn Đức",
        received_at="2026-12-01T09:30:00+07:00",
        due_at=DUE,
    ),
    event(
        "transferred",
        2,
        "2026-12-01T10:00:00+07:00",
        unit=TP,
        state="accepted",
        by_name="Trần Văn Đức",
        from_unit=MC,
        to_unit=TP,
        note="",
        on_time=True,
    ),
    event(
        "assigned",
        3,
        "2026-12-01T14:00:00+07:00",
        unit=TP,
        state="in_progress",
        by_name="Lê Thị Thu Hà",
        assignee="cv-1",
        assignee_name="Phạm Minh Quân",
    ),
    event("approved", 4, "2026-12-04T08:10:00+07:00", unit=TP, state="approved", by_name="Lê Thị Thu Hà"),
    event(
        "returned",
        5,
        "2026-12-04T10:15:00+07:00",
        unit=TP,
        state="returned",
        by_name="Trần Văn Đức",
        method="post",
        resolved_at="2026-12-04T10:15:00+07:00",
        due_at=DUE,
        timeliness="late",
    ),
]


def dossier_after(steps: list[tuple[dict, dict]]) -> dict[str, Any]:
    dossier: dict[str, Any] = {
        "_id": CODE,
        "receiving_unit": MC,
        "unit": TP,
        "procedure_code": "1.001193",
        "procedure_name": "Đăng ký khai sinh",
        "applicant": {
            "full_name": unicodedata.normalize("NFD", "Nguyễn Thị Hoa"),
            "phone": "0912345678",
            "address": "Khu 1, thị trấn Thứa",
        },
        "received_at": "2026-12-01T09:30:00+07:00",
        "due_at": DUE,
        "control_slip": [],
    }
    for envelope, data in steps:
        row = control.slip_row(envelope, data, dossier)
        assert row is not None
        dossier["control_slip"].append(row)
    return dossier


def slip_pdf(dossier: dict[str, Any]) -> letters.Rendered:
    data = control.slip_data(
        dossier, HEADING, lambda code: NAMES.get(code, code), None, "12/GTN", PORTAL, "Lương Tài"
    )
    return letters.render_letter_full("mau-05", letters.DEFAULT_VERSION, data)


def lines_of(pdf: bytes) -> list[str]:
    return [
        line.strip() for page in PdfReader(BytesIO(pdf)).pages for line in page.extract_text().splitlines()
    ]


def test_each_hand_over_leaves_a_row_with_its_parties_officers_and_outcome() -> None:
    rows = dossier_after(STEPS)["control_slip"]

    assert [
        (r["key"], r["step"], r["from_unit"], r["to_unit"], r["giver"], r["receiver"], r["outcome"])
        for r in rows
    ] == [
        ("processing:1", "accepted", None, MC, "", "Trần Văn Đức", None),
        ("processing:2", "transferred", MC, TP, "Trần Văn Đức", "", "early"),
        ("processing:3", "assigned", TP, TP, "Lê Thị Thu Hà", "Phạm Minh Quân", "early"),
        ("processing:4", "approved", TP, MC, "Lê Thị Thu Hà", "", "on_time"),
        ("processing:5", "returned", MC, None, "Trần Văn Đức", "", "late"),
    ]
    assert rows[-1]["post"] is True
    assert rows[-1]["note"] == "Trả kết quả qua bưu chính công ích, ký nhận trên hóa đơn bưu chính"


def test_events_that_hand_nothing_over_leave_no_row() -> None:
    dossier = dossier_after([])
    for kind in ("due_soon", "overdue"):
        envelope, data = event(kind, 9, "2026-12-03T09:30:00+07:00", due_at=DUE)
        assert control.slip_row(envelope, data, dossier) is None
    submitted = {"type": ConsumedTypes.DOSSIER_SUBMITTED, "subject": CODE, "sequence": 1}
    assert control.slip_row(submitted, {"code": CODE}, dossier) is None


def test_an_extension_and_the_applicant_s_supplement_have_rows_of_their_own() -> None:
    dossier = dossier_after(STEPS[:3])
    extended = control.slip_row(
        *event(
            "extended",
            4,
            "2026-12-03T15:00:00+07:00",
            unit=TP,
            by_name="Lê Thị Thu Hà",
            old_due_at=DUE,
            new_due_at="2026-12-08T16:00:00+07:00",
            reason="Cần xác minh",
        ),
        dossier,
    )
    supplemented = control.slip_row(
        {"type": ConsumedTypes.DOSSIER_SUPPLEMENTED, "subject": CODE, "sequence": 2, "time": None},
        {"code": CODE, "by": "citizen", "supplemented_at": "2026-12-02T08:00:00+07:00"},
        dossier,
    )

    assert extended is not None and supplemented is not None
    assert (extended["note"], extended["from_unit"], extended["to_unit"]) == (
        "Xin lỗi, hẹn lại ngày trả: 16:00 08/12/2026",
        TP,
        None,
    )
    assert (supplemented["key"], supplemented["from_unit"], supplemented["to_unit"]) == (
        "intake:2",
        None,
        MC,
    )
    # Rows print in the order things happened, whichever source and arrival order.
    rows = control.ordered([extended, supplemented, *dossier["control_slip"]])
    assert [r["step"] for r in rows] == ["accepted", "transferred", "assigned", "supplemented", "extended"]


def test_the_control_slip_prints_every_field_of_the_form_on_a5() -> None:
    rendered = slip_pdf(dossier_after(STEPS))
    reader = PdfReader(BytesIO(rendered.pdf))
    lines = lines_of(rendered.pdf)

    assert len(reader.pages) == rendered.pages
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(148 * MM, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(210 * MM, abs=0.5)
    assert all(unicodedata.is_normalized("NFC", line) for line in lines)
    assert lines[:6] == [
        "ỦY BAN NHÂN DÂN HUYỆN LƯƠNG TÀI",
        "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ",
        "HUYỆN LƯƠNG TÀI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Lương Tài, ngày 01 tháng 12 năm 2026",
    ]
    body = lines[lines.index(f"Mã hồ sơ: {CODE}") :]
    assert body[body.index("Kèm theo hồ sơ của: Nguyễn Thị Hoa") :][:6] == [
        "Kèm theo hồ sơ của: Nguyễn Thị Hoa",
        "Số điện thoại: 0912345678",
        "Nội dung yêu cầu giải quyết: Đăng ký khai sinh",
        "Ngày nhận hồ sơ: 09 giờ 30 phút, ngày 01 tháng 12 năm 2026",
        "Ngày hẹn trả kết quả: 09 giờ 30 phút, ngày 04 tháng 12 năm 2026",
        "Cơ quan (bộ phận) giải quyết hồ sơ: Phòng Tư pháp huyện Lương Tài",
    ]
    # Not numbered in the outgoing register: no "Số:" line; linked to its receipt instead.
    assert not any(line.startswith("Số:") for line in lines)
    assert "(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả số: 12/GTN)" in " ".join(rendered.lines)
    drawn = list(rendered.lines)
    # Each row: the units, the time and the officers, the outcome, the step.
    for expected in (
        "09:30 ngày 01/12/2026",
        "Người giao: Nguyễn Thị Hoa",
        "Người nhận: Trần Văn Đức",
        "Tiếp nhận hồ sơ",
        "10:00 ngày 01/12/2026",
        "Người giao: Lê Thị Thu Hà",
        "Người nhận: Phạm Minh Quân",
        "Phân công xử lý",
        "Đúng hạn",
        "Quá hạn",
        "Ghi chú: Trường hợp hồ sơ được chuyển qua dịch vụ bưu chính thì thời gian giao, "
        "nhận hồ sơ và việc ký",
    ):
        assert expected in drawn and expected in lines
    assert drawn.count("Trước hạn") == 2  # the transfer and the assignment
    text = " ".join(lines)
    assert "1. Giao: Phòng Tư pháp huyện Lương Tài 2. Nhận: Phòng Tư pháp huyện Lương Tài" in text
    assert "2. Nhận: Nguyễn Thị Hoa" in lines
    assert unicodedata.normalize("NFD", "Nguyễn Thị Hoa") not in text

    image = pypdfium2.PdfDocument(rendered.pdf)[0].render(scale=3).to_pil()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / "mau-05-control-slip.png")


def test_the_register_prints_one_row_per_dossier_on_a4_across() -> None:
    first = dossier_after(STEPS)
    second = {
        **dossier_after(STEPS[:1]),
        "_id": "000.00.26.H06-261201-0008",
        "applicant": {"full_name": "Vũ Đình Khải"},
    }
    names = lambda code: NAMES.get(code, code)  # noqa: E731
    entries = [control.register_entry(first, names, None, 17), control.register_entry(second, names, None)]
    data = {
        "unit": HEADING,
        "place": "Lương Tài",
        "date": "2026-12-31",
        "lookup_url": f"{PORTAL}/tra-cuu-ho-so",
        "register": {
            "book": control.book_of(*(control.period("2026-12-01", "2026-12-31"))),
            "period": control.period_text(*control.period("2026-12-01", "2026-12-31")),
        },
        "entries": entries,
    }
    rendered = letters.render_letter_full("mau-06", letters.DEFAULT_VERSION, data)
    page = PdfReader(BytesIO(rendered.pdf)).pages[0]
    lines = lines_of(rendered.pdf)

    assert float(page.mediabox.width) == pytest.approx(297 * MM, abs=0.5)
    assert float(page.mediabox.height) == pytest.approx(210 * MM, abs=0.5)
    assert entries[0] == {
        "entry": 17,
        "code": CODE,
        "procedure_name": "Đăng ký khai sinh",
        "sets": 1,
        "applicant_name": unicodedata.normalize("NFD", "Nguyễn Thị Hoa"),  # the form prints it NFC
        "applicant_contact": "Khu 1, thị trấn Thứa, 0912345678",
        "lead_body": "Phòng Tư pháp huyện Lương Tài",
        "received_at": "2026-12-01T09:30:00+07:00",
        "due_at": DUE,
        "transferred_at": "2026-12-01T10:00:00+07:00",
        "result_received_at": "2026-12-04T08:10:00+07:00",  # approved: back at the one-stop unit
        "returned_at": "2026-12-04T10:15:00+07:00",
        "note": "Quá hạn; Trả qua bưu chính",
    }
    # No phone and no address in the copy: the column stays empty.
    assert "applicant_contact" not in entries[1] and "returned_at" not in entries[1]
    for expected in (
        "SỔ THEO DÕI HỒ SƠ",
        "Quyển số: 01/2026",
        "Từ ngày 01/12/2026 đến ngày 31/12/2026",
        "Lương Tài, ngày 31 tháng 12 năm 2026",
        "Vũ Đình Khải",
    ):
        assert expected in lines
    text = " ".join(lines)
    assert f"17 {CODE}" in text, "its number in the book, as its receipt printed it"
    assert "000.00.26.H06-261201-0008" in text
    assert text.index(CODE) < text.index("000.00.26.H06-261201-0008")

    image = pypdfium2.PdfDocument(rendered.pdf)[0].render(scale=2).to_pil()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / "mau-06-register.png")


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("2026-13-01", "2026-12-31", "from", "Ngày không hợp lệ (dạng YYYY-MM-DD)."),
        ("2026-12-01", "31/12/2026", "to", "Ngày không hợp lệ (dạng YYYY-MM-DD)."),
        ("2026-12-31", "2026-12-01", "to", "Ngày kết thúc (to) phải từ ngày bắt đầu (from) trở đi."),
        (
            "2025-01-01",
            "2026-01-02",
            "from",
            "Khoảng thời gian từ ngày bắt đầu (from) đến ngày kết thúc (to) tối đa 366 ngày.",
        ),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(first: str, last: str, field: str, message: str) -> None:
    with pytest.raises(InvalidData) as refused:
        control.period(first, last)
    assert refused.value.location == "query"
    assert refused.value.errors[field] == [message]


def test_a_leap_year_fits_the_longest_period() -> None:
    assert control.period("2028-01-01", "2028-12-31") == (
        control.date(2028, 1, 1),
        control.date(2028, 12, 31),
    )
