"""Notify's official letters on the real store: numbered, signed and kept once; batched for the
post at the cut-off; cancelled before it; and followed by the postal operator's signed reports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pypdf import PdfReader

from eventkit.blobs import open_blob_store
from eventkit.envelope import decode
from eventkit.errors import Conflict
from notify import letters, postal, store
from notify.service import letters as letter_service
from tests.integration.notify_tools import notify_worker

pytestmark = pytest.mark.integration

KEY = b"khoa-bi-mat-cua-buu-dien"
CUTOFF = time(16, 0)
DAY = date(2026, 12, 3)
# 09:00 and 17:00 in Hà Nội on DAY.
MORNING = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
EVENING = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CODE = "000.21.26.H06-261203-0001"
MISSING = {
    "unit": {"parent_name": "Ủy ban nhân dân thị trấn Thứa", "name": "Bộ phận Một cửa thị trấn Thứa"},
    "place": "Lương Tài",
    "lookup_url": f"https://luongtai.example.vn/tra-cuu/{CODE}",
    "dossier_code": CODE,
    "applicant": {
        "full_name": "Nguyễn Thị Hồng Nhung",
        "address": "Khu 1, thị trấn Thứa, huyện Lương Tài, tỉnh Bắc Ninh",
        "phone": "0912345678",
        "email": None,
    },
    "procedure_name": "Đăng ký khai sinh",
    "missing": [{"document": "Giấy chứng sinh", "reason": "Bản chụp không rõ chữ"}],
    "reason": "Hồ sơ chưa đủ giấy tờ theo quy định.",
    "procedure_url": "https://luongtai.example.vn/thu-tuc/1.001193",
    "guide": {"name": "Trần Văn Đức", "phone": "0222 3866 123"},
}


@pytest.fixture
def db(mongo_db):
    store.ensure_indexes(mongo_db)
    return mongo_db


@pytest.fixture
def blobs(tmp_path):
    return open_blob_store((tmp_path / "blobs").as_uri())


def request(n: int, *, by_post: bool = True, **data):
    return letter_service.LetterRequest(
        letter_id=f"{CODE}:mau-02:{n}",
        dossier_code=CODE,
        unit="09496",
        template_id="mau-02",
        data={**MISSING, **data},
        recipient="Nguyễn Thị Hồng Nhung",
        address=f"Số {n}, khu 1, thị trấn Thứa, huyện Lương Tài",
        by_post=by_post,
        number_suffix="TB-MC",
        reason="Yêu cầu bổ sung hồ sơ",
    )


def events(db, letter_id: str) -> list[dict]:
    document = db.letters.find_one({"_id": letter_id})
    return [decode(entry["value"].encode()) for entry in document.get("outbox", [])]


def signed_report(letter_id: str, report_id: str, status: str, now: datetime, **extra):
    body = json.dumps({"id": report_id, "status": status, "at": now.isoformat(), **extra}).encode()
    return postal.sign_report(body, KEY, int(now.timestamp())), body


def test_a_letter_is_numbered_signed_and_kept_once(db, blobs, signing_certs):
    first = letter_service.issue(db, blobs, str(signing_certs), request(1), MORNING)
    again = letter_service.issue(db, blobs, str(signing_certs), request(1), MORNING + timedelta(minutes=5))
    second = letter_service.issue(db, blobs, str(signing_certs), request(2), MORNING)
    assert first["status"] == again["status"] == "signed" and first["post"] == "waiting"
    assert (first["register_number"], again["register_number"], second["register_number"]) == (1, 1, 2)
    assert first["number_text"] == "1/TB-MC" and first["template_version"] == "2019.1"
    data = letter_service.pdf(db, blobs, first["_id"])
    assert data == letter_service.pdf(db, blobs, again["_id"]), "asked again: the same letter"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Số: 1/TB-MC" in text and CODE in text and "Giấy chứng sinh" in text
    verified = letters.verify_letter(data, signing_certs)
    assert verified.intact and verified.valid and verified.trusted and verified.unit_code == "09496"
    # Rendered, then signed: two statuses and their events, numbered in order, from one write.
    assert [e["type"] for e in events(db, first["_id"])] == [
        "vn.motcua.notify.letter.rendered.v1",
        "vn.motcua.notify.letter.signed.v1",
    ]
    assert [e["sequence"] for e in events(db, first["_id"])] == [2, 3]
    assert [(h["status"], h["at"]) for h in again["history"]] == [
        ("created", MORNING),
        ("rendered", MORNING),
        ("signed", MORNING),
    ]
    assert again["history"][1]["template_version"] == "2019.1" and again["history"][1]["pages"] == 1


def test_a_form_missing_a_field_is_a_technical_failure_with_the_reason(db, blobs, signing_certs):
    broken = request(3, procedure_name=None)
    letter = letter_service.issue(db, blobs, str(signing_certs), broken, MORNING)
    assert letter["status"] == "technical_failure" and "procedure_name" in letter["failure"]
    [event] = events(db, letter["_id"])
    assert (
        event["type"].endswith(".letter.technical_failure.v1") and "procedure_name" in event["data"]["reason"]
    )
    with pytest.raises(letter_service.NotFound):
        letter_service.pdf(db, blobs, letter["_id"])


def test_a_letter_rendered_but_not_signed_records_both_steps(db, blobs, tmp_path):
    # No certificate for the unit: the form rendered, the signing failed.
    letter = letter_service.issue(db, blobs, str(tmp_path), request(7), MORNING)
    assert letter["status"] == "technical_failure"
    assert [h["status"] for h in letter["history"]] == ["created", "rendered", "technical_failure"]
    assert [e["type"].split(".")[-2] for e in events(db, letter["_id"])] == ["rendered", "technical_failure"]


def test_the_daily_batch_takes_what_waits_before_the_cutoff_and_not_what_was_cancelled(
    db, blobs, signing_certs
):
    certs = str(signing_certs)
    kept = [
        letter_service.issue(db, blobs, certs, request(n), MORNING + timedelta(minutes=n)) for n in (1, 2, 3)
    ]
    cancelled = letter_service.issue(db, blobs, certs, request(4), MORNING)
    late = letter_service.issue(db, blobs, certs, request(5), EVENING)
    at_counter = letter_service.issue(db, blobs, certs, request(6, by_post=False), MORNING)
    with pytest.raises(letter_service.InvalidData):
        letter_service.cancel(db, cancelled["_id"], " ", "tn.09496", MORNING)
    assert (
        letter_service.cancel(db, cancelled["_id"], "Công dân đến nhận tại quầy", "tn.09496", MORNING)[
            "status"
        ]
        == "cancelled"
    )
    with pytest.raises(Conflict):
        letter_service.cancel(db, at_counter["_id"], "Không gửi", "tn.09496", MORNING)

    batch = letter_service.close_batch(db, blobs, DAY, CUTOFF, EVENING)
    assert batch["status"] == "closed" and batch["letters"] == 3
    items = letter_service.batch(db, DAY.isoformat())["items"]
    assert [i["_id"] for i in items] == [k["_id"] for k in kept], "oldest first"
    assert [i["item_number"] for i in items] == [postal.item_number(n) for n in (1, 2, 3)]
    pdf = PdfReader(io.BytesIO(letter_service.batch_file(db, blobs, DAY.isoformat(), "pdf")))
    assert len(pdf.pages) == sum(k["pages"] for k in kept)
    manifest = list(
        csv.DictReader(
            io.StringIO(letter_service.batch_file(db, blobs, DAY.isoformat(), "csv").decode("utf-8-sig"))
        )
    )
    assert [(r["item_number"], r["register_number"], r["address"]) for r in manifest] == [
        (postal.item_number(n), f"{k['register_number']}/TB-MC", k["address"])
        for n, k in zip((1, 2, 3), kept, strict=True)
    ]
    assert store.get_letter(db, late["_id"])["post"] == "waiting", "signed after the cut-off: the next batch"
    with pytest.raises(Conflict):
        letter_service.cancel(db, kept[0]["_id"], "Quá muộn", "tn.09496", EVENING)
    # Closing again changes nothing in the batch; the next day's takes the late letter.
    assert letter_service.close_batch(db, blobs, DAY, CUTOFF, EVENING)["letters"] == 3
    next_day = letter_service.close_batch(
        db, blobs, DAY + timedelta(days=1), CUTOFF, EVENING + timedelta(days=1)
    )
    assert next_day["letters"] == 1 and store.get_letter(db, late["_id"])[
        "item_number"
    ] == postal.item_number(4)


def test_the_postal_operator_reports_with_a_signature_and_a_replay_or_tamper_is_refused(
    db, blobs, signing_certs
):
    letter = letter_service.issue(db, blobs, str(signing_certs), request(1), MORNING)
    letter_service.close_batch(db, blobs, DAY, CUTOFF, EVENING)
    now = EVENING + timedelta(hours=1)

    def send(report_id: str, status: str, at: datetime = now, header_body=None, **extra):
        header, body = header_body or signed_report(letter["_id"], report_id, status, at, **extra)
        letter_service.check_signature(header, body, KEY, at)
        return letter_service.report(db, letter["_id"], {**json.loads(body), "at": at}, at)

    header, body = signed_report(letter["_id"], "r-1", "despatched", now)
    with pytest.raises(letter_service.Unauthenticated):
        letter_service.check_signature(header, body.replace(b"despatched", b"delivered"), KEY, now)
    assert send("r-1", "despatched", header_body=(header, body))["status"] == "despatched"
    with pytest.raises(letter_service.Unauthenticated):
        send("r-1", "despatched", header_body=(header, body))  # replayed
    returned = send("r-2", "returned", reason="Không có người nhận")
    assert returned["status"] == "returned" and returned["needs_attention"] is True
    assert returned["returned_reason"] == "Không có người nhận"
    late = send("r-3", "despatched")
    assert late["status"] == "returned" and late["history"][-1]["late"] is True
    kinds = [e["type"].split(".")[-2] for e in events(db, letter["_id"])]
    assert kinds == ["rendered", "signed", "batched", "despatched", "returned"]
    assert [e["sequence"] for e in events(db, letter["_id"])] == sorted(
        e["sequence"] for e in events(db, letter["_id"])
    )


@pytest.fixture
def notify_app(service_environ):
    from notify import create_app
    from notify.config import load_config

    app = create_app(load_config(environ={**service_environ, "POSTAL_HMAC_KEY": KEY.decode()}))
    store.ensure_indexes(app.extensions["db"])
    return app


def test_the_api_serves_letters_to_their_unit_and_takes_signed_postal_reports(
    notify_app, staff_headers, signing_certs
):
    db, blobs = notify_app.extensions["db"], notify_app.extensions["blobs"]
    client = notify_app.test_client()
    letter = letter_service.issue(db, blobs, str(signing_certs), request(1), MORNING)
    other = letter_service.issue(db, blobs, str(signing_certs), request(2), MORNING)
    counter, foreign = staff_headers("receptionist", "09496"), staff_headers("receptionist", "09499")
    path = f"/api/v1/letters/{letter['_id']}"

    assert client.get(path).status_code == 401
    assert client.get(path, headers=foreign).status_code == 403
    shown = client.get(path, headers=counter)
    assert (
        shown.status_code == 200
        and shown.json["number_text"] == "1/TB-MC"
        and shown.json["post"] == "waiting"
    )
    download = client.get(f"{path}.pdf", headers=counter)
    assert download.status_code == 200 and download.data == letter_service.pdf(db, blobs, letter["_id"])
    assert client.get(f"{path}.pdf", headers=foreign).status_code == 403
    assert client.get("/api/v1/letters/nothing.pdf", headers=counter).status_code == 404
    listed = client.get("/api/v1/letters", query_string={"dossier": CODE}, headers=counter)
    assert listed.status_code == 200 and [x["letter_id"] for x in listed.json] == [
        letter["_id"],
        other["_id"],
    ]
    assert client.get("/api/v1/letters", query_string={"dossier": CODE}, headers=foreign).status_code == 403
    unknown = client.get(
        "/api/v1/letters", query_string={"dossier": "000.21.26.H06-261203-9999"}, headers=counter
    )
    assert unknown.status_code == 404
    assert client.get("/api/v1/letters", query_string={"dossier": "x"}, headers=counter).status_code == 422

    no_reason = client.post(f"/api/v1/letters/{other['_id']}/cancel", json={}, headers=counter)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]["json"]
    specialist = staff_headers("specialist", "09496")
    assert (
        client.post(
            f"/api/v1/letters/{other['_id']}/cancel", json={"reason": "x"}, headers=specialist
        ).status_code
        == 403
    )
    cancelled = client.post(
        f"/api/v1/letters/{other['_id']}/cancel", json={"reason": "Nhận tại quầy"}, headers=counter
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"

    day = DAY.isoformat()
    assert client.get(f"/api/v1/batches/{day}", headers=counter).status_code == 404
    letter_service.close_batch(db, blobs, DAY, CUTOFF, EVENING)
    batch = client.get(f"/api/v1/batches/{day}", headers=counter)
    assert batch.status_code == 200 and [i["letter_id"] for i in batch.json["items"]] == [letter["_id"]]
    manifest = client.get(f"/api/v1/batches/{day}.csv", headers=counter)
    assert manifest.status_code == 200 and postal.item_number(1) in manifest.data.decode("utf-8-sig")
    assert client.get(f"/api/v1/batches/{day}.pdf", headers=counter).data.startswith(b"%PDF")
    assert client.get("/api/v1/batches/2026-13-99x", headers=counter).status_code == 404

    now = datetime.now(UTC)
    body = json.dumps({"id": "r-9", "status": "delivered", "at": now.isoformat()}).encode()
    signature = postal.sign_report(body, KEY, int(now.timestamp()))
    events_path = f"{path}/postal-events"
    headers = {"Content-Type": "application/json"}
    unsigned = client.post(events_path, data=body, headers=headers)
    assert unsigned.status_code == 401 and unsigned.json["message"]
    forged = client.post(
        events_path,
        data=body.replace(b"delivered", b"returned"),
        headers={**headers, postal.SIGNATURE_HEADER: signature},
    )
    assert forged.status_code == 401
    bad = json.dumps({"id": "r-8", "status": "lost", "at": "hôm qua"}).encode()
    invalid = client.post(
        events_path,
        data=bad,
        headers={**headers, postal.SIGNATURE_HEADER: postal.sign_report(bad, KEY, int(now.timestamp()))},
    )
    assert invalid.status_code == 422 and set(invalid.json["errors"]["json"]) == {"status", "at"}
    delivered = client.post(events_path, data=body, headers={**headers, postal.SIGNATURE_HEADER: signature})
    assert delivered.status_code == 200 and delivered.json["status"] == "delivered"
    replayed = client.post(events_path, data=body, headers={**headers, postal.SIGNATURE_HEADER: signature})
    assert replayed.status_code == 401
    assert store.get_letter(db, letter["_id"])["status"] == "delivered"


def test_the_real_worker_closes_the_days_batch_after_the_cutoff_and_publishes_it(
    platform, service_environ, signing_certs, tmp_path
):
    from devstack.infra import wait_until
    from eventkit.kafka import ensure_topics
    from eventkit.mongo import connect
    from eventkit.topics import topic_specs_for

    ensure_topics(platform.bootstrap, topic_specs_for("notify"))
    db = connect(service_environ["MONGO_URL"], service_environ["MONGO_DB"], app_name="test")
    store.ensure_indexes(db)
    blobs = open_blob_store(service_environ["BLOB_URL"])
    # Signed yesterday: before today's cut-off (00:00), so today's batch, due at once, takes it.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    letter = letter_service.issue(db, blobs, str(signing_certs), request(1), yesterday)
    settings = {"POSTAL_CUTOFF": "00:00", "POSTAL_BATCH_SECONDS": "0.5"}
    with notify_worker(service_environ, tmp_path / "notify-worker.log", **settings) as log:
        today = datetime.now(UTC).astimezone(letter_service.TZ).date().isoformat()
        assert wait_until(lambda: (store.get_batch(db, today) or {}).get("status") == "closed", timeout=60), (
            log.read_text(errors="replace")[-3000:]
        )
        batched = store.get_letter(db, letter["_id"])
        assert (batched["status"], batched["batch"], batched["item_number"]) == (
            "batched",
            today,
            postal.item_number(1),
        )
        # The relay publishes the letter's events and empties its outbox.
        assert wait_until(lambda: not db.letters.find_one({"_id": letter["_id"]}).get("outbox"), timeout=60)
        assert letter_service.batch_file(db, blobs, today, "pdf").startswith(b"%PDF")
    db.client.close()
