"""Intake on the real store: uploads, filing, codes, idempotency, supplements, withdrawal, bad input."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from pymongo import MongoClient, monitoring

from devstack.paths import ROOT as ROOT_PATH
from eventkit import blobs, secrets
from eventkit.envelope import decode
from eventkit.outbox import OUTBOX
from intake import store as intake_store
from intake.service import dossiers
from tests.factories import PROCEDURE, UNIT, image_bytes, online_filing, pdf_bytes

ROOT = str(ROOT_PATH)

pytestmark = pytest.mark.integration

PDF = pdf_bytes(1000)
PNG = image_bytes("PNG")


def upload(client, data=PDF, name="to-khai.pdf", content_type="application/pdf"):
    return client.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
    )


filing = online_filing


@pytest.fixture
def pdf_id(intake_client):
    return upload(intake_client).json["id"]


def test_offered_procedures_carry_fields_and_documents_and_hide_counter_only_ones_online(
    intake_client, intake_catalogue
):
    online = intake_client.get("/api/v1/procedures?channel=online").json
    codes = {p["code"] for p in online}
    assert PROCEDURE in codes and "2.000815" not in codes, "2.000815 is counter only"
    assert "2.000815" in {p["code"] for p in intake_client.get("/api/v1/procedures").json}
    one = intake_client.get(f"/api/v1/procedures/{PROCEDURE}").json
    assert one["form_fields"][0]["name"] == "person_full_name" and one["documents"][0]["code"] == "TP01"
    assert intake_client.get("/api/v1/procedures/9.999999").status_code == 404
    assert intake_client.get("/api/v1/procedures/1.013978").status_code == 200


def test_uploads_are_typed_from_their_bytes_and_limited(intake_client):
    response = upload(intake_client, PNG, name="anh.pdf", content_type="application/pdf")
    assert response.status_code == 201
    assert response.json["content_type"] == "image/png" and response.json["size"] == len(PNG)
    assert re.fullmatch(r"[0-9a-f]{64}", response.json["sha256"])
    assert upload(intake_client, b"MZ\x90\x00 an exe", name="x.pdf").status_code == 415
    empty = upload(intake_client, b"")
    assert empty.status_code == 422 and empty.json["errors"]["json"]["file"]
    too_large = upload(intake_client, b"%PDF-" + b"0" * (2 * 1024 * 1024 + 100 * 1024))
    assert too_large.status_code == 413 and too_large.json["code"] == 413
    missing = intake_client.post("/api/v1/uploads", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422


def test_online_filing_gets_a_code_a_secret_and_records_its_event(
    intake_app, intake_client, intake_catalogue, pdf_id
):
    response = intake_client.post("/api/v1/dossiers", json=filing(pdf_id))
    assert response.status_code == 201, response.json
    body = response.json
    assert re.fullmatch(r"000\.21\.26\.H06-\d{6}-0001", body["code"])
    assert body["status"] == "submitted" and len(body["lookup_secret"]) == secrets.LENGTH
    db = intake_app.extensions["db"]
    stored = db.dossiers.find_one({"_id": body["code"]})
    assert body["lookup_secret"] not in str({k: v for k, v in stored.items() if k != "response"})
    assert stored["applicant"]["phone"] == "0912345678"
    [event] = [decode(e["value"].encode()) for e in stored[OUTBOX]]
    assert event["type"] == "vn.motcua.intake.dossier.submitted.v1" and event["subject"] == body["code"]
    data = event["data"]
    assert data["procedure_version"] == 1 and data["unit"] == UNIT and data["channel"] == "online"
    assert data["documents"][0]["sha256"] and data["applicant"]["email"] == "hoa@example.vn"
    assert data["lookup_secret_hash"].startswith("pbkdf2_sha256$")
    assert intake_store.get_uploads(db, [pdf_id])[pdf_id]["attached_to"] == body["code"]
    second = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"]))
    assert second.json["code"].endswith("-0002")


def test_an_upload_is_read_by_the_units_staff_or_with_the_secret(
    intake_client, intake_catalogue, pdf_id, staff_headers
):
    filed = intake_client.post("/api/v1/dossiers", json=filing(pdf_id)).json
    assert (
        intake_client.get(f"/api/v1/uploads/{pdf_id}", headers=staff_headers("specialist", UNIT)).data == PDF
    )
    assert (
        intake_client.get(
            # 1.004884 is received and resolved by each commune; a district office is not among them.
            f"/api/v1/uploads/{pdf_id}",
            headers=staff_headers("specialist", "264.TCKH"),
        ).status_code
        == 403
    )
    with_secret = intake_client.get(
        f"/api/v1/uploads/{pdf_id}", headers={"X-Lookup-Secret": filed["lookup_secret"]}
    )
    assert with_secret.status_code == 200 and with_secret.mimetype == "application/pdf"
    assert (
        intake_client.get(f"/api/v1/uploads/{pdf_id}", headers={"X-Lookup-Secret": "WRONGWRONG"}).status_code
        == 403
    )
    assert intake_client.get(f"/api/v1/uploads/{pdf_id}").status_code == 401
    loose = upload(intake_client).json["id"]
    assert (
        intake_client.get(f"/api/v1/uploads/{loose}", headers=staff_headers("specialist", UNIT)).status_code
        == 404
    )


def test_an_upload_is_read_only_by_the_units_that_hold_its_dossier(
    intake_app, intake_client, intake_catalogue, pdf_id, staff_headers
):
    """Another commune resolving the same procedure may not read it; the office processing moves
    the dossier to may, whichever of processing's events arrives first."""
    code = intake_client.post("/api/v1/dossiers", json=filing(pdf_id)).json["code"]
    path = f"/api/v1/uploads/{pdf_id}"
    other_commune, office = staff_headers("specialist", "09499"), staff_headers("specialist", "264.TP")
    assert intake_client.get(path, headers=other_commune).status_code == 403
    assert intake_client.get(path, headers=office).status_code == 403

    db = intake_app.extensions["db"]
    moved = {"type": "vn.motcua.processing.dossier.transferred.v1", "subject": code, "sequence": 2}
    accepted = {"type": "vn.motcua.processing.dossier.accepted.v1", "subject": code, "sequence": 1}
    assert not dossiers.apply_processing_event(db, {**moved, "data": {"code": code, "unit": "264.TP"}})
    assert dossiers.apply_processing_event(db, {**accepted, "data": {"code": code, "unit": UNIT}}), (
        "a transfer moves no status: the acceptance after it still counts"
    )

    assert intake_client.get(path, headers=office).data == PDF
    assert intake_client.get(path, headers=staff_headers("receptionist", UNIT)).data == PDF
    assert intake_client.get(path, headers=other_commune).status_code == 403
    assert intake_store.get_dossier(db, code)["handling_units"] == ["264.TP", UNIT]


def test_counter_filing_needs_a_receptionist_of_the_unit(
    intake_app, intake_client, intake_catalogue, pdf_id, staff_headers
):
    body = filing(
        pdf_id,
        channel="counter",
        procedure_code="2.000815",
        form={"document_title": "Bằng tốt nghiệp", "page_count": 2, "copy_count": 3},
        documents=[{"type": "TP01", "upload_id": pdf_id}],
    )
    assert intake_client.post("/api/v1/dossiers", json=body).status_code == 401
    other = intake_client.post("/api/v1/dossiers", json=body, headers=staff_headers("receptionist", "09499"))
    assert other.status_code == 403
    assert (
        intake_client.post(
            "/api/v1/dossiers", json=body, headers=staff_headers("specialist", UNIT)
        ).status_code
        == 403
    )
    ok = intake_client.post(
        "/api/v1/dossiers", json=body, headers=staff_headers("receptionist", UNIT, user_id="rc-1")
    )
    assert ok.status_code == 201, ok.json
    assert intake_app.extensions["db"].dossiers.find_one({"_id": ok.json["code"]})["received_by"] == "rc-1"
    online = intake_client.post("/api/v1/dossiers", json={**body, "channel": "online"})
    assert online.status_code == 422 and "procedure_code" in online.json["errors"]["json"]


def test_bad_filings_are_422_naming_every_field_and_take_no_number(
    intake_app, intake_client, intake_catalogue, pdf_id
):
    other = upload(intake_client).json["id"]
    intake_client.post("/api/v1/dossiers", json=filing(other))  # other is now used
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    bad = filing(
        pdf_id,
        applicant={
            "full_name": "Nguyễn Thị Hoa",
            "id_number": "12345",
            "date_of_birth": tomorrow,
            "phone": "12345",
            "email": "not-an-email",
        },
        form={"person_full_name": 42, "person_birth_date": "2015-13-01", "colour": "đỏ"},
        documents=[{"type": "TP09", "upload_id": "nope"}, {"type": "TP02", "upload_id": other}],
    )
    response = intake_client.post("/api/v1/dossiers", json=bad)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors["applicant"]) >= {"id_number", "date_of_birth", "phone", "email"}
    assert set(errors["form"]) >= {
        "person_full_name",
        "person_birth_date",
        "colour",
        "original_registration_place",
    }
    assert "documents" in errors
    text = str(errors["documents"])
    assert "TP01" in text and "hồ sơ khác" in text
    assert intake_app.extensions["db"].dossier_numbers.count_documents({}) == 1, (
        "the refused filing took no number"
    )


def test_a_valid_filing_naming_a_used_file_is_422_on_that_file_and_files_nothing(
    intake_app, intake_client, intake_catalogue, pdf_id
):
    db = intake_app.extensions["db"]
    first = intake_client.post("/api/v1/dossiers", json=filing(pdf_id))
    assert first.status_code == 201, first.json
    # Everything else valid: only the claim insert can tell the file is taken.
    again = intake_client.post("/api/v1/dossiers", json=filing(pdf_id))
    assert again.status_code == 422, again.json
    documents = again.json["errors"]["json"]["documents"]
    assert "hồ sơ khác" in str(documents) and "upload_id" in str(documents), documents
    assert db.dossiers.count_documents({}) == 1
    assert db.upload_claims.find_one({"_id": pdf_id})["dossier"] == first.json["code"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"procedure_code": "9.999999"}, "procedure_code"),
        ({"unit": "09499x"}, "unit"),
        ({"unit": None}, "unit"),
        ({"channel": "fax"}, "channel"),
        ({"delivery": {"method": "post"}}, "delivery"),
        ({"applicant": None}, "applicant"),
        ({"extra": 1}, "extra"),
    ],
)
def test_each_kind_of_bad_field_is_named(intake_client, intake_catalogue, pdf_id, change, field):
    response = intake_client.post("/api/v1/dossiers", json=filing(pdf_id, **change))
    assert response.status_code == 422 and field in response.json["errors"]["json"], response.json


def test_malformed_json_is_400_and_a_huge_body_413(intake_client, intake_catalogue):
    response = intake_client.post("/api/v1/dossiers", data=b"{not json", content_type="application/json")
    assert response.status_code == 400 and response.json["message"]
    huge = intake_client.post(
        "/api/v1/dossiers", data=b"{" + b" " * (1024 * 1024 + 10) + b"}", content_type="application/json"
    )
    assert huge.status_code == 413


def test_the_same_idempotency_key_gives_the_first_answer_and_another_body_a_conflict(
    intake_app, intake_client, intake_catalogue, pdf_id
):
    headers = {"Idempotency-Key": "k-123"}
    first = intake_client.post("/api/v1/dossiers", json=filing(pdf_id), headers=headers)
    again = intake_client.post("/api/v1/dossiers", json=filing(pdf_id), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json == again.json
    different = filing(pdf_id, form={**filing(pdf_id)["form"], "person_full_name": "Khác"})
    assert intake_client.post("/api/v1/dossiers", json=different, headers=headers).status_code == 409
    assert intake_app.extensions["db"].dossiers.count_documents({}) == 1


def test_racing_requests_with_one_key_make_one_dossier(intake_app, intake_catalogue):
    pdf = upload(intake_app.test_client()).json["id"]
    answers = []

    def send():
        answers.append(
            intake_app.test_client().post(
                "/api/v1/dossiers", json=filing(pdf), headers={"Idempotency-Key": "race-1"}
            )
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 4, [a.json for a in answers]
    assert len({a.json["code"] for a in answers}) == 1
    assert intake_app.extensions["db"].dossiers.count_documents({}) == 1


def test_dossier_numbers_are_unique_under_8_concurrent_writers(platform, intake_app):
    """2,000 numbers for one unit and day: four writer processes (each a worker with its own
    memory of the last number) with two request threads each. Unique and without gaps."""
    db = intake_app.extensions["db"]
    command = [sys.executable, "-m", "tests.integration.take_numbers", platform.mongo_url, db.name]
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([ROOT, f"{ROOT}/libs/eventkit", f"{ROOT}/services/intake"]),
    }
    writers = [
        subprocess.Popen(
            [*command, UNIT, "231027", "250", "2"], cwd=ROOT, env=environ, stdout=subprocess.PIPE
        )
        for _ in range(4)
    ]
    numbers: list[int] = []
    for writer in writers:
        out, _ = writer.communicate(timeout=300)
        assert writer.returncode == 0
        numbers.extend(json.loads(out))
    assert sorted(numbers) == list(range(1, 2001))
    assert db.dossier_numbers.count_documents({}) == 2000


def test_a_catalogue_change_reaches_the_filing_checks_within_the_kept_time(intake_catalogue, monkeypatch):
    monkeypatch.setattr(intake_store, "PUBLISHED_KEPT_SECONDS", 0.5)
    db, procedures = intake_catalogue, intake_store.PROCEDURES
    assert intake_store.get_published(db, procedures, PROCEDURE)["online_mode"] != "counter_only"
    db[procedures].update_one({"_id": PROCEDURE}, {"$set": {"online_mode": "counter_only"}})
    assert intake_store.get_published(db, procedures, PROCEDURE)["online_mode"] != "counter_only", "kept"
    time.sleep(0.6)
    assert intake_store.get_published(db, procedures, PROCEDURE)["online_mode"] == "counter_only"

    # What does not exist is not kept: a procedure published a moment later is seen at once.
    assert intake_store.get_published(db, procedures, "9.999999") is None
    db[procedures].insert_one({"_id": "9.999999", "name": "Thủ tục mới", "version": 1})
    assert intake_store.get_published(db, procedures, "9.999999")["name"] == "Thủ tục mới"


def supplement_requested(intake_app, code):
    event = {
        "id": f"evt-{code}",
        "type": "vn.motcua.processing.dossier.supplement_requested.v1",
        "subject": code,
        "sequence": 1,
    }
    assert dossiers.apply_processing_event(intake_app.extensions["db"], event)
    assert not dossiers.apply_processing_event(intake_app.extensions["db"], event), (
        "redelivery changes nothing"
    )


def test_a_supplement_is_accepted_only_while_processing_asks_for_one(
    intake_app, intake_client, intake_catalogue, pdf_id
):
    filed = intake_client.post("/api/v1/dossiers", json=filing(pdf_id)).json
    extra = upload(intake_client, PNG).json["id"]
    body = {
        "lookup_secret": filed["lookup_secret"],
        "note": "Bổ sung bản sao",
        "documents": [{"type": "TP02", "upload_id": extra}],
    }
    assert intake_client.post(f"/api/v1/dossiers/{filed['code']}/supplements", json=body).status_code == 409
    supplement_requested(intake_app, filed["code"])
    wrong = intake_client.post(
        f"/api/v1/dossiers/{filed['code']}/supplements", json={**body, "lookup_secret": "AAAAAAAAAA"}
    )
    assert wrong.status_code == 403
    done = intake_client.post(f"/api/v1/dossiers/{filed['code']}/supplements", json=body)
    assert done.status_code == 200, done.json
    assert (
        done.status_code == 200 and done.json["status"] == "supplemented" and not done.json["supplement_open"]
    )
    stored = intake_app.extensions["db"].dossiers.find_one({"_id": filed["code"]})
    assert [d["upload_id"] for d in stored["documents"]] == [pdf_id, extra]
    events = [decode(e["value"].encode()) for e in stored[OUTBOX]]
    assert events[-1]["type"] == "vn.motcua.intake.dossier.supplemented.v1"
    assert events[-1]["data"]["documents"][0]["upload_id"] == extra
    assert intake_client.post(f"/api/v1/dossiers/{filed['code']}/supplements", json=body).status_code == 409


def test_withdrawal_with_the_secret_or_at_the_counter_until_finished(
    intake_app, intake_client, intake_catalogue, pdf_id, staff_headers
):
    filed = intake_client.post("/api/v1/dossiers", json=filing(pdf_id)).json
    code = filed["code"]
    assert intake_client.post(f"/api/v1/dossiers/{code}/withdraw", json={}).status_code == 401
    assert (
        intake_client.post(
            f"/api/v1/dossiers/{code}/withdraw", json={}, headers=staff_headers("receptionist", "09499")
        ).status_code
        == 403
    )
    done = intake_client.post(
        f"/api/v1/dossiers/{code}/withdraw",
        json={"lookup_secret": filed["lookup_secret"], "reason": "Nộp nhầm"},
    )
    assert done.status_code == 200 and done.json["status"] == "withdrawn"
    again = intake_client.post(
        f"/api/v1/dossiers/{code}/withdraw", json={}, headers=staff_headers("receptionist", UNIT)
    )
    assert again.status_code == 409
    stored = intake_app.extensions["db"].dossiers.find_one({"_id": code})
    assert decode(stored[OUTBOX][-1]["value"].encode())["type"] == "vn.motcua.intake.dossier.withdrawn.v1"
    assert (
        intake_client.post("/api/v1/dossiers/000.21.26.H06-991231-9999/withdraw", json={}).status_code == 404
    )


def test_a_key_held_by_a_request_that_died_is_recovered(intake_app, intake_client, intake_catalogue, pdf_id):
    db = intake_app.extensions["db"]
    body = filing(pdf_id)
    digest = dossiers.request_hash(body)
    long_ago = dossiers.ABANDONED_AFTER + timedelta(seconds=1)
    # Died before filing: the key is taken over.
    intake_store.take_idempotency_key(db, "k-dead", digest, "online")
    db.idempotency_keys.update_one({"_id": "k-dead"}, {"$set": {"at": datetime.now(UTC) - long_ago}})
    first = intake_client.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "k-dead"})
    assert first.status_code == 201
    assert db.idempotency_keys.find_one({"_id": "k-dead"})["code"] == first.json["code"], "noted on the key"
    # Died after filing, before noting the dossier on the key: the dossier is found, not filed twice.
    db.idempotency_keys.update_one(
        {"_id": "k-dead"}, {"$set": {"dossier": None, "at": datetime.now(UTC) - long_ago}}
    )
    again = intake_client.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "k-dead"})
    assert again.status_code == 201 and again.json == first.json
    assert db.dossiers.count_documents({}) == 1


def test_a_key_whose_request_died_after_claiming_its_files_gives_them_back(
    intake_app, intake_client, intake_catalogue, pdf_id
):
    db = intake_app.extensions["db"]
    body = filing(pdf_id)
    # A request took its key, noted its code, claimed the upload and died before the dossier.
    intake_store.take_idempotency_key(db, "k-half", dossiers.request_hash(body), "online")
    intake_store.note_idempotency_code(db, "k-half", "000.21.26.H06-991231-0001", [pdf_id])
    assert intake_store.claim_uploads(db, [pdf_id], "000.21.26.H06-991231-0001")
    db.idempotency_keys.update_one(
        {"_id": "k-half"},
        {"$set": {"at": datetime.now(UTC) - dossiers.ABANDONED_AFTER - timedelta(seconds=1)}},
    )
    retried = intake_client.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "k-half"})
    assert retried.status_code == 201, retried.json
    assert intake_store.get_uploads(db, [pdf_id])[pdf_id]["attached_to"] == retried.json["code"]


# -- idempotency keys belong to their caller ---------------------------------------------------------


def counter_filing(upload_id):
    return filing(
        upload_id,
        channel="counter",
        procedure_code="2.000815",
        form={"document_title": "Bằng tốt nghiệp", "page_count": 2, "copy_count": 3},
        documents=[{"type": "TP01", "upload_id": upload_id}],
    )


def test_a_counter_officers_key_is_theirs_alone(
    intake_app, intake_client, intake_catalogue, pdf_id, staff_headers
):
    body = counter_filing(pdf_id)
    mine = {**staff_headers("receptionist", UNIT, user_id="rc-1"), "Idempotency-Key": "quay-1"}
    theirs = {**staff_headers("receptionist", UNIT, user_id="rc-2"), "Idempotency-Key": "quay-1"}
    first = intake_client.post("/api/v1/dossiers", json=body, headers=mine)
    assert first.status_code == 201, first.json
    other = intake_client.post("/api/v1/dossiers", json=body, headers=theirs)
    assert other.status_code == 409 and first.json["lookup_secret"] not in other.get_data(as_text=True)
    online = intake_client.post(
        "/api/v1/dossiers", json={**body, "channel": "online"}, headers={"Idempotency-Key": "quay-1"}
    )
    assert online.status_code == 409 and first.json["lookup_secret"] not in online.get_data(as_text=True)
    again = intake_client.post("/api/v1/dossiers", json=body, headers=mine)
    assert again.status_code == 201 and again.json == first.json
    assert intake_app.extensions["db"].dossiers.count_documents({}) == 1


def test_an_expired_key_goes_with_its_kept_answer(intake_app, intake_client, intake_catalogue, pdf_id):
    db = intake_app.extensions["db"]
    headers = {"Idempotency-Key": "k-old"}
    first = intake_client.post("/api/v1/dossiers", json=filing(pdf_id), headers=headers).json
    expired = datetime.now(UTC) - dossiers.RESPONSE_KEPT - timedelta(minutes=1)
    db.idempotency_keys.update_one({"_id": "k-old"}, {"$set": {"at": expired}})
    # Before housekeeping runs, an expired key answers nothing it kept.
    late = intake_client.post("/api/v1/dossiers", json=filing(pdf_id), headers=headers)
    assert late.status_code != 201 and first["lookup_secret"] not in late.get_data(as_text=True)
    assert "response" not in db.dossiers.find_one({"_id": first["code"]})

    # Housekeeping erases the key and the answer together.
    other = intake_client.post(
        "/api/v1/dossiers", json=filing(upload(intake_client).json["id"]), headers={"Idempotency-Key": "k-2"}
    ).json
    db.idempotency_keys.update_one({"_id": "k-2"}, {"$set": {"at": expired}})
    assert intake_store.forget_responses(db, datetime.now(UTC), dossiers.RESPONSE_KEPT) >= 1
    assert db.idempotency_keys.find_one({"_id": "k-2"}) is None
    assert "response" not in db.dossiers.find_one({"_id": other["code"]})


# -- request paths look documents up by _id --------------------------------------------------------


class Filters(monitoring.CommandListener):
    """Every filter the store was sent, by command."""

    def __init__(self):
        self.seen = []

    def started(self, event):
        command = event.command
        name = event.command_name
        if name in ("find", "count", "aggregate"):
            self.seen.append((name, command[name], command.get("filter", {})))
        elif name in ("update", "delete"):
            key = "updates" if name == "update" else "deletes"
            self.seen.extend((name, command[name], op["q"]) for op in command[key])
        elif name == "findAndModify":
            self.seen.append((name, command[name], command.get("query", {})))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def test_no_request_path_filters_on_anything_but_id(
    service_environ, intake_catalogue, staff_headers, monkeypatch
):
    from intake import create_app
    from intake.config import load_config

    listener = Filters()
    config = load_config(environ={**service_environ, "UPLOAD_MAX_BYTES": str(2 * 1024 * 1024)})
    client = MongoClient(config.mongo_url, retryWrites=False, tz_aware=True, event_listeners=[listener])
    monkeypatch.setattr(intake_store, "connect", lambda config: client[config.mongo_db])
    try:
        app = create_app(config)
        http = app.test_client()
        pdf = upload(http).json["id"]
        body = filing(pdf)
        filed = http.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "scan-1"}).json
        http.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "scan-1"})
        # A key whose request died after filing is recovered from the key itself.
        db = client[config.mongo_db]
        db.idempotency_keys.update_one(
            {"_id": "scan-1"},
            {"$set": {"dossier": None, "at": datetime.now(UTC) - dossiers.ABANDONED_AFTER * 2}},
        )
        assert http.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "scan-1"}).json == filed
        http.get(f"/api/v1/uploads/{pdf}", headers={"X-Lookup-Secret": filed["lookup_secret"]})
        http.get(f"/api/v1/uploads/{pdf}", headers=staff_headers("specialist", UNIT))
        http.get(f"/api/v1/procedures/{PROCEDURE}")
        http.get(f"/api/v1/procedures?unit={UNIT}&channel=online")
        http.post(
            f"/api/v1/dossiers/{filed['code']}/withdraw", json={"lookup_secret": filed["lookup_secret"]}
        )
    finally:
        client.close()
    # The catalogue is read whole (a few dozen documents, kept for a moment): no other filter.
    scans = [
        seen
        for seen in listener.seen
        if "_id" not in seen[2] and not (seen[1] in ("procedures", "units") and seen[2] == {})
    ]
    assert listener.seen and not scans, scans


# -- uploads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"x" * 1000,
        b"\x89PNG\r\n\x1a\n" + b"y" * 500,
        b"\xff\xd8\xff\xe0" + b"z" * 500,
        image_bytes("PNG")[:60],
    ],
    ids=["pdf-magic-only", "png-magic-only", "jpeg-magic-only", "truncated-png"],
)
def test_a_file_that_only_starts_like_a_pdf_or_image_is_415(intake_client, data):
    response = upload(intake_client, data)
    assert response.status_code == 415 and response.json["message"], response.json


def test_well_formed_files_of_each_type_are_taken(intake_client):
    for data, media_type in (
        (PDF, "application/pdf"),
        (image_bytes("JPEG"), "image/jpeg"),
        (PNG, "image/png"),
    ):
        response = upload(intake_client, data)
        assert response.status_code == 201 and response.json["content_type"] == media_type


def test_a_download_is_a_streamed_attachment_of_the_detected_type(
    intake_client, intake_catalogue, monkeypatch, staff_headers
):
    monkeypatch.setattr(blobs, "READ_CHUNK", 700)
    data = pdf_bytes(3000)
    pdf = upload(intake_client, data, name="evil.html", content_type="text/html").json["id"]
    filed = intake_client.post("/api/v1/dossiers", json=filing(pdf)).json
    response = intake_client.get(
        f"/api/v1/uploads/{pdf}", headers={"X-Lookup-Secret": filed["lookup_secret"]}
    )
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{pdf}.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert int(response.headers["Content-Length"]) == len(data)
    pieces = list(response.response)
    assert len(pieces) == -(-len(data) // 700), "read a piece at a time"
    assert b"".join(pieces) == data


@pytest.mark.parametrize(
    "role,status",
    [("receptionist", 200), ("specialist", 200), ("leader", 200), ("admin", 200), ("editor", 403)],
)
def test_an_upload_is_read_only_in_a_role_that_handles_dossiers(
    intake_client, intake_catalogue, pdf_id, staff_headers, role, status
):
    intake_client.post("/api/v1/dossiers", json=filing(pdf_id))
    assert (
        intake_client.get(f"/api/v1/uploads/{pdf_id}", headers=staff_headers(role, UNIT)).status_code
        == status
    )


def test_anonymous_uploads_are_limited_per_client(service_environ, staff_headers):
    from intake import create_app
    from intake.config import load_config

    app = create_app(load_config(environ={**service_environ, "UPLOAD_RATE_LIMIT": "3/minute"}))
    client = app.test_client()
    assert [upload(client).status_code for _ in range(3)] == [201] * 3
    refused = upload(client)
    assert refused.status_code == 429 and refused.json["code"] == 429
    assert "vui lòng đợi" in refused.json["message"]
    assert refused.headers.get("Retry-After")
    staff = client.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(PDF), "a.pdf", "application/pdf")},
        content_type="multipart/form-data",
        headers=staff_headers("receptionist", UNIT),
    )
    assert staff.status_code == 201, "officers at the counter upload for citizens"
    another = app.test_client()
    another.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert upload(another).status_code == 201, "the limit is per client"


def test_behind_a_proxy_the_limit_is_per_forwarded_client(service_environ):
    from intake import create_app
    from intake.config import load_config

    app = create_app(
        load_config(environ={**service_environ, "UPLOAD_RATE_LIMIT": "2/minute", "PROXY_HOPS": "1"})
    )

    def client(address):
        http = app.test_client()
        http.environ_base["HTTP_X_FORWARDED_FOR"] = address
        return http

    first, second = client("203.0.113.5"), client("203.0.113.6")
    assert [upload(first).status_code for _ in range(3)] == [201, 201, 429]
    assert upload(second).status_code == 201, "another citizen behind the same proxy"


# -- authentication comes before the body ----------------------------------------------------------


def test_a_bad_token_is_401_before_a_bad_body_is_read(intake_client, intake_catalogue, pdf_id):
    bad = {"Authorization": "Bearer not-a-token"}
    code = "000.21.26.H06-991231-0001"
    for path in (
        "/api/v1/dossiers",
        f"/api/v1/dossiers/{code}/supplements",
        f"/api/v1/dossiers/{code}/withdraw",
    ):
        response = intake_client.post(path, json={"unexpected": 1}, headers=bad)
        assert response.status_code == 401, (path, response.json)
        garbled = intake_client.post(path, data=b"{not json", content_type="application/json", headers=bad)
        assert garbled.status_code == 401, path
    assert intake_client.get(f"/api/v1/uploads/{pdf_id}", headers=bad).status_code == 401
