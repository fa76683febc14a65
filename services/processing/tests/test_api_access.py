"""Every staff route of processing checks the token before it reads the request (no store needed)."""

import re

import pytest

from devstack.tokens import ensure_keypair, issue_token
from eventkit.auth import Roles
from processing import create_app
from processing.config import load_config

# Values that fit every path parameter: `<int:year>` and a procedure or unit `<code>`.
PATH_VALUE = "2024"
BAD_BODY = {"version": "x", "unexpected": True}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return ensure_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def client(keys, tmp_path_factory):
    # Nothing listens on port 1: a request that reached the store would fail, not pass.
    environ = {
        "MONGO_URL": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200",
        "JWT_PUBLIC_KEY": keys[1].read_text(),
        "BLOB_URL": tmp_path_factory.mktemp("blobs").as_uri(),
    }
    return create_app(load_config(environ=environ)).test_client()


def staff_operations(client):
    spec = client.get("/openapi.json").json
    found = [
        (method.upper(), re.sub(r"\{[^}]+\}", PATH_VALUE, path), operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete") and operation.get("security")
    ]
    assert len(found) >= 10, "the catalogue, units, calendar and /me are staff routes"
    return found


def call(client, method, path, headers=None):
    # A bad query string and a bad body: parsed first, either would answer 422.
    return client.open(f"{path}?page=zero&received_at=never", method=method, json=BAD_BODY, headers=headers)


def test_a_request_without_a_token_is_401_before_its_body_or_query_is_read(client):
    for method, path, _ in staff_operations(client):
        response = call(client, method, path)
        assert response.status_code == 401, (method, path, response.json)
        assert response.json["code"] == 401 and response.json["message"]


def test_a_valid_token_without_a_staff_role_is_403(client, keys):
    for roles in ([Roles.EDITOR], []):
        headers = {"Authorization": f"Bearer {issue_token(roles, ['264'], private_key=keys[0])}"}
        for method, path, _ in staff_operations(client):
            assert call(client, method, path, headers).status_code == 403, (roles, method, path)


def test_an_admin_with_a_bad_request_gets_the_field_errors(client, keys):
    headers = {"Authorization": f"Bearer {issue_token([Roles.ADMIN], ['264'], private_key=keys[0])}"}
    checked = 0
    for method, path, operation in staff_operations(client):
        parameters = {p["name"] for p in operation.get("parameters", [])}
        if "requestBody" in operation or parameters & {"page", "received_at"}:
            response = call(client, method, path, headers)
            assert response.status_code == 422, (method, path)
            assert response.json["errors"], (method, path)
            checked += 1
    assert checked >= 5
