"""The staff directory on the real store: the administrator's accounts, audited, and the work they
decide (who a dossier may be assigned to)."""

from __future__ import annotations

import pytest

from processing import store
from tests.integration import test_processing_workflow as workflow

# The workflow tests' dossier, catalogue, fixtures and helpers.
db, client, as_ = workflow.db, workflow.client, workflow.as_
UNIT, CODE = workflow.UNIT, workflow.CODE
act, deliver, events, submitted = workflow.act, workflow.deliver, workflow.events, workflow.submitted

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

ACCOUNT = {
    "user_id": "cv.moi",
    "name": "Đỗ Thị Mới",
    "email": "cv.moi@luongtai.example.vn",
    "roles": ["specialist"],
    "units": [UNIT],
}


@pytest.fixture
def admin(as_):
    return as_("admin", UNIT, "quantri-1")


def test_an_administrator_keeps_accounts_and_every_change_is_audited(db, client, admin):
    created = client.post("/api/v1/staff", json={**ACCOUNT, "reason": "Tuyển dụng mới"}, headers=admin)
    assert created.status_code == 201, created.json
    assert (created.json["version"], created.json["active"], created.json["updated_by"]) == (
        1,
        True,
        "quantri-1",
    )
    again = client.post("/api/v1/staff", json=ACCOUNT, headers=admin)
    assert again.status_code == 409 and "cv.moi" in again.json["message"]

    listed = client.get("/api/v1/staff", query_string={"unit": UNIT, "role": "specialist"}, headers=admin)
    assert [a["user_id"] for a in listed.json] == ["cv.moi", "specialist-1", "specialist-2"]
    leaders = client.get("/api/v1/staff", query_string={"unit": UNIT, "role": "leader"}, headers=admin)
    assert [a["user_id"] for a in leaders.json] == ["leader-1"]

    change = {**{k: v for k, v in ACCOUNT.items() if k != "user_id"}, "active": False}
    no_reason = client.put("/api/v1/staff/cv.moi", json={**change, "version": 1}, headers=admin)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]["json"]
    stale = client.put("/api/v1/staff/cv.moi", json={**change, "version": 7, "reason": "Nghỉ"}, headers=admin)
    assert stale.status_code == 409 and store.get_staff(db, "cv.moi")["active"] is True
    moved = {**change, "units": [UNIT, "264.TP"], "roles": ["specialist", "leader"]}
    updated = client.put(
        "/api/v1/staff/cv.moi", json={**moved, "version": 1, "reason": "Nghỉ phép dài"}, headers=admin
    )
    assert updated.status_code == 403, "the administrator does not serve 264.TP"
    updated = client.put(
        "/api/v1/staff/cv.moi", json={**change, "version": 1, "reason": "Nghỉ phép dài"}, headers=admin
    )
    assert updated.status_code == 200 and (updated.json["version"], updated.json["active"]) == (2, False)

    history = client.get("/api/v1/staff/cv.moi/history", headers=admin).json
    assert [(h["action"], h["actor"], h["reason"]) for h in history] == [
        ("staff.updated", "quantri-1", "Nghỉ phép dài"),
        ("staff.created", "quantri-1", "Tuyển dụng mới"),
    ]
    assert history[0]["before"]["active"] is True and history[0]["after"]["active"] is False
    assert history[0]["before"]["version"] == 1 and history[0]["after"]["version"] == 2
    assert history[1]["before"] is None and history[1]["after"]["name"] == "Đỗ Thị Mới"
    # An inactive account is still listed (the administrator sees it) but holds no active role.
    listed = client.get("/api/v1/staff", query_string={"unit": UNIT, "role": "specialist"}, headers=admin)
    assert {a["user_id"]: a["active"] for a in listed.json}["cv.moi"] is False
    assert store.staff_ids_of_unit(db, UNIT, "specialist", active=True) == ["specialist-1", "specialist-2"]


def test_the_directory_is_the_administrators_of_its_units_only(client, admin, as_):
    assert client.get("/api/v1/staff", query_string={"unit": UNIT}).status_code == 401
    assert client.get("/api/v1/staff", query_string={"unit": UNIT}, headers=as_("leader")).status_code == 403
    foreign = as_("admin", "09499", "quantri-2")
    assert client.get("/api/v1/staff", query_string={"unit": UNIT}, headers=foreign).status_code == 403
    assert client.get("/api/v1/staff/specialist-1", headers=foreign).status_code == 403
    assert client.get("/api/v1/staff/specialist-1/history", headers=foreign).status_code == 403
    assert client.post("/api/v1/staff", json=ACCOUNT, headers=foreign).status_code == 403
    assert client.get("/api/v1/staff/nobody", headers=admin).status_code == 404

    bad = client.post(
        "/api/v1/staff",
        json={**ACCOUNT, "user_id": "Có Dấu", "email": "not-an-email", "roles": ["mayor"], "units": []},
        headers=admin,
    )
    assert bad.status_code == 422
    errors = bad.json["errors"]["json"]
    assert set(errors) == {"user_id", "email", "roles", "units"}
    assert errors["email"] == ["Địa chỉ email không hợp lệ."]
    no_unit = client.post(
        "/api/v1/staff", json={**ACCOUNT, "units": ["09499.X"]}, headers=as_("admin", "09499.X")
    )
    assert no_unit.status_code == 422 and no_unit.json["errors"]["json"]["units"] == [
        "Không có đơn vị 09499.X."
    ]


def test_a_dossier_is_assigned_only_to_an_active_specialist_of_its_unit(db, client, admin, as_):
    deliver(db, submitted("counter"))
    before = store.get_dossier(db, CODE)
    for assignee, why in (
        ("nobody", "Không có cán bộ nobody."),
        ("leader-1", "Cán bộ leader-1 không phải chuyên viên đang làm việc tại đơn vị 09496."),
        ("specialist-tp", "Cán bộ specialist-tp không phải chuyên viên đang làm việc tại đơn vị 09496."),
    ):
        refused = act(client, "assign", as_("leader"), assignee=assignee)
        assert refused.status_code == 422 and refused.json["errors"]["json"]["assignee"] == [why]

    assert client.post("/api/v1/staff", json=ACCOUNT, headers=admin).status_code == 201
    change = {k: v for k, v in ACCOUNT.items() if k != "user_id"}
    off = {**change, "active": False, "version": 1, "reason": "Chuyển công tác"}
    assert client.put("/api/v1/staff/cv.moi", json=off, headers=admin).status_code == 200
    refused = act(client, "assign", as_("leader"), assignee="cv.moi")
    assert refused.status_code == 422 and "cv.moi" in refused.json["errors"]["json"]["assignee"][0]
    after = store.get_dossier(db, before["code"])
    assert (after["state"], after["sequence"], after["revision"]) == (
        before["state"],
        before["sequence"],
        before["revision"],
    ), "a refused assignment changes nothing"

    assigned = act(client, "assign", as_("leader"), assignee="specialist-1")
    assert assigned.status_code == 200 and assigned.json["assignee"] == "specialist-1"
    event = events(db)[-1]
    assert event["type"].endswith(".assigned.v1")
    assert (event["data"]["assignee"], event["data"]["assignee_name"]) == ("specialist-1", "Nguyễn Văn Một")
