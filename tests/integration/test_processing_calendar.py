"""The working-day calendar API and the seed import, on the real store."""

from __future__ import annotations

import json

import pytest

from processing import importer
from processing.service import calendar
from tests.integration.test_processing_catalogue import BIRTH, COMMUNE, DISTRICT

pytestmark = pytest.mark.integration


@pytest.fixture
def db(processing_app):
    return processing_app.extensions["db"]


@pytest.fixture
def seeded_db(db):
    results, problems = importer.seed(db, progress=False)
    assert problems == [] and results["created"] == 48 and results["calendar years"] == 9
    return db


def test_the_seed_loads_units_procedures_and_nine_years_of_calendar(seeded_db):
    assert seeded_db.units.count_documents({}) == 23
    assert seeded_db.procedures.count_documents({}) == 25
    assert sorted(d["_id"] for d in seeded_db.calendar_years.find()) == list(range(2019, 2028))


def test_importing_the_same_seed_twice_changes_nothing(seeded_db):
    before = {d["_id"]: (d["version"], len(d["outbox"])) for d in seeded_db.procedures.find()}
    for kind in ("units", "procedures"):
        results, problems = importer.import_file(
            seeded_db, kind, importer.SEED_DIR / f"{kind}.json", progress=False
        )
        assert problems == [] and set(results) == {"unchanged"}
    assert {d["_id"]: (d["version"], len(d["outbox"])) for d in seeded_db.procedures.find()} == before
    assert calendar.seed(seeded_db) == []


def test_a_bad_entry_is_reported_with_its_line_and_the_rest_imported(db, tmp_path):
    units = [
        DISTRICT,
        {**COMMUNE, "electronic_id": "bad"},
        {**COMMUNE, "code": "09502", "electronic_id": "000.22.26.H06"},
    ]
    path = tmp_path / "units.json"
    path.write_text(json.dumps(units, ensure_ascii=False, indent=1))
    results, problems = importer.import_file(db, "units", path, progress=False)
    assert results["created"] == 2
    [problem] = problems
    assert problem.code == "09499" and problem.line == path.read_text().splitlines().index(" {", 2) + 1
    assert problem.reason.startswith("electronic_id: Mã định danh")

    procedures = [
        {**BIRTH, "receiving_units": ["09502"], "resolving_units": ["09502"]},
        {**BIRTH, "code": "1.000656", "receiving_units": ["77777"], "resolving_units": ["09502"]},
    ]
    path.write_text(json.dumps(procedures, ensure_ascii=False))
    results, problems = importer.import_file(db, "procedures", path, progress=False)
    assert results["created"] == 1 and len(problems) == 1
    assert "receiving_units: Đơn vị không tồn tại: 77777." == problems[0].reason


def test_calendar_year_read_and_audited_edit(processing_client, seeded_db, staff_headers):
    admin = staff_headers("admin", "264", user_id="admin-7")
    year = processing_client.get("/api/v1/calendar/2024", headers=staff_headers("specialist", "264")).json
    assert year["version"] == 1 and year["source"] == "holidays 0.108"
    off = {d["date"] for d in year["days_off"]}
    assert {"2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14"} <= off, "Tết 2024"
    assert year["hours"] == [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]

    edited = {
        "version": 1,
        "days_off": [
            *year["days_off"],
            {"date": "2024-12-31", "name": "Nghỉ theo quyết định của UBND tỉnh", "kind": "holiday"},
        ],
        "working_days": year["working_days"],
        "hours": year["hours"],
        "reason": "Quyết định số 12/QĐ-UBND của UBND tỉnh",
    }
    response = processing_client.put("/api/v1/calendar/2024", json=edited, headers=admin)
    assert (
        response.status_code == 200 and response.json["version"] == 2 and response.json["source"] == "admin"
    )
    assert processing_client.put("/api/v1/calendar/2024", json=edited, headers=admin).status_code == 409
    assert (
        processing_client.put(
            "/api/v1/calendar/2024", json=edited, headers=staff_headers("leader", "264")
        ).status_code
        == 403
    )

    [entry] = processing_client.get("/api/v1/calendar/2024/history", headers=admin).json
    assert entry["actor"] == "admin-7" and entry["before"]["version"] == 1 and entry["after"]["version"] == 2
    assert entry["reason"] == "Quyết định số 12/QĐ-UBND của UBND tỉnh"
    assert len(entry["after"]["days_off"]) == len(entry["before"]["days_off"]) + 1


def test_calendar_edits_are_checked(processing_client, seeded_db, staff_headers):
    admin = staff_headers("admin", "264")
    year = processing_client.get("/api/v1/calendar/2025", headers=admin).json
    bad = {
        "version": 1,
        "days_off": [{"date": "2026-01-01", "name": "x", "kind": "holiday"}],
        "working_days": [{"date": "2025-04-28", "name": "thứ Hai"}],
        "hours": [{"start": "13:30", "end": "17:00"}, {"start": "07:00", "end": "11:30"}],
    }
    response = processing_client.put("/api/v1/calendar/2025", json=bad, headers=admin)
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"days_off", "working_days", "hours"}
    assert processing_client.get("/api/v1/calendar/2025", headers=admin).json == year, "nothing was written"
    assert processing_client.get("/api/v1/calendar/1990", headers=admin).status_code == 404


def test_a_year_never_saved_is_the_default_until_the_administrator_saves_it(
    processing_client, seeded_db, staff_headers
):
    admin = staff_headers("admin", "264")
    year = processing_client.get("/api/v1/calendar/2030", headers=admin).json
    assert year["version"] == 0 and year["source"] == "holidays 0.108"
    assert any(d["name"] and d["date"].startswith("2030-02") for d in year["days_off"]), "Tết 2030"
    edit = {k: year[k] for k in ("days_off", "working_days", "hours")}
    assert (
        processing_client.put("/api/v1/calendar/2030", json={**edit, "version": 1}, headers=admin).status_code
        == 409
    )
    saved = processing_client.put("/api/v1/calendar/2030", json={**edit, "version": 0}, headers=admin)
    assert saved.status_code == 200 and saved.json["version"] == 1 and saved.json["source"] == "admin"
    # Receipt late in the last seeded year: the deadline runs into years not stored, which use the default.
    due = processing_client.get(
        "/api/v1/calendar/due",
        query_string={"procedure": "1.004884", "received_at": "2027-12-29T10:00:00+07:00"},
        headers=admin,
    )
    assert due.status_code == 200 and due.json["due_at"] == "2028-01-06T10:00:00+07:00"


@pytest.mark.parametrize(
    "procedure,received_at,due",
    [
        # 5 working days (placeholder-free example from the law's worked case uses a 5-day procedure)
        ("1.004884", "2023-10-27T09:32:00+07:00", "2023-11-03T09:32:00+07:00"),
        # same-day procedure before and after the 15:00 cut-off
        ("1.001193", "2024-03-05T10:00:00+07:00", "2024-03-05T17:00:00+07:00"),
        ("1.001193", "2024-03-05T15:30:00+07:00", "2024-03-06T17:00:00+07:00"),
        # received on the eve of Tết 2024: counting resumes after the holiday
        ("1.004873", "2024-02-07T16:00:00+07:00", "2024-02-19T16:00:00+07:00"),
    ],
)
def test_due_time_of_a_procedure(processing_client, seeded_db, staff_headers, procedure, received_at, due):
    response = processing_client.get(
        "/api/v1/calendar/due",
        query_string={"procedure": procedure, "received_at": received_at},
        headers=staff_headers("receptionist", "09499"),
    )
    assert response.status_code == 200, response.json
    assert response.json["due_at"] == due


def test_due_query_errors(processing_client, seeded_db, staff_headers):
    headers = staff_headers("receptionist", "09499")
    naive = processing_client.get(
        "/api/v1/calendar/due?procedure=1.001193&received_at=2024-03-05T10:00:00", headers=headers
    )
    assert naive.status_code == 422 and "received_at" in naive.json["errors"]["query"]
    unknown = processing_client.get(
        "/api/v1/calendar/due?procedure=9.999999&received_at=2024-03-05T10:00:00%2B07:00", headers=headers
    )
    assert unknown.status_code == 404
    outside = processing_client.get(
        "/api/v1/calendar/due?procedure=1.001193&received_at=1999-03-05T10:00:00%2B07:00", headers=headers
    )
    assert outside.status_code == 404 and "1999" in outside.json["message"]
