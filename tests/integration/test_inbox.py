"""Idempotency helpers against the real Mongo-protocol server."""

from datetime import UTC, datetime, timedelta

import pytest

from eventkit.inbox import ProcessedEvents, apply_newer, apply_once

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
