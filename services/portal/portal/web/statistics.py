"""The statistics page (`/thong-ke`): a period's dossiers of one unit or all, in figures, tables
and server-drawn charts (no script)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for

from eventkit.mongo import Db
from eventkit.web import current_db
from portal import store
from portal.service import stats_report
from portal.service.stats_report import FIRST_YEAR, MAX_RANGE_MONTHS, Period
from portal.web import charts
from portal.web.catalogue import BadFilter
from portal.web.pages import absolute, blp, page
from webui import PageError

_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class StatsFilters:
    """The page's query string: `year` (with `month`, 1–12, for one month), or `from`/`to`
    (YYYY-MM) for a range of months; `unit` for one receiving unit."""

    period: Period
    unit: str = ""
    year: int = 0
    month: int = 0

    @classmethod
    def from_args(cls, args: Any, units: set[str], this_year: int) -> StatsFilters:
        def text(name: str, limit: int) -> str:
            value = (args.get(name) or "").strip()
            if len(value) > limit:
                raise BadFilter(name, f"dài quá {limit} ký tự")
            return value

        unit = text("unit", 40)
        if unit and unit not in units:
            raise BadFilter("unit", "không phải một đơn vị tiếp nhận hồ sơ")
        first, last = text("from", 7), text("to", 7)
        if first or last:
            for name, value in (("from", first), ("to", last)):
                if not value:
                    raise BadFilter(name, "cần cả tháng bắt đầu và tháng kết thúc (YYYY-MM)")
                if not _MONTH.fullmatch(value) or not 1 <= int(value[5:]) <= 12:
                    raise BadFilter(name, "phải là một tháng dạng YYYY-MM, ví dụ 2026-03")
                if not FIRST_YEAR <= int(value[:4]) <= this_year + 1:
                    raise BadFilter(name, f"năm phải từ {FIRST_YEAR} đến {this_year + 1}")
            if last < first:
                raise BadFilter("to", "tháng kết thúc phải sau tháng bắt đầu")
            try:
                period = Period.range(first, last)
            except ValueError:
                raise BadFilter("to", f"khoảng thời gian dài tối đa {MAX_RANGE_MONTHS} tháng") from None
            return cls(period, unit)
        raw_year, raw_month = text("year", 4) or str(this_year), text("month", 2)
        if not raw_year.isdigit() or not FIRST_YEAR <= int(raw_year) <= this_year + 1:
            raise BadFilter("year", f"phải là một năm từ {FIRST_YEAR} đến {this_year + 1}")
        year = int(raw_year)
        if not raw_month:
            return cls(Period.year(year), unit, year)
        if not raw_month.isdigit() or not 1 <= int(raw_month) <= 12:
            raise BadFilter("month", "phải là một tháng từ 1 đến 12")
        return cls(Period.month(year, int(raw_month)), unit, year, int(raw_month))

    def args(self) -> dict[str, Any]:
        """The query string of these filters (the canonical form of the page)."""
        values: dict[str, Any] = {"unit": self.unit}
        if self.period.kind == "range":
            values.update({"from": self.period.first, "to": self.period.last})
        else:
            values.update({"year": self.year, "month": self.month})
        return {k: v for k, v in values.items() if v}


def period_label(period: Period) -> str:
    if period.kind == "month":
        return f"tháng {int(period.first[5:])}/{period.first[:4]}"
    if period.kind == "year":
        return f"năm {period.first[:4]}"
    first, last = (f"{int(m[5:])}/{m[:4]}" for m in (period.first, period.last))
    return f"từ tháng {first} đến tháng {last}"


def unit_options(db: Db) -> list[dict[str, str]]:
    """The receiving units the statistics can be narrowed to (those of the catalogue's list)."""
    units: list[dict[str, str]] = current_app.extensions["portal_web"]["options"].get(db)["units"]
    return units


@blp.app_template_filter("percent")
def percent_filter(value: float | None) -> str:
    return charts.percent(value)


@blp.get("/thong-ke")
def statistics_page() -> str:
    db = current_db()
    units = unit_options(db)
    this_year = stats_report.current_year()
    try:
        filters = StatsFilters.from_args(request.args, {u["code"] for u in units}, this_year)
    except BadFilter as exc:
        raise PageError(400, f"Bộ lọc “{exc.field}” không hợp lệ: {exc.reason}.") from None
    found = stats_report.report(db, filters.period, filters.unit or None)
    unit = store.get_published(db, store.UNITS, filters.unit) if filters.unit else None
    return page(
        "portal/statistics.html",
        canonical=absolute("portal_web.statistics_page", **filters.args()),
        filters=filters,
        report=found,
        total=found.total,
        period_label=period_label(filters.period),
        unit_name=str((unit or {}).get("name") or filters.unit),
        units=units,
        years=list(range(this_year, max(FIRST_YEAR, this_year - 10) - 1, -1)),
        this_year=this_year,
        month_chart=charts.month_bars(found.by_month),
        timeliness_chart=charts.timeliness_share(found.total),
        percent=charts.percent,
        month_label=charts.month_label,
        reset_url=url_for("portal_web.statistics_page"),
    )
