"""The public catalogue as the pages show it: filters, paging, labels (no Flask, no pymongo)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventkit.mongo import Db
from portal import listing, store
from portal.search.store_index import MAX_LIMIT, StoreSearch

PAGE_SIZE = 20
# A search shows its best matches only, on as many pages as they fill.
MAX_RESULTS = MAX_LIMIT
MAX_QUERY = 200
LEVELS = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
ONLINE_MODES = {
    "full_online": "Dịch vụ công trực tuyến toàn trình",
    "partial_online": "Dịch vụ công trực tuyến một phần",
    "counter_only": "Nộp trực tiếp tại Bộ phận Một cửa",
}
ONLINE_FILING = frozenset({"full_online", "partial_online"})
TIME_UNITS = {"working_days": "ngày làm việc", "working_hours": "giờ làm việc", "calendar_days": "ngày"}
OPTIONS_KEPT_SECONDS = 30.0


class BadFilter(ValueError):
    """A filter the list does not offer: the field named, the reason in Vietnamese."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Filters:
    q: str = ""
    field: str = ""
    level: str = ""
    online_mode: str = ""
    unit: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def text(name: str, limit: int = 100) -> str:
            value = (args.get(name) or "").strip()
            if len(value) > limit:
                raise BadFilter(name, f"dài quá {limit} ký tự")
            return value

        level, mode = text("level"), text("online_mode")
        if level and level not in LEVELS:
            raise BadFilter("level", "không phải một cấp thực hiện")
        if mode and mode not in ONLINE_MODES:
            raise BadFilter("online_mode", "không phải một hình thức nộp")
        raw_page = text("page", 6) or "1"
        if not raw_page.isdigit() or int(raw_page) < 1:
            raise BadFilter("page", "phải là số trang từ 1 trở lên")
        return cls(text("q", MAX_QUERY), text("field"), level, mode, text("unit", 20), int(raw_page))

    @property
    def facet(self) -> str:
        return listing.facet_key(self.field, self.level, self.online_mode, self.unit)

    def search_fields(self) -> dict[str, str]:
        """These filters as the search index's fields (portal.search.sources.procedure_entry)."""
        return {
            "field": self.field,
            "level": self.level,
            "online_mode": self.online_mode,
            "receiving_units": self.unit,
        }

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of these filters with `changes`, leaving out what is not set."""
        values = {
            "q": self.q,
            "field": self.field,
            "level": self.level,
            "online_mode": self.online_mode,
            "unit": self.unit,
            "page": self.page,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass
class ProcedurePage:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def search_procedures(db: Db, filters: Filters) -> ProcedurePage:
    start = (filters.page - 1) * PAGE_SIZE
    if not filters.q:
        total = listing.count_listed(db, filters.facet)
        items = listing.find_listed(db, filters.facet, skip=start, limit=PAGE_SIZE)
    else:
        # The search index ranks (diacritics folded, one-letter typos); the page reads only its own
        # procedures, each by its code.
        wanted = {name: value for name, value in filters.search_fields().items() if value}
        hits = StoreSearch(db).search(filters.q, kinds=["procedure"], filters=wanted, limit=MAX_RESULTS)
        total = len(hits)
        found = (store.get_published(db, store.PROCEDURES, hit.id) for hit in hits[start : start + PAGE_SIZE])
        items = [listing.summary(procedure) for procedure in found if procedure]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return ProcedurePage(items=items, total=total, page=filters.page, pages=pages)


class FilterOptions:
    """The fields and receiving units the catalogue has, for the list's drop-downs (kept briefly)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kept: tuple[float, dict[str, Any]] | None = None

    def get(self, db: Db) -> dict[str, Any]:
        now = self._clock()
        if self._kept and now - self._kept[0] < OPTIONS_KEPT_SECONDS:
            return self._kept[1]
        rows = listing.find_listed(db, listing.facet_key(None, None, None, None))
        fields = sorted({r["field"] for r in rows if r.get("field")}, key=listing.fold)
        unit_codes = sorted({u for r in rows for u in r.get("receiving_units") or []})
        units = []
        for code in unit_codes:
            unit = store.get_published(db, store.UNITS, code)
            units.append({"code": code, "name": (unit or {}).get("name") or code})
        units.sort(key=lambda u: listing.fold(u["name"]))
        options = {
            "fields": fields,
            "units": units,
            "total": len(rows),
            "online": sum(1 for r in rows if r.get("online_mode") in ONLINE_FILING),
        }
        self._kept = (now, options)
        return options


def processing_time_text(procedure: dict[str, Any]) -> str:
    if procedure.get("same_day"):
        cutoff = procedure.get("same_day_cutoff")
        return f"Trong ngày (nhận trước {cutoff})" if cutoff else "Trong ngày"
    time_ = procedure.get("processing_time") or {}
    amount, unit = time_.get("amount"), TIME_UNITS.get(time_.get("unit", ""), "ngày làm việc")
    if amount is None:
        return "Chưa công bố"
    return f"{amount} {unit}"


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def fee_text(fee: dict[str, Any]) -> str:
    kind, amount = fee.get("kind"), fee.get("amount_vnd") or 0
    description = fee.get("description") or ""
    if kind == "exempt" or not amount:
        head = "Miễn phí"
    elif kind == "per_page":
        head = f"{money(amount)}/trang"
    else:
        head = money(amount)
    return f"{head}: {description}" if description else head


def offers_online_filing(procedure: dict[str, Any]) -> bool:
    return procedure.get("online_mode") in ONLINE_FILING
