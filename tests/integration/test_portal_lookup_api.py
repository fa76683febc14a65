"""The portal's JSON lookup on the real store, its dossier fed through the portal's own handlers."""

from __future__ import annotations

from datetime import datetime

import pytest

from eventkit.config import ServiceConfig
from eventkit.secrets import hash_secret
from portal import store as portal_store
from tests.integration.portal_tools import Deliverer
from tests.portal_events import SECRET, accepted, new_code, submitted

pytestmark = pytest.mark.integration


@pytest.fixture
def portal_app(service_environ, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("LOOKUP_RATE_LIMIT", "5/minute")
    app = create_app(ServiceConfig.from_env("portal", environ=service_environ))
    portal_store.ensure_indexes(app.extensions["db"])
    return app


@pytest.fixture
def dossier(portal_app):
    code = new_code()
    Deliverer(portal_app.extensions["db"])(submitted(code, hash_secret(SECRET)), accepted(code))
    return code


def test_the_code_and_secret_give_the_public_status_without_personal_data(portal_app, dossier):
    client = portal_app.test_client()
    # Typed as on the slip, in lower case without dashes: the secret is normalised.
    answer = client.post("/api/v1/lookup", json={"code": f" {dossier} ", "secret": "abcdefghjk23"})
    assert answer.status_code == 200
    view = answer.get_json()
    assert view["code"] == dossier and view["state"] == "accepted"
    assert view["state_label"] == "Đã tiếp nhận"
    assert view["procedure_name"] == "Đăng ký lại việc khai sinh"
    assert view["applicant_name"] == "Nguyễn V*** A***"
    assert datetime.fromisoformat(view["due_at"]) == datetime.fromisoformat("2023-11-03T09:40:00+07:00")
    assert [step["step"] for step in view["steps"]] == ["submitted", "accepted"]
    text = answer.get_data(as_text=True)
    assert "027190001234" not in text and "0912345678" not in text and "pbkdf2" not in text


def test_a_wrong_secret_and_an_unknown_code_get_the_same_answer(portal_app, dossier):
    client = portal_app.test_client()
    wrong = client.post("/api/v1/lookup", json={"code": dossier, "secret": "ZZZZ-ZZZZ-ZZZZ"})
    unknown = client.post("/api/v1/lookup", json={"code": new_code(), "secret": SECRET})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()
    assert "Không tìm thấy hồ sơ" in wrong.get_json()["message"]


def test_bad_input_names_the_field(portal_app):
    answer = portal_app.test_client().post("/api/v1/lookup", json={"code": "", "extra": 1})
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]["json"]
    assert set(errors) == {"code", "secret", "extra"}


def test_a_client_over_its_limit_is_told_to_wait(portal_app, dossier):
    client = portal_app.test_client()
    body = {"code": dossier, "secret": "ZZZZ-ZZZZ-ZZZZ"}
    assert [client.post("/api/v1/lookup", json=body).status_code for _ in range(5)] == [404] * 5
    over = client.post("/api/v1/lookup", json={"code": dossier, "secret": SECRET})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert "quá nhiều lần" in over.get_json()["message"]
    # Another address has its own count.
    other = client.post("/api/v1/lookup", json=body, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404
