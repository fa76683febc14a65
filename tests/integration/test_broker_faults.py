"""A real intake worker's relay through a broker that hangs (SIGSTOP) or restarts: every dossier
filed meanwhile reaches the topic once the broker is back, with no hand from outside."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kafka.errors import KafkaError

from devstack.infra import free_ports, wait_until
from eventkit.envelope import decode
from eventkit.kafka import ensure_topics
from eventkit.outbox import PENDING
from eventkit.topics import Topics, topic_specs_for
from eventkit.web import CORRELATION_HEADER
from tests.integration.kafka_tools import read_topic
from tests.integration.test_intake_filing import filing, upload
from tests.integration.workers import stop

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# Once the broker answers again, everything filed meanwhile is on the topic within this long.
RECOVERY_BOUND = 120.0
SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"


class RunningWorker:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readiness(self) -> dict[str, bool]:
        try:
            return dict(requests.get(f"{self.url}/readyz", timeout=2).json()["checks"])
        except (requests.RequestException, ValueError, KeyError):
            return {}

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@pytest.fixture
def intake_worker(service_environ, tmp_path) -> Iterator[RunningWorker]:
    """`python -m intake.worker` as deployed, on the test's database and the session's broker."""
    [port] = free_ports(1)
    paths = [ROOT / "libs" / "eventkit", ROOT / "services" / "intake", ROOT]
    env = {
        **service_environ,
        "HEALTH_PORT": str(port),
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "intake-worker.log"
    with log.open("ab") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake.worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    worker = RunningWorker(proc, port, log)
    try:
        assert wait_until(lambda: worker.readiness().get("running") is True, timeout=90), worker.log_tail()
        yield worker
    finally:
        stop(proc)


def file_dossier(client) -> str:
    """File one online dossier; returns the correlation id its submitted event carries.

    (Other tests' databases give the same dossier codes, so the code does not name the event.)"""
    correlation = f"broker-fault-{uuid.uuid4()}"
    response = client.post(
        "/api/v1/dossiers",
        json=filing(upload(client).json["id"]),
        headers={CORRELATION_HEADER: correlation},
    )
    assert response.status_code == 201, response.json
    return correlation


def published_ids(bootstrap: str) -> set[str]:
    """The correlation ids of the dossier.submitted events on the topic."""
    records = read_topic(bootstrap, Topics.INTAKE_DOSSIERS.name, expect=0, timeout=10)
    events = [decode(record.value) for record in records]
    return {e["correlationid"] for e in events if e["type"] == SUBMITTED}


def assert_all_published(platform, db, worker: RunningWorker, expected: set[str]) -> None:
    missing: set[str] = set(expected)

    def all_there() -> bool:
        try:
            published = published_ids(platform.bootstrap)
        except KafkaError:
            # A broker that was paused is fenced by its controller until its next heartbeat: its
            # metadata names no broker for a moment. The relay waits that out; so does the reader.
            return False
        missing.intersection_update(expected - published)
        return not missing

    assert wait_until(all_there, timeout=RECOVERY_BOUND, interval=2), (
        f"{len(missing)} of {len(expected)} dossiers' events never reached the topic\n{worker.log_tail()}"
    )
    assert wait_until(lambda: db.dossiers.count_documents({PENDING: True}) == 0, timeout=30), (
        "every outbox is emptied"
    )
    assert wait_until(lambda: worker.readiness().get("relay") is True, timeout=30), worker.readiness()
    metrics = requests.get(f"{worker.url}/metrics", timeout=5).text
    assert "outbox_relay_stalled_seconds" in metrics


def warm_up(platform, intake_client, worker: RunningWorker) -> None:
    """One dossier through the worker first, so its producer is connected and has sent."""
    expected = {file_dossier(intake_client)}
    assert wait_until(lambda: expected <= published_ids(platform.bootstrap), timeout=60), worker.log_tail()


def test_the_relay_recovers_by_itself_after_the_broker_hung_for_30_s(
    platform, intake_app, intake_client, intake_catalogue, intake_worker
):
    ensure_topics(platform.bootstrap, topic_specs_for("intake"))
    db = intake_app.extensions["db"]
    warm_up(platform, intake_client, intake_worker)

    platform.kafka.pause()
    try:
        paused_at = time.monotonic()
        expected: set[str] = set()
        # 60 filings spread over the 30 s the broker hangs, as citizens would keep arriving.
        while len(expected) < 60 or time.monotonic() - paused_at < 30:
            if len(expected) < 60:
                expected.add(file_dossier(intake_client))
            time.sleep(0.4)
    finally:
        platform.kafka.resume()

    assert_all_published(platform, db, intake_worker, expected)
    metrics = requests.get(f"{intake_worker.url}/metrics", timeout=5).text
    recreated = re.search(r'^kafka_producer_recreated_total\{client="intake-worker"\} (\S+)$', metrics, re.M)
    assert recreated and float(recreated.group(1)) >= 1, "the wedged producer was replaced"


def test_the_relay_recovers_by_itself_after_the_broker_restarted(
    platform, intake_app, intake_client, intake_catalogue, intake_worker
):
    ensure_topics(platform.bootstrap, topic_specs_for("intake"))
    db = intake_app.extensions["db"]
    warm_up(platform, intake_client, intake_worker)

    expected = {file_dossier(intake_client) for _ in range(10)}  # some in flight when it goes
    platform.kafka.stop()
    try:
        expected |= {file_dossier(intake_client) for _ in range(30)}
        time.sleep(15)  # long enough for the relay's sends to time out
    finally:
        platform.kafka.start()
        platform.kafka.wait_ready()
    expected |= {file_dossier(intake_client) for _ in range(10)}
    assert len(expected) == 50

    assert_all_published(platform, db, intake_worker, expected)
