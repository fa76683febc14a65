"""Processing's catalogue and units API on the real store (Flask test client, real FerretDB)."""

from __future__ import annotations

import copy

import pytest

from eventkit.envelope import decode
from eventkit.outbox import OUTBOX

pytestmark = pytest.mark.integration

DISTRICT = {
    "code": "264",
    "name": "Ủy ban nhân dân huyện Lương Tài",
    "type": "district",
    "parent": None,
    "statistics_code": "264",
    "electronic_id": "000.00.26.H06",
    "valid_from": "2019-01-01",
}
COMMUNE = {
    **DISTRICT,
    "code": "09499",
    "name": "Ủy ban nhân dân xã An Thịnh",
    "type": "commune",
    "parent": "264",
    "statistics_code": "09499",
    "electronic_id": "000.21.26.H06",
}
BIRTH = {
    "code": "1.001193",
    "name": "Thủ tục đăng ký khai sinh",
    "field": "Hộ tịch",
    "level": "commune",
    "receiving_units": ["09499"],
    "resolving_units": ["09499"],
    "online_mode": "partial_online",
    "processing_time": {"amount": 0, "unit": "working_days"},
    "same_day": True,
    "same_day_cutoff": "15:00",
    "fees": [{"kind": "exempt", "amount_vnd": 0, "description": "Miễn lệ phí"}],
    "documents": [{"code": "TK01", "name": "Tờ khai đăng ký khai sinh"}],
    "form_fields": [{"name": "child_full_name", "label": "Họ và tên trẻ", "type": "text"}],
    "valid_from": "2019-01-01",
}


@pytest.fixture
def as_admin(staff_headers):
    return staff_headers("admin", "264", user_id="admin-1")


@pytest.fixture
def as_receptionist(staff_headers):
    return staff_headers("receptionist", "09499")


@pytest.fixture
def seeded(processing_client, as_admin):
    for unit in (DISTRICT, COMMUNE):
        assert processing_client.post("/api/v1/units", json=unit, headers=as_admin).status_code == 201
    assert processing_client.post("/api/v1/procedures", json=BIRTH, headers=as_admin).status_code == 201


def outbox_events(processing_app, collection, code):
    document = processing_app.extensions["db"][collection].find_one({"_id": code})
    return [decode(entry["value"].encode()) for entry in document[OUTBOX]]


def test_a_new_procedure_is_version_1_and_its_publication_is_in_the_same_document(
    processing_app, processing_client, seeded, as_receptionist
):
    response = processing_client.get("/api/v1/procedures/1.001193", headers=as_receptionist)
    assert response.status_code == 200
    body = response.json
    assert body["version"] == 1 and body["name"] == "Thủ tục đăng ký khai sinh"
    assert body["documents"][0]["file_types"] == ["pdf", "jpeg", "png"], "defaults applied"
    [event] = outbox_events(processing_app, "procedures", "1.001193")
    assert event["type"] == "vn.motcua.processing.procedure.published.v1"
    assert event["subject"] == event["partitionkey"] == "1.001193"
    assert event["data"]["version"] == 1 and event["data"]["receiving_units"] == ["09499"]


def test_editing_makes_a_new_version_and_keeps_the_old_one(
    processing_app, processing_client, seeded, as_admin, as_receptionist
):
    changed = {
        **BIRTH,
        "name": "Đăng ký khai sinh",
        "version": 1,
        "change_reason": "Tên theo Quyết định 1085",
    }
    response = processing_client.put("/api/v1/procedures/1.001193", json=changed, headers=as_admin)
    assert response.status_code == 200 and response.json["version"] == 2
    versions = processing_client.get("/api/v1/procedures/1.001193/versions", headers=as_receptionist).json
    assert [(v["version"], v["name"], v["change_reason"]) for v in versions] == [
        (1, "Thủ tục đăng ký khai sinh", ""),
        (2, "Đăng ký khai sinh", "Tên theo Quyết định 1085"),
    ]
    assert versions[1]["updated_by"] == response.json["updated_by"] != ""
    assert "change_reason" not in outbox_events(processing_app, "procedures", "1.001193")[-1]["data"]
    assert [e["data"]["version"] for e in outbox_events(processing_app, "procedures", "1.001193")] == [1, 2]


def test_saving_the_same_content_makes_no_version_and_no_event(
    processing_app, processing_client, seeded, as_admin
):
    response = processing_client.put(
        "/api/v1/procedures/1.001193", json={**BIRTH, "version": 1}, headers=as_admin
    )
    assert response.status_code == 200 and response.json["version"] == 1
    assert len(outbox_events(processing_app, "procedures", "1.001193")) == 1


def test_an_edit_on_a_stale_version_is_a_conflict(processing_client, seeded, as_admin):
    assert (
        processing_client.put(
            "/api/v1/procedures/1.001193", json={**BIRTH, "name": "A", "version": 1}, headers=as_admin
        ).status_code
        == 200
    )
    stale = processing_client.put(
        "/api/v1/procedures/1.001193", json={**BIRTH, "name": "B", "version": 1}, headers=as_admin
    )
    assert stale.status_code == 409 and "phiên bản hiện tại 2" in stale.json["message"]


def test_unknown_codes_are_404_and_duplicates_409(processing_client, seeded, as_admin):
    assert processing_client.get("/api/v1/procedures/9.999999", headers=as_admin).status_code == 404
    assert processing_client.get("/api/v1/units/nowhere", headers=as_admin).status_code == 404
    assert processing_client.post("/api/v1/procedures", json=BIRTH, headers=as_admin).status_code == 409


def test_invalid_data_is_422_naming_every_bad_field(processing_client, seeded, as_admin):
    bad = copy.deepcopy(BIRTH)
    bad.update(code="1001193", level="village", processing_time={"amount": -1, "unit": "weeks"})
    bad["documents"][0]["file_types"] = ["exe"]
    bad["form_fields"].append({"name": "kind", "label": "Loại", "type": "choice"})
    del bad["name"]
    response = processing_client.post("/api/v1/procedures", json=bad, headers=as_admin)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors) >= {"code", "level", "processing_time", "documents", "form_fields", "name"}
    assert errors["name"] == ["Thiếu trường bắt buộc."]
    assert "amount" in errors["processing_time"] and "unit" in errors["processing_time"]


def test_a_procedure_naming_an_unknown_unit_is_422(processing_client, seeded, as_admin):
    other = {**BIRTH, "code": "1.000656", "receiving_units": ["09499", "00000"]}
    response = processing_client.post("/api/v1/procedures", json=other, headers=as_admin)
    assert response.status_code == 422
    assert "00000" in response.json["errors"]["json"]["receiving_units"][0]


def test_staff_read_and_only_the_administrator_writes(processing_client, seeded, as_receptionist):
    assert processing_client.get("/api/v1/procedures", headers=as_receptionist).status_code == 200
    assert processing_client.get("/api/v1/procedures").status_code == 401
    forbidden = processing_client.post(
        "/api/v1/procedures", json={**BIRTH, "code": "1.000656"}, headers=as_receptionist
    )
    assert forbidden.status_code == 403


def test_lists_filter_by_level_field_and_receiving_unit(processing_client, seeded, as_admin):
    assert (
        processing_client.post(
            "/api/v1/procedures", json={**BIRTH, "code": "2.000815", "field": "Chứng thực"}, headers=as_admin
        ).status_code
        == 201
    )
    listed = processing_client.get("/api/v1/procedures?field=Chứng thực", headers=as_admin).json
    assert [p["code"] for p in listed["items"]] == ["2.000815"] and listed["total"] == 1
    by_unit = processing_client.get("/api/v1/procedures?unit=09499&page_size=1&page=2", headers=as_admin).json
    assert by_unit["total"] == 2 and [p["code"] for p in by_unit["items"]] == ["2.000815"]
    assert processing_client.get("/api/v1/procedures?level=district", headers=as_admin).json["total"] == 0
    children = processing_client.get("/api/v1/units?parent=264", headers=as_admin).json
    assert [u["code"] for u in children] == ["09499"]


def test_unit_edit_with_successor_and_stale_version(processing_client, seeded, as_admin):
    closed = {**COMMUNE, "valid_to": "2025-06-30", "successors": ["264"], "version": 1}
    response = processing_client.put("/api/v1/units/09499", json=closed, headers=as_admin)
    assert response.status_code == 200 and response.json["version"] == 2
    assert response.json["valid_to"] == "2025-06-30"
    assert (
        processing_client.put(
            "/api/v1/units/09499", json={**closed, "name": "X"}, headers=as_admin
        ).status_code
        == 409
    )
    unknown = processing_client.put(
        "/api/v1/units/09499", json={**closed, "successors": ["99999"], "version": 2}, headers=as_admin
    )
    assert unknown.status_code == 422 and "successors" in unknown.json["errors"]["json"]
