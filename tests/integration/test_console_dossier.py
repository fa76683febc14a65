"""A dossier's page in the console on the real store: what was filed, signed links to its files,
the control slip and history, the actions the officer may take now, errors beside their field, a
concurrent change told as such, and another unit's dossier refused."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from pypdf import PdfReader

from eventkit.auth import LINK_AUDIENCE, Staff
from processing import store
from processing.service import dossiers
from tests.factories import pdf_bytes
from tests.integration.console_dossier_tools import OTHER_UNIT, TZ, file_dossier, prepare, signed_in
from tests.integration.console_tools import hidden

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]


@pytest.fixture
def db(processing_app):
    db = processing_app.extensions["db"]
    prepare(db)
    return db


def officer(db, user_id: str) -> Staff:
    account = store.get_staff(db, user_id)
    return Staff(user_id, account["name"], frozenset(account["roles"]), frozenset(account["units"]))


def act(client, code: str, action: str, **fields):
    page = client.get(f"/console/ho-so/{code}").get_data(as_text=True)
    data = {"csrf_token": hidden(page, "csrf_token"), "revision": hidden(page, "revision"), **fields}
    return client.post(f"/console/ho-so/{code}/{action}", data=data, content_type="multipart/form-data")


def test_the_page_shows_the_dossier_its_signed_file_links_and_the_receptionists_actions(db, processing_app):
    code = file_dossier(db)
    client = signed_in(processing_app, "receptionist-1")
    answer = client.get(f"/console/ho-so/{code}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Nguyễn Thị Hoa" in html and "027190001234" in html
    assert "Họ, chữ đệm và tên người được đăng ký lại khai sinh" in html and "Nguyễn Văn Bình" in html
    assert "01/03/2015" in html and "2015-03-01" not in html, "a date as a person writes it"
    assert "Thị trấn Thứa (09496)" in html, "the unit by its name"
    assert 'id="thao-tac-accept"' in html and 'id="thao-tac-refuse"' in html
    assert 'id="thao-tac-request_supplement"' in html and 'id="thao-tac-assign"' not in html
    assert "Nộp hồ sơ" in html, "the history's first entry"

    link = re.search(r'<a href="([^"]+)" target="_blank"', html).group(1).replace("&amp;", "&")
    parts = urlsplit(link)
    assert parts.path == "/api/v1/uploads/up-1"
    token = parse_qs(parts.query)["token"][0]
    public = processing_app.extensions["staff_keys"].public_key_for(jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=LINK_AUDIENCE)
    assert claims["sub"] == "receptionist-1" and claims["path"] == "/api/v1/uploads/up-1", (
        "for that file only"
    )


def test_accepting_then_assigning_through_the_forms(db, processing_app):
    code = file_dossier(db)
    receptionist = signed_in(processing_app, "receptionist-1")
    accepted = act(receptionist, code, "accept", note="Đủ giấy tờ")
    assert accepted.status_code == 303 and accepted.headers["Location"].endswith(
        f"/console/ho-so/{code}?xong=accept"
    )
    page = receptionist.get(accepted.headers["Location"]).get_data(as_text=True)
    assert "Đã thực hiện: Tiếp nhận hồ sơ." in page and 'id="thao-tac-assign"' in page
    assert store.get_dossier(db, code)["state"] == "accepted"
    options = re.findall(
        r'<option value="([^"]+)"', page[page.index('id="assign-assignee"') :].split("</select>")[0]
    )
    assert options == ["specialist-1", "specialist-2"], "the unit's active specialists"
    assigned = act(receptionist, code, "assign", assignee="specialist-2")
    assert assigned.status_code == 303
    dossier = store.get_dossier(db, code)
    assert dossier["state"] == "in_progress" and dossier["assignee"] == "specialist-2"
    assert [row["action"] for row in dossier["control_slip"]] == ["accept", "assign"]
    page = receptionist.get(f"/console/ho-so/{code}").get_data(as_text=True)
    slip = page[page.index('id="phieu-kiem-soat"') :].split("</table>")[0]
    assert "Tiếp nhận hồ sơ" in slip and "Phân công chuyên viên" in slip and "specialist-2" in slip


def test_a_missing_or_wrong_field_is_shown_beside_it(db, processing_app):
    code = file_dossier(db)
    client = signed_in(processing_app, "receptionist-1")
    refused = act(client, code, "refuse", reasons="  ")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="refuse-reasons-loi"' in html and "Thiếu trường bắt buộc" in html
    assert 'id="thao-tac-refuse" class="action" open' in html, "the form stays open"
    assert store.get_dossier(db, code)["state"] == "submitted"


def test_a_leader_issues_a_signed_result_from_the_form(db, processing_app):
    code = file_dossier(db, channel="counter")
    leader, specialist = officer(db, "leader-1"), officer(db, "specialist-1")
    dossiers.perform(db, code, "assign", {"assignee": "specialist-1"}, leader)
    dossiers.perform(db, code, "propose", {"note": "Đủ điều kiện"}, specialist)
    dossiers.perform(db, code, "approve", {}, leader)
    client = signed_in(processing_app, "leader-1")
    not_pdf = act(client, code, "issue_result", file=(io.BytesIO(b"not a pdf"), "ket-qua.pdf"))
    assert not_pdf.status_code == 422 and 'id="issue_result-upload_id-loi"' in not_pdf.get_data(as_text=True)
    issued = act(client, code, "issue_result", file=(io.BytesIO(pdf_bytes(2000)), "ket-qua.pdf"))
    assert issued.status_code == 303, issued.get_data(as_text=True)
    result = store.get_dossier(db, code)["result"]
    assert result["signed"] is True and result["issued_by"] == "leader-1"

    assert "Kết quả giải quyết đã ký số" in client.get(f"/console/ho-so/{code}").get_data(as_text=True)
    download = client.get(f"/console/ho-so/{code}/ket-qua.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert PdfReader(io.BytesIO(download.data)).get_fields(), "the signed file: its signature field"
    outsider = signed_in(processing_app, "receptionist-x")
    assert outsider.get(f"/console/ho-so/{code}/ket-qua.pdf").status_code == 403


def test_an_accepted_dossier_links_its_receipt_and_control_slip(db, processing_app):
    code = file_dossier(db, channel="counter")
    receptionist = signed_in(processing_app, "receptionist-1")
    html = receptionist.get(f"/console/ho-so/{code}").get_data(as_text=True)
    assert f'href="/console/quay/ho-so/{code}/giay-tiep-nhan"' in html
    slip = re.search(r'href="([^"]+/control-slip\.pdf\?token=[^"]+)"', html).group(1).replace("&amp;", "&")
    token = parse_qs(urlsplit(slip).query)["token"][0]
    assert jwt.decode(token, options={"verify_signature": False})["path"] == (
        f"/api/v1/dossiers/{code}/control-slip.pdf"
    )
    leader = signed_in(processing_app, "leader-1")
    page = leader.get(f"/console/ho-so/{code}").get_data(as_text=True)
    assert "giay-tiep-nhan" not in page and "control-slip.pdf" in page, "the receipt is the counter's"
    assert "ket-qua.pdf" not in page, "no result yet"


def test_a_change_made_meanwhile_is_told_and_the_fresh_dossier_shown(db, processing_app):
    code = file_dossier(db)
    first, second = signed_in(processing_app, "receptionist-1"), signed_in(processing_app, "receptionist-2")
    stale = second.get(f"/console/ho-so/{code}").get_data(as_text=True)
    assert act(first, code, "accept").status_code == 303
    late = second.post(
        f"/console/ho-so/{code}/refuse",
        data={
            "csrf_token": hidden(stale, "csrf_token"),
            "revision": hidden(stale, "revision"),
            "reasons": "Thiếu tờ khai",
        },
    )
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Người khác vừa tiếp nhận hồ sơ này (receptionist-1" in html
    assert "Đã tiếp nhận" in html[html.index('id="trang-thai"') :].split("</dd>")[0], "the fresh dossier"
    assert store.get_dossier(db, code)["state"] == "accepted"


def test_another_units_dossier_is_a_403_page_without_its_data(db, processing_app):
    code = file_dossier(db, unit=OTHER_UNIT, unit_id="000.21.26.H09", name="Người Xã Khác")
    client = signed_in(processing_app, "receptionist-1")
    answer = client.get(f"/console/ho-so/{code}")
    assert answer.status_code == 403
    assert "Người Xã Khác" not in answer.get_data(as_text=True)
    token = hidden(client.get("/console/ho-so").get_data(as_text=True), "csrf_token")
    posted = client.post(f"/console/ho-so/{code}/accept", data={"csrf_token": token, "revision": "1"})
    assert posted.status_code == 403 and store.get_dossier(db, code)["state"] == "submitted"
    assert client.get("/console/ho-so/000.21.26.H06-000000-0000").status_code == 404


def test_a_leader_extends_with_a_new_appointment_and_a_supplement_lists_each_line(db, processing_app):
    code = file_dossier(db, channel="counter")
    client = signed_in(processing_app, "leader-1")
    before = store.get_dossier(db, code)["due_at"]
    earlier = act(client, code, "extend", reason="Cần xác minh", new_due_at="2023-11-01T09:00")
    assert earlier.status_code == 422
    assert "Hạn mới phải sau hạn hiện tại." in earlier.get_data(as_text=True)
    assert 'id="extend-new_due_at-loi"' in earlier.get_data(as_text=True)
    extended = act(client, code, "extend", reason="Cần xác minh", new_due_at="2023-11-10T16:30")
    assert extended.status_code == 303
    dossier = store.get_dossier(db, code)
    assert (
        dossier["due_at"] > before
        and dossier["due_at"].astimezone(TZ).strftime("%d/%m %H:%M") == "10/11 16:30"
    )

    counter = signed_in(processing_app, "receptionist-1")
    asked = act(
        counter, code, "request_supplement", missing="Tờ khai\nBản sao giấy khai sinh", reason="Thiếu"
    )
    assert asked.status_code == 303
    missing = store.get_dossier(db, code)["supplement"]["missing"]
    assert [m["document"] for m in missing] == ["Tờ khai", "Bản sao giấy khai sinh"]
