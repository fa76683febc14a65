"""The legal slips the dossier events owe the citizen: each event records its letter once, the
sender issues it (numbered, rendered from notify's copy of the catalogue, signed) and attaches it
to the citizen's email; a citizen without email gets the letter by post only. A decision not to
resolve, or to stop, owes a notice with the reasons the same way. The signed result of a dossier
delivered online arrives on its own topic and goes with the result email, which waits for it."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from eventkit import signing
from eventkit.blobs import open_blob_store
from eventkit.envelope import new_event
from eventkit.topics import Groups
from notify import letters, store
from notify.handlers import build_handlers
from notify.mailer import Mailer
from notify.service import letters as letter_service
from notify.service import sending
from notify.templates import Renderer
from processing.importer import SEED_DIR
from processing.service.results import file_event_data
from tests.factories import pdf_bytes
from tests.integration.notify_tools import (
    OFFICE,
    PROCEDURE,
    UNIT,
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


def deliver(db, event: dict[str, Any], blobs=None) -> None:
    if event["type"].endswith(".result.issued.v1"):
        group = Groups.NOTIFY_RESULTS
    elif ".intake." in event["type"]:
        group = Groups.NOTIFY_INTAKE_DOSSIERS
    else:
        group = Groups.NOTIFY_PROCESSING_DOSSIERS
    handler = build_handlers(db, Renderer(PORTAL), blobs)[group][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


def signed_result(signing_certs, code: str, size: int = 3000) -> bytes:
    """A result signed as processing signs it."""
    return signing.sign_result(
        pdf_bytes(size),
        str(signing_certs),
        unit_code=UNIT,
        unit_address="Lương Tài, Bắc Ninh",
        dossier_code=code,
        signed_at=datetime.now(UTC),
    )


def result_events(code: str, signed: bytes, sent: bool = True, sequence: int = 2) -> tuple[dict, dict]:
    """Processing's `result_issued` and, on processing.results.v1, the signed file it sent."""
    record = {
        "file_id": "f-1",
        "sha256": hashlib.sha256(signed).hexdigest(),
        "size": len(signed),
        "signed": True,
        "signed_by_unit": UNIT,
        "file_sent": sent,
    }
    issued = processing_event("result_issued", code, sequence, "result_ready", result=record)
    file = new_event(
        type="vn.motcua.processing.result.issued.v1",
        source="/services/processing",
        subject=code,
        data=file_event_data(code, record, signed),
        sequence=sequence,
    )
    return issued, file


def mailer_of(platform) -> Mailer:
    return Mailer(platform.mailpit.smtp_url, "Bộ phận một cửa <motcua@luongtai.example.vn>", timeout=5)


def send(db, platform, blobs) -> dict[str, int]:
    hook = letter_service.slip_attachments(db, blobs)
    return dict(sending.send_due(db, mailer_of(platform), Renderer(PORTAL), POLICY, attachments_for=hook))


def due_now(db, code: str) -> None:
    """Bring the dossier's waiting notifications' next attempt forward (instead of waiting 30 s)."""
    db.notifications.update_many(
        {"dossier": code, "status": "temporary-failure"}, {"$set": {"send_after": datetime.now(UTC)}}
    )


def part(platform, message: dict, attachment: dict) -> bytes:
    url = f"{platform.mailpit.api_url}/api/v1/message/{message['ID']}/part/{attachment['PartID']}"
    return requests.get(url, timeout=5).content


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


def test_an_online_result_waits_for_its_signed_file_and_is_mailed_once_with_it(
    db, blobs, signing_certs, platform
):
    code, address = new_code(), new_address()
    deliver(db, submitted(code, address, delivery="online"))
    signed = signed_result(signing_certs, code)
    issued, file = result_events(code, signed)
    deliver(db, issued)
    deliver(db, issued)  # delivered twice: one notification
    [notification] = [
        n for n in store.notifications_of_dossier(db, code, 10) if n["template"] == "result_issued"
    ]
    assert notification["attachments"] == ["result"] and notification["template_version"] == "2"

    # The file has not arrived (another topic, another group): the email waits, nothing is sent.
    assert send(db, platform, blobs) == {"delivered": 1, "temporary-failure": 1}
    mailbox = Mailbox(platform.mailpit.api_url)
    assert [m["Subject"] for m in mailbox.wait_for(address, 1)] == [f"Đã nhận hồ sơ {code}"]
    waiting = store.get_notification(db, notification["_id"])
    assert waiting["status"] == "temporary-failure" and waiting["error"]["kind"] == "attachment"

    deliver(db, file, blobs)
    deliver(db, file, blobs)  # kept once: the same bytes under the same key
    due_now(db, code)
    assert send(db, platform, blobs) == {"delivered": 1}
    deliver(db, issued)
    due_now(db, code)
    assert send(db, platform, blobs) == {}, "nothing is sent twice"
    messages = mailbox.wait_for(address, 2)
    [message] = [m for m in messages if m["Subject"] == f"Hồ sơ {code} đã có kết quả"]
    assert len(messages) == 2
    [attachment] = message["Attachments"]
    assert attachment["FileName"] == f"ket-qua-{code}.pdf" and attachment["ContentType"] == "application/pdf"
    content = part(platform, message, attachment)
    assert hashlib.sha256(content).hexdigest() == issued["data"]["result"]["sha256"]
    assert signing.verify_result(content, signing_certs).intact
    assert (
        "Kết quả (bản điện tử có chữ ký số của cơ quan giải quyết) được đính kèm thư này." in message["Text"]
    )


def test_a_signed_file_that_does_not_match_its_hash_is_refused(db, blobs, signing_certs):
    code = new_code()
    _, file = result_events(code, signed_result(signing_certs, code))
    file["data"]["sha256"] = "0" * 64
    handler = build_handlers(db, Renderer(PORTAL), blobs)[Groups.NOTIFY_RESULTS][file["type"]]
    with pytest.raises(Exception, match="SHA-256") as refused:
        handler.schema.load(file["data"])
    assert "content_base64" in str(refused.value)


def test_a_result_not_sent_by_email_says_where_to_get_it(db, blobs, signing_certs, platform):
    online, counter, address, other = new_code(), new_code(), new_address(), new_address("binh")
    deliver(db, submitted(online, address, delivery="online"))
    deliver(db, submitted(counter, other, delivery="counter"))
    too_large, _ = result_events(online, signed_result(signing_certs, online), sent=False)
    at_counter, _ = result_events(counter, signed_result(signing_certs, counter), sent=False)
    deliver(db, too_large)
    deliver(db, at_counter)
    assert send(db, platform, blobs) == {"delivered": 4}, "none of them waits for a file"
    mailbox = Mailbox(platform.mailpit.api_url)
    [by_email] = [m for m in mailbox.wait_for(address, 2) if "đã có kết quả" in m["Subject"]]
    assert by_email["Attachments"] == []
    assert (
        "Kết quả (bản điện tử có chữ ký số của cơ quan giải quyết) không đính kèm theo thư này. Bạn tải về"
        " trên Cổng dịch vụ công, tại trang tra cứu hồ sơ dưới đây, hoặc nhận trực tiếp tại Bộ phận Tiếp"
        " nhận và Trả kết quả của Ủy ban nhân dân thị trấn Thứa, thị trấn Thứa, huyện Lương Tài, tỉnh Bắc"
        " Ninh, trong giờ hành chính các ngày làm việc."
    ) in by_email["Text"]
    assert f"{PORTAL}/tra-cuu-ho-so?ma={online}" in by_email["Text"]
    [collect] = [m for m in mailbox.wait_for(other, 2) if "đã có kết quả" in m["Subject"]]
    assert collect["Attachments"] == [] and "đính kèm" not in collect["Text"]
    assert (
        "Bạn nhận kết quả trực tiếp tại Bộ phận Tiếp nhận và Trả kết quả của Ủy ban nhân dân thị trấn Thứa,"
        " thị trấn Thứa, huyện Lương Tài, tỉnh Bắc Ninh, trong giờ hành chính các ngày làm việc."
    ) in collect["Text"]


@pytest.mark.parametrize(
    ("verb", "slip", "form", "title", "decision"),
    [
        (
            "rejected",
            "rejection_notice",
            "tb-khong-giai-quyet",
            "THÔNG BÁO VỀ VIỆC KHÔNG GIẢI QUYẾT HỒ SƠ",
            "Phòng Tư pháp huyện Lương Tài không giải quyết hồ sơ của ông/bà với lý do như sau:",
        ),
        (
            "stopped",
            "stop_notice",
            "tb-dung-giai-quyet",
            "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
            "Phòng Tư pháp huyện Lương Tài dừng giải quyết hồ sơ mã số",
        ),
    ],
)
def test_a_decision_not_to_resolve_or_to_stop_owes_a_signed_notice_with_the_reasons(
    db, blobs, signing_certs, platform, verb, slip, form, title, decision
):
    code, address = new_code(), new_address()
    deliver(db, submitted(code, address, delivery="post"))
    reason = (
        "Người yêu cầu đăng ký lại việc khai sinh đã có Giấy khai sinh hợp lệ; không có căn cứ đăng ký lại."
    )
    decided = processing_event(
        verb,
        code,
        4,
        verb,
        unit=OFFICE,
        reason=reason,
        resolved_at="2023-11-02T15:00:00+07:00",
        by_name="Phạm Xuân Nam",
    )
    deliver(db, decided)
    deliver(db, decided)
    letter_id = letter_service.slip_letter_id(decided["id"], slip)
    assert db.letters.count_documents({"dossier_code": code}) == 1
    assert send(db, platform, blobs) == {"delivered": 1, "temporary-failure": 1}, (
        "the notice is not issued yet"
    )
    letter_service.issue_pending(
        db, blobs, str(signing_certs), store.get_letter(db, letter_id)["created_at"] + timedelta(seconds=1)
    )
    letter = store.get_letter(db, letter_id)
    assert (letter["template_id"], letter["version"], letter["unit"], letter["status"]) == (
        form,
        "nd61.1",
        OFFICE,
        "signed",
    )
    assert [h["status"] for h in letter["history"]] == ["created", "rendered", "signed"]
    assert letter["by_post"] is True and letter["post"] == "waiting", "the result goes by post: so does this"
    assert letter["number_text"] == "1/TB"
    pdf = store.letter_pdf(blobs, letter_id)
    text = " ".join(text_of(pdf).split())  # the lines as drawn, joined where they wrap
    for expected in (
        title,
        decision,
        reason,
        "Phạm Xuân Nam",
        "Lãnh đạo Phòng Tư pháp huyện Lương Tài",
        f"Mã hồ sơ: {code}",
        "Hồ sơ được trả lại cho ông/bà qua Ủy ban nhân dân thị trấn Thứa.",
    ):
        assert expected in text, expected
    assert letters.verify_letter(pdf, signing_certs).unit_code == OFFICE

    due_now(db, code)
    assert send(db, platform, blobs) == {"delivered": 1}
    [message] = [m for m in Mailbox(platform.mailpit.api_url).wait_for(address, 2) if m["Attachments"]]
    assert f"Lý do: {reason}" in message["Text"]
    assert "và gửi qua dịch vụ bưu chính công ích đến địa chỉ bạn đã đăng ký." in message["Text"]
    [attachment] = message["Attachments"]
    assert attachment["FileName"] == f"{letter_service.SLIP_FILES[form]}-{code}.pdf"
    assert part(platform, message, attachment) == pdf
