"""The legal slips the dossier events owe the citizen: each event records its letter once, the
sender issues it (numbered, rendered from notify's copy of the catalogue, signed) and attaches it
to the citizen's email; a citizen without email gets the letter by post only."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from eventkit.blobs import open_blob_store
from eventkit.topics import Groups
from notify import letters, store
from notify.handlers import build_handlers
from notify.mailer import Mailer
from notify.service import letters as letter_service
from notify.service import sending
from notify.templates import Renderer
from processing.importer import SEED_DIR
from tests.integration.notify_tools import (
    PROCEDURE,
    Mailbox,
    accepted,
    new_address,
    new_code,
    processing_event,
    submitted,
)

pytestmark = pytest.mark.integration

PORTAL = "https://dichvucong.luongtai.example.vn"
POLICY = sending.SendPolicy(batch=50, lease=timedelta(minutes=2))


@pytest.fixture
def db(mongo_db):
    """Notify's store with its copy of the shipped units and procedures, as their topics leave it."""
    store.ensure_indexes(mongo_db)
    catalogue = build_handlers(mongo_db)[Groups.NOTIFY_CATALOGUE]
    for kind in ("units", "procedures"):
        handler = catalogue[f"vn.motcua.processing.{kind[:-1]}.published.v1"]
        for item in json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8")):
            event = {"type": "", "subject": item["code"]}
            handler.handle(event, handler.schema.load({**item, "version": 1}))
    return mongo_db


@pytest.fixture
def blobs(tmp_path):
    return open_blob_store((tmp_path / "blobs").as_uri())


def deliver(db, event: dict[str, Any]) -> None:
    group = (
        Groups.NOTIFY_INTAKE_DOSSIERS if ".intake." in event["type"] else Groups.NOTIFY_PROCESSING_DOSSIERS
    )
    handler = build_handlers(db, Renderer(PORTAL))[group][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_an_accepted_dossier_gets_its_signed_receipt_attached_to_the_email_once(
    db, blobs, signing_certs, platform
):
    code, address = new_code(), new_address()
    deliver(db, submitted(code, address))
    taken = accepted(code, by_name="Trần Văn Đức", received_by_name="Trần Văn Đức")
    deliver(db, taken)
    deliver(db, taken)  # delivered twice: one letter, one email
    letter_id = letter_service.slip_letter_id(taken["id"], "receipt_slip")
    recorded = store.get_letter(db, letter_id)
    assert recorded["status"] == "created" and recorded["template_id"] == "mau-01"
    assert recorded["by_post"] is False, "delivery at the counter and an email address: no post"
    assert recorded["reason"] == f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả của hồ sơ {code}"
    assert db.letters.count_documents({"dossier_code": code}) == 1

    sender = letter_service.slip_attachments(db, blobs)
    mailer = Mailer(platform.mailpit.smtp_url, "Bộ phận một cửa <motcua@luongtai.example.vn>", timeout=5)
    # Sent before the slip is issued, the email waits for it (a temporary failure, nothing sent).
    assert (
        sending.send_due(db, mailer, Renderer(PORTAL), POLICY, attachments_for=sender)["temporary-failure"]
        == 1
    )
    assert (
        letter_service.issue_pending(
            db, blobs, str(signing_certs), recorded["created_at"] + timedelta(seconds=1)
        )
        == 1
    )
    issued = store.get_letter(db, letter_id)
    assert issued["status"] == "signed" and issued["number_text"] == "1/GTN"
    pdf = store.letter_pdf(blobs, letter_id)
    text = text_of(pdf)
    for expected in (
        code,
        "Nguyễn Thị Hoa",
        "Đăng ký lại việc khai sinh",
        "Trần Văn Đức",
        "ỦY BAN NHÂN DÂN THỊ TRẤN THỨA",
    ):
        assert expected in text, expected
    assert "05 ngày làm việc" in text, "the procedure's legal time, from notify's catalogue copy"
    assert "Số thứ tự: 1" in text, "the dossier's entry in the unit's tracking register"

    db.notifications.update_many({"dossier": code}, {"$set": {"send_after": recorded["created_at"]}})
    assert sending.send_due(db, mailer, Renderer(PORTAL), POLICY, attachments_for=sender)["delivered"] == 1
    messages = Mailbox(platform.mailpit.api_url).wait_for(address, 2)
    received, [message] = (
        [m for m in messages if not m["Attachments"]],
        [m for m in messages if m["Attachments"]],
    )
    assert len(received) == 1 and received[0]["Subject"] == f"Đã nhận hồ sơ {code}", "the filing's own email"
    [attachment] = message["Attachments"]
    assert (
        attachment["FileName"] == f"giay-tiep-nhan-{code}.pdf"
        and attachment["ContentType"] == "application/pdf"
    )
    part = requests.get(
        f"{platform.mailpit.api_url}/api/v1/message/{message['ID']}/part/{attachment['PartID']}", timeout=5
    )
    assert part.content == pdf
    verified = letters.verify_letter(part.content, signing_certs)
    assert verified.intact and verified.trusted and verified.unit_code == "09496"


def test_a_citizen_without_email_gets_the_refusal_by_post_only(db, blobs, signing_certs):
    code = new_code()
    deliver(db, submitted(code, None))
    refused = processing_event(
        "refused",
        code,
        1,
        "refused",
        reasons=["Hồ sơ không thuộc thẩm quyền của Ủy ban nhân dân thị trấn Thứa."],
        resolved_at="2023-10-27T10:00:00+07:00",
        by_name="Trần Văn Đức",
    )
    deliver(db, refused)
    made = {n["template"]: n for n in store.notifications_of_dossier(db, code, 10)}
    assert set(made) == {"received", "refused"}
    assert all((n["status"], n["skip_reason"]) == ("skipped", "no-email-address") for n in made.values())
    letter_id = letter_service.slip_letter_id(refused["id"], "refusal")
    letter_service.issue_pending(
        db, blobs, str(signing_certs), store.get_letter(db, letter_id)["created_at"] + timedelta(seconds=1)
    )
    letter = store.get_letter(db, letter_id)
    assert (letter["template_id"], letter["status"], letter["by_post"], letter["post"]) == (
        "mau-03",
        "signed",
        True,
        "waiting",
    )
    assert letter["address"] == "Thị trấn Thứa, Lương Tài, Bắc Ninh"
    text = text_of(store.letter_pdf(blobs, letter_id))
    assert "Hồ sơ không thuộc thẩm quyền của Ủy ban nhân dân thị trấn Thứa." in text and code in text


def test_an_extension_and_a_supplement_request_each_owe_their_slip(db, blobs, signing_certs):
    code = new_code()
    deliver(db, submitted(code, new_address(), delivery="post"))
    deliver(db, accepted(code))
    wanted = processing_event(
        "supplement_requested",
        code,
        2,
        "supplement_requested",
        missing=[{"document": "Giấy chứng sinh", "reason": "Bản chụp không rõ chữ"}],
        reason="Hồ sơ chưa đủ giấy tờ.",
        by_name="Trần Văn Đức",
    )
    later = processing_event(
        "extended",
        code,
        3,
        "accepted",
        old_due_at="2023-11-03T09:32:00+07:00",
        new_due_at="2023-11-10T09:32:00+07:00",
        reason="Cần xác minh thêm.",
        by_name="Phạm Xuân Nam",
    )
    deliver(db, wanted)
    deliver(db, later)
    kinds = {letter["template_id"]: letter for letter in db.letters.find({"dossier_code": code})}
    assert set(kinds) == {"mau-01", "mau-02", "mau-04"}
    assert all(letter["by_post"] for letter in kinds.values()), "the result goes by post: so do the slips"
    until = max(letter["created_at"] for letter in kinds.values()) + timedelta(seconds=1)
    assert letter_service.issue_pending(db, blobs, str(signing_certs), until) == 3
    apology = text_of(store.letter_pdf(blobs, kinds["mau-04"]["_id"]))
    assert "Cần xác minh thêm." in apology and "Phạm Xuân Nam" in apology
    request = text_of(store.letter_pdf(blobs, kinds["mau-02"]["_id"]))
    assert "Giấy chứng sinh" in request and f"{PORTAL}/thu-tuc/{PROCEDURE}" in request
    numbers = sorted(store.get_letter(db, k["_id"])["register_number"] for k in kinds.values())
    assert numbers == [1, 2, 3], "one register, numbered in order"


def test_a_slip_that_cannot_be_made_leaves_the_email_going_without_it(db, blobs, platform):
    code, address = new_code(), new_address()
    deliver(db, submitted(code, address))
    refused = processing_event(
        "refused", code, 1, "refused", reasons=["Không đủ điều kiện."], by_name="Trần Văn Đức"
    )
    deliver(db, refused)
    letter_id = letter_service.slip_letter_id(refused["id"], "refusal")
    # No certificate to sign with: the letter is a technical failure, with the reason.
    at = store.get_letter(db, letter_id)["created_at"] + timedelta(seconds=1)
    letter_service.issue_pending(db, blobs, None, at)
    failed = store.get_letter(db, letter_id)
    assert failed["status"] == "technical_failure" and failed["failure"]
    mailer = Mailer(platform.mailpit.smtp_url, "Bộ phận một cửa <motcua@luongtai.example.vn>", timeout=5)
    sent = sending.send_due(
        db, mailer, Renderer(PORTAL), POLICY, attachments_for=letter_service.slip_attachments(db, blobs)
    )
    assert sent["delivered"] == 2, "the filing's email and the refusal's"
    refusal = next(
        m for m in Mailbox(platform.mailpit.api_url).wait_for(address, 2) if "không được" in m["Subject"]
    )
    assert refusal["Attachments"] == [] and "Không đủ điều kiện." in refusal["Text"]
