"""Counter filing in the console against intake's real API (under gunicorn, on its own database):
the receptionist's procedures, the form, the scanned documents uploaded and the dossier filed with
`channel: counter` under the officer's own staff token, once for a double submit; intake's 422
beside the fields; intake down; the receipt's signed link."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from werkzeug.serving import make_server

from devstack.infra import free_ports
from eventkit.auth import LINK_AUDIENCE
from processing import create_app, store
from processing.config import load_config
from processing.service.staff import DEMO_PASSWORD
from tests.browser.servers import gunicorn, prepare_processing, scratch_database, service_env
from tests.factories import fill_catalogue_projection, pdf_bytes
from tests.integration.console_tools import hidden, sign_in

pytestmark = pytest.mark.integration

PROCEDURE = "1.004884"  # Thủ tục đăng ký lại khai sinh: received at 09496 among others; TP01 mandatory
FORM = f"/console/quay/{PROCEDURE}"
NOTIFY = "http://notify.example.vn:8003"
VALUES = {
    "applicant.full_name": "Nguyễn Thị Hoa",
    "applicant.id_number": "027190001234",
    "applicant.date_of_birth": "1990-05-12",
    "applicant.phone": "0912 345 678",
    "applicant.email": "",
    "applicant.address": "Khu 1, thị trấn Thứa",
    "form.person_full_name": "Nguyễn Văn Bình",
    "form.person_birth_date": "2015-03-01",
    "form.original_registration_place": "UBND thị trấn Thứa",
    "delivery.method": "counter",
    "delivery.address": "",
}


@dataclass
class Counter:
    app: Any
    db: Any
    intake_db: Any


def processing_environ(
    infra: Any, jwt_keys: Any, db_name: str, folder: Any, intake_url: str
) -> dict[str, str]:
    return service_env(
        infra,
        jwt_keys,
        db_name,
        BLOB_URL=(folder / "blobs").as_uri(),
        STAFF_KEYS_SECRET="test secret of the staff token keys",
        INTAKE_URL=intake_url,
        NOTIFY_URL=NOTIFY,
    )


@pytest.fixture(scope="module")
def counter(infra, jwt_keys, tmp_path_factory) -> Iterator[Counter]:
    """Processing's app (seeded as `make run` seeds it) with its key set served over HTTP, and
    intake under gunicorn trusting that key set (JWT_JWKS_URL), as deployed."""
    from intake import store as intake_store

    def prepare_intake(db: Any) -> None:
        intake_store.ensure_indexes(db)
        fill_catalogue_projection(db)

    folder = tmp_path_factory.mktemp("counter")
    intake_port, keys_port = free_ports(2)
    intake_url = f"http://127.0.0.1:{intake_port}"
    with (
        scratch_database(infra, "test_console_counter", prepare_processing) as db,
        scratch_database(infra, "test_counter_intake", prepare_intake) as intake_db,
    ):
        app = create_app(
            load_config(environ=processing_environ(infra, jwt_keys, db.name, folder, intake_url))
        )
        server = make_server("127.0.0.1", keys_port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            env = service_env(
                infra,
                jwt_keys,
                intake_db.name,
                BLOB_URL=(folder / "intake-blobs").as_uri(),
                JWT_JWKS_URL=f"http://127.0.0.1:{keys_port}/.well-known/jwks.json",
            )
            with gunicorn("intake.wsgi:app", env, folder / "intake.log", port=intake_port):
                yield Counter(app=app, db=db, intake_db=intake_db)
        finally:
            server.shutdown()
            thread.join(5)


def signed_in(app: Any, user_id: str) -> Any:
    client = app.test_client()
    answer = sign_in(client, user_id, DEMO_PASSWORD)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return client


def form_of(client: Any) -> tuple[str, str]:
    page = client.get(FORM)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    return hidden(html, "csrf_token"), hidden(html, "filing_key")


def post(client: Any, csrf: str, key: str, values: dict[str, str], files: dict[str, bytes]) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf, "filing_key": key, **values}
    for name, content in files.items():
        data[name] = (io.BytesIO(content), "quet.pdf", "application/pdf")
    return client.post(FORM, data=data, content_type="multipart/form-data")


def test_the_receptionist_sees_the_procedures_of_their_unit(counter):
    client = signed_in(counter.app, "tn.09496")
    listing = client.get("/console/quay/")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert f'href="/console/quay/{PROCEDURE}"' in html and "Thủ tục đăng ký lại khai sinh" in html
    assert "Tiếp nhận tại quầy" in html, "the receptionist's menu names the screen"
    form = client.get(FORM).get_data(as_text=True)
    for name in ("applicant.full_name", "form.person_full_name", "documents.TP01", "delivery.method"):
        assert f'name="{name}"' in form, name
    assert 'type="file" id="documents-TP01"' in form
    assert 'name="unit"' not in form, "the officer's one receiving unit needs no choice"


def test_other_roles_and_other_units_get_no_counter(counter):
    specialist = signed_in(counter.app, "cv1.09496")
    assert specialist.get("/console/quay/").status_code == 403
    assert "Tiếp nhận tại quầy" not in specialist.get("/console/").get_data(as_text=True)
    receptionist = signed_in(counter.app, "tn.09496")
    # A procedure of the district's level is not received at the commune.
    assert receptionist.get("/console/quay/1.001612").status_code == 404
    assert receptionist.get("/console/quay/%3Cscript%3E").status_code == 404


def test_a_counter_filing_with_a_scanned_document_files_once(counter):
    client = signed_in(counter.app, "tn.09496")
    csrf, key = form_of(client)
    scan = pdf_bytes(3000)

    answer = post(client, csrf, key, VALUES, {"documents.TP01": scan})

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html[:2000]
    code = re.search(r'id="ma-ho-so">([^<]+)<', html).group(1)
    secret = re.search(r'id="ma-tra-cuu">([^<]+)<', html).group(1)
    assert code.startswith("000.21.26.H06-") and len(secret) >= 12
    assert "In giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)" in html
    assert "no-store" in answer.headers["Cache-Control"], "the secret is kept by no cache"
    stored = counter.intake_db.dossiers.find_one({"_id": code})
    assert stored["channel"] == "counter" and stored["unit"] == "09496"
    assert stored["received_by"] == "tn.09496", "filed under the officer's own token"
    assert [d["type"] for d in stored["documents"]] == ["TP01"]
    upload = counter.intake_db.uploads.find_one({"_id": stored["documents"][0]["upload_id"]})
    assert upload["size"] == len(scan)
    kept = counter.db[store.COUNTER_FILINGS].find_one({"_id": key})
    assert kept["by"] == "tn.09496" and set(kept["uploads"]) == {"TP01"}
    assert "Nguyễn" not in repr(kept), "no personal data in the key's record"

    again = post(client, csrf, key, VALUES, {"documents.TP01": scan})  # a double submit

    assert again.status_code == 200
    assert re.search(r'id="ma-ho-so">([^<]+)<', again.get_data(as_text=True)).group(1) == code
    assert counter.intake_db.dossiers.count_documents({"idempotency_key": key}) == 1
    assert counter.intake_db.uploads.count_documents({"sha256": upload["sha256"]}) == 1, (
        "nothing uploaded again"
    )


def test_intake_s_refusal_is_shown_beside_the_fields_with_the_values_kept(counter):
    client = signed_in(counter.app, "tn.09496")
    csrf, key = form_of(client)
    wrong = {**VALUES, "applicant.phone": "12345", "applicant.id_number": "027190001234"}

    answer = post(client, csrf, key, wrong, {"documents.TP01": pdf_bytes(1500)})

    html = answer.get_data(as_text=True)
    assert answer.status_code == 422, html[:1500]
    assert "Hồ sơ chưa được tiếp nhận." in html
    assert re.search(r'id="applicant-phone-loi">[^<]+<', html), "the phone's error beside it"
    assert 'aria-describedby="applicant-phone-loi"' in html
    assert 'value="Nguyễn Văn Bình"' in html and 'value="12345"' in html, "what was typed is kept"
    assert "Đã nhận tệp cho giấy tờ này" in html, "the scan sent stays with the form"
    assert counter.intake_db.dossiers.count_documents({"idempotency_key": key}) == 0

    # Without the mandatory scan: named beside its file input, nothing filed.
    csrf, key = form_of(client)
    missing = post(client, csrf, key, {**VALUES, "applicant.full_name": ""}, {})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert re.search(r'id="documents-TP01-loi">[^<]+<', html) and re.search(
        r'id="applicant-full_name-loi"', html
    )


def test_intake_down_is_a_503_saying_nothing_was_filed(infra, jwt_keys, counter, tmp_path):
    [closed] = free_ports(1)
    environ = processing_environ(infra, jwt_keys, counter.db.name, tmp_path, f"http://127.0.0.1:{closed}")
    app = create_app(load_config(environ=environ))
    client = signed_in(app, "tn.09496")
    csrf, key = form_of(client)

    answer = post(client, csrf, key, VALUES, {"documents.TP01": pdf_bytes(1200)})

    assert answer.status_code == 503
    assert "hồ sơ chưa được nộp" in answer.get_data(as_text=True)


def test_the_receipt_button_opens_notify_by_a_link_signed_for_the_officer(counter):
    client = signed_in(counter.app, "tn.09496")
    code = "000.21.26.H06-261207-0001"

    answer = client.get(f"/console/quay/ho-so/{code}/giay-tiep-nhan")

    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    path = f"/api/v1/dossiers/{code}/receipt.pdf"
    assert f"{target.scheme}://{target.netloc}" == NOTIFY and target.path == path
    token = parse_qs(target.query)["token"][0]
    claims = jwt.decode(token, options={"verify_signature": False}, audience=LINK_AUDIENCE)
    assert claims["sub"] == "tn.09496" and claims["path"] == path and claims["units"] == ["09496"]
    assert claims["exp"] - claims["iat"] <= 600
    assert (
        signed_in(counter.app, "cv1.09496").get(f"/console/quay/ho-so/{code}/giay-tiep-nhan").status_code
        == 403
    )


def test_a_token_intake_does_not_trust_files_nothing_and_says_so(infra, jwt_keys, counter, tmp_path):
    # Another processing (its own key set, which intake's JWT_JWKS_URL does not publish).
    with scratch_database(infra, "test_counter_untrusted", prepare_processing) as db:
        intake_url = counter.app.extensions["service_config"].intake_url
        app = create_app(
            load_config(environ=processing_environ(infra, jwt_keys, db.name, tmp_path, intake_url))
        )
        client = signed_in(app, "tn.09496")
        csrf, key = form_of(client)

        answer = post(client, csrf, key, VALUES, {"documents.TP01": pdf_bytes(1300)})

    assert answer.status_code == 503 and "hồ sơ chưa được nộp" in answer.get_data(as_text=True)
    assert counter.intake_db.dossiers.count_documents({"idempotency_key": key}) == 0
