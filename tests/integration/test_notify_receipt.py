"""The receipt slip (Mẫu 01) of a dossier by its code, as the console's button opens it: for staff
of the receiving unit, by a bearer token or a link token signed for its path; 409 with Retry-After
until the worker has signed it."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import jwt
import pytest
from pypdf import PdfReader

from eventkit.auth import LINK_AUDIENCE
from eventkit.config import DEFAULT_JWT_ISSUER
from notify.service import letters as letter_service
from tests.integration import test_notify_control as control_tests
from tests.integration.notify_tools import UNIT, new_address, new_code, submitted
from tests.integration.test_notify_control import accepted, deliver

pytestmark = pytest.mark.integration

# Notify's app on the test's store, its copy of the catalogue loaded.
app, client = control_tests.app, control_tests.client


def link_token(private_key, path: str, unit: str = UNIT, role: str = "receptionist") -> str:
    now = int(time.time())
    claims = {
        "sub": "tn-1",
        "name": "Trần Văn Đức",
        "roles": [role],
        "units": [unit],
        "path": path,
        "iss": DEFAULT_JWT_ISSUER,
        "aud": LINK_AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, private_key.read_text(), algorithm="RS256")


def counter_filing(db) -> str:
    """A counter filing as notify receives it: intake's `submitted`, processing's `accepted`; a
    walk-in who gave no address (intake takes it as optional) and collects at the counter."""
    code = new_code()
    filing, acceptance = (
        submitted(code, new_address(), channel="counter"),
        accepted(code, "2026-12-07T09:30:00+07:00"),
    )
    for event in (filing, acceptance):
        event["data"]["applicant"]["address"] = None
        event["data"]["delivery"] = {"method": "counter", "address": None}
        deliver(db, event)
    return code


def test_the_receipt_waits_for_its_signature_then_is_the_signed_mau_01(
    client, app, staff_headers, signing_certs
):
    db = app.extensions["db"]
    code = counter_filing(db)
    path = f"/api/v1/dossiers/{code}/receipt.pdf"
    receptionist = staff_headers("receptionist", UNIT)

    waiting = client.get(path, headers=receptionist)

    assert waiting.status_code == 409 and waiting.headers["Retry-After"] == "3"
    assert "đang được ký phát hành" in waiting.json["message"]
    letter_service.issue_pending(db, app.extensions["blobs"], str(signing_certs), datetime.now(UTC))

    answer = client.get(path, headers=receptionist)

    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/pdf"
    assert f'filename="giay-tiep-nhan-{code}.pdf"' in answer.headers["Content-Disposition"]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.data)).pages).split())
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and code in text
    assert "Số: 1/GTN" in text
    assert PdfReader(io.BytesIO(answer.data)).get_fields(), "signed: the signature field is there"


def test_a_dossier_notify_has_not_seen_yet_is_409_with_retry_after(client, staff_headers):
    answer = client.get(
        f"/api/v1/dossiers/{new_code()}/receipt.pdf", headers=staff_headers("receptionist", UNIT)
    )
    assert answer.status_code == 409 and answer.headers["Retry-After"] == "3"
    assert answer.json["message"].startswith("Giấy tiếp nhận của hồ sơ")


def test_a_link_opened_before_the_signature_gets_a_page_that_reloads_itself(
    client, app, jwt_keys, signing_certs
):
    db = app.extensions["db"]
    code = counter_filing(db)
    path = f"/api/v1/dossiers/{code}/receipt.pdf"
    token = {"token": link_token(jwt_keys[0], path)}

    waiting = client.get(path, query_string=token)

    assert waiting.status_code == 409 and waiting.headers["Retry-After"] == "3"
    assert waiting.mimetype == "text/html" and waiting.headers["Cache-Control"] == "no-store"
    page = waiting.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in page and "đang được ký phát hành" in page
    letter_service.issue_pending(db, app.extensions["blobs"], str(signing_certs), datetime.now(UTC))
    assert client.get(path, query_string=token).mimetype == "application/pdf", "the reload finds it"


def test_the_receipt_is_for_the_receiving_unit_s_staff_by_token_or_link(
    client, app, staff_headers, jwt_keys, signing_certs
):
    db = app.extensions["db"]
    code = counter_filing(db)
    path = f"/api/v1/dossiers/{code}/receipt.pdf"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=staff_headers("receptionist", "09499")).status_code == 403, "before issue"
    letter_service.issue_pending(db, app.extensions["blobs"], str(signing_certs), datetime.now(UTC))
    assert client.get(path, headers=staff_headers("leader", "09499")).status_code == 403, "another commune"
    assert client.get(path, headers=staff_headers("editor", UNIT)).status_code == 403, "not a staff role"

    by_link = client.get(path, query_string={"token": link_token(jwt_keys[0], path)})

    assert by_link.status_code == 200 and by_link.headers["Content-Type"] == "application/pdf"
    other_path = f"/api/v1/dossiers/{code}/control-slip.pdf"
    assert client.get(path, query_string={"token": link_token(jwt_keys[0], other_path)}).status_code == 403
    assert client.get(path, query_string={"token": "khong-hop-le"}).status_code == 401
    foreign = link_token(jwt_keys[0], path, unit="09499")
    assert client.get(path, query_string={"token": foreign}).status_code == 403
