"""The leader's statistics in the console on the real store: the live counters of a month, a year
or a range of months as a table (the same service the API reads), the period's errors beside its
fields, and the tracking register (Mẫu 06) as XLSX and CSV from processing, as PDF from notify by a
signed link."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from openpyxl import load_workbook

from eventkit.auth import LINK_AUDIENCE
from tests.integration import test_processing_stats as stats_tests
from tests.integration import test_processing_workflow as workflow
from tests.integration.console_tools import sign_in, with_password
from tests.integration.test_processing_stats import EARLY, LATE, OVERDUE, WITHDRAWN
from tests.integration.test_processing_workflow import UNIT

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

# The statistics tests' dossiers, counted by the statistics group's handlers.
db, client, as_ = workflow.db, workflow.client, workflow.as_
histories, counted = stats_tests.histories, stats_tests.counted
NOTIFY = "http://notify.example.vn:8003"


@pytest.fixture
def leader(processing_app, db, counted):
    config = processing_app.extensions["service_config"]
    processing_app.extensions["service_config"] = dataclasses.replace(config, notify_url=NOTIFY)
    with_password(db, "leader-1")
    client = processing_app.test_client()
    assert sign_in(client, "leader-1").status_code == 302
    return client


def cells(html: str) -> list[list[str]]:
    """The report table's rows: the heading cell, then each counter and the rate."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def test_a_month_s_statistics_of_the_unit_as_a_table(leader):
    page = leader.get(
        "/console/thong-ke", query_string={"don_vi": UNIT, "ky": "thang", "thang": "2023-11", "nhom": "unit"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:1000]
    assert 'href="/console/thong-ke"' in html, "the leader's menu has the screen"
    [row] = cells(html)
    # Carried over 2, received 1 online (November): as test_processing_stats counts them.
    assert row[1:5] == ["2", "1", "0", "0"]
    assert row[5:10] == ["0", "0", "1", "1", "1"], "resolved late 1, in progress on time 1 and overdue 1"
    assert row[-1] == "33.33 %", "on-time rate = 100 % − late rate (66.67 %)"
    assert "tháng 11/2023" in html


def test_a_year_reads_month_by_month_and_a_range_by_procedure(leader):
    year = leader.get(
        "/console/thong-ke", query_string={"don_vi": UNIT, "ky": "nam", "nam": "2023", "nhom": "month"}
    )
    months = [row[0] for row in cells(year.get_data(as_text=True))]
    # From the first month with dossiers to the end of the year, quiet months included.
    assert year.status_code == 200 and months == ["2023-10", "2023-11", "2023-12"]
    span = leader.get(
        "/console/thong-ke",
        query_string={"don_vi": UNIT, "ky": "khoang", "tu": "2023-10", "den": "2023-11", "nhom": "procedure"},
    )
    [row] = cells(span.get_data(as_text=True))
    assert row[0] == "1.004884" and row[1:4] == ["0", "1", "4"], "received online 1, at the counter 4"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"ky": "khoang", "tu": "2023-13", "den": "2023-11"}, "tu"),
        ({"ky": "khoang", "tu": "2020-01", "den": "2023-11"}, "den"),
        ({"ky": "khoang", "tu": "2023-11", "den": "2023-10"}, "tu"),
        ({"ky": "nam", "nam": "23"}, "nam"),
        ({"don_vi": "09502", "ky": "thang", "thang": "2023-11"}, "don_vi"),
        ({"ky": "tuan"}, "ky"),
    ],
)
def test_a_bad_period_or_unit_is_named_beside_its_field(leader, query, field):
    page = leader.get("/console/thong-ke", query_string=query)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert re.search(rf'id="{field}-loi">[^<]+<', html), field
    assert "<tbody>" not in html


def test_other_roles_get_no_statistics(processing_app, db):
    for user_id in ("specialist-1",):
        with_password(db, user_id)
        client = processing_app.test_client()
        sign_in(client, user_id)
        assert client.get("/console/thong-ke").status_code == 403
        assert 'href="/console/thong-ke"' not in client.get("/console/").get_data(as_text=True)


def test_the_register_downloads_as_a_workbook_and_csv(leader):
    page = leader.get("/console/thong-ke", query_string={"don_vi": UNIT, "ky": "thang", "thang": "2023-10"})
    links = re.findall(r'href="(/console/thong-ke/so-theo-doi\.[a-z]+\?[^"]+)"', page.get_data(as_text=True))
    assert len(links) == 3
    query = {"don_vi": UNIT, "tu": "2023-10-01", "den": "2023-10-31"}

    workbook = leader.get("/console/thong-ke/so-theo-doi.xlsx", query_string=query)

    assert workbook.status_code == 200 and workbook.headers["Content-Disposition"].endswith('.xlsx"')
    header, *rows = list(load_workbook(io.BytesIO(workbook.data)).active.iter_rows(values_only=True))
    assert header[1] == "Mã hồ sơ" and sorted(r[1] for r in rows) == sorted([EARLY, LATE, WITHDRAWN, OVERDUE])
    table = leader.get("/console/thong-ke/so-theo-doi.csv", query_string=query)
    assert table.status_code == 200 and table.mimetype == "text/csv"
    codes = [r["Mã hồ sơ"] for r in csv.DictReader(io.StringIO(table.data.decode("utf-8-sig")))]
    assert sorted(codes) == sorted([EARLY, LATE, WITHDRAWN, OVERDUE])
    assert (
        leader.get("/console/thong-ke/so-theo-doi.csv", query_string={**query, "don_vi": "09502"}).status_code
        == 403
    )
    bad = leader.get("/console/thong-ke/so-theo-doi.csv", query_string={**query, "tu": "2022-01-01"})
    assert bad.status_code == 422 and "366" in bad.get_data(as_text=True)
    assert leader.get("/console/thong-ke/so-theo-doi.doc", query_string=query).status_code == 404


def test_the_register_pdf_is_notify_s_by_a_link_signed_for_the_leader(leader):
    answer = leader.get(
        "/console/thong-ke/so-theo-doi.pdf",
        query_string={"don_vi": UNIT, "tu": "2023-10-01", "den": "2023-10-31"},
    )

    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{NOTIFY}/api/v1/register.pdf"
    query = parse_qs(target.query)
    assert (query["unit"], query["from"], query["to"]) == ([UNIT], ["2023-10-01"], ["2023-10-31"])
    claims = jwt.decode(query["token"][0], options={"verify_signature": False}, audience=LINK_AUDIENCE)
    assert claims["sub"] == "leader-1" and claims["path"] == "/api/v1/register.pdf"
