"""Every read and write of notify's database (the only module that uses pymongo)."""

from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from eventkit.config import ServiceConfig
from eventkit.mongo import Db
from eventkit.mongo import connect as mongo_connect
from eventkit.outbox import ensure_outbox_index

# Aggregates that carry an outbox of events for the worker's relay to publish.
OUTBOX_COLLECTIONS: list[str] = ["notifications"]


def connect(config: ServiceConfig) -> Db:
    return mongo_connect(config.mongo_url, config.mongo_db, app_name=config.service)


def ensure_indexes(db: Db) -> None:
    for name in OUTBOX_COLLECTIONS:
        ensure_outbox_index(db[name])
    ensure_register_indexes(db)


# -- outgoing register (sổ đăng ký văn bản đi) --------------------------------------------------
# `register` (`_id` = `<unit>|<year>|<number:06d>`): one entry per number given, naming its letter
# (unique index on `letter_id`, so a letter never holds two numbers); `register_counters` (`_id` =
# `<unit>|<year>`): the highest number known to be given, a hint where to start.


def ensure_register_indexes(db: Db) -> None:
    db.register.create_index([("letter_id", ASCENDING)], name="letter_id", unique=True)


def register_entry_id(unit: str, year: int, number: int) -> str:
    return f"{unit}|{year}|{number:06d}"


def register_number_of(db: Db, letter_id: str) -> int | None:
    entry = db.register.find_one({"letter_id": letter_id}, {"number": 1})
    return None if entry is None else int(entry["number"])


def take_register_number(db: Db, unit: str, year: int, letter_id: str, at: datetime) -> int:
    """The number of `letter_id` in `unit`'s register of `year`: the one it holds, or the next one.

    A number is given by inserting its entry, whose `_id` no two writers can both insert, so two
    letters never share one; the counter is only a hint and may lag (a writer that stopped after
    the insert), in which case the next writer finds the number taken and moves on: numbers are
    given in order with no gaps, since a failed insert gives nothing.
    """
    key = f"{unit}|{year}"
    held = register_number_of(db, letter_id)
    if held is not None:
        return held
    counter = db.register_counters.find_one({"_id": key})
    number = (int(counter["last"]) if counter else 0) + 1
    while True:
        entry = {"unit": unit, "year": year, "number": number, "letter_id": letter_id, "at": at}
        try:
            db.register.insert_one({"_id": register_entry_id(unit, year, number), **entry})
            break
        except DuplicateKeyError:
            # Either the number is taken (try the next) or another writer numbered this letter.
            held = register_number_of(db, letter_id)
            if held is not None:
                return held
            number += 1
    try:
        db.register_counters.update_one({"_id": key}, {"$max": {"last": number}}, upsert=True)
    except DuplicateKeyError:
        db.register_counters.update_one({"_id": key}, {"$max": {"last": number}})
    return number
