"""The portal's filing, lookup and rating pages on the real store, sending filings to intake's real
API served over HTTP (its app on a local port, on its own database)."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from pymongo import MongoClient
from werkzeug.serving import make_server

from devstack.infra import free_ports
from eventkit.config import ServiceConfig
from eventkit.envelope import decode
from eventkit.outbox import OUTBOX
from eventkit.secrets import hash_secret
from eventkit.topics import Groups
from portal import store as portal_store
from portal.service.dossiers import TZ
from portal.web.lookup import RATING_SALT
from tests import portal_events
from tests.factories import PROCEDURE, UNIT, feed_portal_catalogue, fill_catalogue_projection, pdf_bytes
from tests.integration.portal_tools import Deliverer

pytestmark = pytest.mark.integration

PDF = pdf_bytes(1200)
CITIZEN = "203.0.113.7"


class Served:
    def __init__(self, app: Any) -> None:
        [port] = free_ports(1)
        self.url = f"http://127.0.0.1:{port}"
        self.db = app.extensions["db"]
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


def serve_intake(service_environ: dict[str, str], **settings: str) -> Served:
    from intake import create_app as create_intake_app
    from intake import store as intake_store
    from intake.config import load_config

    environ = {**service_environ, "UPLOAD_RATE_LIMIT": "100000/minute", "PROXY_HOPS": "1", **settings}
    app = create_intake_app(load_config(environ=environ))
    intake_store.ensure_indexes(app.extensions["db"])
    fill_catalogue_projection(app.extensions["db"])
    return Served(app)


@pytest.fixture
def intake(service_environ) -> Iterator[Served]:
    served = serve_intake(service_environ)
    yield served
    served.close()


def make_portal(service_environ: dict[str, str], monkeypatch, **settings: str) -> Any:
    from portal import create_app

    monkeypatch.delenv("WEB_SECRET_KEY", raising=False)
    for name, value in {"PORTAL_URL": "https://luongtai.example.vn", **settings}.items():
        monkeypatch.setenv(name, value)
    # Its own database: intake's and portal's collections have the same names.
    environ = {**service_environ, "MONGO_DB": f"{service_environ['MONGO_DB']}_portal"}
    app = create_app(ServiceConfig.from_env("portal", environ=environ))
    db = app.extensions["db"]
    portal_store.ensure_indexes(db)
    feed_portal_catalogue(db, [PROCEDURE, "1.001193"])
    return app


@pytest.fixture
def portal_app(service_environ, monkeypatch, intake, platform) -> Iterator[Any]:
    app = make_portal(service_environ, monkeypatch, INTAKE_URL=intake.url, LOOKUP_RATE_LIMIT="1000/minute")
    yield app
    MongoClient(platform.mongo_url).drop_database(app.extensions["db"].name)


@pytest.fixture
def client(portal_app):
    return citizen(portal_app, CITIZEN)


def citizen(app: Any, address: str) -> Any:
    """A browser of the citizen at `address` (the portal's client address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def form_values(**changes: Any) -> dict[str, Any]:
    values = {
        "applicant.full_name": "Nguyễn Thị Hoa",
        "applicant.id_number": "027190001234",
        "applicant.date_of_birth": "1990-05-12",
        "applicant.phone": "0912 345 678",
        "applicant.email": "hoa@example.vn",
        "applicant.address": "Thị trấn Thứa, Lương Tài, Bắc Ninh",
        "unit": UNIT,
        "form.person_full_name": "Nguyễn Văn Bình",
        "form.person_birth_date": "2015-03-01",
        "form.original_registration_place": "UBND thị trấn Thứa",
        "form.original_registration_year": "2015",
        "delivery.method": "counter",
        "delivery.address": "",
    }
    values.update(changes)
    return values


def open_form(client) -> tuple[str, str]:
    page = client.get(f"/thu-tuc/{PROCEDURE}/nop-ho-so")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return hidden(html, "csrf_token"), hidden(html, "filing_key")


def send(client, csrf: str, key: str, files: dict[str, bytes] | None = None, **changes: Any) -> Any:
    data: dict[str, Any] = {**form_values(**changes), "csrf_token": csrf, "filing_key": key}
    for document_type, content in (files if files is not None else {"TP01": PDF}).items():
        data[f"documents.{document_type}"] = (io.BytesIO(content), f"{document_type}.pdf", "application/pdf")
    return client.post(f"/thu-tuc/{PROCEDURE}/nop-ho-so", data=data, content_type="multipart/form-data")


def filed_code(html: str) -> str:
    match = re.search(r'<strong id="ma-ho-so">([^<]+)</strong>', html)
    assert match, html[:2000]
    return match.group(1)


def filed_secret(html: str) -> str:
    match = re.search(r'<span class="secret" id="ma-tra-cuu">([^<]+)</span>', html)
    assert match
    return match.group(1)


def feed_portal_from_intake(intake: Served, portal_db: Any, code: str) -> None:
    """The portal's handlers given the events intake's outbox holds for the dossier."""
    stored = intake.db.dossiers.find_one({"_id": code})
    Deliverer(portal_db)(*(decode(entry["value"].encode()) for entry in stored[OUTBOX]))


def test_the_form_is_made_from_the_procedure_fields_and_documents(client):
    html = client.get(f"/thu-tuc/{PROCEDURE}/nop-ho-so").get_data(as_text=True)
    for name in ("applicant.id_number", "form.person_full_name", "form.original_registration_year", "unit"):
        assert f'name="{name}"' in html
    assert 'type="date" id="form-person_birth_date"' in html
    assert 'type="file" id="documents-TP01" name="documents.TP01"' in html
    assert "Văn bản ủy quyền (nếu có)" in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert client.get("/thu-tuc/2.000815/nop-ho-so").status_code == 404, "counter-only procedure"


def test_a_form_sent_twice_files_once_with_its_file_uploaded_once(client, intake, portal_app):
    csrf, key = open_form(client)
    first = send(client, csrf, key)
    assert first.status_code == 200, first.get_data(as_text=True)[:3000]
    html = first.get_data(as_text=True)
    code = filed_code(html)
    assert re.fullmatch(r"000\.21\.26\.H06-\d{6}-\d{4}", code)
    assert 'src="data:image/svg+xml' in html, "the QR code is inline, allowed by img-src data:"
    assert first.headers["Cache-Control"] == "no-store"

    again = send(client, csrf, key)
    assert again.status_code == 200
    assert filed_code(again.get_data(as_text=True)) == code
    assert filed_secret(again.get_data(as_text=True)) == filed_secret(html)
    assert intake.db.dossiers.count_documents({}) == 1
    assert intake.db.uploads.count_documents({}) == 1, "the same file of the same form is sent once"


def test_intake_refusals_are_shown_beside_the_fields_and_the_file_is_kept(client, intake):
    csrf, key = open_form(client)
    refused = send(
        client,
        csrf,
        key,
        **{
            "applicant.id_number": "999190001234",
            "applicant.phone": "12345",
            "form.person_full_name": "",
            "delivery.method": "post",
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for field in ("applicant-id_number", "applicant-phone", "form-person_full_name", "delivery-address"):
        assert re.search(rf'<p class="field__error" id="{field}-loi">[^<]+</p>', html), field
    assert "Thiếu Họ, chữ đệm và tên người được đăng ký lại khai sinh." in html
    assert 'value="Nguyễn Thị Hoa"' in html, "what was typed is shown again"
    assert "Đã nhận tệp cho giấy tờ này" in html
    assert intake.db.dossiers.count_documents({}) == 0

    # Corrected without choosing the file again: the upload made the first time is filed.
    fixed = send(client, hidden(html, "csrf_token"), hidden(html, "filing_key"), files={})
    assert fixed.status_code == 200, fixed.get_data(as_text=True)[:3000]
    assert intake.db.uploads.count_documents({}) == 1 and intake.db.dossiers.count_documents({}) == 1


def test_a_missing_mandatory_document_and_a_wrong_file_type_name_their_document(client, intake):
    csrf, key = open_form(client)
    missing = send(client, csrf, key, files={})
    assert missing.status_code == 422
    assert "Thiếu giấy tờ bắt buộc: TP01" in missing.get_data(as_text=True)

    wrong = send(client, csrf, key, files={"TP01": b"MZ\x90\x00 not a document"})
    assert wrong.status_code == 422
    assert re.search(
        r'id="documents-TP01-loi">Chỉ nhận tệp định dạng PDF, JPEG, PNG\.', wrong.get_data(as_text=True)
    )
    assert intake.db.uploads.count_documents({}) == 0, "refused by the portal before intake"


def test_the_portal_files_at_intake_s_internal_address_when_it_has_one(
    service_environ, monkeypatch, platform, intake
):
    """In a cluster INTAKE_URL is the browsers' address; the portal calls INTAKE_API_URL."""
    [closed] = free_ports(1)
    app = make_portal(
        service_environ, monkeypatch, INTAKE_URL=f"http://127.0.0.1:{closed}", INTAKE_API_URL=intake.url
    )
    try:
        client = citizen(app, CITIZEN)
        csrf, key = open_form(client)
        answer = send(client, csrf, key)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
        code = filed_code(answer.get_data(as_text=True))
        assert intake.db.dossiers.find_one({"_id": code}) is not None
    finally:
        MongoClient(platform.mongo_url).drop_database(app.extensions["db"].name)


def test_intake_down_gives_a_clear_page_and_files_nothing(service_environ, monkeypatch, platform):
    [closed] = free_ports(1)
    app = make_portal(service_environ, monkeypatch, INTAKE_URL=f"http://127.0.0.1:{closed}")
    try:
        client = app.test_client()
        csrf, key = open_form(client)
        answer = send(client, csrf, key)
        assert answer.status_code == 503
        assert "hồ sơ của bạn chưa được nộp" in answer.get_data(as_text=True)
    finally:
        MongoClient(platform.mongo_url).drop_database(app.extensions["db"].name)


def test_uploads_are_limited_per_citizen_through_the_portal(service_environ, monkeypatch, platform):
    limited = serve_intake(service_environ, UPLOAD_RATE_LIMIT="1/minute")
    app = make_portal(service_environ, monkeypatch, INTAKE_URL=limited.url)
    try:
        one = citizen(app, "198.51.100.1")
        other = citizen(app, "198.51.100.2")
        for browser in (one, other):
            csrf, key = open_form(browser)
            assert send(browser, csrf, key).status_code == 200
        csrf, key = open_form(one)
        again = send(one, csrf, key)
        assert again.status_code == 429 and again.headers["Retry-After"]
        assert "Bạn gửi tệp quá nhiều lần" in again.get_data(as_text=True)
    finally:
        limited.close()
        MongoClient(platform.mongo_url).drop_database(app.extensions["db"].name)


def lookup_page(client, code: str, secret: str) -> Any:
    html = client.get("/tra-cuu").get_data(as_text=True)
    return client.post(
        "/tra-cuu", data={"csrf_token": hidden(html, "csrf_token"), "code": code, "secret": secret}
    )


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_lookup_shows_the_filed_dossier_and_the_same_page_for_a_wrong_secret_or_unknown_code(
    client, intake, portal_app
):
    csrf, key = open_form(client)
    html = send(client, csrf, key).get_data(as_text=True)
    code, secret = filed_code(html), filed_secret(html)
    feed_portal_from_intake(intake, portal_app.extensions["db"], code)

    found = lookup_page(client, code, secret)
    assert found.status_code == 200
    shown = found.get_data(as_text=True)
    assert '<strong id="tinh-trang">Đã nộp, chờ tiếp nhận</strong>' in shown
    assert "Nguyễn Thị Hoa" not in shown and "N" in shown, "the name is masked"

    wrong = lookup_page(client, code, "AAAA-BBBB-CCCC")
    unknown = lookup_page(client, "000.21.26.H06-991231-9999", secret)
    assert wrong.status_code == unknown.status_code == 404
    assert without_tokens(wrong.get_data(as_text=True)) == without_tokens(unknown.get_data(as_text=True))
    assert code not in wrong.get_data(as_text=True)


def test_lookups_over_the_limit_get_a_429_page(service_environ, monkeypatch, platform, intake):
    app = make_portal(service_environ, monkeypatch, INTAKE_URL=intake.url, LOOKUP_RATE_LIMIT="3/minute")
    try:
        client = citizen(app, "192.0.2.9")
        answers = [lookup_page(client, "000.21.26.H06-991231-9999", "AAAA-BBBB-CCCC") for _ in range(4)]
        assert [a.status_code for a in answers] == [404, 404, 404, 429]
        assert "Bạn tra cứu quá nhiều lần" in answers[-1].get_data(as_text=True)
        assert int(answers[-1].headers["Retry-After"]) >= 1
        other = citizen(app, "192.0.2.10")
        assert lookup_page(other, "000.21.26.H06-991231-9999", "AAAA-BBBB-CCCC").status_code == 404
    finally:
        MongoClient(platform.mongo_url).drop_database(app.extensions["db"].name)


def rate(client, token: str, **levels: str) -> Any:
    html = client.get("/tra-cuu").get_data(as_text=True)
    return client.post(
        "/tra-cuu/danh-gia", data={"csrf_token": hidden(html, "csrf_token"), "rating_token": token, **levels}
    )


def test_a_returned_dossier_is_rated_once_and_counted_once(client, portal_app):
    db = portal_app.extensions["db"]
    code = portal_events.new_code()
    Deliverer(db)(*portal_events.history(code, hash_secret(portal_events.SECRET)))
    shown = lookup_page(client, code, portal_events.SECRET).get_data(as_text=True)
    assert "Đã trả kết quả" in shown and "Trễ hạn" in shown
    token = hidden(shown, "rating_token")
    assert portal_events.SECRET not in shown.split("Đánh giá việc giải quyết")[1], "no secret in the form"

    levels = {
        "overall": "very_satisfied",
        "timeliness": "dissatisfied",
        "attitude": "satisfied",
        "convenience": "satisfied",
    }
    incomplete = rate(client, token, overall="very_satisfied")
    assert incomplete.status_code == 422 and "Hãy chọn một mức đánh giá." in incomplete.get_data(as_text=True)
    assert rate(client, token, **levels).status_code == 200
    second = rate(client, token, **{**levels, "overall": "dissatisfied"})
    assert second.status_code == 409 and "đã được đánh giá" in second.get_data(as_text=True)
    assert "Hồ sơ đã được đánh giá" in lookup_page(client, code, portal_events.SECRET).get_data(as_text=True)

    month = datetime.now(TZ).strftime("%Y-%m")
    counter = portal_store.get_counter(db, f"{portal_events.UNIT}|{month}")
    assert counter["rated"] == 1 and counter["rating_very_satisfied"] == 1
    assert "rating_dissatisfied" not in counter
    rating = portal_store.get_rating(db, code)
    assert rating["levels"] == levels and set(rating) == {"_id", "unit", "month", "rated_at", "levels"}


def test_an_open_dossier_offers_no_rating_and_refuses_one(client, portal_app):
    db = portal_app.extensions["db"]
    code = portal_events.new_code()
    Deliverer(db)(
        portal_events.submitted(code, hash_secret(portal_events.SECRET)), portal_events.accepted(code)
    )
    shown = lookup_page(client, code, portal_events.SECRET).get_data(as_text=True)
    assert "Đã tiếp nhận" in shown and "rating_token" not in shown
    token = URLSafeTimedSerializer(portal_store.shared_secret(db, "web_csrf_key"), salt=RATING_SALT).dumps(
        code
    )
    assert (
        rate(
            client,
            token,
            overall="satisfied",
            timeliness="satisfied",
            attitude="satisfied",
            convenience="satisfied",
        ).status_code
        == 409
    )
    assert portal_store.get_rating(db, code) is None
    assert rate(client, "not-a-token").status_code == 400


def test_a_blank_form_names_every_missing_field_at_once(client, intake):
    csrf, key = open_form(client)
    blank = dict.fromkeys(form_values(), "")
    answer = send(client, csrf, key, files={}, **{**blank, "delivery.method": "counter"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    for field in (
        "applicant-full_name",
        "applicant-phone",
        "form-person_full_name",
        "unit",
        "documents-TP01",
    ):
        assert f'id="{field}-loi"' in html, field
    assert intake.db.dossiers.count_documents({}) == 0


def test_the_lookup_link_of_notify_opens_the_lookup_with_the_code(client):
    moved = client.get("/tra-cuu-ho-so?ma=000.21.26.H06-231027-0001")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(
        "/tra-cuu?ma=000.21.26.H06-231027-0001"
    )
    page = client.get("/tra-cuu?ma=000.21.26.H06-231027-0001").get_data(as_text=True)
    assert 'name="code" value="000.21.26.H06-231027-0001"' in page


def ask_for_supplement(intake: Served, portal_db: Any, code: str) -> None:
    """Processing's acceptance and supplement request, applied by intake's and the portal's own
    handlers as their workers would."""
    from intake.handlers import build_handlers as intake_handlers

    events = [
        portal_events.accepted(code),
        portal_events.processing_event(
            "supplement_requested", code, 2, "supplement_requested", at="2023-10-28T08:00:00+07:00"
        ),
    ]
    handlers = intake_handlers(intake.db)[Groups.INTAKE_PROCESSING_DOSSIERS]
    for event in events:
        handler = handlers[event["type"]]
        handler.handle(event, handler.schema.load(event["data"]))
    Deliverer(portal_db)(*events)


def supplement(client, token: str, files: dict[str, bytes], note: str = "") -> Any:
    html = client.get("/tra-cuu").get_data(as_text=True)
    data: dict[str, Any] = {"csrf_token": hidden(html, "csrf_token"), "supplement_token": token, "note": note}
    for document_type, content in files.items():
        data[f"documents.{document_type}"] = (io.BytesIO(content), f"{document_type}.pdf", "application/pdf")
    return client.post("/tra-cuu/bo-sung", data=data, content_type="multipart/form-data")


def test_a_citizen_supplements_from_the_lookup_without_typing_the_secret_again(client, intake, portal_app):
    db = portal_app.extensions["db"]
    csrf, key = open_form(client)
    filed = send(client, csrf, key).get_data(as_text=True)
    code, secret = filed_code(filed), filed_secret(filed)
    feed_portal_from_intake(intake, db, code)
    assert 'name="supplement_token"' not in lookup_page(client, code, secret).get_data(as_text=True)

    ask_for_supplement(intake, db, code)
    shown = lookup_page(client, code, secret).get_data(as_text=True)
    assert "Cần bổ sung hồ sơ" in shown and 'id="bo-sung-TP02"' in shown
    token = hidden(shown, "supplement_token")
    assert secret not in shown, "the secret is in the token encrypted, not in the page"
    uploads_before = intake.db.uploads.count_documents({})

    nothing = supplement(client, token, {})
    assert nothing.status_code == 422 and "Hãy chọn ít nhất một tệp" in nothing.get_data(as_text=True)
    wrong = supplement(client, token, {"TP02": b"not a pdf at all"})
    assert wrong.status_code == 422 and 'id="bo-sung-TP02-loi"' in wrong.get_data(as_text=True)
    assert intake.db.uploads.count_documents({}) == uploads_before, "refused files never reach intake"

    copy = pdf_bytes(1500)
    done = supplement(client, token, {"TP02": copy}, note="Bản sao giấy khai sinh cũ")
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]
    assert "Đã gửi hồ sơ bổ sung" in done.get_data(as_text=True)
    stored = intake.db.dossiers.find_one({"_id": code})
    assert stored["status"] == "supplemented" and not stored["supplement_open"]
    assert [d["type"] for d in stored["documents"]] == ["TP01", "TP02"]
    [event] = [decode(e["value"].encode()) for e in stored[OUTBOX] if "supplemented" in e["value"]]
    assert event["data"]["note"] == "Bản sao giấy khai sinh cũ" and event["data"]["by"] == "citizen"

    # The same form sent again (a double click): no second upload, and intake's 409 said plainly.
    again = supplement(client, token, {"TP02": copy})
    assert again.status_code == 409 and "không còn ở trạng thái chờ bổ sung" in again.get_data(as_text=True)
    assert intake.db.uploads.count_documents({}) == uploads_before + 1

    forged = supplement(client, token[:-6] + "AAAAAA", {"TP02": copy})
    assert forged.status_code == 400 and "đã hết hạn" in forged.get_data(as_text=True)


def test_a_supplement_with_intake_down_says_nothing_was_supplemented(
    service_environ, monkeypatch, platform, intake
):
    [port] = free_ports(1)
    app = make_portal(service_environ, monkeypatch, INTAKE_URL=intake.url)
    down = make_portal(service_environ, monkeypatch, INTAKE_URL=f"http://127.0.0.1:{port}")
    try:
        client = citizen(app, CITIZEN)
        csrf, key = open_form(client)
        filed = send(client, csrf, key).get_data(as_text=True)
        code, secret = filed_code(filed), filed_secret(filed)
        feed_portal_from_intake(intake, app.extensions["db"], code)
        ask_for_supplement(intake, app.extensions["db"], code)
        token = hidden(lookup_page(client, code, secret).get_data(as_text=True), "supplement_token")
        # The other portal process shares the site key and the store, but intake is out of reach.
        answer = supplement(citizen(down, CITIZEN), token, {"TP02": pdf_bytes(900)})
        assert answer.status_code == 503 and "chưa được bổ sung" in answer.get_data(as_text=True)
        assert intake.db.dossiers.find_one({"_id": code})["supplement_open"] is True
    finally:
        MongoClient(platform.mongo_url).drop_database(app.extensions["db"].name)
