"""The public procedure list's rows (pymongo, beside store.py): one row per procedure and filter set.

FerretDB seeks an index only for equality on its leading fields (docs/architecture.md "Stores"),
and a procedure's receiving units are an array, which no index serves. So each procedure is
written once for every combination of the filters the list offers (field, level, online mode,
receiving unit; each one set or left open): 8 × (1 + its receiving units) rows, each keyed by
`facet`, the filters it answers. Every listing, whatever its filters, is then one equality on
the index `(facet, sort_key)` and reads only the procedures it shows, never the catalogue.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError

from eventkit.mongo import Db
from eventkit.text import without_diacritics

PROCEDURE_LISTING = "procedure_listing"
ANY = "*"
FILTERS = ("field", "level", "online_mode", "unit")
# What a row of the list shows, copied from the procedure so that a page reads no other document.
SUMMARY_FIELDS = ("name", "field", "level", "online_mode", "processing_time", "same_day", "receiving_units")


def fold(text: str) -> str:
    """Lower case without diacritics (`đ` as `d`): the key the list sorts and matches names by."""
    return without_diacritics(text).lower()


def facet_key(field: str | None, level: str | None, online_mode: str | None, unit: str | None) -> str:
    return json.dumps([v or ANY for v in (field, level, online_mode, unit)], ensure_ascii=False)


def ensure_indexes(db: Db) -> None:
    db[PROCEDURE_LISTING].create_index([("facet", ASCENDING), ("sort_key", ASCENDING)])
    db[PROCEDURE_LISTING].create_index([("code", ASCENDING)])


def summary(procedure: dict[str, Any]) -> dict[str, Any]:
    """What a row of the list shows of `procedure` (the stored version)."""
    return {
        "code": procedure.get("code") or procedure.get("_id"),
        "version": procedure.get("version"),
        **{name: procedure.get(name) for name in SUMMARY_FIELDS},
    }


def listing_rows(code: str, procedure: dict[str, Any]) -> list[dict[str, Any]]:
    summary = {name: procedure.get(name) for name in SUMMARY_FIELDS}
    sort_key = f"{fold(procedure.get('name') or '')}\x00{code}"
    units = [None, *sorted(set(procedure.get("receiving_units") or []))]
    rows = []
    for field, level, mode in itertools.product(
        (None, procedure.get("field")), (None, procedure.get("level")), (None, procedure.get("online_mode"))
    ):
        for unit in units:
            facet = facet_key(field, level, mode, unit)
            rows.append(
                {
                    "_id": f"{facet}{code}@{procedure.get('version')}",
                    "facet": facet,
                    "sort_key": sort_key,
                    "code": code,
                    "version": procedure.get("version"),
                    **summary,
                }
            )
    return rows


def refresh_procedure(db: Db, code: str, procedure: dict[str, Any] | None) -> None:
    """Write the rows of the stored version of `code`, then remove the rows of other versions.

    Rows are keyed by version and written from what the projection holds, so a record delivered
    twice or late writes nothing new; while both versions' rows exist, readers keep the newer.
    """
    coll = db[PROCEDURE_LISTING]
    rows = listing_rows(code, procedure) if procedure else []
    if rows:
        try:
            coll.insert_many(rows, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise  # anything but rows already written by an earlier delivery
    current = procedure.get("version") if procedure else None
    coll.delete_many({"code": code, "version": {"$ne": current}})


def latest_only(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    newest: dict[str, int] = {}
    for row in rows:
        newest[row["code"]] = max(newest.get(row["code"], 0), row.get("version") or 0)
    return [r for r in rows if (r.get("version") or 0) == newest[r["code"]]]


def count_listed(db: Db, facet: str) -> int:
    return db[PROCEDURE_LISTING].count_documents({"facet": facet})


def find_listed(db: Db, facet: str, skip: int = 0, limit: int = 0) -> list[dict[str, Any]]:
    cursor = db[PROCEDURE_LISTING].find({"facet": facet}).sort("sort_key", ASCENDING).skip(skip)
    if limit:
        cursor = cursor.limit(limit)
    return latest_only(list(cursor))
