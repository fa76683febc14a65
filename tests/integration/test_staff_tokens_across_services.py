"""Processing's staff tokens at another service: processing under gunicorn, as deployed, signs a
token at its sign-in (`POST /api/v1/token`); intake, given processing's key set URL
(JWT_JWKS_URL), accepts it on a staff endpoint and refuses a token naming a key processing never
published. A link made by processing for one of intake's files opens that file."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from types import SimpleNamespace

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from eventkit.auth import Staff
from eventkit.config import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
from processing.identity import links
from processing.identity.keys import KeySet
from processing.service.staff import DEMO_PASSWORD
from tests.browser.servers import gunicorn, prepare_processing, scratch_database, service_env
from tests.factories import pdf_bytes
from tests.integration.test_intake_filing import filing

pytestmark = pytest.mark.integration
SECRET = "test secret of the staff token keys"
OFFICER = "cv1.09496"  # a specialist of commune 09496 in the demo seed


@pytest.fixture(scope="module")
def processing(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("processing")
    with scratch_database(infra, "test_tokens_across", prepare_processing) as db:
        env = service_env(
            infra,
            jwt_keys,
            db.name,
            BLOB_URL=(data / "blobs").as_uri(),
            SIGNING_CERTS_DIR=str(signing_certs),
            STAFF_KEYS_SECRET=SECRET,
        )
        with gunicorn("processing.wsgi:app", env, data / "gunicorn.log") as url:
            yield SimpleNamespace(url=url, db=db)


@pytest.fixture
def intake(service_environ, processing):
    from intake import create_app
    from intake import store as intake_store
    from intake.config import load_config
    from tests.factories import fill_catalogue_projection

    environ = {
        **service_environ,
        "JWT_JWKS_URL": f"{processing.url}/.well-known/jwks.json",
        "UPLOAD_RATE_LIMIT": "100000/minute",
    }
    app = create_app(load_config(environ=environ))
    intake_store.ensure_indexes(app.extensions["db"])
    fill_catalogue_projection(app.extensions["db"])
    return app.test_client()


def filed_upload(client) -> str:
    """A citizen's PDF attached to a dossier of commune 09496."""
    answer = client.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(pdf_bytes(1000)), "to-khai.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    upload_id = answer.json["id"]
    assert client.post("/api/v1/dossiers", json=filing(upload_id)).status_code == 201
    return str(upload_id)


def test_a_token_from_processings_sign_in_is_accepted_at_intake(processing, intake):
    answer = requests.post(
        f"{processing.url}/api/v1/token", json={"user_id": OFFICER, "password": DEMO_PASSWORD}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"].startswith("k")
    upload_id = filed_upload(intake)
    opened = intake.get(f"/api/v1/uploads/{upload_id}", headers={"Authorization": f"Bearer {token}"})
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF")


def test_a_token_naming_a_key_processing_never_published_is_refused(processing, intake, jwt_keys):
    upload_id = filed_upload(intake)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "sub": OFFICER,
        "name": "Giả mạo",
        "roles": ["specialist"],
        "units": ["09496"],
        "iss": DEFAULT_JWT_ISSUER,
        "aud": DEFAULT_JWT_AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    unknown_kid = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "k1"})
    refused = intake.get(f"/api/v1/uploads/{upload_id}", headers={"Authorization": f"Bearer {unknown_kid}"})
    assert refused.status_code == 401 and refused.json["message"]
    # A published key id on a token signed with another key (here the development key) is refused too.
    published = requests.get(f"{processing.url}/.well-known/jwks.json", timeout=10).json()["keys"][0]["kid"]
    borrowed = jwt.encode(claims, jwt_keys[0].read_text(), algorithm="RS256", headers={"kid": published})
    refused = intake.get(f"/api/v1/uploads/{upload_id}", headers={"Authorization": f"Bearer {borrowed}"})
    assert refused.status_code == 401


def test_a_link_processing_signs_opens_the_file_at_intake(processing, intake):
    upload_id = filed_upload(intake)
    keys = KeySet(processing.db, SECRET, issuer=DEFAULT_JWT_ISSUER, audience=DEFAULT_JWT_AUDIENCE)
    staff = Staff(OFFICER, "Chuyên viên", frozenset({"specialist"}), frozenset({"09496"}))
    path = f"/api/v1/uploads/{upload_id}"
    url = links.signed_link(keys, "http://intake.example", path, staff)
    assert url.startswith(f"http://intake.example{path}?token=")
    token = url.split("?token=", 1)[1]
    opened = intake.get(path, query_string={"token": token})
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF")


def test_make_tokens_are_signed_with_processings_key_set(processing, intake, infra):
    from devstack.run import demo_account
    from devstack.tokens import processing_token

    env = {"MONGO_URL": infra.mongo_url, "MONGO_DB": processing.db.name, "STAFF_KEYS_SECRET": SECRET}
    account = demo_account(OFFICER)
    assert account is not None
    token = processing_token(env, account)
    published = requests.get(f"{processing.url}/.well-known/jwks.json", timeout=10).json()["keys"]
    assert jwt.get_unverified_header(token)["kid"] in {key["kid"] for key in published}
    upload_id = filed_upload(intake)
    opened = intake.get(f"/api/v1/uploads/{upload_id}", headers={"Authorization": f"Bearer {token}"})
    assert opened.status_code == 200
