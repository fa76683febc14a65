"""Notify's real worker: dossier events from Kafka become emails in Mailpit, once each however
often they are delivered, and each notification's statuses are published on its topic."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from eventkit.envelope import decode, encode
from eventkit.kafka import ensure_topics
from eventkit.topics import Topics, topic_specs_for
from notify.service.notifications import notification_id
from tests.integration.kafka_tools import write_raw
from tests.integration.notify_tools import (
    Mailbox,
    accepted,
    new_address,
    new_code,
    notify_worker,
    processing_event,
    submitted,
)
from tests.integration.test_processing_worker_faults import TopicTail

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(service_environ, tmp_path):
    settings = {"SEND_INTERVAL_SECONDS": "0.3", "PORTAL_URL": "https://dichvucong.luongtai.example.vn"}
    with notify_worker(service_environ, tmp_path / "notify-worker.log", **settings) as log:
        yield log


def test_events_through_kafka_become_one_email_each_and_published_statuses(platform, worker):
    ensure_topics(platform.bootstrap, topic_specs_for("notify"))
    mailbox = Mailbox(platform.mailpit.api_url)
    code, address = new_code(), new_address()
    filed, taken = submitted(code, address), accepted(code)
    key = code.encode()
    # Each event twice, as a producer's re-send after a crash would.
    write_raw(platform.bootstrap, Topics.INTAKE_DOSSIERS.name, [(key, encode(filed)), (key, encode(filed))])
    write_raw(
        platform.bootstrap, Topics.PROCESSING_DOSSIERS.name, [(key, encode(taken)), (key, encode(taken))]
    )

    messages = mailbox.wait_for(address, 2, timeout=90)
    assert sorted(m["Subject"] for m in messages) == sorted(
        [f"Đã nhận hồ sơ {code}", f"Hồ sơ {code} đã được tiếp nhận, hẹn trả kết quả 09:32 ngày 03/11/2023"]
    ), worker.read_text(errors="replace")[-4000:]

    ids = {
        notification_id(filed["id"], "citizen", "received"),
        notification_id(taken["id"], "citizen", "accepted"),
    }
    tail = TopicTail(platform.bootstrap, Topics.NOTIFY_NOTIFICATIONS.name)
    try:
        deadline = time.monotonic() + 60
        statuses: dict[str, list[str]] = {}
        while time.monotonic() < deadline:
            statuses = {}
            for record in tail.poll():
                event = decode(record.value)
                if event["subject"] in ids:
                    assert record.key == event["subject"].encode()
                    statuses.setdefault(event["subject"], []).append(event["data"]["status"])
            if all(statuses.get(i, [])[-1:] == ["delivered"] for i in ids):
                break
            time.sleep(0.2)
    finally:
        tail.close()
    assert statuses == {i: ["created", "delivered"] for i in ids}
    time.sleep(1.5)  # a few more sender passes: nothing is sent twice
    assert len(mailbox.to(address)) == 2


def test_a_decision_and_its_filing_from_two_topics_are_mailed_once_each_in_either_order(platform, worker):
    ensure_topics(platform.bootstrap, topic_specs_for("notify"))
    mailbox = Mailbox(platform.mailpit.api_url)
    code, address = new_code(), new_address()
    refused = processing_event(
        "refused",
        code,
        1,
        "refused",
        reasons=["Hồ sơ không thuộc thẩm quyền"],
        resolved_at="2023-10-27T10:00:00+07:00",
    )
    write_raw(platform.bootstrap, Topics.PROCESSING_DOSSIERS.name, [(code.encode(), encode(refused))])
    # Two groups, two topics: when the refusal is handled before the filing there is no contact
    # yet and it is retried; in either order each email goes once.
    time.sleep(1.0)
    write_raw(
        platform.bootstrap, Topics.INTAKE_DOSSIERS.name, [(code.encode(), encode(submitted(code, address)))]
    )

    messages = mailbox.wait_for(address, 2, timeout=90)
    assert sorted(m["Subject"] for m in messages) == sorted(
        [f"Đã nhận hồ sơ {code}", f"Hồ sơ {code} không được tiếp nhận"]
    ), worker.read_text(errors="replace")[-4000:]
    refusal = next(m for m in messages if "không được tiếp nhận" in m["Subject"])
    assert "- Hồ sơ không thuộc thẩm quyền" in refusal["Text"]
    time.sleep(1.5)
    assert len(mailbox.to(address)) == 2


def published(kind: str, code: str, version: int, **fields: object) -> dict:
    from eventkit.envelope import new_event

    return new_event(
        type=f"vn.motcua.processing.{kind}.published.v1",
        source="/services/processing",
        subject=code,
        data={"code": code, "version": version, **fields},
        sequence=version,
    )


def test_the_worker_keeps_the_newest_unit_and_procedure_whatever_the_order(platform, worker, service_environ):
    from eventkit.mongo import connect
    from notify import store

    ensure_topics(platform.bootstrap, topic_specs_for("notify"))
    unit, procedure = new_code()[:10], "9.999999"
    records = [
        (unit.encode(), encode(published("unit", unit, 2, name="Ủy ban nhân dân xã Lâm Thao (mới)"))),
        (unit.encode(), encode(published("unit", unit, 1, name="Ủy ban nhân dân xã Lâm Thao"))),
    ]
    write_raw(platform.bootstrap, Topics.PROCESSING_UNITS.name, records)
    write_raw(
        platform.bootstrap,
        Topics.PROCESSING_PROCEDURES.name,
        [(procedure.encode(), encode(published("procedure", procedure, 3, name="Đăng ký khai sinh")))],
    )
    db = connect(service_environ["MONGO_URL"], service_environ["MONGO_DB"], app_name="test")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            store.get_unit(db, unit) and store.get_procedure(db, procedure)
        ):
            time.sleep(0.2)
        time.sleep(1.0)  # the stale version has been read by now too
        kept = store.get_unit(db, unit)
        assert kept is not None, worker.read_text(errors="replace")[-3000:]
        assert (kept["version"], kept["name"]) == (2, "Ủy ban nhân dân xã Lâm Thao (mới)"), (
            "a stale version is ignored"
        )
        assert store.get_procedure(db, procedure)["name"] == "Đăng ký khai sinh"
    finally:
        db.client.close()


def test_a_signed_result_of_megabytes_goes_through_kafka_to_the_email_that_waited_for_it(
    platform, worker, mongo_db, signing_certs
):
    from kafka.errors import MessageSizeTooLargeError

    from eventkit.kafka import make_producer, make_resilient_producer
    from eventkit.outbox import OutboxRelay, insert_with_outbox, outbox_entry
    from tests.integration.test_notify_slips import result_events, signed_result

    ensure_topics(platform.bootstrap, topic_specs_for("notify") + topic_specs_for("processing"))
    mailbox = Mailbox(platform.mailpit.api_url)
    code, address = new_code(), new_address()
    signed = signed_result(signing_certs, code, size=4 * 1024 * 1024)
    issued, file = result_events(code, signed)
    key = code.encode()
    write_raw(
        platform.bootstrap,
        Topics.INTAKE_DOSSIERS.name,
        [(key, encode(submitted(code, address, delivery="online")))],
    )
    write_raw(
        platform.bootstrap, Topics.PROCESSING_DOSSIERS.name, [(key, encode(issued)), (key, encode(issued))]
    )
    assert [m["Subject"] for m in mailbox.wait_for(address, 1, timeout=60)] == [f"Đã nhận hồ sơ {code}"]
    time.sleep(2.0)  # several sender passes: the result email waits for its file
    assert len(mailbox.to(address)) == 1

    # The file comes later, as processing's relay sends it: the platform's producer, the topic's
    # own record size. Sent twice (a re-send after a crash): kept once, mailed once.
    outbox = mongo_db["results_outbox"]
    for copy in range(2):
        insert_with_outbox(
            outbox, {"_id": f"{code}-{copy}"}, [outbox_entry(Topics.PROCESSING_RESULTS.name, file)]
        )
    producer = make_resilient_producer(platform.bootstrap, "test-results-relay")
    try:
        assert OutboxRelay([outbox], producer, mongo_db["leases"], "test").relay_once() == 2
    finally:
        producer.close()
    messages = mailbox.wait_for(address, 2, timeout=90)
    assert len(messages) == 2, worker.read_text(errors="replace")[-4000:]
    [message] = [m for m in messages if m["Attachments"]]
    assert message["Subject"] == f"Hồ sơ {code} đã có kết quả"
    [attachment] = message["Attachments"]
    content = requests.get(
        f"{platform.mailpit.api_url}/api/v1/message/{message['ID']}/part/{attachment['PartID']}", timeout=10
    ).content
    assert hashlib.sha256(content).hexdigest() == issued["data"]["result"]["sha256"] and content == signed
    time.sleep(1.5)
    assert len(mailbox.to(address)) == 2

    # Every other topic keeps the broker's record size.
    plain = make_producer(platform.bootstrap, "test-large-record")
    try:
        with pytest.raises(MessageSizeTooLargeError):
            plain.send(Topics.PROCESSING_DOSSIERS.name, value=b"x" * (2 * 1024 * 1024), key=key).get(
                timeout=15
            )
    finally:
        plain.close()
