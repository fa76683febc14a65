"""The store answers a filter from an index, so a lookup costs what it finds, not the collection.

Every request path reads and conditionally updates documents by `_id` alone or `_id` plus a
condition (`{_id: code, status: {$nin: [...]}}`); work queues, statistics and registers filter
on the leading fields of other indexes. FerretDB 1.24 as released scans the whole table for all
of these; the build from `deploy/local/install.sh` carries the fixes
(`deploy/local/ferretdb/sqlite-id-index.patch`, `sqlite-index-pushdown.patch`). This fails if
either patch is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson.int64 import Int64
from pymongo import ASCENDING

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


# --- Other indexes --------------------------------------------------------------------------------
#
# `deploy/local/ferretdb/sqlite-index-pushdown.patch` lets an index made with `createIndexes` answer a
# filter with equality on its leading fields (and a range bounded on both sides on the next one).
# The handler still applies the whole filter, so what the index returns must hold every matching
# document: each result below is compared with MongoDB's semantics computed here, in Python.

UNITS = [f"000.00.{n:02d}.H01" for n in range(100)]
STATES = [f"state-{n}" for n in range(10)]
START = datetime(2026, 1, 5, tzinfo=UTC)
QUEUE_INDEX = "unit_1_state_1_due_at_1"


def kind(value: Any) -> str:
    """MongoDB's comparison class of a value: only values of one class compare or are equal."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime):
        return "date"
    return type(value).__name__


def satisfies(value: Any, op: str, operand: Any) -> bool:
    if kind(value) != kind(operand):
        return False
    return {
        "$eq": value == operand,
        "$gt": value > operand,
        "$gte": value >= operand,
        "$lt": value < operand,
        "$lte": value <= operand,
    }[op]


def matches(document: dict[str, Any], filter: dict[str, Any]) -> bool:
    """MongoDB's answer for a filter of top-level equalities and comparisons: a condition on a
    field holding an array holds if one element satisfies it (each condition on its own)."""
    for field, condition in filter.items():
        if field not in document:
            return False
        value = document[field]
        values = value if isinstance(value, list) else [value]
        if not (isinstance(condition, dict) and condition and next(iter(condition)).startswith("$")):
            condition = {"$eq": condition}
        for op, operand in condition.items():
            if not any(satisfies(v, op, operand) for v in values):
                return False
    return True


def explain(db: Db, collection: str, filter: dict[str, Any], sort: dict[str, int] | None) -> dict[str, Any]:
    command: dict[str, Any] = {"find": collection, "filter": filter}
    if sort:
        command["sort"] = sort
    return db.command("explain", command)


# How SQLite shows the conditions an index seek uses (`>`/`<` stand for either bound).
EQUAL = "<expr>=?"
BETWEEN = "<expr>>? AND <expr><?"


def seeks_only(
    db: Db,
    collection: str,
    index: str,
    filter: dict[str, Any],
    sort: dict[str, int] | None = None,
    *,
    seek: str = "",
) -> bool:
    """Whether the store answers `filter` by seeking `index` alone, without reading the table,
    one of its seeks on the conditions `seek` (SQLite's spelling; not checked on MongoDB)."""
    answer = explain(db, collection, filter, sort)
    planner = answer["queryPlanner"]
    if "Plan" not in planner:  # MongoDB
        text = repr(planner["winningPlan"])
        return "IXSCAN" in text and "COLLSCAN" not in text and index in text
    details = [line.split("detail=", 1)[1] for line in planner["Plan"]]
    reads = [d for d in details if d.startswith(("SCAN ", "SEARCH "))]
    return (
        answer["filterPushdown"] is True
        and bool(reads)
        and all(d.startswith("SEARCH ") and f"_{index} " in d for d in reads)
        and (not seek or any(d.endswith(f"({seek})") for d in reads))
    )


def queue_document(n: int) -> dict[str, Any]:
    return {
        "_id": f"H{n:05d}",
        "unit": UNITS[n % 100],
        "state": STATES[n // 100 % 10],
        "due_at": START + timedelta(hours=n),
    }


@pytest.fixture(scope="module")
def queue_documents() -> list[dict[str, Any]]:
    # Each (unit, state) pair holds 20 of the 20,000 documents.
    return [queue_document(n) for n in range(20_000)]


@pytest.fixture
def queue(mongo_db: Db, queue_documents: list[dict[str, Any]]) -> Db:
    mongo_db.dossiers.create_index(
        [("unit", ASCENDING), ("state", ASCENDING), ("due_at", ASCENDING)], name=QUEUE_INDEX
    )
    mongo_db.dossiers.insert_many([dict(d) for d in queue_documents])
    return mongo_db


# Filters, each with the conditions its main index seek must use.
QUEUE_FILTERS = {
    "unit-state": (
        {"unit": UNITS[7], "state": STATES[3]},
        f"{EQUAL} AND {EQUAL}",
    ),
    "unit-state-due-range": (
        {
            "unit": UNITS[7],
            "state": STATES[3],
            "due_at": {"$gte": START + timedelta(hours=5_000), "$lt": START + timedelta(hours=15_000)},
        },
        f"{EQUAL} AND {EQUAL} AND {BETWEEN}",
    ),
    "unit-state-due-range-inclusive": (
        {
            "unit": UNITS[7],
            "state": {"$eq": STATES[3]},
            "due_at": {"$gt": START + timedelta(hours=5_307), "$lte": START + timedelta(hours=15_307)},
        },
        f"{EQUAL} AND {EQUAL} AND {BETWEEN}",
    ),
    "unit": ({"unit": UNITS[42]}, EQUAL),
}


@pytest.mark.parametrize("name", list(QUEUE_FILTERS))
def test_a_queue_is_read_from_its_index_in_due_order(
    queue: Db, queue_documents: list[dict[str, Any]], name: str
) -> None:
    filter, seek = QUEUE_FILTERS[name]
    expected = sorted((d for d in queue_documents if matches(d, filter)), key=lambda d: d["due_at"])
    assert expected  # the filter selects something, so an empty answer cannot pass

    found = list(queue.dossiers.find(filter).sort("due_at", ASCENDING))

    assert [d["_id"] for d in found] == [d["_id"] for d in expected]
    assert seeks_only(queue, "dossiers", QUEUE_INDEX, filter, {"due_at": 1}, seek=seek), explain(
        queue, "dossiers", filter, {"due_at": 1}
    )


def test_the_queue_of_a_unit_and_state_holds_its_twenty_documents(
    queue: Db, queue_documents: list[dict[str, Any]]
) -> None:
    filter, _ = QUEUE_FILTERS["unit-state"]
    assert len([d for d in queue_documents if matches(d, filter)]) == 20
    assert queue.dossiers.count_documents(filter) == 20


def test_statistics_over_a_period_are_read_from_the_index(
    queue: Db, queue_documents: list[dict[str, Any]]
) -> None:
    # An aggregation's leading $match is pushed down like a find's filter.
    period = {"$gte": START + timedelta(hours=2_000), "$lt": START + timedelta(hours=12_000)}
    match = {"unit": UNITS[7], "due_at": period}
    pipeline: list[dict[str, Any]] = [
        {"$match": match},
        {"$group": {"_id": "$state", "count": {"$sum": 1}}},
    ]
    expected: dict[str, int] = {}
    for d in queue_documents:
        if matches(d, match):
            expected[d["state"]] = expected.get(d["state"], 0) + 1
    assert sum(expected.values()) == 100

    found = {g["_id"]: g["count"] for g in queue.dossiers.aggregate(pipeline)}

    assert found == expected
    answer = queue.command("explain", {"aggregate": "dossiers", "pipeline": pipeline, "cursor": {}})
    if "Plan" in answer["queryPlanner"]:
        assert answer["filterPushdown"] is True, answer
        assert any(f"_{QUEUE_INDEX} (<expr>=?)" in line for line in answer["queryPlanner"]["Plan"])


def test_a_one_sided_range_is_read_from_the_index_of_its_equalities(
    queue: Db, queue_documents: list[dict[str, Any]]
) -> None:
    # A one-sided range is left to the handler; the equalities before it still use the index.
    filter = {"unit": UNITS[7], "state": STATES[3], "due_at": {"$lt": START + timedelta(hours=9_000)}}
    expected = sorted(d["_id"] for d in queue_documents if matches(d, filter))
    assert len(expected) == 9

    assert sorted(d["_id"] for d in queue.dossiers.find(filter)) == expected
    assert seeks_only(queue, "dossiers", QUEUE_INDEX, filter, seek=f"{EQUAL} AND {EQUAL}")


def test_a_filter_on_a_field_without_an_index_reads_the_table_and_is_still_right(
    queue: Db, queue_documents: list[dict[str, Any]]
) -> None:
    filter = {"due_at": START + timedelta(hours=1_234)}
    found = list(queue.dossiers.find(filter))
    assert [d["_id"] for d in found] == ["H01234"]
    assert not seeks_only(queue, "dossiers", QUEUE_INDEX, filter)
    # Neither does a field that is not the index's leading one.
    filter = {"state": STATES[3]}
    assert queue.dossiers.count_documents(filter) == 2_000
    assert not seeks_only(queue, "dossiers", QUEUE_INDEX, filter)


# Values that MongoDB compares by value or element, not by how they are written: the pushed-down
# condition compares the stored text, so each of these must still be found.
ODD_VALUES: list[Any] = [
    'quote " inside',
    "back\\slash",
    "<tag> & more",
    "Sở Tư pháp tỉnh Hà Giang",
    "emoji 😀",
    "tab\tand\nnewline",
    "",
    " leading space",
    "line\u2028separator",
    5,
    Int64(5),
    5.0,
    5.5,
    0,
    -0.0,
    Int64(2**60),
    float(2**60),
    Int64(-7),
    True,
    False,
    "5",
    [5, 6],
    ["Sở Tư pháp tỉnh Hà Giang", "other"],
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(1990, 1, 1, tzinfo=UTC),
    datetime(1960, 1, 1, tzinfo=UTC),
    datetime(2300, 1, 1, tzinfo=UTC),
    [datetime(1990, 1, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)],
    {"nested": 5},
    None,
]


@pytest.fixture
def odd(mongo_db: Db) -> tuple[Db, list[dict[str, Any]]]:
    mongo_db.odd.create_index([("unit", ASCENDING), ("value", ASCENDING)], name="unit_value")
    documents = [
        {"_id": n, "unit": unit, "value": value}
        for n, (unit, value) in enumerate(
            [("U1", v) for v in ODD_VALUES]
            + [(["U1", "U2"], 5), (["U2"], 5), ("U2", 5), (["U1"], datetime(2026, 3, 1, tzinfo=UTC))]
        )
    ]
    mongo_db.odd.insert_many([dict(d) for d in documents])
    # What the store gives back (a -0.0 may come back as 0) is what the filters are checked on.
    return mongo_db, list(mongo_db.odd.find().sort("_id", ASCENDING))


ODD_FILTERS: list[dict[str, Any]] = [
    *({"unit": "U1", "value": v} for v in ODD_VALUES if not isinstance(v, list | dict) and v is not None),
    {"unit": "U2", "value": 5},
    {"unit": "U1", "value": {"$gte": 3, "$lt": 9}},
    {"unit": "U1", "value": {"$gt": 5, "$lte": 6}},
    {"unit": "U1", "value": {"$gte": 5.0, "$lte": Int64(5)}},
    {"unit": "U1", "value": {"$gte": 4.5, "$lt": 9}},
    {"unit": "U1", "value": {"$gte": 1, "$lt": 10}},
    {
        "unit": "U1",
        "value": {"$gte": datetime(2026, 1, 1, tzinfo=UTC), "$lt": datetime(2027, 1, 1, tzinfo=UTC)},
    },
    {
        "unit": "U1",
        "value": {"$gt": datetime(2002, 1, 1, tzinfo=UTC), "$lte": datetime(2026, 3, 1, tzinfo=UTC)},
    },
    {"unit": "U1", "value": {"$lt": datetime(2027, 1, 1, tzinfo=UTC)}},
    {"unit": "U1", "value": {"$gte": datetime(2001, 1, 1, tzinfo=UTC)}},
    {
        "unit": "U1",
        "value": {"$gte": datetime(1950, 1, 1, tzinfo=UTC), "$lt": datetime(2400, 1, 1, tzinfo=UTC)},
    },
    {"unit": {"$eq": "U2"}},
]


@pytest.mark.parametrize("filter", ODD_FILTERS, ids=repr)
def test_values_written_in_more_than_one_way_are_all_found(
    odd: tuple[Db, list[dict[str, Any]]], filter: dict[str, Any]
) -> None:
    db, documents = odd
    expected = [d["_id"] for d in documents if matches(d, filter)]
    assert expected, "the filter selects something, so an empty answer cannot pass"

    assert sorted(d["_id"] for d in db.odd.find(filter)) == expected
    assert db.odd.count_documents(filter) == len(expected)


@pytest.mark.parametrize(
    ("filter", "seek"),
    [
        ({"unit": "U1", "value": "Sở Tư pháp tỉnh Hà Giang"}, f"{EQUAL} AND {EQUAL}"),
        ({"unit": "U1", "value": 5}, f"{EQUAL} AND {EQUAL}"),
        ({"unit": "U1", "value": True}, f"{EQUAL} AND {EQUAL}"),
        ({"unit": "U1", "value": datetime(2026, 3, 1, tzinfo=UTC)}, f"{EQUAL} AND {EQUAL}"),
        ({"unit": "U1", "value": {"$gte": 3, "$lt": 9}}, f"{EQUAL} AND {BETWEEN}"),
        (
            {
                "unit": "U1",
                "value": {
                    "$gte": datetime(2026, 1, 1, tzinfo=UTC),
                    "$lt": datetime(2027, 1, 1, tzinfo=UTC),
                },
            },
            f"{EQUAL} AND {BETWEEN}",
        ),
        # Left to the handler: what comes after the unit is not pushed down.
        ({"unit": "U1", "value": {"$gte": 4.5, "$lt": 9}}, EQUAL),
        ({"unit": "U1", "value": {"$gte": datetime(2001, 1, 1, tzinfo=UTC)}}, EQUAL),
        ({"unit": "U1", "value": 0}, EQUAL),
        ({"unit": "U1", "value": None}, EQUAL),
    ],
    ids=repr,
)
def test_pushed_down_conditions_seek_the_index(
    odd: tuple[Db, list[dict[str, Any]]], filter: dict[str, Any], seek: str
) -> None:
    db, _ = odd
    assert seeks_only(db, "odd", "unit_value", filter, seek=seek), explain(db, "odd", filter, None)
