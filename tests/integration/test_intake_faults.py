"""Intake under faults: Kafka down, store down; and processing's request for a supplement arriving
over Kafka as processing will send it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect, PyMongoError

from eventkit.consumer import ConsumerRunner, Handler
from eventkit.envelope import decode, encode, new_event
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import PENDING, OutboxRelay
from eventkit.topics import Groups, Topics, TopicSpec, dead_letter_topic, retry_topic, topic_specs_for
from intake import handlers as intake_handlers
from intake import store as intake_store
from intake.service import uploads
from tests.integration.kafka_tools import read_topic, run_until, write_raw
from tests.integration.test_intake_filing import PDF, filing, upload

pytestmark = pytest.mark.integration


def relay(platform, db):
    return OutboxRelay([db.dossiers], make_producer(platform.bootstrap, "relay"), db["leases"], "relay")


def test_filing_while_kafka_is_down_answers_201_and_the_event_follows(
    platform, intake_app, intake_client, intake_catalogue
):
    ensure_topics(platform.bootstrap, topic_specs_for("intake"))
    db = intake_app.extensions["db"]
    platform.kafka.stop()
    response = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"]))
    assert response.status_code == 201
    code = response.json["code"]
    stored = db.dossiers.find_one({"_id": code})
    assert stored[PENDING] is True
    [event_id] = [entry["id"] for entry in stored["outbox"]]

    platform.kafka.start()
    platform.kafka.wait_ready()
    sender = relay(platform, db)
    for _ in range(20):
        try:
            if sender.relay_once() and not db.dossiers.find_one({"_id": code})[PENDING]:
                break
        except Exception:
            continue
    records = read_topic(platform.bootstrap, Topics.INTAKE_DOSSIERS.name, expect=1, timeout=20)
    # Other tests' databases may have given the same code; the event id is this dossier's own.
    mine = [decode(r.value) for r in records if decode(r.value)["id"] == event_id]
    assert [e["type"] for e in mine] == ["vn.motcua.intake.dossier.submitted.v1"], "published exactly once"


def test_store_down_is_503_and_nothing_is_half_written(platform, intake_app, intake_client, intake_catalogue):
    pdf = upload(intake_client).json["id"]
    db = intake_app.extensions["db"]
    platform.ferretdb.stop()
    try:
        response = intake_client.post("/api/v1/dossiers", json=filing(pdf))
        assert response.status_code == 503
        assert "lưu trữ" in response.json["message"]
        assert upload(intake_client).status_code == 503
    finally:
        platform.ferretdb.start()
        platform.ferretdb.wait_ready()
    assert db.dossiers.count_documents({}) == 0
    assert db.upload_claims.count_documents({}) == 0 and db.dossier_numbers.count_documents({}) == 0
    assert intake_client.post("/api/v1/dossiers", json=filing(pdf)).status_code == 201, (
        "the upload is still usable"
    )


def test_a_number_the_store_did_not_record_is_given_to_the_next_filing(platform, intake_app):
    db = intake_app.extensions["db"]
    first = intake_store.next_number(db, "09496", "231030")
    platform.ferretdb.stop()
    try:
        with pytest.raises(PyMongoError):
            intake_store.next_number(db, "09496", "231030")
    finally:
        platform.ferretdb.start()
        platform.ferretdb.wait_ready()
    assert intake_store.next_number(db, "09496", "231030") == first + 1, "no gap"


def processing_event(code: str, verb: str, sequence: int) -> dict:
    return new_event(
        type=f"vn.motcua.processing.dossier.{verb}.v1",
        source="/services/processing",
        subject=code,
        data={"code": code},
        sequence=sequence,
    )


def follow_processing(platform, db, records: list[tuple[str, dict]], delivered: int) -> list[dict]:
    """Write processing's events raw, run intake's status group over them until `delivered` deliveries
    were handled, and return the events in the order the handler saw them. The topic is this test's
    own: earlier tests' fresh databases gave the same dossier codes."""
    topic = f"test.processing-dossiers.{uuid.uuid4().hex[:8]}"
    group = f"test.{uuid.uuid4().hex[:8]}"
    ensure_topics(
        platform.bootstrap,
        [TopicSpec(name, 3) for name in (topic, retry_topic(topic, group), dead_letter_topic(topic, group))],
    )
    write_raw(platform.bootstrap, topic, [(code.encode(), encode(event)) for code, event in records])
    seen: list[dict] = []

    def counted(handler: Handler) -> Handler:
        def handle(event, data):
            handler.handle(event, data)
            seen.append(event)

        return Handler(handler.schema, handle)

    handlers = intake_handlers.build_handlers(db)[Groups.INTAKE_PROCESSING_DOSSIERS]
    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={event_type: counted(handler) for event_type, handler in handlers.items()},
        producer=make_producer(platform.bootstrap, "test"),
    )
    assert run_until(runner, lambda: len(seen) >= delivered, timeout=60)
    return seen


def test_a_supplement_request_published_by_processing_opens_the_supplement(
    platform, intake_app, intake_client, intake_catalogue
):
    filed = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"])).json
    code = filed["code"]
    db = intake_app.extensions["db"]
    requested = processing_event(code, "supplement_requested", 1)
    follow_processing(platform, db, [(code, requested), (code, requested)], delivered=2)
    assert intake_store.get_dossier(db, code)["supplement_open"]
    assert intake_store.get_dossier(db, code)["status"] == "supplement_requested"
    body = {
        "lookup_secret": filed["lookup_secret"],
        "documents": [{"type": "TP02", "upload_id": upload(intake_client).json["id"]}],
    }
    assert intake_client.post(f"/api/v1/dossiers/{code}/supplements", json=body).status_code == 200


def test_processing_events_delivered_late_or_twice_never_move_a_dossier_back(
    platform, intake_app, intake_client, intake_catalogue
):
    db = intake_app.extensions["db"]
    late = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"])).json["code"]
    other = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"])).json["code"]
    accepted, assigned, approved, returned = (
        processing_event(late, verb, n)
        for n, verb in enumerate(("accepted", "assigned", "approved", "returned"), start=1)
    )
    # As a retry round and a relay's re-send leave them: the newest first, the rest late, one twice.
    records = [(late, returned), (late, assigned), (late, returned), (late, accepted), (late, approved)]
    records += [
        (other, processing_event(other, "accepted", 1)),
        (other, processing_event(other, "assigned", 2)),
    ]
    seen = follow_processing(platform, db, records, delivered=len(records))

    assert sorted(e["id"] for e in seen) == sorted(e["id"] for _, e in records), "every delivery handled"
    returned_dossier = intake_store.get_dossier(db, late)
    assert (returned_dossier["status"], returned_dossier["processing_sequence"]) == ("returned", 4)
    assert returned_dossier["supplement_open"] is False
    in_order = intake_store.get_dossier(db, other)
    assert (in_order["status"], in_order["processing_sequence"]) == ("in_progress", 2)


def test_an_acceptance_on_its_way_when_the_citizen_withdrew_leaves_the_dossier_withdrawn(
    platform, intake_app, intake_client, intake_catalogue
):
    db = intake_app.extensions["db"]
    filed = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"])).json
    code = filed["code"]
    withdrawn = intake_client.post(
        f"/api/v1/dossiers/{code}/withdraw", json={"lookup_secret": filed["lookup_secret"]}
    )
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    records = [
        (code, processing_event(code, "accepted", 1)),
        (code, processing_event(code, "supplement_requested", 2)),
    ]
    follow_processing(platform, db, records, delivered=2)
    dossier = intake_store.get_dossier(db, code)
    assert (dossier["status"], dossier["supplement_open"], dossier["processing_sequence"]) == (
        "withdrawn",
        False,
        2,
    )


def test_a_dossiers_own_events_are_numbered_in_order(platform, intake_app, intake_client, intake_catalogue):
    db = intake_app.extensions["db"]
    filed = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"])).json
    code = filed["code"]
    follow_processing(platform, db, [(code, processing_event(code, "supplement_requested", 1))], delivered=1)
    body = {
        "lookup_secret": filed["lookup_secret"],
        "documents": [{"type": "TP02", "upload_id": upload(intake_client).json["id"]}],
    }
    assert intake_client.post(f"/api/v1/dossiers/{code}/supplements", json=body).status_code == 200
    withdrawal = {"lookup_secret": filed["lookup_secret"], "reason": "Không cần nữa"}
    assert intake_client.post(f"/api/v1/dossiers/{code}/withdraw", json=withdrawal).status_code == 200

    outbox = db.dossiers.find_one({"_id": code})["outbox"]
    events = [decode(entry["value"].encode()) for entry in outbox]
    assert [(e["type"].split(".")[4], e["sequence"]) for e in events] == [
        ("submitted", 1),
        ("supplemented", 2),
        ("withdrawn", 3),
    ]
    assert [entry["sequence"] for entry in outbox] == [1, 2, 3]
    assert db.dossiers.find_one({"_id": code})["sequence"] == 3


def test_a_change_numbered_from_a_stale_read_is_refused(
    platform, intake_app, intake_client, intake_catalogue, monkeypatch
):
    db = intake_app.extensions["db"]
    filed = intake_client.post("/api/v1/dossiers", json=filing(upload(intake_client).json["id"])).json
    code = filed["code"]
    stale = intake_store.get_dossier(db, code)
    # Another request gave the dossier its event 2 after this one read it at 1.
    db.dossiers.update_one({"_id": code}, {"$set": {"sequence": 2}})
    monkeypatch.setattr(intake_store, "get_dossier", lambda _db, _code: stale)
    withdrawal = {"lookup_secret": filed["lookup_secret"], "reason": "Không cần nữa"}
    assert intake_client.post(f"/api/v1/dossiers/{code}/withdraw", json=withdrawal).status_code == 409
    stored = db.dossiers.find_one({"_id": code})
    assert stored["status"] == "submitted" and len(stored["outbox"]) == 1, "no second event 2"


def test_housekeeping_removes_expired_loose_uploads_and_repairs_lost_claims(
    intake_app, intake_client, intake_catalogue
):
    db = intake_app.extensions["db"]
    loose = upload(intake_client).json["id"]
    used = upload(intake_client).json["id"]
    filed = intake_client.post("/api/v1/dossiers", json=filing(used)).json
    # A request that claimed an upload and died before writing its dossier.
    stranded = upload(intake_client).json["id"]
    assert intake_store.claim_uploads(db, [stranded], "000.21.26.H06-991231-0001")
    db.upload_claims.update_one({"_id": stranded}, {"$set": {"at": datetime.now(UTC) - timedelta(hours=2)}})

    later = datetime.now(UTC) + timedelta(hours=25)
    blobs = intake_app.extensions["blobs"]
    counts = uploads.clean_up(db, blobs, later, timedelta(hours=24))
    assert counts == {"deleted": 2, "kept": 1, "released": 1}
    assert intake_store.get_uploads(db, [loose, stranded]) == {}
    assert intake_store.read_upload(blobs, loose) is None, "its bytes are gone too"
    assert intake_store.get_uploads(db, [used])[used]["attached_to"] == filed["code"]
    assert intake_store.read_upload(blobs, used) == PDF
    assert uploads.clean_up(db, blobs, later, timedelta(hours=24)) == {"deleted": 0, "kept": 0, "released": 0}


def test_releasing_uploads_gives_back_only_the_claims_of_that_dossier(intake_app, intake_client):
    db = intake_app.extensions["db"]
    mine, theirs = upload(intake_client).json["id"], upload(intake_client).json["id"]
    assert intake_store.claim_uploads(db, [mine], "000.21.26.H06-991231-0001")
    assert intake_store.claim_uploads(db, [theirs], "000.21.26.H06-991231-0002")
    intake_store.release_uploads(db, [mine, theirs], "000.21.26.H06-991231-0001")
    assert not intake_store.is_claimed(db, mine)
    assert intake_store.is_claimed(db, theirs), "another dossier's claim stays"


# -- ambiguous store failures ------------------------------------------------------------------------


def fail_after_write(monkeypatch):
    """Make the dossier's insert reach the real store, then raise as a dropped connection does."""
    real = intake_store.insert_dossier

    def written_then_lost(db, dossier, entries):
        real(db, dossier, entries)
        raise AutoReconnect("connection closed after the write")

    monkeypatch.setattr(intake_store, "insert_dossier", written_then_lost)


def test_a_store_error_after_the_dossier_is_written_answers_201_and_the_retry_gets_the_same_one(
    intake_app, intake_client, intake_catalogue, monkeypatch
):
    db = intake_app.extensions["db"]
    pdf = upload(intake_client).json["id"]
    headers = {"Idempotency-Key": "k-ambiguous"}
    fail_after_write(monkeypatch)
    first = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    assert first.status_code == 201, first.json
    monkeypatch.undo()
    retry = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    assert retry.status_code == 201 and retry.json == first.json
    assert db.dossiers.count_documents({}) == 1
    assert intake_store.get_uploads(db, [pdf])[pdf]["attached_to"] == first.json["code"], "never released"


def test_when_the_store_cannot_tell_the_key_and_claims_stay_and_the_retry_gets_the_dossier(
    intake_app, intake_client, intake_catalogue, monkeypatch
):
    db = intake_app.extensions["db"]
    pdf = upload(intake_client).json["id"]
    headers = {"Idempotency-Key": "k-unknown"}
    fail_after_write(monkeypatch)

    def unreachable(db, code):
        raise AutoReconnect("still unreachable")

    monkeypatch.setattr(intake_store, "dossier_exists", unreachable)
    first = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    assert first.status_code == 503
    monkeypatch.undo()
    [stored] = list(db.dossiers.find({}, {"_id": 1}))
    assert intake_store.get_uploads(db, [pdf])[pdf]["attached_to"] == stored["_id"], "no upload released"
    assert db.idempotency_keys.find_one({"_id": "k-unknown"})["code"] == stored["_id"]
    retry = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    assert retry.status_code == 201, retry.json
    assert retry.json["code"] == stored["_id"] and db.dossiers.count_documents({}) == 1


def test_an_insert_the_store_did_not_apply_gives_back_the_key_and_the_files(
    intake_app, intake_client, intake_catalogue, monkeypatch
):
    db = intake_app.extensions["db"]
    pdf = upload(intake_client).json["id"]
    headers = {"Idempotency-Key": "k-lost"}

    def lost(db, dossier, entries):
        raise AutoReconnect("connection closed before the write")

    monkeypatch.setattr(intake_store, "insert_dossier", lost)
    assert intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers).status_code == 503
    monkeypatch.undo()
    assert db.idempotency_keys.count_documents({}) == 0 and db.upload_claims.count_documents({}) == 0
    retry = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    assert retry.status_code == 201 and db.dossiers.count_documents({}) == 1


def test_a_dossier_stored_despite_a_store_error_still_sends_its_event_once(
    platform, intake_app, intake_client, intake_catalogue, monkeypatch
):
    ensure_topics(platform.bootstrap, topic_specs_for("intake"))
    db = intake_app.extensions["db"]
    pdf = upload(intake_client).json["id"]
    headers = {"Idempotency-Key": "k-stored"}
    fail_after_write(monkeypatch)
    first = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    monkeypatch.undo()
    assert first.status_code == 201, first.json
    code = first.json["code"]
    assert db.dossiers.find_one({"_id": code})[PENDING] is True, "its one write carries the flag"
    retry = intake_client.post("/api/v1/dossiers", json=filing(pdf), headers=headers)
    assert retry.status_code == 201 and retry.json == first.json and db.dossiers.count_documents({}) == 1

    [event_id] = [entry["id"] for entry in db.dossiers.find_one({"_id": code})["outbox"]]
    sender = relay(platform, db)
    assert run_until_true(
        lambda: sender.relay_once() >= 0 and not db.dossiers.find_one({"_id": code})[PENDING]
    )
    records = read_topic(platform.bootstrap, Topics.INTAKE_DOSSIERS.name, expect=1, timeout=20)
    assert [decode(r.value)["subject"] for r in records if decode(r.value)["id"] == event_id] == [code]


def run_until_true(step, attempts=20):
    for _ in range(attempts):
        try:
            if step():
                return True
        except Exception:
            continue
    return False


# -- housekeeping -----------------------------------------------------------------------------------


def test_housekeeping_drains_a_backlog_larger_than_a_batch_in_one_run(intake_app):
    db, blobs = intake_app.extensions["db"], intake_app.extensions["blobs"]
    for n in range(250):
        intake_store.save_upload(
            db, blobs, f"old{n:04d}", PDF, {"size": len(PDF), "content_type": "pdf", "sha256": "0"}
        )
    later = datetime.now(UTC) + timedelta(hours=25)
    counts = uploads.clean_up(db, blobs, later, timedelta(hours=24))
    assert counts["deleted"] == 250
    assert db.uploads.count_documents({}) == 0
    assert not any(intake_store.read_upload(blobs, f"old{n:04d}") for n in range(250)), "bytes gone"
    # Housekeeping's own claims go once no filing that saw the uploads can still be running.
    uploads.clean_up(db, blobs, later + timedelta(hours=2), timedelta(hours=24))
    assert db.upload_claims.count_documents({}) == 0


def test_a_filing_that_loses_its_file_to_housekeeping_is_422_and_gets_no_dossier(
    intake_app, intake_client, intake_catalogue, monkeypatch
):
    db = intake_app.extensions["db"]
    pdf = upload(intake_client).json["id"]
    # The filing read the upload's record (still there, unattached)...
    seen = intake_store.get_uploads(db, [pdf])
    # ...then housekeeping removed the expired upload before the filing claimed it.
    blobs = intake_app.extensions["blobs"]
    later = datetime.now(UTC) + timedelta(hours=25)
    assert uploads.clean_up(db, blobs, later, timedelta(hours=24))["deleted"] == 1
    reads = iter([seen])
    real_get_uploads = intake_store.get_uploads
    # The filing's check sees the record as it was; the explanation of the refused claim reads anew.
    monkeypatch.setattr(
        intake_store,
        "get_uploads",
        lambda db, ids, **kw: next(reads, None) or real_get_uploads(db, ids, **kw),
    )
    response = intake_client.post("/api/v1/dossiers", json=filing(pdf))
    assert response.status_code == 422, response.json
    assert "hết hạn" in str(response.json["errors"]["json"]["documents"])
    assert db.dossiers.count_documents({}) == 0
