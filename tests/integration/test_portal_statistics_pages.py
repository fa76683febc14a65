"""The statistics and signature-check pages on the real store: counters as the handlers leave
them, filters checked, charts drawn without inline style, signatures checked against the CA."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from eventkit.signing import load_unit_signer, sign_pdf
from portal.service import statistics
from portal.service.dossiers import TZ
from portal.service.stats_report import current_year
from tests.factories import pdf_bytes
from tests.integration.portal_tools import catalogued_portal_app

pytestmark = pytest.mark.integration

TOWN = "09496"  # thị trấn Thứa
COMMUNE = "09499"  # xã An Thịnh
YEAR = current_year()


@pytest.fixture
def portal_app(service_environ, signing_certs, monkeypatch):
    monkeypatch.setenv("SIGNING_TRUST_ROOTS", str(Path(signing_certs) / "ca.pem"))
    monkeypatch.delenv("WEB_SECRET_KEY", raising=False)
    return catalogued_portal_app(service_environ)


@pytest.fixture
def client(portal_app):
    return portal_app.test_client()


def count(db, code: str, unit: str, month: int, **increments: int) -> None:
    when = dt.datetime(YEAR, month, 10, 9, 0, tzinfo=TZ)
    statistics.record(db, code, "x", unit, when, increments)


def figure(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1)


@pytest.fixture
def counted(portal_app):
    db = portal_app.extensions["db"]
    count(db, "A-1", TOWN, 1, received_online=3, received_counter=1, resolved_early=2, resolved_late=1)
    count(db, "A-2", TOWN, 2, received_post=1, resolved_on_time=1, withdrawn=1)
    count(db, "A-3", COMMUNE, 2, received_online=4, refused=2, rated=4, rating_satisfied=3)
    return db


def test_a_year_of_every_unit_sums_the_counters_with_rates(client, counted):
    page = client.get("/thong-ke")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Số liệu năm {YEAR}, tất cả đơn vị." in html
    assert figure(html, "received") == "9" and figure(html, "received-online") == "7"
    assert figure(html, "received-counter") == "1" and figure(html, "received-post") == "1"
    assert figure(html, "resolved") == "4" and figure(html, "resolved-late") == "1"
    assert figure(html, "on-time-rate") == "75 %"
    assert figure(html, "online-share") == "77,8 %"
    assert figure(html, "withdrawn") == "1" and figure(html, "refused") == "2"
    assert figure(html, "rated") == "4" and figure(html, "rating-satisfied") == "3"
    assert figure(html, "rating-very-satisfied") == "0" and figure(html, "satisfied-share") == "75 %"
    # Twelve months in the chart's table, January's pair of bars first.
    assert html.count('<th scope="row">') >= 12 + 8
    assert f"<title>T1/{str(YEAR)[2:]}: tiếp nhận 4</title>" in html


def test_one_unit_one_month_and_a_range(client, counted):
    html = client.get(f"/thong-ke?year={YEAR}&month=2&unit={TOWN}").get_data(as_text=True)
    assert f"Số liệu tháng 2/{YEAR}, Ủy ban nhân dân thị trấn Thứa." in html
    assert figure(html, "received") == "1" and figure(html, "received-post") == "1"
    assert figure(html, "on-time-rate") == "100 %" and figure(html, "online-share") == "0 %"

    ranged = client.get(f"/thong-ke?from={YEAR}-01&to={YEAR}-02&unit={COMMUNE}").get_data(as_text=True)
    assert f"từ tháng 1/{YEAR} đến tháng 2/{YEAR}" in ranged
    assert figure(ranged, "received-online") == "4" and figure(ranged, "on-time-rate") == "–"
    assert f'value="{YEAR}-01"' in ranged, "the range stays filled in"


def test_the_charts_are_svg_with_a_title_and_no_inline_style(client, counted):
    page = client.get("/thong-ke")
    html = page.get_data(as_text=True)
    assert html.count('<svg class="chart" role="img"') == 2
    assert 'aria-labelledby="bieu-do-thang-title bieu-do-thang-desc"' in html
    assert "style=" not in html and "<script" not in html
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("year=abc", "year"),
        ("year=1999", "year"),
        ("month=13", "month"),
        ("unit=khong-co", "unit"),
        ("from=2026-01", "to"),
        ("from=2026-13&to=2026-14", "from"),
        ("from=2026-05&to=2026-01", "to"),
        ("from=2020-01&to=2026-01", "to"),
    ],
)
def test_a_bad_filter_is_a_400_page_in_vietnamese(client, query, field):
    page = client.get(f"/thong-ke?{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert f"Bộ lọc “{field}” không hợp lệ" in html and "<html" in html


def test_the_home_page_shows_this_years_headline(client, counted):
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "headline-received") == "9"
    assert figure(html, "headline-on-time") == "75 %" and figure(html, "headline-online") == "77,8 %"


# -- signature check -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_pdf(signing_certs) -> bytes:
    return sign_pdf(
        pdf_bytes(2048),
        load_unit_signer(signing_certs, TOWN),
        reason="Ký kết quả giải quyết hồ sơ",
        location="Lương Tài, Bắc Ninh",
    )


def upload(client, data: bytes, name: str = "ket-qua.pdf"):
    form = client.get("/kiem-tra-chu-ky").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    from io import BytesIO

    return client.post(
        "/kiem-tra-chu-ky",
        data={"csrf_token": token, "file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def outcome(response) -> str:
    return re.search(r'data-outcome="([a-z_]+)"', response.get_data(as_text=True)).group(1)


def test_a_pdf_signed_by_a_unit_of_the_ca_is_valid_and_names_the_unit(client, signed_pdf):
    response = upload(client, signed_pdf)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and outcome(response) == "valid"
    assert "Chữ ký số hợp lệ" in html
    assert figure(html, "don-vi-ky") == "Ủy ban nhân dân thị trấn Thứa"
    assert f"<dd>{TOWN}</dd>" in html


def test_a_changed_byte_unsigned_and_non_pdf_files_get_their_answer(client, signed_pdf):
    position = signed_pdf.index(b"(MotCua)")
    altered = signed_pdf[:position] + b"(MotCub)" + signed_pdf[position + 8 :]
    assert outcome(upload(client, altered)) == "altered"
    assert "đã bị thay đổi sau khi ký" in upload(client, altered).get_data(as_text=True)
    assert outcome(upload(client, signed_pdf + b"\n% added\n")) == "altered"
    assert outcome(upload(client, pdf_bytes(1024))) == "unsigned"
    assert outcome(upload(client, b"\x89PNG not a pdf", "anh.png")) == "not_pdf"
    # A file that claims to be a PDF and is garbage is an answer, not a server error.
    assert outcome(upload(client, b"%PDF-1.7\n" + bytes(range(256)) * 40)) == "not_pdf"


def test_a_signer_from_another_ca_is_intact_but_untrusted(client, tmp_path):
    from devstack.certificates import ensure_unit_certificate

    ensure_unit_certificate(tmp_path, TOWN, "Ủy ban nhân dân thị trấn Thứa")
    foreign = sign_pdf(pdf_bytes(), load_unit_signer(tmp_path, TOWN), reason="x", location="y")
    response = upload(client, foreign)
    assert outcome(response) == "untrusted"
    assert "không do tổ chức chứng thực" in response.get_data(as_text=True)


def test_the_upload_needs_the_forms_token_and_a_file(client, signed_pdf):
    from io import BytesIO

    forged = client.post(
        "/kiem-tra-chu-ky", data={"file": (BytesIO(signed_pdf), "a.pdf")}, content_type="multipart/form-data"
    )
    assert forged.status_code == 400
    form = client.get("/kiem-tra-chu-ky").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    empty = client.post("/kiem-tra-chu-ky", data={"csrf_token": token}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Chưa chọn tệp PDF" in empty.get_data(as_text=True)


def test_a_file_over_the_limit_is_413_yet_larger_than_the_apis_limit_passes(client, signed_pdf):
    # The API's limit is 1 MiB; this form takes up to 10 MiB.
    big = signed_pdf + b"%" + b"0" * (2 * 1024 * 1024) + b"\n"
    assert upload(client, big).status_code == 200
    too_big = upload(client, b"%PDF-" + b"0" * (11 * 1024 * 1024))
    assert too_big.status_code == 413
