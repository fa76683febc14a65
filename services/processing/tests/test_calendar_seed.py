"""The default calendar per year, from the holidays package, and the engine calendar built from it."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest

from processing.calendar_seed import DEFAULT_HOURS, SEED_YEARS, calendar_from_years, default_year
from processing.deadlines import Calendar, WorkingHours

YEARS = {year: default_year(year) for year in SEED_YEARS}
CAL = calendar_from_years(YEARS.values())


def off(year: int) -> dict[date, dict[str, str]]:
    return {date.fromisoformat(e["date"]): e for e in YEARS[year]["days_off"]}


def worked(year: int) -> dict[date, dict[str, str]]:
    return {date.fromisoformat(e["date"]): e for e in YEARS[year]["working_days"]}


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_seed_years() -> None:
    assert list(SEED_YEARS) == list(range(2019, 2028))


@pytest.mark.parametrize(
    ("first", "last", "weekdays_off"),
    [
        (date(2019, 2, 4), date(2019, 2, 8), [4, 5, 6, 7, 8]),
        (date(2024, 2, 8), date(2024, 2, 14), [8, 9, 12, 13, 14]),
        (date(2026, 2, 16), date(2026, 2, 20), [16, 17, 18, 19, 20]),
    ],
    ids=["Tết 2019", "Tết 2024", "Tết 2026"],
)
def test_tet(first: date, last: date, weekdays_off: list[int]) -> None:
    days_off = off(first.year)
    assert [d.day for d in span(first, last) if d in days_off] == weekdays_off
    assert all("Tết" in days_off[date(first.year, 2, d)]["name"] for d in weekdays_off)
    assert all(not CAL.is_working_day(d) for d in span(first, last))
    assert CAL.is_working_day(first - timedelta(days=1)) or (first - timedelta(days=1)).weekday() >= 5
    assert CAL.is_working_day(last + timedelta(days=1)) or (last + timedelta(days=1)).weekday() >= 5


def test_swapped_saturday_2025() -> None:
    assert worked(2025) == {
        date(2025, 4, 26): {"date": "2025-04-26", "name": "Ngày làm việc bù cho ngày nghỉ 02/05/2025"}
    }
    assert off(2025)[date(2025, 5, 2)]["kind"] == "swap"
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2025, 5, 2))


def test_swap_across_the_new_year_2019() -> None:
    assert worked(2019)[date(2019, 1, 5)]["name"] == "Ngày làm việc bù cho ngày nghỉ 31/12/2018"
    assert CAL.is_working_day(date(2019, 1, 5))
    assert off(2019)[date(2019, 4, 29)]["kind"] == "swap"
    assert worked(2019)[date(2019, 5, 4)]["name"] == "Ngày làm việc bù cho ngày nghỉ 29/04/2019"


def test_vietnamese_names_and_kinds() -> None:
    days_off = off(2023)
    assert days_off[date(2023, 1, 2)] == {
        "date": "2023-01-02",
        "name": "Tết Dương lịch (nghỉ bù)",
        "kind": "compensatory",
    }
    assert days_off[date(2023, 5, 1)] == {
        "date": "2023-05-01",
        "name": "Ngày Quốc tế Lao động",
        "kind": "holiday",
    }
    assert days_off[date(2023, 9, 1)]["name"] == "Quốc khánh"
    assert off(2024)[date(2024, 4, 18)]["name"] == "Ngày Giỗ Tổ Hùng Vương"
    assert off(2024)[date(2024, 4, 30)]["name"] == "Ngày Chiến thắng"
    assert off(2024)[date(2024, 1, 1)]["name"] == "Tết Dương lịch"
    # Tết days that only exist because Tết 2024 fell on a weekend are compensatory.
    assert off(2024)[date(2024, 2, 8)]["kind"] == "compensatory"
    assert off(2024)[date(2024, 2, 9)]["kind"] == "holiday"


def test_a_holiday_on_a_weekend_is_not_listed_but_its_compensation_is() -> None:
    days_off = off(2023)
    assert date(2023, 1, 1) not in days_off  # Sunday
    assert date(2023, 9, 2) not in days_off  # Saturday
    assert days_off[date(2023, 9, 4)]["kind"] == "compensatory"


@pytest.mark.parametrize("year", list(SEED_YEARS))
def test_year_documents_are_well_formed(year: int) -> None:
    document = YEARS[year]
    assert set(document) == {"year", "days_off", "working_days", "hours"}
    assert document["year"] == year
    assert json.loads(json.dumps(document, ensure_ascii=False)) == document
    days_off = [date.fromisoformat(e["date"]) for e in document["days_off"]]
    working = [date.fromisoformat(e["date"]) for e in document["working_days"]]
    assert days_off == sorted(set(days_off))
    assert working == sorted(set(working))
    assert all(d.year == year and d.weekday() < 5 for d in days_off)
    assert all(d.year == year and d.weekday() >= 5 for d in working)
    assert not set(days_off) & set(working)
    assert all(e["kind"] in {"holiday", "compensatory", "swap"} for e in document["days_off"])
    assert all(0 < len(e["name"]) <= 200 for e in document["days_off"] + document["working_days"])
    assert 9 <= len(days_off) <= 20
    assert document["hours"] == [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]
    # Every swap day off has its worked weekend day in the same or a neighbouring year.
    swaps = [e for e in document["days_off"] if e["kind"] == "swap"]
    named = {w["name"][-10:] for y in YEARS for w in YEARS[y]["working_days"]}
    assert all(f"{date.fromisoformat(e['date']):%d/%m/%Y}" in named for e in swaps)


def test_the_package_matches_the_statutory_days() -> None:
    """11 statutory days a year (Labour Code 2019 Art. 112): check what falls on weekdays in 2025."""
    assert sorted(off(2025)) == [
        date(2025, 1, 1),
        date(2025, 1, 27),
        date(2025, 1, 28),
        date(2025, 1, 29),
        date(2025, 1, 30),
        date(2025, 1, 31),
        date(2025, 4, 7),
        date(2025, 4, 30),
        date(2025, 5, 1),
        date(2025, 5, 2),
        date(2025, 9, 1),
        date(2025, 9, 2),
    ]


def test_calendar_from_years() -> None:
    assert isinstance(CAL, Calendar)
    assert CAL.hours == WorkingHours()
    assert date(2024, 2, 12) in CAL.days_off
    assert CAL.working_weekend_days == {
        date(2019, 1, 5),
        date(2019, 5, 4),
        date(2024, 5, 4),
        date(2025, 4, 26),
        date(2026, 8, 22),
    }
    assert sum(len(y["days_off"]) for y in YEARS.values()) == len(CAL.days_off)


def test_calendar_from_stored_documents_with_dates_and_extra_keys() -> None:
    stored = {
        "year": 2025,
        "version": 3,
        "source": "admin",
        "days_off": [{"date": date(2025, 5, 2), "name": "Nghỉ", "kind": "swap"}],
        "working_days": [{"date": "2025-04-26", "name": "Làm bù"}],
        "hours": [{"start": time(7, 30), "end": "11:30"}],
    }
    calendar = calendar_from_years([stored])
    assert calendar.days_off == {date(2025, 5, 2)}
    assert calendar.working_weekend_days == {date(2025, 4, 26)}
    assert calendar.hours == WorkingHours(((time(7, 30), time(11, 30)),))


def test_the_latest_year_gives_the_hours() -> None:
    late = {
        **default_year(2026),
        "hours": [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    }
    calendar = calendar_from_years([late, default_year(2025)])
    assert calendar.hours.sessions == ((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0)))


def test_no_documents_give_a_monday_to_friday_calendar() -> None:
    calendar = calendar_from_years([])
    assert calendar == Calendar()
    assert DEFAULT_HOURS == [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]


def test_invalid_hours_are_rejected() -> None:
    with pytest.raises(ValueError):
        calendar_from_years(
            [
                {
                    "year": 2025,
                    "days_off": [],
                    "working_days": [],
                    "hours": [{"start": "12:00", "end": "08:00"}],
                }
            ]
        )


def test_a_year_beyond_the_seed_still_builds() -> None:
    document = default_year(2030)
    assert document["year"] == 2030
    assert any("Tết" in e["name"] for e in document["days_off"])
