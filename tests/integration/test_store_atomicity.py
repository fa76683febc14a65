"""Single-document writes are atomic on the store, as MongoDB guarantees and the services rely on.

FerretDB as released reads the matching documents and writes them in a second step, so two
conditional updates of one document could both succeed (two officers both accepting a dossier);
the project's build (deploy/local/ferretdb/handler-atomic-writes.patch) holds a collection lock
across both steps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import ReturnDocument

pytestmark = pytest.mark.integration

WRITERS = 8
ROUNDS = 15


def at_once(work: Callable[[int], Any], writers: int = WRITERS) -> list[Any]:
    """Run `work(i)` in `writers` threads released together; their results in thread order."""
    barrier = threading.Barrier(writers)
    results: list[Any] = [None] * writers

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_of_concurrent_conditional_updates_of_one_document_exactly_one_matches(mongo_db):
    dossiers = mongo_db["dossiers"]
    for round_ in range(ROUNDS):
        code = f"D{round_}"
        dossiers.insert_one({"_id": code, "state": "submitted", "by": None})
        matched = at_once(
            lambda i, code=code: (
                dossiers.update_one(
                    {"_id": code, "state": "submitted"}, {"$set": {"state": "accepted", "by": i}}
                ).matched_count
            )
        )
        assert sorted(matched) == [0] * (WRITERS - 1) + [1], f"round {round_}: {matched}"
        winner = matched.index(1)
        assert dossiers.find_one({"_id": code})["by"] == winner


def test_concurrent_find_and_modify_increments_lose_nothing(mongo_db):
    counters = mongo_db["counters"]
    counters.insert_one({"_id": "c", "n": 0})

    def increment(_i: int) -> list[int]:
        seen = []
        for _ in range(25):
            after = counters.find_one_and_update(
                {"_id": "c"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
            )
            seen.append(after["n"])
        return seen

    values = [n for seen in at_once(increment) for n in seen]
    assert sorted(values) == list(range(1, WRITERS * 25 + 1)), "every increment saw its own value"
    assert counters.find_one({"_id": "c"})["n"] == WRITERS * 25


def test_of_concurrent_deletes_of_one_document_exactly_one_counts_it(mongo_db):
    keys = mongo_db["keys"]
    for round_ in range(ROUNDS):
        keys.insert_one({"_id": f"k{round_}", "held": True})
        deleted = at_once(lambda _i, r=round_: keys.delete_one({"_id": f"k{r}", "held": True}).deleted_count)
        assert sorted(deleted) == [0] * (WRITERS - 1) + [1], f"round {round_}: {deleted}"
