"""Notify's queries are index seeks: the sender, the sweeper and the API read what they select,
not the collection (FerretDB's patched build and MongoDB alike)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify import store
from tests.integration.test_store_indexes import BETWEEN, EQUAL, explain

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(mongo_db):
    store.ensure_indexes(mongo_db)
    statuses = ["created", "sending", "delivered", "temporary-failure"]
    mongo_db.notifications.insert_many(
        [
            {
                "_id": f"n-{n}",
                "status": statuses[n % 4],
                "dossier": f"000.21.26.H06-231027-{n % 10:04d}",
                "created_at": NOW - timedelta(minutes=n),
                "send_after": NOW + timedelta(minutes=n - 30),
                "lease_until": NOW + timedelta(minutes=n - 30) if n % 4 == 1 else None,
            }
            for n in range(80)
        ]
    )
    return mongo_db


@pytest.mark.parametrize(
    ("index", "filter", "expected"),
    [
        ("status_send_after", store.due_filter("created", NOW), 8),
        ("status_send_after", store.due_filter("temporary-failure", NOW), 7),
        (
            "status_send_after",
            store.due_window_filter("created", NOW - timedelta(minutes=30), NOW, closed=True),
            8,
        ),
        (
            "status_send_after",
            store.due_window_filter(
                "created", NOW - timedelta(minutes=30), NOW - timedelta(minutes=10), closed=False
            ),
            5,
        ),
        ("status_lease_until", store.stuck_filter(NOW), 8),
        ("dossier_created_at", store.of_dossier_filter("000.21.26.H06-231027-0003"), 8),
    ],
    ids=["due-created", "due-again", "due-window-closed", "due-window-open", "stuck", "of-dossier"],
)
def test_each_query_seeks_its_index_and_finds_what_it_selects(db, index, filter, expected):
    assert db.notifications.count_documents(filter) == expected
    answer = explain(db, "notifications", filter, None)
    planner = answer["queryPlanner"]
    if "Plan" not in planner:  # MongoDB
        assert "IXSCAN" in repr(planner["winningPlan"]) and index in repr(planner["winningPlan"])
        return
    reads = [line.split("detail=", 1)[1] for line in planner["Plan"] if "detail=S" in line]
    # No table scan; the equality and the range seek the index. (The store seeks documents whose
    # `status` holds an array separately, on either index led by `status`.)
    assert reads and all(read.startswith("SEARCH ") for read in reads), reads
    assert any(f"_{index} ({EQUAL} AND {BETWEEN})" in read for read in reads), reads
