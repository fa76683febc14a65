"""Official letters: each form of the 2019 set rendered, read back, scanned and signed."""

from __future__ import annotations

import copy
import datetime as dt
import unicodedata
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader

from devstack.certificates import Unit, ensure_unit_certificates, signing_units
from eventkit.signing import SigningUnavailable, verify_result
from notify.letters import (
    LetterDataError,
    Template,
    UnknownTemplate,
    get_template,
    letter_reason,
    render_letter,
    render_letter_full,
    sign_letter,
    templates,
    verify_letter,
    versions,
)
from notify.letters.data import long_date

CODE = "000.00.26.H06-261203-0007"
LOOKUP_URL = f"https://dichvucong.luongtai.bacninh.gov.vn/tra-cuu/{CODE}"
# Given decomposed (NFD), as some keyboards and browsers send it: the letter must print it composed.
APPLICANT_NAME_NFD = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
APPLICANT_NAME = "Nguyễn Thị Hồng Nhung"

MC_UNIT = {
    "parent_name": "Ủy ban nhân dân huyện Lương Tài",
    "name": "Bộ phận Tiếp nhận và Trả kết quả huyện Lương Tài",
}
COMMON: dict[str, Any] = {
    "unit": MC_UNIT,
    "number": "125/BPTNTKQ",
    "place": "Lương Tài",
    "date": "2026-12-03",
    "lookup_url": LOOKUP_URL,
    "dossier_code": CODE,
}
APPLICANT = {
    "full_name": APPLICANT_NAME_NFD,
    "address": "Thôn Ngọc Quan, xã Lâm Thao, huyện Lương Tài, tỉnh Bắc Ninh",
    "phone": "0912345678",
    "email": "nhung.nguyen@example.vn",
}
PROCEDURE = "Cấp bản sao trích lục hộ tịch, bản sao giấy tờ hộ tịch đã đăng ký tại cơ quan đăng ký hộ tịch"


def samples() -> dict[str, dict[str, Any]]:
    return {
        "mau-01": {
            **COMMON,
            "copy": "2",
            "applicant": APPLICANT,
            "procedure_name": PROCEDURE,
            "documents": [
                {
                    "name": "Tờ khai cấp bản sao trích lục hộ tịch",
                    "originals": 1,
                    "certified_copies": 0,
                    "photocopies": 0,
                },
                {
                    "name": "Căn cước công dân của người yêu cầu",
                    "originals": 0,
                    "certified_copies": 1,
                    "photocopies": 1,
                },
            ],
            "sets": 1,
            "processing_time": "01 ngày làm việc",
            "received_at": "2026-12-03T09:32:00+07:00",
            "due_at": "2026-12-04T09:32:00+07:00",
            "delivery": {
                "method": "post",
                "address": "Thôn Ngọc Quan, xã Lâm Thao, huyện Lương Tài, tỉnh Bắc Ninh",
            },
            "register": {"book": "03/2026", "entry": 1207},
            "received_by_name": "Trần Văn Đức",
        },
        "mau-02": {
            **COMMON,
            "applicant": APPLICANT,
            "procedure_name": PROCEDURE,
            "missing": [
                {"document": "Giấy ủy quyền", "reason": "Chưa có chứng thực chữ ký của người ủy quyền"},
                {"document": "Căn cước công dân của người được ủy quyền"},
            ],
            "reason": "Người nộp hồ sơ không phải người yêu cầu cấp bản sao.",
            "procedure_url": "https://dichvucong.luongtai.bacninh.gov.vn/thu-tuc/2.000635",
            "guide": {"name": "Trần Văn Đức", "phone": "0222 3866 123 (máy lẻ 12)"},
        },
        "mau-03": {
            **COMMON,
            "applicant": {**APPLICANT, "email": None},
            "procedure_name": PROCEDURE,
            "reasons": [
                "Thủ tục không thuộc thẩm quyền giải quyết của Ủy ban nhân dân huyện Lương Tài.",
                "Việc hộ tịch đã được đăng ký tại Ủy ban nhân dân tỉnh Bắc Giang.",
            ],
            "contact": {"name": "Trần Văn Đức", "phone": "0222 3866 123"},
            "received_by_name": "Trần Văn Đức",
        },
        "mau-04": {
            **COMMON,
            "unit": {
                "parent_name": "Ủy ban nhân dân huyện Lương Tài",
                "name": "Phòng Tài nguyên và Môi trường huyện Lương Tài",
            },
            "number": "18/TNMT",
            "applicant": {"full_name": APPLICANT_NAME_NFD},
            "procedure_name": "Đăng ký biến động về sử dụng đất, tài sản gắn liền với đất",
            "received_at": "2026-11-02T14:05:00+07:00",
            "old_due_at": "2026-12-01T14:05:00+07:00",
            "new_due_at": "2026-12-10T16:00:00+07:00",
            "reason": "Cần xác minh thêm ranh giới thửa đất với hộ liền kề.",
            "signer": {"title": "TRƯỞNG PHÒNG", "name": "Lê Thị Thu Hà"},
        },
        "mau-05": {
            **{key: value for key, value in COMMON.items() if key != "number"},
            "receipt_number": "125/BPTNTKQ",
            "applicant": {"full_name": APPLICANT_NAME_NFD, "phone": "0912345678"},
            "procedure_name": "Đăng ký biến động về sử dụng đất, tài sản gắn liền với đất",
            "received_at": "2026-11-02T14:05:00+07:00",
            "due_at": "2026-12-10T16:00:00+07:00",
            "lead_body": "Phòng Tài nguyên và Môi trường huyện Lương Tài",
            "co_bodies": "Chi nhánh Văn phòng đăng ký đất đai huyện Lương Tài",
            "handovers": [
                {
                    "from": "Bộ phận Tiếp nhận và Trả kết quả",
                    "to": "Phòng Tài nguyên và Môi trường",
                    "at": "2026-11-02T15:10:00+07:00",
                    "giver": "Trần Văn Đức",
                    "receiver": "Phạm Minh Quân",
                    "result": "on_time",
                },
                {
                    "from": "Phòng Tài nguyên và Môi trường",
                    "to": "Bộ phận Tiếp nhận và Trả kết quả",
                    "at": "2026-12-09T10:20:00+07:00",
                    "giver": "Phạm Minh Quân",
                    "receiver": "Trần Văn Đức",
                    "result": "late",
                    "note": "Đã có Phiếu xin lỗi",
                },
            ],
        },
        "mau-06": {
            "unit": MC_UNIT,
            "place": "Lương Tài",
            "date": "2026-12-03",
            "lookup_url": "https://dichvucong.luongtai.bacninh.gov.vn/tra-cuu",
            "register": {"book": "03/2026", "period": "Từ ngày 01/12/2026 đến ngày 31/12/2026"},
            "entries": [
                {
                    "entry": 1207,
                    "code": CODE,
                    "procedure_name": PROCEDURE,
                    "sets": 1,
                    "applicant_name": APPLICANT_NAME_NFD,
                    "applicant_contact": "Xã Lâm Thao, 0912345678",
                    "lead_body": "Phòng Tư pháp",
                    "received_at": "2026-12-03T09:32:00+07:00",
                    "due_at": "2026-12-04T09:32:00+07:00",
                },
                {
                    "entry": 1208,
                    "code": "000.00.26.H06-261203-0008",
                    "procedure_name": "Đăng ký khai sinh",
                    "sets": 1,
                    "applicant_name": "Vũ Đình Khải",
                    "applicant_contact": "Thị trấn Thứa, 0987654321",
                    "lead_body": "Ủy ban nhân dân thị trấn Thứa",
                    "received_at": "2026-12-03T10:15:00+07:00",
                    "due_at": "2026-12-03T16:00:00+07:00",
                    "transferred_at": "2026-12-03T10:30:00+07:00",
                    "result_received_at": "2026-12-03T15:00:00+07:00",
                    "returned_at": "2026-12-03T15:40:00+07:00",
                    "note": "Đúng hạn",
                },
            ],
        },
    }


VERSION = "2019.1"
FORMS = ["mau-01", "mau-02", "mau-03", "mau-04", "mau-05", "mau-06"]
MM = 72 / 25.4
# Circular 01/2018/TT-VPCP: forms 01-05 print on A5, the register (06) on A4, here across.
PAGE_MM = dict.fromkeys(FORMS[:5], (148, 210)) | {"mau-06": (297, 210)}
ARTIFACTS = Path(__file__).resolve().parents[3] / ".local" / "artifacts" / "letters"
UNIT = Unit("264.MC", "Bộ phận Tiếp nhận và Trả kết quả huyện Lương Tài", "Bộ phận Một cửa huyện Lương Tài")
SIGNED_AT = dt.datetime(2026, 12, 3, 2, 40, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def signing_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development CA and the one-stop unit's certificate, made as the test platform makes them."""
    return ensure_unit_certificates(tmp_path_factory.mktemp("signing"), [UNIT])


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    return {form: render_letter_full(form, VERSION, data) for form, data in samples().items()}


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_2019_set_has_the_six_forms_of_the_circular() -> None:
    names = {form: get_template(form, VERSION).name for form in FORMS}

    assert names == {
        "mau-01": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "mau-02": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "mau-03": "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        "mau-04": "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "mau-05": "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        "mau-06": "SỔ THEO DÕI HỒ SƠ",
    }
    assert {key for key in templates() if key[1] == VERSION} == {(form, VERSION) for form in FORMS}
    assert versions("mau-01") == [VERSION]


@pytest.mark.parametrize("form", FORMS)
def test_every_form_renders_as_a_pdf_of_its_paper_size(form: str, rendered: dict[str, Any]) -> None:
    letter = rendered[form]
    reader = PdfReader(BytesIO(letter.pdf))
    width, height = PAGE_MM[form]

    assert letter.pdf.startswith(b"%PDF-")
    assert len(reader.pages) == letter.pages >= 1
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(width * MM, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(height * MM, abs=0.5)
    # The template and version used travel with the letter and inside the file.
    assert (letter.template_id, letter.version) == (form, VERSION)
    assert reader.metadata is not None and reader.metadata.subject.startswith(f"{form} {VERSION} ")


@pytest.mark.parametrize("form", FORMS)
def test_the_text_read_back_is_every_drawn_line_in_nfc(form: str, rendered: dict[str, Any]) -> None:
    letter = rendered[form]
    text = text_of(letter.pdf)

    missing = [line for line in letter.lines if line not in text]
    assert missing == []
    assert all(unicodedata.is_normalized("NFC", line) for line in letter.lines)
    # A value may wrap onto two lines (a name in a register column): compare across line breaks.
    drawn, read = " ".join(letter.lines), " ".join(text.split())
    for expected in (
        "ỦY BAN NHÂN DÂN HUYỆN LƯƠNG TÀI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Lương Tài, ngày 03 tháng 12 năm 2026",
        get_template(form, VERSION).name.split(" ")[0],
        APPLICANT_NAME,
    ):
        assert expected in drawn
        assert expected in read
    # The decomposed name given in the data is printed composed.
    assert APPLICANT_NAME_NFD not in text
    # The control slip (05) and the register (06) are internal: not numbered in the register.
    if form not in ("mau-05", "mau-06"):
        assert "Số: " + samples()[form]["number"] in letter.lines
    if form != "mau-06":
        assert f"Mã hồ sơ: {CODE}" in letter.lines
    else:
        assert CODE in text
        assert "Quyển số: 03/2026" in letter.lines
        # Each dossier's number in the book, as its receipt (Mẫu 01) printed it.
        assert ["1207", "1208"] == [line for line in letter.lines if line in ("1207", "1208")]


def test_the_receipt_prints_the_dossier_s_times_documents_and_copy(rendered: dict[str, Any]) -> None:
    lines = rendered["mau-01"].lines

    for expected in (
        "(Liên 2: Giao khách hàng)",
        "4. Thời gian nhận hồ sơ: 09 giờ 32 phút, ngày 03 tháng 12 năm 2026",
        "5. Thời gian trả kết quả giải quyết hồ sơ: 09 giờ 32 phút, ngày 04 tháng 12 năm 2026",
        "2. Số lượng hồ sơ: 1 (bộ)",
        "Tờ khai cấp bản sao trích lục hộ tịch",
        "Vào Sổ theo dõi hồ sơ, Quyển số: 03/2026, Số thứ tự: 1207",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "Trần Văn Đức",
    ):
        assert expected in lines


def test_an_absent_optional_field_leaves_out_its_line(rendered: dict[str, Any]) -> None:
    assert not any(line.startswith("Email:") for line in rendered["mau-03"].lines)
    assert "Email: nhung.nguyen@example.vn" in rendered["mau-02"].lines
    # The second missing document has no reason of its own: its cell stays empty.
    assert sum("Người nộp hồ sơ không phải" in line for line in rendered["mau-02"].lines) == 1
    assert "1. Thủ tục không thuộc thẩm quyền giải quyết của Ủy ban nhân dân huyện Lương Tài." in " ".join(
        rendered["mau-03"].lines
    )


@pytest.mark.parametrize("form", ["mau-01", "mau-02", "mau-03"])
def test_an_applicant_without_an_address_still_gets_the_slip(form: str) -> None:
    """Intake takes the address as optional (a walk-in citizen may leave it out): the slip is
    issued all the same, without its address line."""
    letter = render_letter_full(form, VERSION, _without(samples()[form], "applicant.address"))
    assert not any(line.startswith("Địa chỉ:") for line in letter.lines)
    name = unicodedata.normalize("NFC", samples()[form]["applicant"]["full_name"])
    assert name in " ".join(letter.lines)


@pytest.mark.parametrize("form", FORMS)
def test_the_qr_code_decodes_to_the_lookup_url(form: str, rendered: dict[str, Any]) -> None:
    document = pypdfium2.PdfDocument(rendered[form].pdf)
    image = document[0].render(scale=3).to_pil()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / f"{form}-{VERSION}.png")

    codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)

    assert [code.text for code in codes] == [samples()[form]["lookup_url"]]


def test_the_same_data_gives_the_same_file() -> None:
    data = samples()["mau-02"]

    assert render_letter("mau-02", VERSION, data) == render_letter("mau-02", VERSION, copy.deepcopy(data))


def test_a_long_register_continues_on_pages_that_repeat_the_table_header() -> None:
    data = samples()["mau-06"]
    entry = data["entries"][1]
    data["entries"] = [{**entry, "code": f"000.00.26.H06-261203-{n:04d}"} for n in range(1, 41)]

    letter = render_letter_full("mau-06", VERSION, data)
    pages = [page.extract_text() for page in PdfReader(BytesIO(letter.pdf)).pages]

    assert len(pages) == letter.pages > 1
    assert all("Tên thủ tục hành chính" in page for page in pages)
    assert "000.00.26.H06-261203-0040" in pages[-1] and "000.00.26.H06-261203-0040" not in pages[0]


def _without(data: dict[str, Any], path: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return data


@pytest.mark.parametrize(
    ("form", "path", "field"),
    [
        ("mau-01", "dossier_code", "dossier_code"),
        ("mau-01", "applicant.full_name", "applicant.full_name"),
        ("mau-01", "documents.1.name", "documents[1].name"),
        ("mau-01", "unit.parent_name", "unit.parent_name"),
        ("mau-02", "guide.phone", "guide.phone"),
        ("mau-03", "reasons", "reasons"),
        ("mau-04", "new_due_at", "new_due_at"),
        ("mau-05", "handovers.0.at", "handovers[0].at"),
        ("mau-06", "lookup_url", "lookup_url"),
    ],
)
def test_missing_data_is_an_error_naming_the_field(form: str, path: str, field: str) -> None:
    with pytest.raises(LetterDataError) as error:
        render_letter(form, VERSION, _without(samples()[form], path))

    assert error.value.field == field
    assert error.value.problem == "is missing"
    assert f"'{field}'" in str(error.value) and form in str(error.value)


@pytest.mark.parametrize(
    ("form", "change", "field", "problem"),
    [
        ("mau-01", {"received_at": "03/12/2026 09:32"}, "received_at", "ISO 8601"),
        ("mau-01", {"copy": "3"}, "copy", "one of: 1, 2"),
        ("mau-01", {"sets": 0}, "sets", "at least 1"),
        ("mau-01", {"lookup_url": "javascript:alert(1)"}, "lookup_url", "http(s) URL"),
        ("mau-03", {"reasons": []}, "reasons", "must not be empty"),
        ("mau-03", {"reasons": ["Hợp lệ", " "]}, "reasons[1]", "non-empty string"),
        ("mau-02", {"applicant": "Nguyễn Thị Hồng Nhung"}, "applicant.full_name", "is missing"),
    ],
)
def test_invalid_data_is_an_error_naming_the_field(
    form: str, change: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(LetterDataError) as error:
        render_letter(form, VERSION, {**samples()[form], **change})

    assert error.value.field == field
    assert problem in error.value.problem


def test_an_unknown_template_or_version_is_named() -> None:
    with pytest.raises(UnknownTemplate, match="'mau-01' version '2025.1'"):
        render_letter("mau-01", "2025.1", samples()["mau-01"])
    with pytest.raises(UnknownTemplate, match="'mau-07'"):
        render_letter("mau-07", VERSION, {})


def test_a_template_using_an_undeclared_field_is_refused_when_loaded() -> None:
    document = {
        "id": "mau-05",
        "version": "2025.1",
        "rule_set": "Thông tư 03/2025/TT-VPCP",
        "name": "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
        "page": "A5",
        "fields": {
            **{path: {"type": "text"} for path in ("unit.parent_name", "unit.name", "number", "place")},
            "date": {"type": "date"},
            "lookup_url": {"type": "url"},
            "dossier_code": {"type": "text"},
        },
        "body": [{"kind": "text", "text": "Mã hồ sơ: {dossier_code}, lý do: {stop_reason}"}],
    }

    with pytest.raises(ValueError, match=r"\{stop_reason\}"):
        Template.from_document(document)
    assert Template.from_document({**document, "fields": {**document["fields"], "stop_reason": {}}}).key == (
        "mau-05@2025.1"
    )
    table = {
        "kind": "table",
        "items": "rows",
        "columns": [{"title": "Mã", "width": 1, "value": "{dossier_code}"}],
    }
    rows = {"rows": {"type": "list", "items": {"at": {"type": "datetime"}}}}
    with pytest.raises(ValueError, match=r"\{dossier_code\}"):
        Template.from_document({**document, "fields": {**document["fields"], **rows}, "body": [table]})
    without_date = {path: spec for path, spec in document["fields"].items() if path != "date"}
    with pytest.raises(ValueError, match="the heading needs the field date"):
        Template.from_document({**document, "fields": {**without_date, "stop_reason": {}}})


def test_dates_are_written_as_official_documents_write_them() -> None:
    assert long_date(dt.date(2026, 12, 3)) == "ngày 03 tháng 12 năm 2026"
    assert long_date(dt.date(2027, 1, 9)) == "ngày 09 tháng 01 năm 2027"
    assert long_date(dt.date(2026, 5, 21)) == "ngày 21 tháng 5 năm 2026"


def test_a_signed_letter_verifies_against_the_test_ca(signing_certs: Path, rendered: dict[str, Any]) -> None:
    reason = letter_reason("mau-01", VERSION, CODE)
    signed = sign_letter(
        rendered["mau-01"].pdf,
        UNIT.code,
        signing_certs,
        reason=reason,
        location="Lương Tài, Bắc Ninh",
        signed_at=SIGNED_AT,
    )

    result = verify_letter(signed, signing_certs)

    assert (result.intact, result.valid, result.trusted, result.covers_whole_file) == (True, True, True, True)
    assert result.unit_code == UNIT.code and result.signer_name == UNIT.name
    assert result.signing_time == SIGNED_AT
    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    assert signature.sig_object["/Reason"] == f"Ký Giấy tiếp nhận hồ sơ và hẹn trả kết quả, hồ sơ {CODE}"
    assert signature.sig_object["/Location"] == "Lương Tài, Bắc Ninh"
    # The letter's pages are untouched by the signature (an incremental update).
    assert text_of(signed) == text_of(rendered["mau-01"].pdf)
    # A letter's signature is not a result's: processing's check finds no result signature in it.
    assert verify_result(signed, signing_certs).problem == "Tệp không có chữ ký số kết quả giải quyết."


def test_a_signed_letter_changed_by_one_byte_is_not_intact(
    signing_certs: Path, rendered: dict[str, Any]
) -> None:
    signed = sign_letter(rendered["mau-04"].pdf, UNIT.code, signing_certs, signed_at=SIGNED_AT)
    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    byte_range = signature.sig_object["/ByteRange"]
    start, length = int(byte_range[0]), int(byte_range[1])
    # A byte inside the first page's compressed content: the file still parses, its digest changes.
    offset = signed.index(b"stream", start) + 40
    assert start <= offset < start + length
    tampered = bytearray(signed)
    tampered[offset] ^= 0x01

    result = verify_letter(bytes(tampered), signing_certs)

    assert result.intact is False
    assert not result.ok


def test_a_unit_without_a_certificate_cannot_sign(signing_certs: Path, rendered: dict[str, Any]) -> None:
    with pytest.raises(SigningUnavailable, match="09499"):
        sign_letter(rendered["mau-03"].pdf, "09499", signing_certs)


def test_the_development_certificates_cover_the_units_that_send_letters() -> None:
    codes = {unit.code for unit in signing_units()}

    # The one-stop counter receives (Mẫu 01-03), the offices resolve (Mẫu 04), communes do both.
    assert {"264.MC", "264.TNMT", "09499"} <= codes
    assert "264" not in codes


NOTICES = {
    "tb-khong-giai-quyet": (
        "THÔNG BÁO VỀ VIỆC KHÔNG GIẢI QUYẾT HỒ SƠ",
        "Phòng Tư pháp huyện Lương Tài không giải quyết hồ sơ của ông/bà với lý do như sau:",
    ),
    "tb-dung-giai-quyet": (
        "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
        "Phòng Tư pháp huyện Lương Tài dừng giải quyết hồ sơ mã số",
    ),
}


@pytest.mark.parametrize("form", sorted(NOTICES))
def test_the_notices_of_a_dossier_not_resolved_or_stopped_print_the_reason_and_the_signer(form: str) -> None:
    title, decision = NOTICES[form]
    data = {
        **COMMON,
        "unit": {"parent_name": "Ủy ban nhân dân huyện Lương Tài", "name": "Phòng Tư pháp huyện Lương Tài"},
        "applicant": {"full_name": APPLICANT["full_name"], "address": APPLICANT["address"]},
        "procedure_name": PROCEDURE,
        "reason": "Giấy tờ chứng minh nơi cư trú không hợp lệ.",
        "counter": {"name": "Bộ phận Tiếp nhận và Trả kết quả huyện Lương Tài"},
        "contact": {"phone": "0222 3866 123"},
        "signer": {"title": "Lãnh đạo Phòng Tư pháp huyện Lương Tài", "name": "Phạm Xuân Nam"},
    }
    assert versions(form) == ["nd61.1"], "notify's own forms, outside the circular's 2019 set"
    letter = render_letter_full(form, "nd61.1", data)
    text = " ".join(text_of(letter.pdf).split())
    for expected in (title, decision, data["reason"], "Phạm Xuân Nam", f"Số: {COMMON['number']}"):
        assert expected in text, expected
    assert "Hồ sơ được trả lại cho ông/bà qua Bộ phận Tiếp nhận và Trả kết quả huyện Lương Tài." in text
    assert [line for line in letter.lines if line not in text_of(letter.pdf)] == []
    with pytest.raises(LetterDataError) as missing:
        render_letter_full(form, "nd61.1", {**data, "reason": ""})
    assert missing.value.field == "reason"
