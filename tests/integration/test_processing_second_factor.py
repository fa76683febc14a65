"""The second factor (TOTP) end to end on the real store: enrolment at sign-in when a role
requires it, the code asked at each sign-in after, replays and wrong codes refused and counted,
the API's token with `totp`, and an officer turning it on and off from the console."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from eventkit.auth import Staff
from processing.identity import settings, signin
from processing.identity import store as identity_store
from tests.integration.console_tools import PASSWORD, form_token, hidden, sign_in, with_password

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]
ADMIN = Staff(user_id="quantri-1", name="Quản trị", roles=frozenset({"admin"}), units=frozenset({"264.TP"}))


@pytest.fixture
def db(processing_app):
    return processing_app.extensions["db"]


def require_for_leaders(db) -> None:
    settings.update(db, ["leader"], 0, "Lãnh đạo ký số", ADMIN)


def enrolment_key(html: str) -> str:
    match = re.search(r'<code id="khoa-xac-thuc">([A-Z2-7]+)</code>', html)
    assert match, "the page shows no key to enrol"
    return match.group(1)


def send_code(client, html: str, code: str):
    return client.post(
        "/console/xac-thuc",
        data={"csrf_token": hidden(html, "csrf_token"), "pending": hidden(html, "pending"), "code": code},
    )


def session_cookie(answer) -> bool:
    return "motcua_staff_session=" in answer.headers.get("Set-Cookie", "")


def test_a_required_role_enrols_at_sign_in_and_is_asked_for_a_fresh_code_next_time(db, processing_app):
    with_password(db, "leader-tp")
    require_for_leaders(db)
    client = processing_app.test_client()
    first = sign_in(client, "leader-tp")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and not session_cookie(first), "the password alone opens no session"
    assert 'src="data:image/svg+xml;' in html and "xmlns" in html, "the QR code of the key is shown"
    key = enrolment_key(html)
    wrong = send_code(client, html, "000000" if pyotp.TOTP(key).now() != "000000" else "111111")
    assert wrong.status_code == 401 and not session_cookie(wrong)
    assert "không đúng" in wrong.get_data(as_text=True)
    assert not signin.totp_enabled(db, "leader-tp")
    enrolled = send_code(client, wrong.get_data(as_text=True), pyotp.TOTP(key).now())
    assert enrolled.status_code == 302 and session_cookie(enrolled)
    assert client.get("/console/").status_code == 200
    credentials = identity_store.get_credentials(db, "leader-tp")
    assert credentials["totp_enabled"] and credentials["totp_secret"] == key and credentials["failures"] == 0

    again = processing_app.test_client()
    asked = sign_in(again, "leader-tp")
    asked_html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "khoa-xac-thuc" not in asked_html, "no new key once enrolled"
    assert key not in asked_html
    replayed = send_code(again, asked_html, pyotp.TOTP(key).now())
    assert replayed.status_code == 401 and not session_cookie(replayed), "the same time step's code again"
    fresh = send_code(again, replayed.get_data(as_text=True), pyotp.TOTP(key).at(time.time() + 30))
    assert fresh.status_code == 302 and session_cookie(fresh)
    assert again.get("/console/").status_code == 200


def test_wrong_codes_count_toward_the_lock_which_then_refuses_the_right_code(db, processing_app):
    with_password(db, "leader-1")
    key = pyotp.random_base32()
    assert signin.enrol_totp(db, "leader-1", key, pyotp.TOTP(key).now())
    client = processing_app.test_client()
    html = sign_in(client, "leader-1").get_data(as_text=True)
    right = pyotp.TOTP(key).at(time.time() + 30)
    wrong_code = "123456" if right != "123456" else "654321"
    for attempt in range(4):
        answer = send_code(client, html, wrong_code)
        assert answer.status_code == 401 and "không đúng" in answer.get_data(as_text=True), attempt
        html = answer.get_data(as_text=True)
    fifth = send_code(client, html, wrong_code)
    assert fifth.status_code == 401 and "tạm khoá" in fifth.get_data(as_text=True)
    still = send_code(client, html, right)
    assert (
        still.status_code == 401 and not session_cookie(still) and "tạm khoá" in still.get_data(as_text=True)
    )
    assert sign_in(processing_app.test_client(), "leader-1").status_code == 401, "the password is refused too"
    assert identity_store.get_credentials(db, "leader-1")["locked_until"] is not None


def test_the_api_token_takes_the_code_once_enrolled(db, processing_client):
    with_password(db, "leader-tp")
    require_for_leaders(db)
    key = pyotp.random_base32()
    assert signin.enrol_totp(db, "leader-tp", key, pyotp.TOTP(key).now())
    body = {"user_id": "leader-tp", "password": PASSWORD}
    without = processing_client.post("/api/v1/token", json=body)
    assert without.status_code == 401 and "totp" in without.json["errors"]["json"]
    code = pyotp.TOTP(key).at(time.time() + 30)
    answer = processing_client.post("/api/v1/token", json={**body, "totp": code})
    assert answer.status_code == 200 and answer.json["access_token"]
    replayed = processing_client.post("/api/v1/token", json={**body, "totp": code})
    assert replayed.status_code == 401 and "hai lớp" in replayed.json["message"]


def test_an_old_enrolment_page_cannot_replace_an_enrolled_key(db, processing_app):
    with_password(db, "leader-tp")
    require_for_leaders(db)
    client = processing_app.test_client()
    html = sign_in(client, "leader-tp").get_data(as_text=True)
    stale_key = enrolment_key(html)
    key = pyotp.random_base32()
    assert signin.enrol_totp(db, "leader-tp", key, pyotp.TOTP(key).now())
    answer = send_code(client, html, pyotp.TOTP(stale_key).now())
    assert answer.status_code == 401 and not session_cookie(answer)
    assert identity_store.get_credentials(db, "leader-tp")["totp_secret"] == key


def settings_page(client):
    page = client.get("/console/xac-thuc-hai-lop")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_an_officer_turns_the_second_factor_on_and_off_from_the_console(db, processing_app):
    with_password(db, "specialist-1")
    client = processing_app.test_client()
    assert sign_in(client, "specialist-1").status_code == 302, "no second factor yet"
    home = client.get("/console/").get_data(as_text=True)
    assert 'href="/console/xac-thuc-hai-lop"' in home, "linked from every page's header"
    assert "đang tắt" in settings_page(client)
    started = client.post(
        "/console/xac-thuc-hai-lop/bat", data={"csrf_token": form_token(client, "/console/xac-thuc-hai-lop")}
    )
    html = started.get_data(as_text=True)
    key = enrolment_key(html)
    form = {"csrf_token": hidden(html, "csrf_token"), "enrol": hidden(html, "enrol")}
    wrong = client.post("/console/xac-thuc-hai-lop/xac-nhan", data={**form, "code": "12345x"})
    assert wrong.status_code == 422 and 'id="code-loi"' in wrong.get_data(as_text=True)
    assert not signin.totp_enabled(db, "specialist-1")
    forged = client.post(
        "/console/xac-thuc-hai-lop/xac-nhan", data={**form, "enrol": "gia-mao", "code": pyotp.TOTP(key).now()}
    )
    assert forged.status_code == 400
    done = client.post("/console/xac-thuc-hai-lop/xac-nhan", data={**form, "code": pyotp.TOTP(key).now()})
    assert done.status_code == 302 and signin.totp_enabled(db, "specialist-1")
    assert "đang bật" in settings_page(client)
    assert db.audit.find_one({"target": "staff:specialist-1", "action": "staff.second_factor_enabled"})
    asked = sign_in(processing_app.test_client(), "specialist-1")
    assert asked.status_code == 200 and 'name="pending"' in asked.get_data(as_text=True), (
        "now the code is asked"
    )

    token = form_token(client, "/console/xac-thuc-hai-lop")
    refused = client.post("/console/xac-thuc-hai-lop/tat", data={"csrf_token": token, "code": "000000"})
    assert refused.status_code == 422 and 'id="off_code-loi"' in refused.get_data(as_text=True)
    assert signin.totp_enabled(db, "specialist-1")
    off = client.post(
        "/console/xac-thuc-hai-lop/tat",
        data={"csrf_token": token, "code": pyotp.TOTP(key).at(time.time() + 30)},
    )
    assert off.status_code == 302 and not signin.totp_enabled(db, "specialist-1")
    assert identity_store.get_credentials(db, "specialist-1")["totp_secret"] is None
    assert sign_in(processing_app.test_client(), "specialist-1").status_code == 302


def test_an_officer_whose_role_requires_it_cannot_turn_it_off(db, processing_app):
    with_password(db, "leader-tp")
    require_for_leaders(db)
    key = pyotp.random_base32()
    assert signin.enrol_totp(db, "leader-tp", key, pyotp.TOTP(key).now())
    client = processing_app.test_client()
    html = sign_in(client, "leader-tp").get_data(as_text=True)
    assert send_code(client, html, pyotp.TOTP(key).at(time.time() + 30)).status_code == 302
    page = settings_page(client)
    assert "bắt buộc" in page and "/console/xac-thuc-hai-lop/tat" not in page
    refused = client.post(
        "/console/xac-thuc-hai-lop/tat",
        data={"csrf_token": form_token(client, "/console/xac-thuc-hai-lop"), "code": "000000"},
    )
    assert refused.status_code == 403 and signin.totp_enabled(db, "leader-tp")
