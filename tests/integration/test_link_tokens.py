"""Link tokens on the real store: the files an officer's browser opens from the console (a
citizen's upload at intake, a letter's PDF and a control slip at notify) open with `?token=`
signed for that path instead of a bearer token, with the same unit checks."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from eventkit.auth import LINK_AUDIENCE
from eventkit.config import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
from notify import create_app as create_notify_app
from notify import store as notify_store
from notify.config import load_config as load_notify_config
from notify.service import letters as letter_service
from tests.factories import UNIT
from tests.integration.notify_tools import new_address, new_code, submitted
from tests.integration.test_intake_filing import filing, upload
from tests.integration.test_notify_control import deliver, journey, load_catalogue
from tests.integration.test_notify_letters import KEY, MORNING
from tests.integration.test_notify_letters import request as letter_request

pytestmark = pytest.mark.integration


def link_token(
    private_key: Path | str,
    path: str,
    unit: str = UNIT,
    role: str = "specialist",
    *,
    ttl: int = 600,
    audience: str = LINK_AUDIENCE,
) -> str:
    """A link token as processing.identity.links signs one (here with the test key, no `kid`)."""
    now = int(time.time())
    claims = {
        "sub": "cv-link",
        "name": "Cán bộ mở tệp",
        "roles": [role],
        "units": [unit],
        "path": path,
        "iss": DEFAULT_JWT_ISSUER,
        "aud": audience,
        "iat": now - 5,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    key = private_key.read_text() if isinstance(private_key, Path) else private_key
    return jwt.encode(claims, key, algorithm="RS256")


def stranger_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def check_link(client, path: str, other_path: str, private_key: Path, foreign_unit: str, unit: str = UNIT):
    """The link opens `path` only, for a live token of ours, for an officer of the unit."""
    opened = client.get(path, query_string={"token": link_token(private_key, path, unit)})
    assert opened.status_code == 200, opened.get_data(as_text=True)[:300]
    elsewhere = client.get(other_path, query_string={"token": link_token(private_key, path, unit)})
    assert elsewhere.status_code == 403 and elsewhere.json["message"]
    expired = client.get(path, query_string={"token": link_token(private_key, path, unit, ttl=-60)})
    assert expired.status_code == 401 and expired.json["message"]
    forged = client.get(path, query_string={"token": link_token(stranger_key(), path, unit)})
    assert forged.status_code == 401
    # A staff token is not a link: its audience is the API's.
    bearer = client.get(
        path, query_string={"token": link_token(private_key, path, unit, audience=DEFAULT_JWT_AUDIENCE)}
    )
    assert bearer.status_code == 401
    foreign = client.get(path, query_string={"token": link_token(private_key, path, foreign_unit)})
    assert foreign.status_code == 403
    assert client.get(path).status_code == 401, "neither link nor bearer token"
    return opened


def test_an_upload_opens_with_a_link_for_its_path(intake_client, intake_catalogue, jwt_keys):
    pdf_id = upload(intake_client).json["id"]
    other_id = upload(intake_client).json["id"]
    assert intake_client.post("/api/v1/dossiers", json=filing(pdf_id)).status_code == 201
    assert intake_client.post("/api/v1/dossiers", json=filing(other_id)).status_code == 201
    opened = check_link(
        intake_client, f"/api/v1/uploads/{pdf_id}", f"/api/v1/uploads/{other_id}", jwt_keys[0], "264.TCKH"
    )
    assert opened.mimetype == "application/pdf" and opened.data.startswith(b"%PDF")
    editor = intake_client.get(
        f"/api/v1/uploads/{pdf_id}",
        query_string={"token": link_token(jwt_keys[0], f"/api/v1/uploads/{pdf_id}", role="editor")},
    )
    assert editor.status_code == 403, "a role that handles no dossiers"


@pytest.fixture
def notify_app(service_environ):
    app = create_notify_app(load_notify_config(environ={**service_environ, "POSTAL_HMAC_KEY": KEY.decode()}))
    notify_store.ensure_indexes(app.extensions["db"])
    load_catalogue(app.extensions["db"])
    return app


def test_a_letters_pdf_and_a_control_slip_open_with_a_link_for_their_path(
    notify_app, jwt_keys, signing_certs
):
    db, blobs = notify_app.extensions["db"], notify_app.extensions["blobs"]
    client = notify_app.test_client()
    letter = letter_service.issue(db, blobs, str(signing_certs), letter_request(1), MORNING)
    other = letter_service.issue(db, blobs, str(signing_certs), letter_request(2), MORNING)
    opened = check_link(
        client,
        f"/api/v1/letters/{letter['_id']}.pdf",
        f"/api/v1/letters/{other['_id']}.pdf",
        jwt_keys[0],
        "09499",
        unit="09496",
    )
    assert opened.data == letter_service.pdf(db, blobs, letter["_id"])

    codes = [new_code(), new_code()]
    for code in codes:
        deliver(db, submitted(code, new_address()))
        for event in journey(code):
            deliver(db, event)
    slip, other_slip = (f"/api/v1/dossiers/{code}/control-slip.pdf" for code in codes)
    opened = check_link(client, slip, other_slip, jwt_keys[0], "09499")
    assert opened.headers["Content-Type"] == "application/pdf" and opened.data.startswith(b"%PDF")
    register = client.get(
        "/api/v1/register.pdf",
        query_string={
            "unit": UNIT,
            "from": "2026-12-01",
            "to": "2026-12-31",
            "token": link_token(jwt_keys[0], "/api/v1/register.pdf"),
        },
    )
    assert register.status_code == 401, "only the files made to be linked open with a link"
    # The link is no key to the letter's record itself, only to the file it was made for.
    record = client.get(
        f"/api/v1/letters/{letter['_id']}",
        query_string={"token": link_token(jwt_keys[0], f"/api/v1/letters/{letter['_id']}", "09496")},
    )
    assert record.status_code == 401
