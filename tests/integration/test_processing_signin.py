"""Signing officers in on the real store: the console's session, lockout, the API's token and the
key set that verifies it."""

from __future__ import annotations

import jwt
import pytest

from processing.identity import store as identity_store
from tests.integration.console_tools import PASSWORD, form_token, sign_in, with_password

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]


@pytest.fixture
def db(processing_app):
    return processing_app.extensions["db"]


def test_an_officer_signs_in_works_and_signs_out(db, processing_client):
    with_password(db, "specialist-1")
    assert processing_client.get("/console/").status_code == 302, "no session: to the sign-in page"
    answer = sign_in(processing_client, "specialist-1")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/console/")
    cookie = answer.headers["Set-Cookie"]
    assert "motcua_staff_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/console" in cookie
    home = processing_client.get("/console/")
    assert home.status_code == 200 and "Nguyễn Văn Một" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "private, no-store"
    assert identity_store.get_credentials(db, "specialist-1")["failures"] == 0

    signed_out = processing_client.post(
        "/console/dang-xuat", data={"csrf_token": form_token(processing_client, "/console/")}
    )
    assert signed_out.status_code == 302
    assert db[identity_store.SESSIONS].count_documents({"user_id": "specialist-1"}) == 0
    assert processing_client.get("/console/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(db, processing_client):
    with_password(db, "specialist-1")
    answer = processing_client.post(
        "/console/dang-nhap", data={"user_id": "specialist-1", "password": PASSWORD}
    )
    assert answer.status_code == 400 and "motcua_staff_session" not in answer.headers.get("Set-Cookie", "")


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(db, processing_client):
    with_password(db, "leader-1")
    for attempt in range(4):
        wrong = sign_in(processing_client, "leader-1", "sai-mat-khau")
        assert wrong.status_code == 401 and "không đúng" in wrong.get_data(as_text=True), attempt
    fifth = sign_in(processing_client, "leader-1", "sai-mat-khau")
    assert fifth.status_code == 401 and "tạm khoá" in fifth.get_data(as_text=True)
    right = sign_in(processing_client, "leader-1")
    assert right.status_code == 401 and "tạm khoá" in right.get_data(as_text=True)
    assert identity_store.get_credentials(db, "leader-1")["locked_until"] is not None


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(db, processing_client):
    with_password(db, "specialist-2")
    unknown = sign_in(processing_client, "khong-co-ai", "sai-mat-khau")
    wrong = sign_in(processing_client, "specialist-2", "sai-mat-khau")
    assert unknown.status_code == wrong.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in unknown.get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)


def test_the_api_token_is_signed_with_a_published_key_and_accepted(db, processing_client):
    with_password(db, "leader-1")
    refused = processing_client.post("/api/v1/token", json={"user_id": "leader-1", "password": "sai"})
    assert refused.status_code == 401 and refused.json["message"]
    answer = processing_client.post("/api/v1/token", json={"user_id": "leader-1", "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    token = answer.json["access_token"]
    keys = processing_client.get("/.well-known/jwks.json")
    assert keys.status_code == 200 and "public" in keys.headers["Cache-Control"]
    kid = jwt.get_unverified_header(token)["kid"]
    published = {key["kid"]: key for key in keys.json["keys"]}
    assert kid in published and "d" not in published[kid], "the private part is never published"
    claims = jwt.decode(
        token,
        jwt.PyJWK(published[kid]).key,
        algorithms=["RS256"],
        audience="motcua",
        issuer="motcua-processing",
    )
    assert (claims["sub"], claims["roles"]) == ("leader-1", ["leader"])
    me = processing_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["user_id"] == "leader-1"
    stored = db[identity_store.SIGNING_KEYS].find_one({"_id": kid})
    assert "ENCRYPTED" in stored["private_pem"], "the private key is stored encrypted"


def test_an_administrators_temporary_password_must_be_changed_first(db, processing_client, staff_headers):
    admin = staff_headers("admin", "264.TP", "quantri-1")
    weak = processing_client.put(
        "/api/v1/staff/specialist-tp/password", json={"password": "ngan", "reason": "Quên"}, headers=admin
    )
    assert weak.status_code == 422 and "password" in weak.json["errors"]["json"]
    reset = processing_client.put(
        "/api/v1/staff/specialist-tp/password",
        json={"password": "tam-thoi-2019-x", "reason": "Quên"},
        headers=admin,
    )
    assert reset.status_code == 204
    token = processing_client.post(
        "/api/v1/token", json={"user_id": "specialist-tp", "password": "tam-thoi-2019-x"}
    )
    assert token.status_code == 403
    signed_in = sign_in(processing_client, "specialist-tp", "tam-thoi-2019-x")
    assert signed_in.status_code == 302
    forced = processing_client.get("/console/")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/console/doi-mat-khau")
    changed = processing_client.post(
        "/console/doi-mat-khau",
        data={
            "csrf_token": form_token(processing_client, "/console/doi-mat-khau"),
            "current": "tam-thoi-2019-x",
            "new": "mat-khau-rieng-cua-toi",
            "again": "mat-khau-rieng-cua-toi",
        },
    )
    assert changed.status_code == 302
    assert processing_client.get("/console/").status_code == 200
    actions = [e["action"] for e in db.audit.find({"target": "staff:specialist-tp"})]
    assert "staff.password_reset" in actions and "staff.password_changed" in actions


def test_a_role_required_to_use_a_second_factor_cannot_take_a_token_before_enrolling(
    db, processing_client, staff_headers
):
    with_password(db, "leader-tp")
    admin = staff_headers("admin", "264.TP", "quantri-1")
    current = processing_client.get("/api/v1/signin-settings", headers=admin).json
    assert current == {"totp_required_roles": [], "version": 0}
    changed = processing_client.put(
        "/api/v1/signin-settings",
        json={"totp_required_roles": ["leader"], "version": 0, "reason": "Lãnh đạo ký số"},
        headers=admin,
    )
    assert changed.status_code == 200 and changed.json["version"] == 1
    stale = processing_client.put(
        "/api/v1/signin-settings",
        json={"totp_required_roles": [], "version": 0, "reason": "Nhầm"},
        headers=admin,
    )
    assert stale.status_code == 409
    token = processing_client.post("/api/v1/token", json={"user_id": "leader-tp", "password": PASSWORD})
    assert token.status_code == 403 and "hai lớp" in token.json["message"]
    assert db.audit.find_one({"target": "settings:signin"})["after"]["totp_required_roles"] == ["leader"]


def test_the_demo_seed_gives_a_password_to_stored_accounts_without_one_and_keeps_a_changed_one(
    db, processing_client, directory_staff
):
    from processing.service import staff

    with_password(db, "leader-1")  # changed by its officer since
    assert identity_store.get_credentials(db, "specialist-1") is None, "stored before passwords"
    assert staff.seed(db, directory_staff, password="mat-khau-mau.2019") == [], "nothing new stored"
    assert sign_in(processing_client, "specialist-1", "mat-khau-mau.2019").status_code == 302
    assert sign_in(processing_client, "leader-1", "mat-khau-mau.2019").status_code == 401
    assert sign_in(processing_client, "leader-1").status_code == 302
