"""The public list's pure parts: folding, filters from a query string, rows per filter set, labels."""

from __future__ import annotations

import json

import pytest

from portal import listing
from portal.web.catalogue import BadFilter, Filters, fee_text, processing_time_text

PROCEDURE = {
    "name": "Thủ tục đăng ký khai sinh",
    "field": "Hộ tịch",
    "level": "commune",
    "online_mode": "partial_online",
    "receiving_units": ["09499", "09496", "09496"],
    "version": 3,
}


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ĐĂNG KÝ KHAI SINH", "dang ky khai sinh"),
        ("Hoà hợp", "hoa hop"),
        ("Hòa hợp", "hoa hop"),
        ("đất", "dat"),
    ],
)
def test_fold_drops_case_and_diacritics(text, folded):
    assert listing.fold(text) == folded


def test_rows_cover_every_filter_set_once():
    rows = listing.listing_rows("1.001193", PROCEDURE)
    assert len(rows) == 8 * 3  # two distinct units plus "any unit"
    assert len({r["_id"] for r in rows}) == len(rows)
    facets = {r["facet"] for r in rows}
    assert listing.facet_key(None, None, None, None) in facets
    assert listing.facet_key("Hộ tịch", "commune", "partial_online", "09496") in facets
    assert listing.facet_key(None, "commune", None, "09499") in facets
    assert all(r["version"] == 3 and r["sort_key"].startswith("thu tuc dang ky khai sinh") for r in rows)
    assert json.loads(rows[0]["facet"]) == ["*", "*", "*", "*"]


def test_filters_from_the_query_string():
    filters = Filters.from_args({"q": "  khai sinh ", "field": "Hộ tịch", "level": "commune", "page": "2"})
    assert (filters.q, filters.field, filters.level, filters.page) == ("khai sinh", "Hộ tịch", "commune", 2)
    assert filters.facet == listing.facet_key("Hộ tịch", "commune", None, None)
    assert filters.args(page=1) == {"q": "khai sinh", "field": "Hộ tịch", "level": "commune"}
    assert Filters.from_args({}).page == 1


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"level": "xa"}, "level"),
        ({"online_mode": "fax"}, "online_mode"),
        ({"page": "-1"}, "page"),
        ({"page": "1234567"}, "page"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_filter_the_list_does_not_offer_names_itself(args, field):
    with pytest.raises(BadFilter) as raised:
        Filters.from_args(args)
    assert raised.value.field == field


def test_labels_of_time_and_fees():
    assert (
        processing_time_text({"same_day": True, "same_day_cutoff": "15:00"})
        == "Trong ngày (nhận trước 15:00)"
    )
    assert (
        processing_time_text({"processing_time": {"amount": 5, "unit": "working_days"}}) == "5 ngày làm việc"
    )
    assert fee_text({"kind": "fixed", "amount_vnd": 50000, "description": "Lệ phí"}) == "50.000 đồng: Lệ phí"
    assert fee_text({"kind": "per_page", "amount_vnd": 2000}) == "2.000 đồng/trang"
    assert fee_text({"kind": "exempt", "amount_vnd": 0}) == "Miễn phí"
