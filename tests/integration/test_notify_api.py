"""The notify API: a dossier's notifications for the staff of its unit, on the real store."""

from __future__ import annotations

import pytest

from notify import create_app, store
from notify.config import load_config
from notify.templates import Renderer
from tests.integration.notify_tools import (
    OFFICE,
    UNIT,
    accepted,
    new_address,
    new_code,
    processing_event,
    submitted,
)
from tests.integration.test_notify_email import deliver

pytestmark = pytest.mark.integration


@pytest.fixture
def app(service_environ):
    app = create_app(load_config(environ=service_environ))
    store.ensure_indexes(app.extensions["db"])
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def dossier(app):
    """A dossier filed at UNIT, accepted, then transferred to OFFICE; one email each of two events."""
    db, renderer = app.extensions["db"], Renderer("https://dichvucong.example.vn")
    code, address = new_code(), new_address()
    deliver(db, renderer, submitted(code, address))
    deliver(db, renderer, accepted(code))
    deliver(
        db,
        renderer,
        processing_event("transferred", code, 2, "in_progress", unit=OFFICE, from_unit=UNIT, to_unit=OFFICE),
    )
    return code, address


def listing(client, code, headers=None):
    return client.get("/api/v1/notifications", query_string={"dossier": code}, headers=headers or {})


def test_staff_of_the_dossiers_unit_read_its_notifications(client, dossier, staff_headers):
    code, address = dossier
    for unit in (OFFICE, UNIT):  # the unit handling it now, and the one that received it
        answer = listing(client, code, staff_headers("specialist", unit))
        assert answer.status_code == 200, answer.json
        items = answer.json["items"]
        assert [(n["template"], n["status"], n["channel"]) for n in items] == [
            ("received", "created", "email"),
            ("accepted", "created", "email"),
        ]
        assert all(
            n["recipient"] == {"kind": "citizen", "name": "Nguyễn Thị Hoa", "email": address, "user_id": None}
            for n in items
        )
        assert all(code in n["reason"] and n["dossier"] == code for n in items)


def test_without_a_token_401_and_staff_of_another_unit_403(client, dossier, staff_headers):
    code, _ = dossier
    answer = listing(client, code)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    answer = listing(client, code, {"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 401
    answer = listing(client, code, staff_headers("leader", "09499"))
    assert answer.status_code == 403
    assert answer.json["message"] == "Tài khoản không thuộc đơn vị xử lý hồ sơ này."
    answer = listing(client, code, staff_headers("editor", OFFICE))
    assert answer.status_code == 403


def test_an_unknown_dossier_is_404_and_a_malformed_code_422_naming_the_field(client, staff_headers):
    answer = listing(client, new_code(), staff_headers("specialist", UNIT))
    assert answer.status_code == 404
    answer = listing(client, "not a code", staff_headers("specialist", UNIT))
    assert answer.status_code == 422
    assert "dossier" in answer.json["errors"]["query"]
    answer = client.get("/api/v1/notifications", headers=staff_headers("specialist", UNIT))
    assert answer.status_code == 422
    assert answer.json["errors"]["query"]["dossier"] == ["Thiếu trường bắt buộc."]
