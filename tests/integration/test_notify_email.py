"""Notify's email on the real store and Mailpit: each dossier event gives its notifications once,
whatever the order or the number of deliveries, and the sender delivers them through SMTP once,
across relay outages; a broken template is a technical failure, never a crash."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.infra import Mailpit, free_ports
from eventkit.envelope import decode
from eventkit.errors import TransientError
from eventkit.topics import Groups
from notify import store
from notify.handlers import build_handlers
from notify.mailer import Attachment, Mailer
from notify.service import sending
from notify.service.due_scan import DueScan
from notify.service.notifications import notification_id
from notify.templates import TEMPLATES_DIR, Renderer
from tests.integration.notify_tools import (
    OFFICE,
    UNIT,
    CountingProxy,
    Mailbox,
    accepted,
    intake_event,
    new_address,
    new_code,
    processing_event,
    submitted,
)

pytestmark = pytest.mark.integration

PORTAL = "https://dichvucong.luongtai.example.vn"
SENDER = "Bộ phận một cửa Lương Tài <motcua@luongtai.example.vn>"
POLICY = sending.SendPolicy(batch=50, lease=timedelta(minutes=2))


@pytest.fixture
def db(mongo_db):
    store.ensure_indexes(mongo_db)
    return mongo_db


@pytest.fixture
def renderer():
    return Renderer(PORTAL)


@pytest.fixture
def mailer(platform):
    return Mailer(platform.mailpit.smtp_url, SENDER, timeout=5)


@pytest.fixture
def mailbox(platform):
    return Mailbox(platform.mailpit.api_url)


def deliver(db, renderer, event: dict[str, Any]) -> None:
    """Through the consumer group's own handler, as the worker would."""
    group = (
        Groups.NOTIFY_INTAKE_DOSSIERS if ".intake." in event["type"] else Groups.NOTIFY_PROCESSING_DOSSIERS
    )
    handler = build_handlers(db, renderer)[group][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


def of_dossier(db, code: str) -> list[dict[str, Any]]:
    return store.notifications_of_dossier(db, code, 100)


def status_types(db, notification: str) -> list[str]:
    document = db.notifications.find_one({"_id": notification})
    return [decode(entry["value"].encode())["type"].split(".")[4] for entry in document["outbox"]]


def test_an_online_filing_gets_one_received_email_with_its_code_lookup_link_and_reason(
    db, renderer, mailer, mailbox
):
    code, address = new_code(), new_address()
    event = submitted(code, address)
    deliver(db, renderer, event)

    assert sending.send_due(db, mailer, renderer, POLICY)["delivered"] == 1
    [message] = mailbox.wait_for(address, 1)
    assert message["Subject"] == f"Đã nhận hồ sơ {code}"
    assert message["To"] == [{"Name": "Nguyễn Thị Hoa", "Address": address}]
    lookup = f"{PORTAL}/tra-cuu-ho-so?ma={code}"
    assert lookup in message["Text"] and lookup in message["HTML"]
    assert "nộp trực tuyến lúc 09:32 ngày 27/10/2023" in message["Text"]
    assert "Tiếp theo: cán bộ tiếp nhận sẽ kiểm tra hồ sơ" in message["Text"]
    assert f"vì đã nộp trực tuyến hồ sơ {code}" in message["Text"]
    # One notification per (event, recipient, template): its id gives the Message-ID.
    expected_id = notification_id(event["id"], "citizen", "received")
    assert message["MessageID"] == f"{expected_id}@luongtai.example.vn"
    assert "List-Unsubscribe" not in message["headers"]
    [notification] = of_dossier(db, code)
    assert notification["_id"] == expected_id
    assert notification["status"] == "delivered" and notification["attempts"] == 1
    assert status_types(db, expected_id) == ["created", "delivered"]


CITIZEN_EVENTS = [
    (
        "accepted",
        lambda code: accepted(code),
        "Hồ sơ {code} đã được tiếp nhận, hẹn trả kết quả 09:32 ngày 03/11/2023",
        ["Đăng ký lại việc khai sinh", "Thời gian hẹn trả kết quả: 09:32 ngày 03/11/2023"],
    ),
    (
        "supplement_requested",
        lambda code: processing_event(
            "supplement_requested",
            code,
            1,
            "supplement_requested",
            missing=[{"document": "Tờ khai đăng ký lại khai sinh", "reason": "Chưa có chữ ký"}],
            reason="Hồ sơ chưa đủ thành phần",
        ),
        "Hồ sơ {code} cần bổ sung, hoàn thiện",
        ["- Tờ khai đăng ký lại khai sinh: Chưa có chữ ký", "Lý do: Hồ sơ chưa đủ thành phần"],
    ),
    (
        "refused",
        lambda code: processing_event(
            "refused",
            code,
            1,
            "refused",
            reasons=["Không thuộc thẩm quyền giải quyết"],
            resolved_at="2023-10-27T10:00:00+07:00",
        ),
        "Hồ sơ {code} không được tiếp nhận",
        ["- Không thuộc thẩm quyền giải quyết"],
    ),
    (
        "extended",
        lambda code: processing_event(
            "extended",
            code,
            1,
            "in_progress",
            old_due_at="2023-11-03T09:32:00+07:00",
            new_due_at="2023-11-10T09:32:00+07:00",
            reason="Cần xác minh thêm tại nơi đăng ký",
        ),
        "Xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}",
        ["thành thật xin lỗi", "Thời gian hẹn trả kết quả mới: 09:32 ngày 10/11/2023", "Cần xác minh thêm"],
    ),
    (
        "result_issued",
        lambda code: processing_event("result_issued", code, 1, "result_ready", result={"signed": True}),
        "Hồ sơ {code} đã có kết quả",
        ["Kết quả được gửi qua dịch vụ bưu chính công ích đến địa chỉ Thị trấn Thứa, Lương Tài, Bắc Ninh."],
    ),
    (
        "returned",
        lambda code: processing_event(
            "returned",
            code,
            1,
            "returned",
            method="post",
            resolved_at="2023-11-02T15:00:00+07:00",
            timeliness="early",
        ),
        "Kết quả hồ sơ {code} đã được trả",
        ["đã được trả (gửi qua dịch vụ bưu chính công ích", "lúc 15:00 ngày 02/11/2023"],
    ),
    (
        "rejected",
        lambda code: processing_event("rejected", code, 1, "rejected", reason="Giấy tờ không hợp lệ"),
        "Hồ sơ {code} không được giải quyết",
        ["Lý do: Giấy tờ không hợp lệ"],
    ),
    (
        "stopped",
        lambda code: processing_event("stopped", code, 1, "stopped", reason="Người nộp đề nghị dừng"),
        "Dừng giải quyết hồ sơ {code}",
        ["Lý do: Người nộp đề nghị dừng"],
    ),
]


@pytest.mark.parametrize(
    ("template", "make", "subject", "lines"), CITIZEN_EVENTS, ids=[c[0] for c in CITIZEN_EVENTS]
)
def test_each_citizen_trigger_gives_one_email_with_its_content(
    db, renderer, mailer, mailbox, template, make, subject, lines
):
    code, address = new_code(), new_address()
    # A counter filing: no `received` email, so the event's email is the only one.
    deliver(db, renderer, submitted(code, address, channel="counter", delivery="post"))
    event = make(code)
    deliver(db, renderer, event)
    deliver(db, renderer, event)  # delivered twice: still one notification

    assert sending.send_due(db, mailer, renderer, POLICY)["delivered"] == 1
    [message] = mailbox.wait_for(address, 1)
    assert message["Subject"] == subject.format(code=code)
    assert message["Text"].startswith("Kính gửi Nguyễn Thị Hoa,")
    for line in lines:
        assert line in message["Text"]
    assert f"{PORTAL}/tra-cuu-ho-so?ma={code}" in message["HTML"]
    [notification] = of_dossier(db, code)
    assert notification["template"] == template and notification["status"] == "delivered"
    assert code in notification["reason"] and notification["reason"] in message["Text"]
    assert sending.send_due(db, mailer, renderer, POLICY) == {}
    assert len(mailbox.to(address)) == 1


@pytest.mark.parametrize(
    ("verb", "subject"), [("due_soon", "sắp đến hạn"), ("overdue", "đã quá hạn giải quyết")]
)
def test_a_deadline_warning_mails_each_of_its_recipients(db, renderer, mailer, mailbox, verb, subject):
    code = new_code()
    specialist, leader = new_address("chuyenvien"), new_address("lanhdao")
    recipients = [
        {"user_id": "specialist-1", "name": "Nguyễn Văn Một", "email": specialist, "as": "assignee"},
        {"user_id": "leader-1", "name": "Phạm Thị Lãnh Đạo", "email": leader, "as": "leader"},
        {"user_id": "leader-2", "name": "Không Có Thư", "email": None, "as": "leader"},
    ]
    event = processing_event(
        verb,
        code,
        4,
        "in_progress",
        unit=OFFICE,
        by="hệ thống",
        due_at="2023-11-03T09:32:00+07:00",
        assignee="specialist-1",
        leaders=["leader-1", "leader-2"],
        recipients=recipients,
    )
    deliver(db, renderer, event)
    deliver(db, renderer, event)

    assert sending.send_due(db, mailer, renderer, POLICY)["delivered"] == 2
    [to_specialist] = mailbox.wait_for(specialist, 1)
    [to_leader] = mailbox.wait_for(leader, 1)
    assert subject in to_specialist["Subject"] and code in to_specialist["Subject"]
    assert to_specialist["Text"].startswith("Kính gửi Nguyễn Văn Một,")
    assert "bạn là người được giao xử lý" in to_specialist["Text"]
    assert to_leader["Text"].startswith("Kính gửi Phạm Thị Lãnh Đạo,")
    assert "bạn là lãnh đạo đơn vị giải quyết" in to_leader["Text"]
    assert "09:32 ngày 03/11/2023" in to_leader["Text"]
    by_user = {n["recipient"]["user_id"]: n for n in of_dossier(db, code)}
    assert {u: n["status"] for u, n in by_user.items()} == {
        "specialist-1": "delivered",
        "leader-1": "delivered",
        "leader-2": "skipped",
    }
    assert by_user["leader-2"]["skip_reason"] == "no-email-address"
    assert all(n["unit"] == OFFICE for n in by_user.values())


def test_duplicate_and_out_of_order_events_give_one_email_each_and_keep_the_newest_dossier_state(
    db, renderer, mailer, mailbox
):
    code, address = new_code(), new_address()
    first = accepted(code, 1)
    assigned = processing_event("assigned", code, 2, "in_progress", assignee="specialist-1")
    extended = processing_event(
        "extended",
        code,
        3,
        "in_progress",
        old_due_at="2023-11-03T09:32:00+07:00",
        new_due_at="2023-11-10T09:32:00+07:00",
        reason="Cần xác minh",
    )
    filed = submitted(code, address)
    # Processing's events before intake's filing reached notify: the accepted one waits for it.
    with pytest.raises(TransientError):
        deliver(db, renderer, extended)
    for event in (filed, extended, first, first, extended, assigned, filed):
        deliver(db, renderer, event)

    counts = sending.send_due(db, mailer, renderer, POLICY)
    assert counts["delivered"] == 3
    subjects = sorted(m["Subject"] for m in mailbox.wait_for(address, 3))
    assert subjects == sorted(
        [
            f"Đã nhận hồ sơ {code}",
            f"Hồ sơ {code} đã được tiếp nhận, hẹn trả kết quả 09:32 ngày 03/11/2023",
            f"Xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}",
        ]
    )
    dossier = store.get_dossier(db, code)
    # The late `accepted` (1) and `assigned` (2) did not move the copy back from `extended` (3).
    assert dossier["processing_sequence"] == 3 and dossier["intake_sequence"] == 1
    assert dossier["due_at"] == "2023-11-10T09:32:00+07:00"
    assert dossier.get("procedure_name") is None  # set only by `accepted`, which came too late
    assert dossier["applicant"]["email"] == address and dossier["unit"] == UNIT
    assert len(of_dossier(db, code)) == 3


def test_a_citizen_without_email_gets_no_email_and_the_notification_says_why(db, renderer, mailer, mailbox):
    code = new_code()
    deliver(db, renderer, submitted(code, None))
    deliver(db, renderer, accepted(code))

    assert sending.send_due(db, mailer, renderer, POLICY) == {}
    notifications = of_dossier(db, code)
    assert [(n["template"], n["status"], n["skip_reason"]) for n in notifications] == [
        ("received", "skipped", "no-email-address"),
        ("accepted", "skipped", "no-email-address"),
    ]
    assert all(n["channel"] == "email" and n["send_after"] is None for n in notifications)
    assert status_types(db, notifications[0]["_id"]) == ["skipped"]


def test_a_relay_down_for_ten_minutes_loses_nothing_and_delivers_each_email_once(
    platform, db, renderer, mailer, mailbox
):
    addresses = [new_address() for _ in range(3)]
    codes = [new_code() for _ in addresses]
    for code, address in zip(codes, addresses, strict=True):
        deliver(db, renderer, submitted(code, address))
    start = datetime.now(UTC)

    platform.mailpit.stop()
    now, attempts = start, 0
    while now < start + timedelta(minutes=10):
        counts = sending.send_due(db, mailer, renderer, POLICY, now=now)
        attempts += counts.get("temporary-failure", 0)
        now += timedelta(seconds=30)
    failed = [n for code in codes for n in of_dossier(db, code)]
    assert {n["status"] for n in failed} == {"temporary-failure"}
    assert all(n["error"]["kind"] == "relay" and n["attempts"] >= 2 for n in failed)
    assert attempts >= 5  # tried again and again, each time a backoff later
    platform.mailpit.start()
    platform.mailpit.wait_ready()

    later = now + POLICY.retry_max
    assert sending.send_due(db, mailer, renderer, POLICY, now=later)["delivered"] == 3
    assert sending.send_due(db, mailer, renderer, POLICY, now=later + POLICY.retry_max) == {}
    for code, address in zip(codes, addresses, strict=True):
        [message] = mailbox.wait_for(address, 1)
        assert code in message["Subject"]
        [notification] = of_dossier(db, code)
        assert notification["status"] == "delivered" and notification["attempts"] > 1
        assert status_types(db, notification["_id"])[-2:] == ["temporary_failure", "delivered"]


def test_a_notification_left_in_sending_past_its_lease_is_swept_back_and_sent_once(
    db, renderer, mailer, mailbox
):
    code, address = new_code(), new_address()
    deliver(db, renderer, submitted(code, address))
    [notification] = of_dossier(db, code)
    now = datetime.now(UTC)
    # A sender claimed it and died before sending.
    claimed = sending._transition(
        db, notification, "sending", {"lease_until": now + POLICY.lease, "attempts": 1}, now
    )
    assert claimed is not None
    assert sending.send_due(db, mailer, renderer, POLICY, now=now) == {}
    assert sending.sweep(db, now=now) == 0  # its lease still runs

    after = now + POLICY.lease + timedelta(seconds=1)
    assert sending.sweep(db, now=after) == 1
    assert sending.send_due(db, mailer, renderer, POLICY, now=after)["delivered"] == 1
    assert len(mailbox.wait_for(address, 1)) == 1
    [done] = of_dossier(db, code)
    assert done["status"] == "delivered" and done["attempts"] == 2


def test_a_template_with_an_undefined_variable_is_a_technical_failure_with_the_reason(
    db, mailer, mailbox, tmp_path
):
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, root)
    version = root / "email" / "accepted" / "2"
    shutil.copytree(root / "email" / "accepted" / "1", version)
    body = version / "body.txt"
    body.write_text(
        body.read_text(encoding="utf-8").replace("{{ due_at", "{{ hen_tra_ket_qua"), encoding="utf-8"
    )
    renderer = Renderer(PORTAL, root)
    code, address = new_code(), new_address()
    deliver(db, renderer, submitted(code, address, channel="counter"))
    deliver(db, renderer, accepted(code))

    counts = sending.send_due(db, mailer, renderer, POLICY)
    assert counts == {"technical-failure": 1}
    [notification] = of_dossier(db, code)
    assert notification["template_version"] == "2"
    assert notification["status"] == "technical-failure"
    assert notification["error"]["kind"] == "template"
    assert "accepted/2" in notification["error"]["message"]
    assert "'hen_tra_ket_qua' is undefined" in notification["error"]["message"]
    assert status_types(db, notification["_id"])[-1] == "technical_failure"
    assert sending.send_due(db, mailer, renderer, POLICY) == {}  # not retried: it would fail the same way
    assert mailbox.to(address) == []


def test_the_unit_rate_limit_holds_the_rest_for_a_later_batch(db, renderer, mailer, mailbox):
    addresses = [new_address() for _ in range(3)]
    for address in addresses:
        deliver(db, renderer, submitted(new_code(), address))
    limit = sending.UnitRateLimit(2)

    counts = sending.send_due(db, mailer, renderer, POLICY, rate_limit=limit)
    assert counts == {"delivered": 2, "rate_limited": 1}
    waiting = [a for a in addresses if not mailbox.to(a)]
    assert len(waiting) == 1
    assert sending.send_due(db, mailer, renderer, POLICY, rate_limit=sending.UnitRateLimit(2)) == {
        "delivered": 1
    }
    assert len(mailbox.wait_for(waiting[0], 1)) == 1


def test_withdrawal_and_supplement_events_update_the_copy_and_send_nothing(db, renderer, mailer):
    code, address = new_code(), new_address()
    deliver(db, renderer, submitted(code, address, channel="counter"))
    deliver(
        db,
        renderer,
        intake_event(
            "supplemented", code, 2, documents=[], by="citizen", supplemented_at="2023-10-28T08:00:00+07:00"
        ),
    )
    deliver(
        db,
        renderer,
        intake_event(
            "withdrawn",
            code,
            3,
            reason="Không cần nữa",
            by="citizen",
            withdrawn_at="2023-10-29T08:00:00+07:00",
        ),
    )
    deliver(
        db,
        renderer,
        intake_event(
            "supplemented", code, 2, documents=[], by="citizen", supplemented_at="2023-10-28T08:00:00+07:00"
        ),
    )
    dossier = store.get_dossier(db, code)
    assert dossier["intake_state"] == "withdrawn" and dossier["intake_sequence"] == 3
    assert of_dossier(db, code) == []


def test_the_slips_a_notification_names_are_attached_through_the_hook(
    db, renderer, mailer, mailbox, platform
):
    code, address = new_code(), new_address()
    deliver(db, renderer, submitted(code, address, channel="counter"))
    deliver(db, renderer, accepted(code))
    [notification] = of_dossier(db, code)
    assert notification["attachments"] == ["receipt_slip"]
    asked: list[list[str]] = []

    def slips(n: dict[str, Any]) -> list[Attachment]:
        asked.append(n["attachments"])
        return [Attachment(f"{name}-{n['dossier']}.pdf", b"%PDF-1.4\n%%EOF\n") for name in n["attachments"]]

    assert sending.send_due(db, mailer, renderer, POLICY, attachments_for=slips)["delivered"] == 1
    assert asked == [["receipt_slip"]]
    [message] = mailbox.wait_for(address, 1)
    assert [(a["FileName"], a["ContentType"]) for a in message["Attachments"]] == [
        (f"receipt_slip-{code}.pdf", "application/pdf")
    ]
    assert "Thời gian hẹn trả kết quả: 09:32 ngày 03/11/2023" in message["Text"]


def test_a_slip_that_cannot_be_made_is_retried_when_that_may_pass_and_never_sent_without_it(
    db, renderer, mailer, mailbox
):
    code, address = new_code(), new_address()
    deliver(db, renderer, submitted(code, address, channel="counter"))
    deliver(db, renderer, accepted(code))

    def unavailable(_n: dict[str, Any]) -> list[Attachment]:
        raise TransientError("the slip store is unavailable")

    def broken(_n: dict[str, Any]) -> list[Attachment]:
        raise ValueError("no layout for this form")

    now = datetime.now(UTC)
    assert sending.send_due(db, mailer, renderer, POLICY, now=now, attachments_for=unavailable) == {
        "temporary-failure": 1
    }
    later = now + POLICY.retry_max
    assert sending.send_due(db, mailer, renderer, POLICY, now=later, attachments_for=broken) == {
        "technical-failure": 1
    }
    [notification] = of_dossier(db, code)
    assert notification["error"] == {"kind": "attachment", "message": "ValueError: no layout for this form"}
    assert mailbox.to(address) == []


class RejectingMailpit(Mailpit):
    """A relay that refuses every recipient outside the district's own domain (5xx)."""

    def command(self) -> list[str]:
        return [*super().command(), r"--smtp-allowed-recipients=@luongtai\.example\.vn$"]


@pytest.fixture
def rejecting_relay(tmp_path):
    smtp, http = free_ports(2)
    relay = RejectingMailpit("mailpit-rejecting", tmp_path / "relay", smtp_port=smtp, http_port=http)
    relay.start()
    try:
        relay.wait_ready()
        yield relay
    finally:
        relay.stop()


def test_a_recipient_the_relay_refuses_is_a_permanent_failure_with_its_reply_and_the_batch_goes_on(
    db, renderer, rejecting_relay
):
    code = new_code()
    citizen, officer = new_address(), f"chuyenvien-{code[-4:]}@luongtai.example.vn"
    deliver(db, renderer, submitted(code, citizen))
    recipients = [{"user_id": "specialist-1", "name": "Nguyễn Văn Một", "email": officer, "as": "assignee"}]
    deliver(
        db,
        renderer,
        processing_event(
            "overdue", code, 3, "in_progress", due_at="2023-11-03T09:32:00+07:00", recipients=recipients
        ),
    )
    mailer = Mailer(rejecting_relay.smtp_url, SENDER, timeout=5)
    # The refused one first, so the batch must carry on past it on the same connection.
    first = datetime.now(UTC) - timedelta(minutes=1)
    db.notifications.update_one({"dossier": code, "template": "received"}, {"$set": {"send_after": first}})

    assert sending.send_due(db, mailer, renderer, POLICY) == {"permanent-failure": 1, "delivered": 1}
    by_template = {n["template"]: n for n in of_dossier(db, code)}
    refused = by_template["received"]
    assert refused["status"] == "permanent-failure" and refused["send_after"] is None
    assert refused["error"]["kind"] == "smtp" and refused["error"]["smtp_code"] >= 500
    assert refused["error"]["message"].startswith(str(refused["error"]["smtp_code"]))
    assert by_template["overdue"]["status"] == "delivered"
    assert status_types(db, refused["_id"])[-1] == "permanent_failure"
    delivered = Mailbox(rejecting_relay.api_url).wait_for(officer, 1)
    assert [m["Subject"] for m in delivered] == [f"Hồ sơ {code} đã quá hạn giải quyết"]
    assert Mailbox(rejecting_relay.api_url).to(citizen) == []
    assert sending.send_due(db, mailer, renderer, POLICY) == {}  # never tried again


def test_a_temporary_failure_stops_being_retried_after_the_last_attempt(db, renderer):
    code = new_code()
    deliver(db, renderer, submitted(code, new_address()))
    closed = Mailer(f"smtp://127.0.0.1:{free_ports(1)[0]}", SENDER, timeout=2)
    policy = sending.SendPolicy(max_attempts=2)
    now = datetime.now(UTC)
    for _ in range(4):
        sending.send_due(db, closed, renderer, policy, now=now)
        now += policy.retry_max
    [notification] = of_dossier(db, code)
    assert notification["status"] == "temporary-failure" and notification["attempts"] == 2
    assert notification["send_after"] is None


def test_a_batch_reuses_one_connection_to_the_relay(platform, db, renderer, mailbox):
    addresses = [new_address() for _ in range(5)]
    for address in addresses:
        deliver(db, renderer, submitted(new_code(), address))
    proxy = CountingProxy(platform.mailpit.smtp_port)
    try:
        mailer = Mailer(f"smtp://127.0.0.1:{proxy.port}", SENDER, timeout=5)
        assert sending.send_due(db, mailer, renderer, POLICY) == {"delivered": 5}
        assert proxy.connections == 1
    finally:
        proxy.close()
    assert all(len(mailbox.wait_for(address, 1)) == 1 for address in addresses)


def test_two_senders_draining_one_backlog_send_each_email_once(db, renderer, mailer, mailbox):
    addresses = [new_address() for _ in range(60)]
    for address in addresses:
        deliver(db, renderer, submitted(new_code(), address))
    small = sending.SendPolicy(batch=7, lease=timedelta(minutes=2))
    totals: list[Counter[str]] = [Counter(), Counter()]

    def drain(total: Counter[str]) -> None:
        scan = DueScan()  # each sender its own, as each worker process has
        while counts := sending.send_due(db, mailer, renderer, small, scan=scan):
            total.update(counts)

    threads = [threading.Thread(target=drain, args=(total,)) for total in totals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(total["delivered"] for total in totals) == len(addresses)
    assert all(total["delivered"] > 0 for total in totals)  # both took part
    for address in addresses:
        assert len(mailbox.wait_for(address, 1)) == 1
    time.sleep(1)  # a second copy, had there been one, would have arrived by now
    assert all(len(mailbox.to(address)) == 1 for address in addresses)
