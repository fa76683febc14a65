import json

import pytest
from marshmallow import ValidationError

from processing.importer import SEED_DIR
from processing.schemas import ProcedureSchema, ProcessingTimeSchema, SigninSettingsSchema, UnitSchema


@pytest.mark.parametrize("kind,schema", [("procedures", ProcedureSchema()), ("units", UnitSchema())])
def test_every_seed_entry_is_valid(kind, schema):
    entries = json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    assert entries
    for entry in entries:
        schema.load(entry)


def test_fractional_calendar_days_are_refused_but_fractional_working_days_accepted():
    with pytest.raises(ValidationError) as error:
        ProcessingTimeSchema().load({"amount": 1.5, "unit": "calendar_days"})
    assert error.value.messages == {"amount": ["Thời hạn tính theo ngày lịch phải là số nguyên."]}
    assert ProcessingTimeSchema().load({"amount": 0.5, "unit": "working_days"})["amount"] == 0.5


def test_a_same_day_procedure_needs_its_cut_off_and_unknown_fields_are_refused():
    entry = json.loads((SEED_DIR / "procedures.json").read_text(encoding="utf-8"))[0]
    with pytest.raises(ValidationError) as error:
        ProcedureSchema().load({**entry, "same_day": True, "same_day_cutoff": None, "colour": "đỏ"})
    assert set(error.value.messages) == {"same_day_cutoff", "colour"}
    assert error.value.messages["colour"] == ["Trường không được chấp nhận."]


@pytest.mark.parametrize("kind,schema", [("procedures", ProcedureSchema()), ("units", UnitSchema())])
def test_an_entry_cannot_end_before_it_starts(kind, schema):
    entry = json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8"))[0]
    with pytest.raises(ValidationError) as error:
        schema.load({**entry, "valid_from": "2020-01-01", "valid_to": "2019-12-31"})
    assert error.value.messages == {"valid_to": ["Ngày hết hiệu lực phải sau ngày có hiệu lực."]}
    assert schema.load({**entry, "valid_from": "2020-01-01", "valid_to": "2020-01-01"})["valid_to"]


def test_cross_field_checks_look_only_at_the_fields_that_passed():
    entry = json.loads((SEED_DIR / "procedures.json").read_text(encoding="utf-8"))[0]
    document = {"code": "TK-01", "name": "Tờ khai"}
    field = {"name": "ho_ten", "label": "Họ tên", "type": "text"}
    with pytest.raises(ValidationError) as error:
        ProcedureSchema().load(
            {
                **entry,
                "documents": [{"name": "Không có mã"}, document, document],
                "form_fields": [{"label": "Không có tên", "type": "text"}, field, {**field, "name": 7}],
            }
        )
    messages = error.value.messages
    assert messages["documents"][0] == {"code": ["Thiếu trường bắt buộc."]}
    assert messages["documents"]["_schema"] == ["Mã giấy tờ bị trùng."]
    assert messages["form_fields"][0] == {"name": ["Thiếu trường bắt buộc."]}
    assert messages["form_fields"][2] == {"name": ["Phải là chuỗi ký tự."]}
    assert "_schema" not in messages["form_fields"], "one valid name is not a duplicate"


def test_a_unit_whose_code_failed_is_not_called_its_own_parent():
    entry = json.loads((SEED_DIR / "units.json").read_text(encoding="utf-8"))[0]
    with pytest.raises(ValidationError) as error:
        UnitSchema().load({**entry, "code": "không hợp lệ", "parent": None})
    assert set(error.value.messages) == {"code"}
    with pytest.raises(ValidationError) as error:
        UnitSchema().load({**entry, "parent": entry["code"]})
    assert error.value.messages == {"parent": ["Đơn vị không thể là cấp trên của chính nó."]}


@pytest.mark.parametrize(("version", "loaded"), [(7, 7), (7.0, 7)])
def test_the_settings_version_is_an_integer_as_json_schema_has_it(version: object, loaded: int) -> None:
    body = {"reason": "Bật xác thực hai bước", "totp_required_roles": ["admin"], "version": version}
    assert SigninSettingsSchema().load(body)["version"] == loaded


@pytest.mark.parametrize("version", [7.5, "7", True])
def test_the_settings_version_refuses_what_is_not_a_whole_number(version: object) -> None:
    body = {"reason": "Bật xác thực hai bước", "totp_required_roles": ["admin"], "version": version}
    with pytest.raises(ValidationError) as refused:
        SigninSettingsSchema().load(body)
    assert "version" in refused.value.messages
