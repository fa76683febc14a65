"""The statistics page's pure parts: filters from a query string, periods, chart geometry, labels."""

from __future__ import annotations

import pytest

from portal.service.stats_report import Period, months_between, with_ratings
from portal.web.catalogue import BadFilter
from portal.web.charts import month_bars, nice_ceiling, percent, timeliness_share
from portal.web.statistics import StatsFilters, period_label

UNITS = {"09496", "264"}


def parse(**args: str) -> StatsFilters:
    return StatsFilters.from_args(args, UNITS, 2026)


def test_no_filter_is_this_year_of_every_unit() -> None:
    filters = parse()
    assert filters.period == Period("year", "2026-01", "2026-12") and filters.unit == ""
    assert filters.args() == {"year": 2026}
    assert period_label(filters.period) == "năm 2026"


def test_a_month_and_a_range() -> None:
    month = parse(year="2025", month="3", unit="09496")
    assert month.period == Period("month", "2025-03", "2025-03")
    assert month.args() == {"year": 2025, "month": 3, "unit": "09496"}
    assert period_label(month.period) == "tháng 3/2025"
    ranged = parse(**{"from": "2025-11", "to": "2026-02"})
    assert ranged.period.months == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert period_label(ranged.period) == "từ tháng 11/2025 đến tháng 2/2026"
    assert ranged.args() == {"from": "2025-11", "to": "2026-02"}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"year": "20x6"}, "year"),
        ({"year": "2028"}, "year"),
        ({"month": "0"}, "month"),
        ({"unit": "99999"}, "unit"),
        ({"to": "2026-01"}, "from"),
        ({"from": "2026-1", "to": "2026-02"}, "from"),
        ({"from": "2026-03", "to": "2026-02"}, "to"),
        ({"from": "2023-01", "to": "2026-01"}, "to"),
        ({"unit": "x" * 41}, "unit"),
    ],
)
def test_bad_filters_name_the_field(args: dict[str, str], field: str) -> None:
    with pytest.raises(BadFilter) as raised:
        parse(**args)
    assert raised.value.field == field


def test_months_between_cross_a_year() -> None:
    assert months_between("2025-12", "2026-01") == ["2025-12", "2026-01"]
    assert len(months_between("2024-01", "2026-12")) == 36


def test_ratings_are_zero_until_counted() -> None:
    assert with_ratings({})["rated"] == 0 and with_ratings({})["satisfied_share"] is None
    counted = with_ratings({"rated": 8, "rating_very_satisfied": 5, "rating_satisfied": 1})
    assert counted["rating_dissatisfied"] == 0 and counted["satisfied_share"] == 75.0


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (3, 4), (5, 8), (9, 20), (37, 40), (170, 200), (1234, 2000)]
)
def test_the_axis_ends_on_a_round_number_above_the_tallest_bar(value: int, top: int) -> None:
    assert nice_ceiling(value) == top


def summary(received: int, resolved: int) -> dict[str, int]:
    return {"received": received, "resolved": resolved}


def test_month_bars_are_proportional_and_sit_on_the_baseline() -> None:
    chart = month_bars([("2026-01", summary(10, 5)), ("2026-02", summary(20, 0))])
    received_jan, resolved_jan, received_feb, resolved_feb = chart.bars
    assert chart.ticks[-1].value == 20
    assert received_feb.height == 2 * received_jan.height == 2 * 2 * resolved_jan.height
    assert resolved_feb.height == 0
    for bar in chart.bars:
        assert round(bar.y + bar.height, 2) == chart.baseline
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right
    assert [g.label for g in chart.groups] == ["T1/26", "T2/26"]
    assert received_jan.label == "T1/26: tiếp nhận 10"


def test_the_share_bar_is_split_by_timeliness() -> None:
    chart = timeliness_share({"resolved_early": 1, "resolved_on_time": 2, "resolved_late": 1})
    assert [s.share for s in chart.segments] == [25.0, 50.0, 25.0]
    assert sum(s.width for s in chart.segments) == pytest.approx(chart.width)
    assert chart.segments[1].label == "Đúng hạn: 2 (50 %)"
    assert timeliness_share({"resolved_early": 0, "resolved_on_time": 0, "resolved_late": 0}).segments == []


def test_percent_the_vietnamese_way() -> None:
    assert percent(97.5) == "97,5 %" and percent(100.0) == "100 %" and percent(None) == "–"
