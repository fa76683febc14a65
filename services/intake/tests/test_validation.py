"""Filing rules that need the procedure definition or domain knowledge (intake.validation)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from intake.validation import (
    PROVINCE_CODES,
    check_applicant,
    check_cccd,
    check_documents,
    check_email,
    check_form,
    check_phone,
    merge_errors,
    normalise_phone,
)

TODAY = date(2024, 6, 15)

# -- CCCD ---------------------------------------------------------------------------------------


def test_province_codes_are_the_63_official_ones() -> None:
    assert len(PROVINCE_CODES) == 63
    assert {"001", "079", "096"} <= PROVINCE_CODES
    assert not {"000", "003", "097"} & PROVINCE_CODES


@pytest.mark.parametrize(
    ("number", "birth"),
    [
        ("001099012345", date(1999, 3, 1)),  # Hà Nội, man born 1999
        ("001199012345", date(1999, 3, 1)),  # woman born 1999
        ("027205000123", date(2005, 12, 31)),  # Bắc Ninh, man born 2005
        ("079300000001", date(2000, 1, 1)),  # Hồ Chí Minh city, woman born 2000
        ("096890123456", date(1890, 5, 5)),  # man born 1890
        ("001900123456", date(1800, 1, 1)),  # woman born 1800
        ("001299012345", None),  # without a birth date only the form is checked (2099)
        ("095400012345", None),
    ],
)
def test_valid_cccd(number: str, birth: date | None) -> None:
    assert check_cccd(number, birth) is None


@pytest.mark.parametrize(
    ("number", "birth", "expected"),
    [
        ("00109901234", None, "đúng 12 chữ số"),  # 11 digits
        ("0010990123456", None, "đúng 12 chữ số"),  # 13 digits
        ("00109901234A", None, "đúng 12 chữ số"),
        ("001 99012345", None, "đúng 12 chữ số"),
        ("", None, "đúng 12 chữ số"),
        ("００１０９９０１２３４５", None, "đúng 12 chữ số"),  # full-width digits
        ("000099012345", None, "Mã tỉnh"),
        ("097099012345", None, "không hợp lệ: 097"),
        ("003099012345", None, "không hợp lệ: 003"),
        ("001299012345", date(1999, 3, 1), "chữ số thứ 4 phải là 0 (nam) hoặc 1 (nữ)"),  # 2099 != 1999
        ("001098012345", date(1999, 3, 1), "chữ số thứ 5–6 phải là 99"),
        ("001099012345", date(2099, 3, 1), "phải là 2 (nam) hoặc 3 (nữ)"),
        ("001099012345", date(1799, 3, 1), "ngoài phạm vi"),
    ],
)
def test_invalid_cccd(number: str, birth: date | None, expected: str) -> None:
    message = check_cccd(number, birth)
    assert message is not None
    assert expected in message


def test_cccd_rejects_non_strings() -> None:
    assert check_cccd(1099012345, None) == "Số CCCD phải gồm đúng 12 chữ số."  # type: ignore[arg-type]


# -- phone and email ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "national"),
    [
        ("0912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("+84-912.345.678", "0912345678"),
        ("0382.123.456", "0382123456"),
        ("056 123 4567", "0561234567"),
        ("0701234567", "0701234567"),
        ("0862-123-456", "0862123456"),
        ("0222 3 123456", "02223123456"),  # Bắc Ninh landline
        ("+84 24 3825 1234", "02438251234"),  # Hà Nội landline
    ],
)
def test_valid_phone(phone: str, national: str) -> None:
    assert check_phone(phone) is None
    assert normalise_phone(phone) == national


@pytest.mark.parametrize(
    "phone",
    [
        "0123456789",  # 01x prefixes were retired in 2018
        "091234567",  # 9 digits
        "09123456789",  # mobile with 11 digits
        "12345",
        "0412345678",
        "0612345678",
        "0222312345",  # landline with 10 digits
        "+1 912 345 678",
        "0912 345 67a",
        "(091) 2345678",
        "+840912345678",
        "",
    ],
)
def test_invalid_phone(phone: str) -> None:
    assert check_phone(phone) == "Số điện thoại không hợp lệ (ví dụ 0912345678)."


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("nguyen.van.a@gmail.com", True),
        ("tran_thi-b+motcua@luongtai.bacninh.gov.vn", True),
        ("a@b.co", True),
        ("user@xn--vn-example.xn--p1ai", True),
        ("plainaddress", False),
        ("khong co@gmail.com", False),
        ("a@gmail", False),
        ("a@@gmail.com", False),
        (".a@gmail.com", False),
        ("a..b@gmail.com", False),
        ("a@-gmail.com", False),
        ("a@gmail.c", False),
        ("a@gmail.com ", False),
        ("nguyễn@gmail.com", False),
        ("a" * 65 + "@gmail.com", False),
        ("a@" + "b" * 62 + "." + "c" * 62 + "." + "d" * 62 + "." + "e" * 62 + ".com", False),  # > 254
    ],
)
def test_email(email: str, valid: bool) -> None:
    assert (check_email(email) is None) is valid


# -- applicant ----------------------------------------------------------------------------------

APPLICANT: dict[str, Any] = {
    "full_name": "Nguyễn Thị Ánh Tuyết",
    "id_number": "027190001234",
    "date_of_birth": "1990-04-30",
    "phone": "0912 345 678",
    "email": "tuyet@example.com",
    "address": "Thôn Phú Thọ, xã Phú Lương, huyện Lương Tài, tỉnh Bắc Ninh",
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"email": None},
        {"email": ""},
        {"address": None},
        {"date_of_birth": date(1990, 4, 30)},
        {"full_name": "H'Hen Niê"},
        {"full_name": "Lê Thị-Hồng"},
        {"full_name": "Nguye\u0302\u0303n Văn A"},  # decomposed diacritics (NFD)
        {"phone": "+84 222 3 123 456"},
    ],
)
def test_valid_applicant(change: dict[str, Any]) -> None:
    applicant = {**APPLICANT, **change}
    for key, value in change.items():
        if value is None:
            del applicant[key]
    assert check_applicant(applicant, TODAY) == {}
    applicant.update(change)  # null counts as absent
    assert check_applicant(applicant, TODAY) == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"full_name": ""}, {"full_name": ["Thiếu họ và tên."]}),
        ({"full_name": "A"}, {"full_name": ["Họ và tên phải dài từ 2 đến 100 ký tự."]}),
        ({"full_name": "Nguyễn " * 20}, {"full_name": ["Họ và tên phải dài từ 2 đến 100 ký tự."]}),
        ({"full_name": "Nguyễn Văn 2"}, {"full_name": ["Họ và tên không được chứa chữ số."]}),
        (
            {"full_name": "Nguyễn@Văn"},
            {"full_name": ["Họ và tên chỉ gồm chữ cái, dấu cách, dấu nháy đơn (') và dấu gạch ngang (-)."]},
        ),
        ({"full_name": "- '"}, {"full_name": ["Họ và tên phải có chữ cái."]}),
        ({"date_of_birth": "2024-06-16"}, {"date_of_birth": ["Ngày sinh không được sau ngày hôm nay."]}),
        ({"date_of_birth": "1899-12-31"}, {"date_of_birth": ["Ngày sinh không được trước năm 1900."]}),
        (
            {"date_of_birth": "1990-02-30"},
            {"date_of_birth": ["Ngày sinh không hợp lệ (định dạng YYYY-MM-DD)."]},
        ),
        ({"date_of_birth": None}, {"date_of_birth": ["Thiếu ngày sinh."]}),
        ({"id_number": ""}, {"id_number": ["Thiếu số CCCD."]}),
        ({"id_number": "02719900123"}, {"id_number": ["Số CCCD phải gồm đúng 12 chữ số."]}),
        ({"phone": None}, {"phone": ["Thiếu số điện thoại."]}),
        ({"phone": "0123456789"}, {"phone": ["Số điện thoại không hợp lệ (ví dụ 0912345678)."]}),
        ({"email": "tuyet@"}, {"email": ["Địa chỉ email không hợp lệ (ví dụ ten@example.com)."]}),
        ({"address": "x" * 301}, {"address": ["Địa chỉ không được dài quá 300 ký tự."]}),
    ],
)
def test_invalid_applicant(change: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert check_applicant({**APPLICANT, **change}, TODAY) == expected


def test_applicant_id_number_must_match_birth_year() -> None:
    errors = check_applicant({**APPLICANT, "date_of_birth": "1991-04-30"}, TODAY)
    assert list(errors) == ["id_number"]
    assert "không khớp với năm sinh 1991" in errors["id_number"][0]


def test_applicant_future_birth_is_not_matched_against_the_id_number() -> None:
    errors = check_applicant({**APPLICANT, "date_of_birth": "2090-01-01"}, TODAY)
    assert errors == {"date_of_birth": ["Ngày sinh không được sau ngày hôm nay."]}


def test_applicant_collects_every_error() -> None:
    errors = check_applicant(
        {"full_name": "X1", "id_number": "097099012345", "date_of_birth": "2030-01-01", "phone": "12345"},
        TODAY,
    )
    assert set(errors) == {"full_name", "id_number", "date_of_birth", "phone"}


# -- form ---------------------------------------------------------------------------------------

FORM_FIELDS: list[dict[str, Any]] = [
    {"name": "child_full_name", "label": "Họ, chữ đệm và tên của trẻ", "type": "text", "required": True},
    {"name": "child_birth_date", "label": "Ngày, tháng, năm sinh", "type": "date", "required": True},
    {"name": "child_sex", "label": "Giới tính", "type": "choice", "choices": ["Nam", "Nữ"], "required": True},
    {"name": "area_m2", "label": "Diện tích (m²)", "type": "number", "required": False},
    {"name": "mother_cccd", "label": "Số định danh cá nhân của người mẹ", "type": "cccd", "required": False},
]

FORM: dict[str, Any] = {
    "child_full_name": "Nguyễn Minh Khôi",
    "child_birth_date": "2024-06-01",
    "child_sex": "Nam",
    "area_m2": 120.5,
    "mother_cccd": "027195001234",
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"area_m2": 120},
        {"area_m2": 0},
        {"area_m2": None},
        {"mother_cccd": ""},
        {"child_sex": "Nữ"},
        {"child_birth_date": "2025-06-16"},  # today + 366 days
        {"child_full_name": "x" * 1000},
    ],
)
def test_valid_form(change: dict[str, Any]) -> None:
    assert check_form(FORM_FIELDS, {**FORM, **change}, TODAY) == {}


def test_optional_fields_may_be_left_out() -> None:
    form = {k: v for k, v in FORM.items() if k not in ("area_m2", "mother_cccd")}
    assert check_form(FORM_FIELDS, form, TODAY) == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"child_full_name": None}, {"child_full_name": ["Thiếu Họ, chữ đệm và tên của trẻ."]}),
        ({"child_full_name": "  "}, {"child_full_name": ["Thiếu Họ, chữ đệm và tên của trẻ."]}),
        (
            {"child_full_name": 12},
            {"child_full_name": ["Họ, chữ đệm và tên của trẻ: phải là chuỗi ký tự."]},
        ),
        (
            {"child_full_name": "x" * 1001},
            {"child_full_name": ["Họ, chữ đệm và tên của trẻ: không được dài quá 1000 ký tự."]},
        ),
        (
            {"child_birth_date": "01/06/2024"},
            {
                "child_birth_date": [
                    "Ngày, tháng, năm sinh: phải là ngày hợp lệ dạng YYYY-MM-DD (ví dụ 2024-01-31)."
                ]
            },
        ),
        (
            {"child_birth_date": "2023-02-29"},
            {
                "child_birth_date": [
                    "Ngày, tháng, năm sinh: phải là ngày hợp lệ dạng YYYY-MM-DD (ví dụ 2024-01-31)."
                ]
            },
        ),
        (
            {"child_birth_date": "20240601"},
            {
                "child_birth_date": [
                    "Ngày, tháng, năm sinh: phải là ngày hợp lệ dạng YYYY-MM-DD (ví dụ 2024-01-31)."
                ]
            },
        ),
        (
            {"child_birth_date": "2025-06-17"},
            {"child_birth_date": ["Ngày, tháng, năm sinh: không được sau ngày 16/06/2025."]},
        ),
        ({"child_sex": "nam"}, {"child_sex": ["Giới tính: phải là một trong các giá trị: Nam, Nữ."]}),
        ({"child_sex": ["Nam"]}, {"child_sex": ["Giới tính: phải là một trong các giá trị: Nam, Nữ."]}),
        ({"area_m2": "120"}, {"area_m2": ["Diện tích (m²): phải là số."]}),
        ({"area_m2": True}, {"area_m2": ["Diện tích (m²): phải là số."]}),
        ({"area_m2": float("nan")}, {"area_m2": ["Diện tích (m²): phải là số hữu hạn."]}),
        (
            {"mother_cccd": "27195001234"},
            {"mother_cccd": ["Số định danh cá nhân của người mẹ: số CCCD phải gồm đúng 12 chữ số."]},
        ),
        (
            {"mother_cccd": 27195001234},
            {"mother_cccd": ["Số định danh cá nhân của người mẹ: số CCCD phải gồm đúng 12 chữ số."]},
        ),
        ({"father_name": "Nguyễn Văn B"}, {"father_name": ["Trường không có trong tờ khai của thủ tục."]}),
    ],
)
def test_invalid_form(change: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert check_form(FORM_FIELDS, {**FORM, **change}, TODAY) == expected


def test_form_province_code_of_a_cccd_field() -> None:
    errors = check_form(FORM_FIELDS, {**FORM, "mother_cccd": "097195001234"}, TODAY)
    assert errors["mother_cccd"][0].startswith("Số định danh cá nhân của người mẹ: mã tỉnh, thành phố")


def test_form_collects_every_error() -> None:
    errors = check_form(FORM_FIELDS, {"child_sex": "Khác", "extra": 1, "area_m2": "x"}, TODAY)
    assert errors == {
        "child_full_name": ["Thiếu Họ, chữ đệm và tên của trẻ."],
        "child_birth_date": ["Thiếu Ngày, tháng, năm sinh."],
        "child_sex": ["Giới tính: phải là một trong các giá trị: Nam, Nữ."],
        "area_m2": ["Diện tích (m²): phải là số."],
        "extra": ["Trường không có trong tờ khai của thủ tục."],
    }


def test_procedure_without_form_fields() -> None:
    assert check_form([], {}, TODAY) == {}
    assert check_form([], {"x": "y"}, TODAY) == {"x": ["Trường không có trong tờ khai của thủ tục."]}


# -- documents ----------------------------------------------------------------------------------

DOCUMENT_TYPES: list[dict[str, Any]] = [
    {
        "code": "TP01",
        "name": "Tờ khai đăng ký khai sinh",
        "mandatory": True,
        "file_types": ["pdf", "jpeg", "png"],
    },
    {"code": "TP02", "name": "Giấy chứng sinh", "mandatory": True, "file_types": ["pdf"]},
    {
        "code": "TP03",
        "name": "Văn bản chứng minh việc mang thai hộ",
        "mandatory": False,
        "file_types": ["pdf"],
    },
]

UPLOADS: dict[str, dict[str, Any] | None] = {
    "u1": {"content_type": "pdf", "attached_to": None},
    "u2": {"content_type": "pdf", "attached_to": None},
    "u3": {"content_type": "png", "attached_to": None},
    "u4": {"content_type": "pdf", "attached_to": "000.00.26.H06-240601-0001"},
    "u5": {"content_type": "pdf", "attached_to": None},
    "expired": None,
}

DOCUMENTS = [{"type": "TP01", "upload_id": "u1"}, {"type": "TP02", "upload_id": "u2"}]


@pytest.mark.parametrize(
    "documents",
    [
        DOCUMENTS,
        [{"type": "TP01", "upload_id": "u3"}, {"type": "TP02", "upload_id": "u2"}],  # png for TP01
        [*DOCUMENTS, {"type": "TP03", "upload_id": "u5"}],  # an optional document
        [*DOCUMENTS, {"type": "TP01", "upload_id": "u3"}],  # two files of one type
    ],
)
def test_valid_documents(documents: list[dict[str, Any]]) -> None:
    assert check_documents(DOCUMENT_TYPES, documents, UPLOADS) == {}


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        (
            [{"type": "TP01", "upload_id": "u1"}],
            {"documents": ["Thiếu giấy tờ bắt buộc: TP02 (Giấy chứng sinh)."]},
        ),
        (
            [],
            {
                "documents": [
                    "Thiếu giấy tờ bắt buộc: TP01 (Tờ khai đăng ký khai sinh).",
                    "Thiếu giấy tờ bắt buộc: TP02 (Giấy chứng sinh).",
                ]
            },
        ),
        (
            [*DOCUMENTS, {"type": "TP99", "upload_id": "u3"}],
            {
                "documents": {
                    "2": {"type": ["Loại giấy tờ TP99 không có trong thành phần hồ sơ của thủ tục."]}
                }
            },
        ),
        (
            [{"type": "TP01", "upload_id": "nope"}, {"type": "TP02", "upload_id": "expired"}],
            {
                "documents": {
                    "0": {"upload_id": ["Tệp không tồn tại hoặc đã hết hạn."]},
                    "1": {"upload_id": ["Tệp không tồn tại hoặc đã hết hạn."]},
                }
            },
        ),
        (
            [{"type": "TP01", "upload_id": "u1"}, {"type": "TP02", "upload_id": "u4"}],
            {"documents": {"1": {"upload_id": ["Tệp đã được dùng cho hồ sơ khác."]}}},
        ),
        (
            [{"type": "TP01", "upload_id": "u1"}, {"type": "TP02", "upload_id": "u3"}],
            {"documents": {"1": {"upload_id": ["Giấy tờ này không nhận tệp định dạng PNG; chỉ nhận: PDF."]}}},
        ),
        (
            [*DOCUMENTS, {"type": "TP03", "upload_id": "u1"}],
            {"documents": {"2": {"upload_id": ["Tệp đã được đính kèm ở giấy tờ thứ 1 của hồ sơ."]}}},
        ),
        (
            [{"type": "", "upload_id": ""}, *DOCUMENTS],
            {"documents": {"0": {"type": ["Thiếu loại giấy tờ."], "upload_id": ["Thiếu tệp đính kèm."]}}},
        ),
        (
            [{"type": "TP01", "upload_id": "u1"}, {"type": "TP03", "upload_id": "u3"}],
            {
                "documents": {
                    "_schema": ["Thiếu giấy tờ bắt buộc: TP02 (Giấy chứng sinh)."],
                    "1": {"upload_id": ["Giấy tờ này không nhận tệp định dạng PNG; chỉ nhận: PDF."]},
                }
            },
        ),
    ],
    ids=[
        "missing mandatory",
        "nothing filed",
        "unknown type",
        "unknown upload",
        "upload of another dossier",
        "wrong file type",
        "duplicate upload id",
        "empty item",
        "missing mandatory and item error",
    ],
)
def test_invalid_documents(documents: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert check_documents(DOCUMENT_TYPES, documents, UPLOADS) == expected


def test_document_item_collects_every_error() -> None:
    uploads = {"u9": {"content_type": "jpeg", "attached_to": "000.00.26.H06-240601-0002"}}
    errors = check_documents(
        DOCUMENT_TYPES, [*DOCUMENTS, {"type": "TP02", "upload_id": "u9"}], {**UPLOADS, **uploads}
    )
    assert errors == {
        "documents": {
            "2": {
                "upload_id": [
                    "Tệp đã được dùng cho hồ sơ khác.",
                    "Giấy tờ này không nhận tệp định dạng JPEG; chỉ nhận: PDF.",
                ]
            }
        }
    }


def test_upload_already_attached_to_the_same_dossier() -> None:
    documents = [{"type": "TP01", "upload_id": "u1"}, {"type": "TP02", "upload_id": "u4"}]
    assert check_documents(DOCUMENT_TYPES, documents, UPLOADS, dossier_code="000.00.26.H06-240601-0001") == {}


def test_document_type_defaults() -> None:
    types = [{"code": "TP01", "name": "Tờ khai"}]  # mandatory and every file type by default
    assert check_documents(types, [], {}) == {"documents": ["Thiếu giấy tờ bắt buộc: TP01 (Tờ khai)."]}
    assert check_documents(types, [{"type": "TP01", "upload_id": "u3"}], UPLOADS) == {}


# -- merge_errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((), {}),
        (({}, {}), {}),
        (({"a": ["x"]}, {"b": ["y"]}), {"a": ["x"], "b": ["y"]}),
        (({"a": ["x"]}, {"a": ["y", "x"]}), {"a": ["x", "y"]}),
        (
            ({"applicant": {"phone": ["p"]}}, {"applicant": {"email": ["e"]}}, {"form": {"f": ["g"]}}),
            {"applicant": {"phone": ["p"], "email": ["e"]}, "form": {"f": ["g"]}},
        ),
        (
            ({"documents": ["missing"]}, {"documents": {"0": {"type": ["t"]}}}),
            {"documents": {"_schema": ["missing"], "0": {"type": ["t"]}}},
        ),
        (
            ({"documents": {"0": {"type": ["t"]}}}, {"documents": ["missing"]}),
            {"documents": {"0": {"type": ["t"]}, "_schema": ["missing"]}},
        ),
        (({"a": "x"}, {"a": ["y"]}), {"a": ["x", "y"]}),
    ],
)
def test_merge_errors(parts: tuple[dict[str, Any], ...], expected: dict[str, Any]) -> None:
    before = copy.deepcopy(parts)
    assert merge_errors(*parts) == expected
    assert parts == before  # the inputs are left alone


def test_merge_errors_of_a_whole_filing() -> None:
    errors = merge_errors(
        {"unit": ["Đơn vị không tiếp nhận thủ tục này."]},
        {"applicant": check_applicant({**APPLICANT, "phone": "123"}, TODAY)},
        {"form": check_form(FORM_FIELDS, {**FORM, "child_sex": "?"}, TODAY)},
        check_documents(DOCUMENT_TYPES, DOCUMENTS[:1], UPLOADS),
    )
    assert errors == {
        "unit": ["Đơn vị không tiếp nhận thủ tục này."],
        "applicant": {"phone": ["Số điện thoại không hợp lệ (ví dụ 0912345678)."]},
        "form": {"child_sex": ["Giới tính: phải là một trong các giá trị: Nam, Nữ."]},
        "documents": ["Thiếu giấy tờ bắt buộc: TP02 (Giấy chứng sinh)."],
    }
