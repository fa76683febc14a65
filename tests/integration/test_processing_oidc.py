"""Single sign-on on the real store, against a small OpenID Connect provider run by the test (the
authorization-code flow with PKCE, an RS256 ID token, its key set): the provider's user becomes
the staff account it names, with processing's own rules (active account, second factor)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from eventkit.auth import Staff
from processing import create_app
from processing import store as processing_store
from processing.config import load_config
from processing.identity import settings
from processing.service import staff as directory
from tests.integration.conftest import DIRECTORY

pytestmark = pytest.mark.integration
CLIENT_ID, CLIENT_SECRET = "motcua-console", "bi-mat-cua-ung-dung"


class Provider:
    """An OIDC provider with one signed-in user at a time (`user`), issuing codes once each."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.user = "specialist-1"
        self.extra_claims: dict[str, Any] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(
                        {
                            "issuer": provider.issuer,
                            "authorization_endpoint": f"{provider.issuer}/authorize",
                            "token_endpoint": f"{provider.issuer}/token",
                            "jwks_uri": f"{provider.issuer}/jwks",
                        }
                    )
                elif url.path == "/jwks":
                    jwk = json.loads(RSAAlgorithm.to_jwk(provider.key.public_key()))
                    self._json({"keys": [{**jwk, "kid": "idp-1", "alg": "RS256", "use": "sig"}]})
                elif url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {**query, "user": provider.user}
                    self.send_response(302)
                    location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                    self.send_header("Location", location)
                    self.end_headers()
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {basic}":
                    return self._json({"error": "invalid_client"}, 401)
                grant = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                if grant is None or challenge.decode() != grant["code_challenge"]:
                    return self._json({"error": "invalid_grant"}, 400)
                if form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json({"error": "invalid_grant"}, 400)
                now = int(time.time())
                claims = {
                    "iss": provider.issuer,
                    "aud": CLIENT_ID,
                    "sub": f"idp-{grant['user']}",
                    "preferred_username": grant["user"],
                    "nonce": grant["nonce"],
                    "iat": now,
                    "exp": now + 300,
                    **provider.extra_claims,
                }
                id_token = jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": "idp-1"})
                return self._json({"access_token": "at", "token_type": "Bearer", "id_token": id_token})

        return Handler


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


@pytest.fixture
def app(service_environ, provider, mongo_db):
    environ = {
        **service_environ,
        "OIDC_ISSUER_URL": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    app = create_app(load_config(environ=environ))
    processing_store.ensure_indexes(app.extensions["db"])
    directory.seed(app.extensions["db"], DIRECTORY, actor="test")
    return app


def through_provider(client, start: str = "/console/dang-nhap/sso"):
    """The browser's way: to the provider, which signs the user in and sends them back."""
    sent = client.get(start)
    assert sent.status_code == 302 and sent.headers["Location"].startswith("http://127.0.0.1:")
    back = requests.get(sent.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/console/dang-nhap/sso/xong"
    return callback


def test_a_provider_user_signs_in_as_the_staff_account_it_names(app, provider):
    client = app.test_client()
    form = client.get("/console/dang-nhap").get_data(as_text=True)
    assert 'href="/console/dang-nhap/sso"' in form, "the sign-in page offers single sign-on"
    callback = through_provider(client, "/console/dang-nhap/sso?next=/console/xac-thuc-hai-lop")
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302 and done.headers["Location"].endswith("/console/xac-thuc-hai-lop")
    assert "motcua_staff_session=" in done.headers["Set-Cookie"]
    home = client.get("/console/")
    assert home.status_code == 200 and "Nguyễn Văn Một" in home.get_data(as_text=True)
    replayed = client.get(f"{callback.path}?{callback.query}")
    assert replayed.status_code == 400, "the flow's cookie is used once"


def test_a_user_with_no_active_staff_account_is_refused(app, provider):
    provider.user = "khong-co-trong-danh-ba"
    client = app.test_client()
    callback = through_provider(client)
    refused = client.get(f"{callback.path}?{callback.query}")
    assert refused.status_code == 401 and "không ứng với cán bộ" in refused.get_data(as_text=True)
    assert "motcua_staff_session=" not in refused.headers.get("Set-Cookie", "")


def test_a_forged_state_or_a_token_for_another_client_is_refused(app, provider):
    client = app.test_client()
    callback = through_provider(client)
    query = parse_qs(callback.query)
    forged = client.get(callback.path, query_string={"code": query["code"][0], "state": "gia-mao"})
    assert forged.status_code == 400
    provider.extra_claims = {"aud": "ung-dung-khac"}
    callback = through_provider(client)
    refused = client.get(f"{callback.path}?{callback.query}")
    assert refused.status_code == 401 and "không thành công" in refused.get_data(as_text=True)
    assert client.get("/console/").status_code == 302, "no session"


def test_a_role_requiring_a_second_factor_is_asked_for_it_after_the_provider(app, provider):
    admin = Staff("quantri-1", "Quản trị", frozenset({"admin"}), frozenset({"264.TP"}))
    settings.update(app.extensions["db"], ["leader"], 0, "Lãnh đạo", admin)
    provider.user = "leader-tp"
    client = app.test_client()
    callback = through_provider(client)
    asked = client.get(f"{callback.path}?{callback.query}")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="pending"' in html and "khoa-xac-thuc" in html
    assert "motcua_staff_session=" not in asked.headers.get("Set-Cookie", "")


def test_without_configuration_there_is_no_single_sign_on(processing_client):
    assert "/console/dang-nhap/sso" not in processing_client.get("/console/dang-nhap").get_data(as_text=True)
    assert processing_client.get("/console/dang-nhap/sso").status_code == 404
