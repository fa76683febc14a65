"""The store finds a document by `_id` through the index, so a lookup costs the same at any size.

Every request path reads and conditionally updates documents by `_id` alone or `_id` plus a
condition (`{_id: code, status: {$nin: [...]}}`). FerretDB 1.24 as released scans the whole
table for both; the build from `deploy/local/install.sh` carries the fix
(`deploy/local/ferretdb/sqlite-id-index.patch`). This fails if that patch is lost.
"""

from __future__ import annotations

from typing import Any

import pytest

from eventkit.mongo import Db


def plan(db: Db, collection: str, filter: dict[str, Any]) -> str:
    """The store's query plan for `find(filter)`, as text."""
    answer = db.command("explain", {"find": collection, "filter": filter})
    planner = answer["queryPlanner"]
    # FerretDB (SQLite) reports SQLite's plan lines; MongoDB reports a tree of stages.
    return " ".join(planner["Plan"]) if "Plan" in planner else repr(planner["winningPlan"])


def uses_index(db: Db, collection: str, filter: dict[str, Any]) -> bool:
    text = plan(db, collection, filter)
    return "USING INDEX" in text or ("COLLSCAN" not in text and "SCAN " not in text)


@pytest.fixture
def filled(mongo_db: Db) -> Db:
    mongo_db.dossiers.insert_many(
        [
            {"_id": f"000.00.00.H01-231027-{n:04d}", "status": "submitted" if n % 2 else "refused"}
            for n in range(60)
        ]
    )
    return mongo_db


@pytest.mark.parametrize(
    "filter",
    [
        {"_id": "000.00.00.H01-231027-0007"},
        {"_id": "000.00.00.H01-231027-0007", "status": {"$nin": ["refused", "withdrawn"]}},
    ],
    ids=["id", "id-and-condition"],
)
def test_lookup_by_id_uses_the_index(filled: Db, filter: dict[str, Any]) -> None:
    assert uses_index(filled, "dossiers", filter), plan(filled, "dossiers", filter)


def test_a_filter_without_id_is_seen_as_a_scan(filled: Db) -> None:
    # The check above can tell the two apart: a filter on an unindexed field scans.
    assert not uses_index(filled, "dossiers", {"status": "refused"})


def test_conditional_update_by_id_still_checks_the_condition(filled: Db) -> None:
    code = "000.00.00.H01-231027-0007"  # odd: submitted
    refused = "000.00.00.H01-231027-0008"
    finished = {"$nin": ["refused", "withdrawn"]}

    assert (
        filled.dossiers.update_one(
            {"_id": code, "status": finished}, {"$set": {"status": "withdrawn"}}
        ).matched_count
        == 1
    )
    assert (
        filled.dossiers.update_one(
            {"_id": refused, "status": finished}, {"$set": {"status": "withdrawn"}}
        ).matched_count
        == 0
    )
    assert filled.dossiers.find_one({"_id": refused})["status"] == "refused"
    assert filled.dossiers.count_documents({"_id": code, "status": "withdrawn"}) == 1
    assert filled.dossiers.delete_one({"_id": refused, "status": "submitted"}).deleted_count == 0
    assert filled.dossiers.find_one({"_id": refused}) is not None
