"""Processing's real worker killed (SIGKILL) in the middle of its work loses nothing: events it was
publishing from the dossiers' outboxes, and intake events it was consuming, all arrive once it is
back, in order per dossier and applied once each."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from devstack.infra import free_ports, wait_until
from eventkit.envelope import decode, encode
from eventkit.kafka import ensure_topics
from eventkit.outbox import OUTBOX, PENDING
from eventkit.topics import Topics, topic_specs_for
from processing import deadlines, store
from processing.schemas import ProcedureSchema, UnitSchema
from processing.service import catalogue
from tests.integration.kafka_tools import read_topic, write_raw
from tests.integration.test_processing_workflow import (
    PROCEDURE,
    UNIT,
    _seed_item,
    act,
    deliver,
    intake_event,
    submitted,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

ROOT = Path(__file__).resolve().parents[2]
DOSSIERS = 20
# Once the worker is back, everything is published or applied within this long.
RECOVERY_BOUND = 120.0
TZ = deadlines.TZ


class Worker:
    """`python -m processing.worker` as deployed, started, killed and started again."""

    def __init__(self, environ: dict[str, str], log: Path) -> None:
        [self.port] = free_ports(1)
        paths = [ROOT / "libs" / "eventkit", ROOT / "libs" / "webui", ROOT / "services" / "processing", ROOT]
        self.env = {
            **environ,
            "HEALTH_PORT": str(self.port),
            "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
            "PYTHONUNBUFFERED": "1",
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "processing.worker"],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def readiness(self) -> dict[str, bool]:
        try:
            answer = requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
            return dict(answer.json()["checks"])
        except (requests.RequestException, ValueError, KeyError):
            return {}

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class TopicTail:
    """Every record of a topic from its beginning, read on as they arrive (polled, not waited on)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = [
            TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])
        ]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)
        self.records: list[ConsumerRecord] = []

    def poll(self) -> list[ConsumerRecord]:
        for batch in self.consumer.poll(timeout_ms=50).values():
            self.records.extend(batch)
        return self.records

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def db(processing_app):
    db = processing_app.extensions["db"]
    for code in ("27", "264", "264.TP", UNIT):
        catalogue.create(db, catalogue.UNITS, UnitSchema().load(_seed_item("units", code)), "seed")
    procedure = {**_seed_item("procedures", PROCEDURE), "receiving_units": [UNIT], "resolving_units": [UNIT]}
    catalogue.create(db, catalogue.PROCEDURES, ProcedureSchema().load(procedure), "seed")
    return db


@pytest.fixture
def worker(platform, service_environ, tmp_path) -> Iterator[Worker]:
    ensure_topics(platform.bootstrap, topic_specs_for("processing") + topic_specs_for("intake"))
    running = Worker(service_environ, tmp_path / "processing-worker.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def codes() -> list[str]:
    """Dossier codes of this test alone: the session's topics hold other tests' dossiers too."""
    day = random.randint(900000, 999999)
    return [f"000.21.26.H06-{day}-{n:04d}" for n in range(1, DOSSIERS + 1)]


def headers(staff_headers, role: str) -> dict[str, str]:
    return staff_headers(role, UNIT, user_id=f"{role}-1")


def outbox_ids(db, codes: list[str]) -> dict[str, str]:
    """The ids of the events still waiting in the dossiers' outboxes, with their dossier."""
    return {entry["id"]: code for code in codes for entry in store.get_dossier_outbox(db, code)}


def mine(records: list[ConsumerRecord], codes: list[str]) -> list[tuple[ConsumerRecord, dict[str, Any]]]:
    """This test's records (by their key, the dossier code), decoded; other tests' are left unread."""
    wanted = {code.encode() for code in codes}
    return [(record, decode(record.value)) for record in records if record.key in wanted]


def assert_published_in_order(
    db, records: list[ConsumerRecord], codes: list[str], expected: set[str]
) -> None:
    events = mine(records, codes)
    assert {event["id"] for _, event in events} == expected, "every event, and no other, is on the topic"
    copies: dict[str, set[bytes]] = defaultdict(set)
    for record, event in events:
        copies[event["id"]].add(record.value)
    assert all(len(values) == 1 for values in copies.values()), "a duplicate is the same event re-sent"
    # A dossier's events share its key, hence one partition: its offsets give the topic's order.
    by_code: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
    for record, event in events:
        by_code[event["subject"]].append((record.partition, record.offset, event["id"], event["sequence"]))
    for code in codes:
        dossier = store.get_dossier(db, code)
        seen = sorted(by_code[code])
        assert len({partition for partition, *_ in seen}) == 1, code
        first: list[int] = []
        ids: dict[int, str] = {}
        for _, _, event_id, sequence in seen:
            assert ids.setdefault(sequence, event_id) == event_id, f"{code}: one event per sequence"
            if sequence not in first:
                first.append(sequence)
        assert first == list(range(1, dossier["sequence"] + 1)), f"{code}: 1..n, no gap, in order"


def assert_outboxes_drained(db, codes: list[str], worker: Worker) -> None:
    def drained() -> bool:
        documents = [db.dossiers.find_one({"_id": code}, {OUTBOX: 1, PENDING: 1}) for code in codes]
        return all(not d.get(OUTBOX) and d.get(PENDING) is False for d in documents)

    assert wait_until(drained, timeout=60, interval=0.5), worker.log_tail()
    assert wait_until(lambda: worker.readiness().get("relay") is True, timeout=30), worker.readiness()


def test_a_worker_killed_while_publishing_loses_no_event(
    platform, db, processing_client, staff_headers, worker, codes
):
    # A backlog of three events per dossier, written while no worker runs.
    now = datetime.now(TZ)
    for code in codes:
        deliver(db, submitted("counter", at=now, code=code))  # accepted on arrival: event 1
    for code in codes:
        assigned = act(
            processing_client, "assign", headers(staff_headers, "leader"), code, assignee="specialist-1"
        )
        assert assigned.status_code == 200, assigned.json
        extended = act(
            processing_client,
            "extend",
            headers(staff_headers, "leader"),
            code,
            reason="Cần xác minh thêm",
            new_due_at=(now + timedelta(days=60)).isoformat(),
        )
        assert extended.status_code == 200, extended.json
    written = outbox_ids(db, codes)
    assert len(written) == 3 * DOSSIERS

    # The worker is killed as soon as the topic shows it publishing the backlog.
    tail = TopicTail(platform.bootstrap, Topics.PROCESSING_DOSSIERS.name)
    try:
        worker.start()
        assert wait_until(lambda: bool(mine(tail.poll(), codes)), timeout=90, interval=0.05), (
            worker.log_tail()
        )
        worker.kill()
    finally:
        tail.close()
    left = outbox_ids(db, codes)
    assert set(left) <= set(written)

    # While it is down the API goes on: a proposal (no event) and an approval (event 4) each.
    for code in codes:
        proposed = act(
            processing_client, "propose", headers(staff_headers, "specialist"), code, note="Đề nghị"
        )
        assert proposed.status_code == 200, proposed.json
        approved = act(processing_client, "approve", headers(staff_headers, "leader"), code, note="Đồng ý")
        assert approved.status_code == 200, approved.json
    while_down = set(outbox_ids(db, codes)) - set(left)
    assert len(while_down) == DOSSIERS
    expected = set(written) | while_down

    worker.start()
    published: set[str] = set()

    def all_published() -> bool:
        records = read_topic(platform.bootstrap, Topics.PROCESSING_DOSSIERS.name, expect=0, timeout=10)
        published.update(event["id"] for _, event in mine(records, codes))
        return expected <= published

    assert wait_until(all_published, timeout=RECOVERY_BOUND, interval=1), (
        f"{len(expected - published)} of {len(expected)} events never reached the topic "
        f"({len(left)} were left in the outboxes at the kill)\n{worker.log_tail()}"
    )
    assert_outboxes_drained(db, codes, worker)
    records = read_topic(platform.bootstrap, Topics.PROCESSING_DOSSIERS.name, expect=len(expected))
    assert_published_in_order(db, records, codes, expected)
    assert all(store.get_dossier(db, code)["sequence"] == 4 for code in codes)


def test_a_worker_killed_while_consuming_applies_every_intake_event_once(
    platform, db, staff_headers, worker, codes
):
    topic = Topics.INTAKE_DOSSIERS.name
    now = datetime.now(TZ)
    filings = [submitted("counter", at=now, code=code) for code in codes]
    write_raw(platform.bootstrap, topic, [(event["subject"].encode(), encode(event)) for event in filings])

    def arrived() -> list[str]:
        return [code for code in codes if store.get_dossier(db, code) is not None]

    # The worker is killed as soon as it has applied some of the filings.
    worker.start()
    assert wait_until(lambda: bool(arrived()), timeout=90, interval=0.05), worker.log_tail()
    worker.kill()
    applied_at_kill = len(arrived())

    # The citizens withdraw while it is down; each withdrawal follows its filing on the same key.
    withdrawals = [
        intake_event(
            "withdrawn", 2, {"by": "citizen", "reason": "Không cần nữa", "withdrawn_at": now}, code=code
        )
        for code in codes
    ]
    write_raw(
        platform.bootstrap, topic, [(event["subject"].encode(), encode(event)) for event in withdrawals]
    )

    worker.start()

    def all_withdrawn() -> bool:
        dossiers = [store.get_dossier(db, code) for code in codes]
        return all(d is not None and d["intake_sequence"] == 2 for d in dossiers)

    assert wait_until(all_withdrawn, timeout=RECOVERY_BOUND, interval=0.5), (
        f"{applied_at_kill} of {DOSSIERS} filings were applied at the kill\n{worker.log_tail()}"
    )
    for code in codes:
        dossier = store.get_dossier(db, code)
        assert dossier["state"] == "withdrawn" and dossier["intake_sequence"] == 2, code
        assert [h["action"] for h in dossier["history"]] == ["submitted", "withdrawn"], "applied once each"
        assert dossier["sequence"] == 1 and len(dossier["control_slip"]) == 1, "accepted once"

    # The one acceptance each arrival published reaches the topic, once per dossier.
    assert_outboxes_drained(db, codes, worker)
    records = read_topic(platform.bootstrap, Topics.PROCESSING_DOSSIERS.name, expect=DOSSIERS)
    accepted = {(event["subject"], event["id"]) for _, event in mine(records, codes)}
    assert sorted(code for code, _ in accepted) == sorted(codes), "one accepted event per dossier"
    assert_published_in_order(db, records, codes, {event_id for _, event_id in accepted})
