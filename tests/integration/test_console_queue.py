"""The console's work queue on the real store: the officer's units only, the API's filters and
pages, due-time text, and the per-unit counts kept by the writes that move a dossier."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from eventkit.auth import Staff
from processing import store
from processing.service import dossiers
from processing.workflow import NotAllowed, States
from tests.factories import intake_event
from tests.integration.console_dossier_tools import (
    FILED,
    OTHER_UNIT,
    UNIT,
    deliver,
    file_dossier,
    prepare,
    signed_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]


@pytest.fixture
def db(processing_app):
    db = processing_app.extensions["db"]
    prepare(db)
    return db


def _staff(db, user_id):
    """The directory's account as the officer a service call acts as."""
    account = store.get_staff(db, user_id)
    return Staff(
        user_id=user_id,
        name=account["name"],
        roles=frozenset(account["roles"]),
        units=frozenset(account["units"]),
    )


def codes_in(html: str) -> list[str]:
    return re.findall(r'href="/console/ho-so/([^"?/]+)"', html)


def test_the_queue_shows_the_officers_units_with_states_and_timing(db, processing_app):
    online = file_dossier(db, at=datetime.now(UTC) - timedelta(hours=1))
    counter = file_dossier(db, channel="counter", name="Trần Văn Nam", id_number="027190009999")
    foreign = file_dossier(db, unit=OTHER_UNIT, unit_id="000.21.26.H09", name="Người Xã Khác")
    client = signed_in(processing_app, "receptionist-1")

    landing = client.get("/console/")
    assert landing.status_code == 200, "the receptionist lands on the work queue"
    html = landing.get_data(as_text=True)
    assert "Xin chào" in html and "Hồ sơ cần xử lý" in html
    assert set(codes_in(html)) == {online, counter}, "another unit's dossier never shows"
    assert foreign not in html and "Người Xã Khác" not in html

    page = client.get("/console/ho-so").get_data(as_text=True)
    assert codes_in(page) == [counter, online], "due first; one not accepted yet by its filing time"
    row = page[page.index(counter) :].split("</tr>")[0]
    assert "Đã tiếp nhận" in row and "timing--overdue" in row and "Quá hạn" in row, "colour and text"
    assert "Trần Văn Nam" in row and "đăng ký lại khai sinh" in row
    online_row = page[page.index(online) :].split("</tr>")[0]
    assert "Chờ tiếp nhận" in online_row and "Chưa có hạn" in online_row
    assert re.search(r'<a href="/console/ho-so"[^>]*>Hồ sơ</a>', page), "the nav row"


def test_filters_search_and_pages_follow_the_api(db, processing_app):
    first = file_dossier(db, channel="counter", at=FILED)
    second = file_dossier(db, channel="counter", at=FILED + timedelta(days=7), name="Lê Thị Đào")
    waiting = file_dossier(db)
    leader = _staff(db, "leader-1")
    dossiers.perform(db, second, "assign", {"assignee": "specialist-1"}, leader)
    client = signed_in(processing_app, "specialist-1")

    accepted = client.get(f"/console/ho-so?unit={UNIT}&state=accepted").get_data(as_text=True)
    assert codes_in(accepted) == [first]
    several = client.get(f"/console/ho-so?unit={UNIT}&state=accepted&state=in_progress").get_data(
        as_text=True
    )
    assert codes_in(several) == [first, second]
    mine = client.get("/console/ho-so?mine=1").get_data(as_text=True)
    assert codes_in(mine) == [second]
    assert codes_in(client.get("/console/ho-so?q=le+thi+dao").get_data(as_text=True)) == [second]
    assert codes_in(client.get(f"/console/ho-so?q={waiting}").get_data(as_text=True)) == [waiting]
    assert codes_in(client.get("/console/ho-so?overdue=1").get_data(as_text=True)) == [first, second]
    assert codes_in(client.get("/console/ho-so?due_before=2023-11-04").get_data(as_text=True)) == [first]

    one = client.get("/console/ho-so?limit=1").get_data(as_text=True)
    assert codes_in(one) == [waiting], "not accepted yet: sorted by its filing time, before the due ones"
    following = re.search(r'href="([^"]+)" rel="next"', one)
    assert following, "a next-page link with the API's cursor"
    second_page = client.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert codes_in(second_page) == [first]


def test_bad_filters_are_named_beside_their_field_and_a_foreign_unit_is_403(db, processing_app):
    client = signed_in(processing_app, "receptionist-1")
    bad = client.get("/console/ho-so?procedure=abc&due_before=27-10-2023")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="procedure-loi"' in html and "Mã thủ tục dạng 1.001193." in html
    assert 'id="due_before-loi"' in html and 'aria-invalid="true"' in html
    foreign = client.get(f"/console/ho-so?unit={OTHER_UNIT}")
    assert foreign.status_code == 403 and "text/html" in foreign.headers["Content-Type"]


def test_the_counts_per_state_follow_every_transition(db, processing_app, result_signing):
    from processing.service import results
    from tests.factories import pdf_bytes

    receptionist, leader, specialist = (_staff(db, u) for u in ("receptionist-1", "leader-1", "specialist-1"))

    def counts(unit: str = UNIT) -> dict[str, int]:
        kept = {k: v for k, v in store.get_dossier_counts(db, unit).items() if v}
        recounted = {k: v for k, v in store.recount_dossiers(db, unit, States.ALL).items() if v}
        assert kept == recounted, "the kept counts are those of the dossiers themselves"
        return kept

    code = file_dossier(db)
    other = file_dossier(db, channel="counter")
    assert counts() == {"submitted": 1, "accepted": 1}
    dossiers.perform(db, code, "accept", {}, receptionist)
    assert counts() == {"accepted": 2}
    dossiers.perform(db, code, "assign", {"assignee": "specialist-1"}, leader)
    dossiers.perform(db, code, "propose", {"note": "Đủ điều kiện"}, specialist)
    assert counts() == {"accepted": 1, "awaiting_approval": 1}
    dossiers.perform(db, code, "approve", {}, leader)
    upload = results.save(db, result_signing.blobs, pdf_bytes(1000), 10**6, leader, unit=UNIT)["id"]
    dossiers.perform(db, code, "issue_result", {"upload_id": upload}, leader, results=result_signing)
    dossiers.perform(db, code, "return_result", {"method": "counter"}, receptionist)
    assert counts() == {"accepted": 1, "returned": 1}
    # A change refused as stale (another officer was first) counts nothing.
    stale = store.get_dossier(db, other)["revision"]
    dossiers.perform(db, other, "assign", {"assignee": "specialist-1"}, leader)
    with pytest.raises(NotAllowed):
        dossiers.perform(
            db, other, "assign", {"assignee": "specialist-2"}, receptionist, expected_revision=stale
        )
    assert counts() == {"in_progress": 1, "returned": 1}
    dossiers.perform(db, other, "transfer", {"to_unit": "264.TP", "note": "Chuyển phòng Tư pháp"}, leader)
    assert counts() == {"returned": 1}
    assert counts("264.TP") == {"in_progress": 1}, "a transfer moves the count to the receiving unit"
    withdrawn = file_dossier(db)
    deliver(db, intake_event("withdrawn", withdrawn, 2, withdrawn_at=FILED.isoformat(), by="citizen"))
    deliver(db, intake_event("withdrawn", withdrawn, 2, withdrawn_at=FILED.isoformat(), by="citizen"))
    assert counts() == {"returned": 1, "withdrawn": 1}, "intake's events count once each"

    client = signed_in(processing_app, "receptionist-1")
    html = client.get(f"/console/ho-so?unit={UNIT}").get_data(as_text=True)
    section = html[html.index('id="so-ho-so"') :].split("</ul>")[0]
    assert re.search(r"<strong>0</strong><span>Chờ tiếp nhận", section)


def test_an_administrator_keeps_the_summary_home_and_has_no_queue(db, processing_app):
    file_dossier(db)
    client = signed_in(processing_app, "admin-1")
    home = client.get("/console/").get_data(as_text=True)
    assert "Xin chào" in home and "Vai trò" in home and "hang-doi-ho-so" not in home
    assert 'href="/console/ho-so"' not in home, "no queue row in the administrator's menu"
    assert client.get("/console/ho-so").status_code == 403


def test_a_store_with_dossiers_from_before_the_counts_is_counted_once_by_the_seed(db):
    file_dossier(db)
    file_dossier(db, channel="counter")
    db[store.QUEUE_COUNTS].delete_many({})

    counted = dossiers.count_missing_units(db)

    assert UNIT in counted
    assert {k: v for k, v in store.get_dossier_counts(db, UNIT).items() if v} == {
        "submitted": 1,
        "accepted": 1,
    }
    assert dossiers.count_missing_units(db) == [], "once: a unit with counts is not counted again"
