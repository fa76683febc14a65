"""The sender's scan for due notifications on the real store: a backlog is drained oldest first,
each once, reading about a batch per batch rather than the backlog; what lands behind the scan
(a late write, a notification left unsent) is still found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify import store
from notify.service.due_scan import DueScan

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
BATCH = 50


@pytest.fixture
def db(mongo_db):
    store.ensure_indexes(mongo_db)
    return mongo_db


@pytest.fixture
def reads(monkeypatch):
    """How many documents the scan's window queries returned, counted around the real store."""
    counted = {"documents": 0, "queries": 0}
    window = store.due_window

    def counting(*args, **kwargs):
        found = window(*args, **kwargs)
        counted["documents"] += len(found)
        counted["queries"] += 1
        return found

    monkeypatch.setattr(store, "due_window", counting)
    return counted


def add(db, name: str, send_after: datetime, status: str = "created") -> None:
    db.notifications.insert_one({"_id": name, "status": status, "send_after": send_after})


def handle(db, notifications) -> None:
    """What the sender does with a batch: each leaves the due statuses."""
    for notification in notifications:
        db.notifications.update_one({"_id": notification["_id"]}, {"$set": {"status": "delivered"}})


def test_a_backlog_is_drained_oldest_first_each_once_reading_about_a_batch_each_time(db, reads):
    count = 1000
    start = NOW - timedelta(minutes=3)
    db.notifications.insert_many(
        [
            {"_id": f"n-{n:04d}", "status": "created", "send_after": start + timedelta(milliseconds=90 * n)}
            for n in range(count)
        ]
    )
    scan = DueScan()
    drained: list[str] = []
    while batch := scan.due(db, NOW, BATCH):
        assert len(batch) <= BATCH
        drained.extend(n["_id"] for n in batch)
        handle(db, batch)
    assert drained == [f"n-{n:04d}" for n in range(count)]
    # Reading everything due for each batch would have read about count² / (2 * BATCH) = 10,000.
    assert reads["documents"] < 2.5 * count, reads


def test_what_a_batch_left_due_is_returned_again(db):
    for n in range(3):
        add(db, f"n-{n}", NOW - timedelta(seconds=30 - n))
    scan = DueScan()
    first = scan.due(db, NOW, 2)
    assert [n["_id"] for n in first] == ["n-0", "n-1"]
    handle(db, first[:1])  # n-1 was not sent (rate limit, relay gone): still due
    assert [n["_id"] for n in scan.due(db, NOW, 2)] == ["n-1", "n-2"]


def test_a_notification_written_behind_the_scan_within_the_margin_is_found(db):
    add(db, "early", NOW - timedelta(seconds=10))
    scan = DueScan(margin=timedelta(minutes=5))
    handle(db, scan.due(db, NOW, BATCH))
    later = NOW + timedelta(seconds=30)
    assert scan.due(db, later, BATCH) == []
    # A write that took a while: its send_after (its writer's clock) lies behind where the scan is.
    add(db, "late", NOW + timedelta(seconds=5))
    assert [n["_id"] for n in scan.due(db, later + timedelta(seconds=1), BATCH)] == ["late"]


def test_one_older_than_the_floor_is_found_at_the_next_rescan(db):
    scan = DueScan(margin=timedelta(minutes=5), rescan=timedelta(hours=1))
    assert scan.due(db, NOW, BATCH) == []
    # A writer whose clock is far behind: below the floor, out of the windows' reach...
    add(db, "skewed", NOW - timedelta(minutes=20))
    assert scan.due(db, NOW + timedelta(minutes=1), BATCH) == []
    # ...until the floor is found again.
    assert [n["_id"] for n in scan.due(db, NOW + timedelta(hours=1), BATCH)] == ["skewed"]


def test_created_come_before_those_due_again_and_the_future_is_left(db):
    add(db, "retry", NOW - timedelta(minutes=1), status="temporary-failure")
    add(db, "new", NOW - timedelta(minutes=2))
    add(db, "not-yet", NOW + timedelta(minutes=1), status="temporary-failure")
    add(db, "sent", NOW - timedelta(minutes=3), status="delivered")
    assert [n["_id"] for n in DueScan().due(db, NOW, BATCH)] == ["new", "retry"]
