"""Idempotency helpers against the real Mongo-protocol server."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eventkit.inbox import ProcessedEvents, apply_newer, apply_newer_document, apply_once

pytestmark = pytest.mark.integration


def test_apply_once_applies_each_event_id_once_per_document(mongo_db):
    projection = mongo_db["projection"]
    assert apply_once(projection, "d1", {"$inc": {"n": 1}}, "e1", upsert=True)
    assert not apply_once(projection, "d1", {"$inc": {"n": 1}}, "e1", upsert=True)
    assert apply_once(projection, "d1", {"$inc": {"n": 1}, "$set": {"s": "x"}}, "e2")
    assert not apply_once(projection, "missing", {"$inc": {"n": 1}}, "e3"), "no upsert, no match"
    assert projection.find_one({"_id": "d1"}) == {
        "_id": "d1",
        "n": 2,
        "s": "x",
        "applied_events": ["e1", "e2"],
    }


def test_processed_events_are_per_group_and_pruned_by_age(mongo_db):
    notify = ProcessedEvents(mongo_db["processed_events"], "notify.intake-dossiers")
    portal = ProcessedEvents(mongo_db["processed_events"], "portal.intake-dossiers")
    notify.ensure_indexes()
    assert not notify.seen("e1")
    assert notify.mark("e1") and not notify.mark("e1")
    assert notify.seen("e1") and not portal.seen("e1")
    assert portal.mark("e1")
    assert notify.prune(datetime.now(UTC) - timedelta(days=1)) == 0
    assert notify.prune(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert not notify.seen("e1")


def test_apply_newer_applies_an_event_only_over_an_older_one(mongo_db):
    dossiers = mongo_db["dossiers"]
    dossiers.insert_one({"_id": "d1", "status": "submitted", "seen": 0})
    assert apply_newer(dossiers, "d1", {"$set": {"status": "accepted"}}, "seen", 1)
    assert apply_newer(dossiers, "d1", {"$set": {"status": "returned"}}, "seen", 5)
    assert not apply_newer(dossiers, "d1", {"$set": {"status": "in_progress"}}, "seen", 3), "late"
    assert not apply_newer(dossiers, "d1", {"$set": {"status": "returned"}}, "seen", 5), "again"
    assert dossiers.find_one({"_id": "d1"}) == {"_id": "d1", "status": "returned", "seen": 5}
    assert not apply_newer(dossiers, "missing", {"$set": {"status": "x"}}, "seen", 1)


def test_apply_newer_document_creates_applies_once_and_keeps_the_newer(mongo_db) -> None:
    copies = mongo_db[f"copies_{uuid.uuid4().hex[:8]}"]
    first = apply_newer_document(copies, "d1", {"$set": {"state": "submitted"}}, "a_seq", 1, {"b_seq": 0})
    assert first == {"_id": "d1", "state": "submitted", "a_seq": 1, "b_seq": 0}
    # A repeat, and an older event, change nothing and return None.
    assert apply_newer_document(copies, "d1", {"$set": {"state": "again"}}, "a_seq", 1, {"b_seq": 0}) is None
    # The other source's first event applies beside it; its on-insert fields are not used.
    other = apply_newer_document(copies, "d1", {"$set": {"unit": "264"}}, "b_seq", 4, {"a_seq": 0})
    assert other == {"_id": "d1", "state": "submitted", "a_seq": 1, "b_seq": 4, "unit": "264"}
    newer = apply_newer_document(copies, "d1", {"$set": {"state": "accepted"}}, "a_seq", 3, {"b_seq": 0})
    assert newer is not None and newer["state"] == "accepted"
    assert apply_newer_document(copies, "d1", {"$set": {"state": "old"}}, "a_seq", 2, {"b_seq": 0}) is None
    assert copies.find_one({"_id": "d1"})["state"] == "accepted"


def test_apply_newer_document_lets_the_update_win_over_its_on_insert_fields(mongo_db) -> None:
    copies = mongo_db[f"copies_{uuid.uuid4().hex[:8]}"]
    # Every source's sequence at 0 on insert, as the read models give them; the applied one and the
    # fields the update writes keep the update's value.
    on_insert = {"a_seq": 0, "b_seq": 0, "state": "none"}
    made = apply_newer_document(copies, "d2", {"$set": {"state": "submitted"}}, "a_seq", 2, on_insert)
    assert made == {"_id": "d2", "state": "submitted", "a_seq": 2, "b_seq": 0}
