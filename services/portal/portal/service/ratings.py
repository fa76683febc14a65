"""The citizen's rating of how a dossier was handled, once, after its result was returned.

Criteria and scale after domain practice (Decree 61/2018's evaluation chapter, a provincial portal's
criteria). Stored once per dossier (`ratings`, `_id` = code: a second try finds it) with nothing of
the person, then counted into the statistics counter of the dossier's unit and the month of the
rating by the once-only path (`store.add_to_counter`, applied key `<code>:rated`): `rated: 1` and
`rating_<level>: 1` of the overall criterion. The count is made from the stored rating, also on a
second try, so a crash between the two writes is mended by the next try.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from eventkit.mongo import Db, Document
from portal import store
from portal.service import statistics
from portal.service.dossiers import TZ, public_state

CRITERIA = {
    "overall": "Mức độ hài lòng chung về việc giải quyết hồ sơ",
    "timeliness": "Thời gian giải quyết so với thời hạn",
    "attitude": "Thái độ, tác phong của cán bộ",
    "convenience": "Sự thuận tiện khi thực hiện thủ tục",
}
LEVELS = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng", "dissatisfied": "Không hài lòng"}
OVERALL = "overall"


class BadRating(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("bad rating")
        self.errors = errors


@dataclass(frozen=True)
class Rated:
    stored_now: bool  # False: the dossier was rated before


def may_rate(doc: Document) -> bool:
    """Only a dossier whose result was returned is rated."""
    return public_state(doc) == "returned" and bool(doc.get("receiving_unit"))


def check_levels(chosen: Mapping[str, str]) -> dict[str, str]:
    """The level of every criterion; BadRating naming the ones missing or unknown."""
    errors = {name: "Hãy chọn một mức đánh giá." for name in CRITERIA if chosen.get(name) not in LEVELS}
    if errors:
        raise BadRating(errors)
    return {name: chosen[name] for name in CRITERIA}


def rate(db: Db, doc: Document, levels: Mapping[str, str], now: datetime | None = None) -> Rated:
    """Store the dossier's rating once and count it once."""
    now = now or datetime.now(TZ)
    code = str(doc["_id"])
    unit = str(doc["receiving_unit"])
    month = statistics.month_of(now)
    stored_now = store.insert_rating(
        db, {"_id": code, "unit": unit, "month": month, "rated_at": now, "levels": dict(levels)}
    )
    rating = store.get_rating(db, code)
    if rating is not None:
        count(db, rating)
    return Rated(stored_now=stored_now)


def count(db: Db, rating: Document) -> bool:
    """Add the rating to its unit's counter of its month (once, however often called)."""
    unit, month = str(rating["unit"]), str(rating["month"])
    level = rating["levels"][OVERALL]
    identity = {"unit": unit, "month": month, "year": int(month[:4])}
    increments = {"rated": 1, f"rating_{level}": 1}
    return store.add_to_counter(
        db, statistics.counter_id(unit, month), identity, increments, f"{rating['_id']}:rated"
    )
