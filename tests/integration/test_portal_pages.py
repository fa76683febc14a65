"""The portal's public pages on the real store, its catalogue fed through its own event handlers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from portal import listing
from portal import store as portal_store
from tests.integration.portal_tools import catalogued_portal_app
from tests.integration.test_store_indexes import EQUAL, explain, seeks_only

pytestmark = pytest.mark.integration

BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh: commune level, partial online, 14 communes


@pytest.fixture
def portal_app(service_environ, monkeypatch):
    # The site's settings are read from the process environment (no WEB_SECRET_KEY: made in the store).
    monkeypatch.setenv("PORTAL_URL", "https://luongtai.example.vn")
    monkeypatch.delenv("WEB_SECRET_KEY", raising=False)
    return catalogued_portal_app(service_environ)


@pytest.fixture
def client(portal_app):
    return portal_app.test_client()


def names_listed(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/thu-tuc/[^"]+">([^<]+)</a></h2>', html)


def test_home_names_the_district_and_counts_the_catalogue(client):
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<title>Cổng thông tin điện tử huyện Lương Tài</title>" in html
    assert "Địa chỉ: thị trấn Thứa, huyện Lương Tài, tỉnh Bắc Ninh" in html
    assert '<form class="search-box" action="/thu-tuc" method="get"' in html
    assert "<strong>25</strong> thủ tục đang công bố" in html
    assert "<strong>13</strong> thủ tục nộp trực tuyến" in html
    assert '<link rel="canonical" href="https://luongtai.example.vn/">' in html


def test_list_filters_by_field_level_unit_and_online_mode(client):
    everything = client.get("/thu-tuc").get_data(as_text=True)
    assert "Tìm thấy 25 thủ tục, trang 1/2." in everything
    assert len(names_listed(everything)) == 20
    second = client.get("/thu-tuc?page=2").get_data(as_text=True)
    assert len(names_listed(second)) == 5 and not set(names_listed(second)) & set(names_listed(everything))

    civil = client.get("/thu-tuc?field=Hộ+tịch").get_data(as_text=True)
    assert "Tìm thấy 10 thủ tục." in civil

    narrowed = client.get("/thu-tuc?field=Hộ+tịch&level=commune&online_mode=partial_online&unit=09496")
    names = names_listed(narrowed.get_data(as_text=True))
    assert "Thủ tục đăng ký khai sinh" in names
    assert names == sorted(names, key=listing.fold)

    # Two district procedures of social protection are received at the communes.
    district = names_listed(client.get("/thu-tuc?level=district&unit=09496").get_data(as_text=True))
    assert district == [
        "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
        (
            "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng, hỗ trợ kinh phí chăm sóc, "
            "nuôi dưỡng hàng tháng"
        ),
    ]
    assert "Tìm thấy 0 thủ tục." in client.get("/thu-tuc?level=district&unit=264.TP").get_data(as_text=True)

    found = client.get("/thu-tuc?q=DANG+KY+KHAI+SINH").get_data(as_text=True)
    assert "Thủ tục đăng ký khai sinh" in names_listed(found)


def test_every_listing_reads_one_index_of_rows(portal_app):
    db = portal_app.extensions["db"]
    indexes = {tuple(ix["key"].keys()) for ix in db[listing.PROCEDURE_LISTING].list_indexes()}
    assert ("facet", "sort_key") in indexes
    facet = listing.facet_key("Hộ tịch", None, None, "09496")
    rows = listing.find_listed(db, facet)
    assert {r["field"] for r in rows} == {"Hộ tịch"} and all("09496" in r["receiving_units"] for r in rows)
    # The store seeks the index for the page's filter and for a version's clean-up, reading no table scan.
    coll = listing.PROCEDURE_LISTING
    assert seeks_only(db, coll, "facet_1_sort_key_1", {"facet": facet}, {"sort_key": 1}, seek=EQUAL), explain(
        db, coll, {"facet": facet}, {"sort_key": 1}
    )
    stale = {"code": BIRTH, "version": {"$ne": 1}}
    assert seeks_only(db, coll, "code_1", stale, seek=EQUAL), explain(db, coll, stale, None)


def test_a_new_version_moves_the_procedure_between_filters(portal_app, client):
    db = portal_app.extensions["db"]
    from eventkit.envelope import new_event
    from eventkit.topics import Groups
    from portal.events import ConsumedTypes
    from portal.handlers import build_handlers

    stored = portal_store.get_published(db, portal_store.PROCEDURES, BIRTH)
    data = {**{k: v for k, v in stored.items() if k != "_id"}, "code": BIRTH, "version": 2}
    data["online_mode"] = "full_online"
    handler = build_handlers(db)[Groups.PORTAL_CATALOGUE][ConsumedTypes.PROCEDURE_PUBLISHED]
    event = new_event(
        type=ConsumedTypes.PROCEDURE_PUBLISHED, source="/p", subject=BIRTH, data=data, sequence=2
    )
    handler.handle(event, handler.schema.load(data))
    handler.handle(event, handler.schema.load(data))  # delivered twice: the same rows

    full = names_listed(client.get("/thu-tuc?online_mode=full_online").get_data(as_text=True))
    partial = names_listed(
        client.get("/thu-tuc?online_mode=partial_online&unit=09496").get_data(as_text=True)
    )
    assert "Thủ tục đăng ký khai sinh" in full and "Thủ tục đăng ký khai sinh" not in partial
    assert db[listing.PROCEDURE_LISTING].count_documents({"code": BIRTH}) == 8 * 15


@pytest.mark.parametrize(
    ("query", "field"),
    [("level=quoc-gia", "level"), ("online_mode=fax", "online_mode"), ("page=0", "page"), ("page=x", "page")],
)
def test_a_filter_the_list_does_not_offer_is_400_naming_it(client, query, field):
    page = client.get(f"/thu-tuc?{query}")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert f"Bộ lọc “{field}” không hợp lệ" in page.get_data(as_text=True)


def test_detail_page_shows_documents_fees_time_legal_basis_and_units(client):
    page = client.get(f"/thu-tuc/{BIRTH}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Thủ tục đăng ký khai sinh</h1>" in html
    assert "Giấy chứng sinh" in html and "Luật Hộ tịch 2014" in html
    assert "Trong ngày (nhận trước 15:00)" in html
    assert "Miễn phí: Miễn lệ phí đăng ký khai sinh đúng hạn" in html
    assert 'href="/don-vi/09496"' in html
    assert f'href="/thu-tuc/{BIRTH}/nop-ho-so">Nộp hồ sơ trực tuyến</a>' in html
    assert f'<link rel="canonical" href="https://luongtai.example.vn/thu-tuc/{BIRTH}">' in html


def test_counter_only_procedure_has_no_online_button_and_unknown_code_is_a_vietnamese_404(client):
    counter_only = client.get("/thu-tuc?online_mode=counter_only").get_data(as_text=True)
    code = re.search(r'<h2><a href="/thu-tuc/([^"]+)">', counter_only).group(1)
    assert "Nộp hồ sơ trực tuyến" not in client.get(f"/thu-tuc/{code}").get_data(as_text=True)

    for path in ("/thu-tuc/9.999999", f"/thu-tuc/{code}/nop-ho-so", "/don-vi/khong-co"):
        missing = client.get(path)
        assert missing.status_code == 404 and "Không tìm thấy trang" in missing.get_data(as_text=True)
    assert client.get("/api/v1/khong-co").get_json()["message"] == "Không tìm thấy."


def test_unit_sub_portal_links_to_its_procedures(client):
    html = client.get("/don-vi/09496").get_data(as_text=True)
    assert "<h1>Ủy ban nhân dân thị trấn Thứa</h1>" in html or "Thứa" in html
    assert 'href="/thu-tuc?unit=09496"' in html


def test_sitemap_lists_every_procedure_page(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(response.data).findall("s:url/s:loc", ns)]
    assert "https://luongtai.example.vn/" in locs and f"https://luongtai.example.vn/thu-tuc/{BIRTH}" in locs
    assert "https://luongtai.example.vn/tra-cuu" in locs and "https://luongtai.example.vn/thong-ke" in locs
    # The home, the list, lookup, statistics, signature check, 25 procedures, and the news and
    # documents lists (no article published).
    assert len(locs) == 2 + 3 + 25 + 2


def test_pages_are_cached_publicly_with_an_etag_and_carry_the_policy(client):
    first = client.get(f"/thu-tuc/{BIRTH}")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "unsafe-inline" not in first.headers["Content-Security-Policy"]
    assert first.headers["X-Content-Type-Options"] == "nosniff" and first.headers["Referrer-Policy"]
    assert (
        client.get(f"/thu-tuc/{BIRTH}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    )
    # The API beside the pages is untouched.
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_csrf_key_is_made_once_in_the_store_and_shared(portal_app):
    db = portal_app.extensions["db"]
    first = portal_store.shared_secret(db, "web_csrf_key")
    assert portal_store.shared_secret(db, "web_csrf_key") == first and len(first) >= 48


@pytest.mark.parametrize(
    "query", ["dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "khai sinh", "dang ky khai snh", "đăng kí khai sinh"]
)
def test_a_search_with_or_without_diacritics_or_a_typo_puts_the_procedure_first(client, query):
    html = client.get("/thu-tuc", query_string={"q": query}).get_data(as_text=True)
    listed = names_listed(html)
    assert listed and listed[0] == "Thủ tục đăng ký khai sinh", listed


def test_a_search_keeps_the_filters(client):
    everywhere = names_listed(client.get("/thu-tuc?q=khai+sinh").get_data(as_text=True))
    district = names_listed(client.get("/thu-tuc?q=khai+sinh&level=district").get_data(as_text=True))
    assert "Thủ tục đăng ký khai sinh" in everywhere
    assert "Thủ tục đăng ký khai sinh" not in district  # a commune's procedure
