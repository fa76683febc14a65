"""The shared Flask shell: error shapes, probes, auth rules (no infrastructure needed)."""

import pytest
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validates_schema
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from devstack.tokens import ensure_keypair, issue_token
from eventkit.auth import Roles, require_unit, staff_required
from eventkit.config import ServiceConfig
from eventkit.errors import InvalidData
from eventkit.schemas import BaseSchema
from eventkit.web import create_service_app


class NoteSchema(BaseSchema):
    text = fields.String(required=True)


class NotebookSchema(BaseSchema):
    notes = fields.List(fields.Nested(NoteSchema), required=True)

    # A message about the whole list beside its items' errors: int and str keys in one dict.
    @validates_schema(skip_on_field_errors=False)
    def distinct(self, data, **_):
        raise ValidationError("Ghi chú bị trùng.", "notes")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return ensure_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def client(keys):
    blp = Blueprint("things", __name__, url_prefix="/api/v1")

    @blp.route("/units/<unit>/things")
    class Things(MethodView):
        @staff_required(Roles.RECEPTIONIST)
        def get(self, unit):
            require_unit(unit)
            return {"unit": unit}

        def post(self, unit):
            request.get_json()  # reading the body enforces the size limit
            raise ServerSelectionTimeoutError("no servers")

    @blp.route("/notes")
    class Notes(MethodView):
        @staff_required()
        @blp.arguments(NoteSchema())
        @blp.response(201, NoteSchema)
        def post(self, data):
            return data

    @blp.route("/notebooks")
    class Notebooks(MethodView):
        @blp.arguments(NotebookSchema())
        def post(self, data):
            return data

        def put(self):
            raise InvalidData({"notes": {0: ["Sai."], "_schema": ["Trùng."]}})

    @blp.route("/boom")
    class Boom(MethodView):
        def get(self):
            raise RuntimeError("bug")

    config = ServiceConfig.from_env(
        "testsvc",
        environ={
            "MONGO_URL": "mongodb://unused/",
            "JWT_PUBLIC_KEY": keys[1].read_text(),
            "MAX_CONTENT_LENGTH": "100",
        },
    )
    # No server listens on port 1: the store is down for these tests.
    db = MongoClient("mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=200)["t"]
    app = create_service_app(config=config, title="t", blueprints=[blp], db=db)
    return app.test_client()


def bearer(keys, roles, units):
    return {"Authorization": f"Bearer {issue_token(roles, units, private_key=keys[0])}"}


def test_readyz_fails_while_the_store_is_unreachable_but_healthz_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "service": "testsvc", "checks": {"store": False}}
    assert client.get("/healthz").status_code == 200


def test_staff_routes_need_a_token_the_role_and_the_unit(client, keys):
    assert client.get("/api/v1/units/09496/things").status_code == 401
    wrong_role = client.get("/api/v1/units/09496/things", headers=bearer(keys, [Roles.EDITOR], ["09496"]))
    assert wrong_role.status_code == 403
    wrong_unit = client.get(
        "/api/v1/units/09496/things", headers=bearer(keys, [Roles.RECEPTIONIST], ["09499"])
    )
    assert wrong_unit.status_code == 403 and "đơn vị" in wrong_unit.json["message"]
    ok = client.get("/api/v1/units/09496/things", headers=bearer(keys, [Roles.RECEPTIONIST], ["09496"]))
    assert ok.status_code == 200 and ok.json == {"unit": "09496"}
    garbage = client.get("/api/v1/units/09496/things", headers={"Authorization": "Bearer abc.def.ghi"})
    assert garbage.status_code == 401 and garbage.json["code"] == 401


def test_staff_required_without_roles_admits_staff_roles_only(client, keys):
    note = {"text": "ok"}
    for role in sorted(Roles.STAFF):
        assert (
            client.post("/api/v1/notes", json=note, headers=bearer(keys, [role], ["264"])).status_code == 201
        )
    # A valid token is not enough: the portal's editor and unknown roles are not staff.
    for roles in ([Roles.EDITOR], ["superuser"], []):
        response = client.post("/api/v1/notes", json=note, headers=bearer(keys, roles, ["264"]))
        assert response.status_code == 403, roles


def test_authentication_comes_before_the_body_is_parsed(client, keys):
    bad = {"text": 5, "extra": True}
    assert client.post("/api/v1/notes", json=bad).status_code == 401
    assert client.post("/api/v1/notes", data=b"{not json", content_type="application/json").status_code == 401
    editor = client.post("/api/v1/notes", json=bad, headers=bearer(keys, [Roles.EDITOR], ["264"]))
    assert editor.status_code == 403
    invalid = client.post("/api/v1/notes", json=bad, headers=bearer(keys, [Roles.ADMIN], ["264"]))
    assert invalid.status_code == 422 and set(invalid.json["errors"]["json"]) == {"text", "extra"}


def test_a_body_that_is_not_json_is_a_400_in_vietnamese(client, keys):
    headers = bearer(keys, [Roles.ADMIN], ["264"])
    response = client.post(
        "/api/v1/notes", data=b"{not json", content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.json["errors"]["json"] == ["Nội dung gửi lên không phải JSON hợp lệ."]


def test_field_errors_mixing_list_indexes_and_names_are_a_422_not_a_500(client):
    response = client.post("/api/v1/notebooks", json={"notes": [{"text": 1}, {}]})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["notes"] == {
        "0": {"text": ["Phải là chuỗi ký tự."]},
        "1": {"text": ["Thiếu trường bắt buộc."]},
        "_schema": ["Ghi chú bị trùng."],
    }
    raised = client.put("/api/v1/notebooks")
    assert raised.status_code == 422
    assert raised.json["errors"]["json"] == {"notes": {"0": ["Sai."], "_schema": ["Trùng."]}}


def test_a_405_names_the_allowed_methods_and_a_401_the_scheme(client):
    response = client.delete("/api/v1/notebooks")
    assert response.status_code == 405 and response.json["code"] == 405
    assert set(response.headers["Allow"].split(", ")) >= {"POST", "PUT"}
    assert response.content_type == "application/json"
    unauthenticated = client.post("/api/v1/notes", json={})
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"


def test_store_outage_is_a_503_in_vietnamese_not_a_500(client):
    response = client.post("/api/v1/units/09496/things", json={})
    assert response.status_code == 503
    assert "lưu trữ" in response.json["message"]


def test_unexpected_errors_are_json_500_and_unknown_paths_json_404(client):
    response = client.get("/api/v1/boom")
    assert response.status_code == 500 and response.json["message"] == "Lỗi hệ thống."
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json["code"] == 404


def test_bodies_over_the_limit_are_413(client):
    response = client.post("/api/v1/units/09496/things", data=b"x" * 500, content_type="application/json")
    assert response.status_code == 413 and response.json["code"] == 413


def test_openapi_document_lists_the_probes_and_the_bearer_scheme(client):
    spec = client.get("/openapi.json").json
    assert {"/healthz", "/readyz", "/api/v1/units/{unit}/things"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["staffToken"]["scheme"] == "bearer"


def test_the_correlation_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Correlation-ID": "abc"}).headers["X-Correlation-ID"] == "abc"
    assert len(client.get("/healthz").headers["X-Correlation-ID"]) == 36


def test_a_download_s_vietnamese_name_goes_as_ascii_and_in_full_by_rfc_6266():
    from eventkit.web import content_disposition

    assert content_disposition("giay-tiep-nhan.pdf") == 'attachment; filename="giay-tiep-nhan.pdf"'
    header = content_disposition("12/QĐ-UBND Quyết định.pdf")
    header.encode("latin-1")  # what a WSGI server can send
    assert header.startswith('attachment; filename="12/QD-UBND Quyet dinh.pdf"; ')
    assert header.endswith("filename*=UTF-8''12%2FQ%C4%90-UBND%20Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf")
    assert '\\"' not in content_disposition('a"b.pdf') and content_disposition('a"b.pdf').count('"') == 2
