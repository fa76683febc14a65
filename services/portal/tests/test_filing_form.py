"""The filing form's request to intake and intake's errors put back beside the form's fields."""

from __future__ import annotations

from webui import filing

PROCEDURE = {
    "_id": "1.004884",
    "receiving_units": ["09496"],
    "form_fields": [
        {"name": "person_full_name", "type": "text", "required": True},
        {"name": "year", "type": "number", "required": False},
    ],
    "documents": [
        {"code": "TP01", "mandatory": True, "file_types": ["pdf"]},
        {"code": "TP02", "mandatory": False, "file_types": ["pdf", "png"]},
        {"code": "TP03", "mandatory": False},
    ],
}


def test_documents_named_by_index_go_to_their_type_and_the_rest_by_path():
    errors = {
        "applicant": {"id_number": ["Mã tỉnh không hợp lệ."], "phone": ["Số điện thoại không hợp lệ."]},
        "form": {"person_full_name": ["Thiếu họ tên."]},
        "delivery": {"address": ["Cần địa chỉ."]},
        "unit": ["Đơn vị này không tiếp nhận thủ tục."],
        "documents": {
            "_schema": ["Thiếu giấy tờ bắt buộc: TP01 (Tờ khai)."],
            "1": {"upload_id": ["Tệp hết hạn."]},
        },
        "procedure_code": ["Không có thủ tục này."],
    }
    mapped = filing.field_errors(errors, ["TP02", "TP03"])
    assert mapped == {
        "applicant.id_number": ["Mã tỉnh không hợp lệ."],
        "applicant.phone": ["Số điện thoại không hợp lệ."],
        "form.person_full_name": ["Thiếu họ tên."],
        "delivery.address": ["Cần địa chỉ."],
        "unit": ["Đơn vị này không tiếp nhận thủ tục."],
        "documents": ["Thiếu giấy tờ bắt buộc: TP01 (Tờ khai)."],
        "documents.TP03": ["Tệp hết hạn."],
        filing.GENERAL: ["Không có thủ tục này."],
    }


def test_a_documents_list_of_messages_stays_on_the_list():
    assert filing.field_errors({"documents": ["Tệp đã được dùng."]}, ["TP01"]) == {
        "documents": ["Tệp đã được dùng."]
    }


def test_the_body_sends_numbers_as_numbers_blanks_as_null_and_documents_in_the_procedure_order():
    form = {
        "applicant.full_name": " Nguyễn Thị Hoa ",
        "applicant.email": "",
        "form.person_full_name": "Bình",
        "form.year": "2015",
        "delivery.method": "counter",
    }
    body = filing.filing_body(PROCEDURE, form, {"TP02": "u-2", "TP01": "u-1"})
    assert body["unit"] == "09496", "the one receiving unit without asking"
    assert body["applicant"]["full_name"] == "Nguyễn Thị Hoa" and body["applicant"]["email"] is None
    assert body["form"] == {"person_full_name": "Bình", "year": 2015}
    assert body["documents"] == [{"type": "TP01", "upload_id": "u-1"}, {"type": "TP02", "upload_id": "u-2"}]
    assert filing.filing_body(PROCEDURE, {"form.year": "hai nghìn"}, {})["form"]["year"] == "hai nghìn"


def test_files_are_checked_by_their_bytes_and_size_before_intake():
    pdf, png = b"%PDF-1.4 ...", b"\x89PNG\r\n\x1a\n..."
    assert filing.file_errors(PROCEDURE, filing.FileSent("TP01", "a.pdf", pdf), 100) == []
    assert filing.file_errors(PROCEDURE, filing.FileSent("TP01", "a.png", png), 100) == [
        "Chỉ nhận tệp định dạng PDF."
    ]
    assert filing.file_errors(PROCEDURE, filing.FileSent("TP02", "a.png", png), 100) == []
    assert filing.file_errors(PROCEDURE, filing.FileSent("TP01", "a.pdf", pdf), 5) == ["Tệp lớn hơn 0 MB."]
    assert filing.file_errors(PROCEDURE, filing.FileSent("TP01", "a.pdf", b""), 5) == ["Tệp rỗng."]
    assert filing.accept_attribute(["pdf"]) == ".pdf,application/pdf"


def test_blank_required_fields_and_mandatory_documents_are_named():
    several = {**PROCEDURE, "receiving_units": ["09496", "09499"]}
    found = filing.blank_errors(several, {"delivery.method": "post", "applicant.phone": "0912"}, {"TP02"})
    assert set(found) == {
        "applicant.full_name",
        "applicant.id_number",
        "applicant.date_of_birth",
        "form.person_full_name",
        "unit",
        "delivery.address",
        "documents.TP01",
    }
    assert found["applicant.full_name"] == ["Hãy nhập họ và tên."]
    assert filing.blank_errors(PROCEDURE, {"delivery.method": "counter"}, {"TP01"}).keys() == {
        "applicant.full_name",
        "applicant.id_number",
        "applicant.date_of_birth",
        "applicant.phone",
        "form.person_full_name",
    }
