"""Notify's outgoing register on the real store: yearly per unit, no gaps, one number per letter,
unique under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from pymongo.errors import DuplicateKeyError

from notify import store

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(mongo_db):
    store.ensure_indexes(mongo_db)
    return mongo_db


def test_numbers_run_per_unit_and_year_and_a_letter_keeps_its_number(db):
    taken = [store.take_register_number(db, "09496", 2026, f"L-{n}", AT) for n in range(1, 4)]
    assert taken == [1, 2, 3]
    assert store.take_register_number(db, "09496", 2026, "L-2", AT) == 2, "asked again: the same number"
    assert store.take_register_number(db, "09499", 2026, "L-9", AT) == 1, "another unit has its own"
    assert store.take_register_number(db, "09496", 2027, "L-10", AT) == 1, "a new year starts again"
    assert store.take_register_number(db, "09496", 2026, "L-4", AT) == 4
    with pytest.raises(DuplicateKeyError):
        db.register.insert_one({"_id": "09496|2026|999999", "letter_id": "L-1", "number": 999999})


def test_a_counter_that_lags_never_gives_a_number_twice_nor_skips_one(db):
    for n in range(1, 6):
        store.take_register_number(db, "264", 2026, f"L-{n}", AT)
    # A writer stopped between its entry and the counter: the hint says less than what is given.
    db.register_counters.update_one({"_id": "264|2026"}, {"$set": {"last": 2}})
    assert store.take_register_number(db, "264", 2026, "L-6", AT) == 6
    numbers = sorted(e["number"] for e in db.register.find({"unit": "264", "year": 2026}))
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_concurrent_writers_give_each_letter_one_number_and_leave_no_gap(db):
    letters = [f"L-{n:03d}" for n in range(240)]
    results: dict[str, set[int]] = {letter: set() for letter in letters}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        # Every letter is numbered by two writers at once, each going through them in its own order.
        mine = letters[offset:] + letters[:offset]
        try:
            for letter in mine:
                number = store.take_register_number(db, "09496", 2026, letter, AT)
                with lock:
                    results[letter].add(number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 30,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert all(len(numbers) == 1 for numbers in results.values()), "one number per letter"
    given = sorted(n for numbers in results.values() for n in numbers)
    assert given == list(range(1, len(letters) + 1)), "no number twice, no gap"
    assert db.register.count_documents({"unit": "09496", "year": 2026}) == len(letters)
