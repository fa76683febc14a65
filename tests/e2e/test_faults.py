"""Faults the platform survives with nothing lost and nothing duplicated, every service's API and
worker as its own real process (tests/platform_processes.py), on the session's Kafka, FerretDB
and Mailpit.

1. A burst of 200 online filings, as citizens' apps send them (an Idempotency-Key per filing,
   sent again after a 5xx or no answer), while the store restarts, Kafka is stopped for 30 s,
   Mailpit is down for a minute and each worker is killed (SIGKILL) in the middle of its work
   and started again; the town's counter accepts the first 100 meanwhile.
2. Poison events (a type no group handles, and a payload the handler's schema refuses) on every
   partition of every topic a consumer group reads, between good events: each group parks them
   in its dead-letter topic and goes on. (Bytes that are not JSON at all are the runner's
   integration tests' business: here the topics are the session's, which other tests read whole.)
3. Consumer groups' events replayed from offset 0 with the replay tool (`make replay`): every
   event is handled again and changes nothing.

After each: every filing has exactly one dossier at intake and at processing, exactly one
"received" email (and one "accepted" email when accepted), one notification of each in notify
and in the portal's read model, the portal's public status of the dossier, and statistics that
moved by the same amounts at processing and at the portal. Other tests file into the same
databases and units, so the counters are compared as changes from before to after.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import requests
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from devstack.infra import wait_until
from devstack.lag import backlog
from devstack.paths import ROOT, VENV_BIN
from devstack.run import api_url, worker_url
from devstack.tokens import issue_token
from eventkit.consumer import (
    H_ERROR_TYPE,
    H_GROUP,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
)
from eventkit.envelope import encode, new_event
from eventkit.outbox import PENDING
from eventkit.topics import REGISTRY, Topics, dead_letter_topic
from processing.deadlines import TZ
from tests.factories import UNIT, online_filing, pdf_bytes
from tests.integration.kafka_tools import read_topic
from tests.platform_processes import PlatformProcesses, platform_processes

pytestmark = pytest.mark.e2e
log = logging.getLogger(__name__)

FILINGS = 200
ACCEPTED = 100  # the first filings, accepted by the counter so that the statistics move
BURST_SECONDS = 50.0
KAFKA_DOWN = 30.0
MAILPIT_DOWN = 60.0
# How long a citizen's app keeps sending a filing again: a request cut by the store's restart
# may hold its Idempotency-Key for intake's ABANDONED_AFTER (2 minutes) before it is free again.
FILING_PATIENCE = 240.0
RECOVERY = 300.0
WORKERS = ("intake", "processing", "notify", "portal")
# The statistics both services keep: the portal's counter field, processing's report column.
STAT_FIELDS = {
    "received_online": "received_new_online",
    "received_counter": "received_new_counter",
    "received_post": "received_new_post",
    "resolved_early": "resolved_early",
    "resolved_on_time": "resolved_on_time",
    "resolved_late": "resolved_late",
    "withdrawn": "withdrawn",
    "refused": "refused",
}
# The groups that handle dossier events: their replay re-delivers every filing and decision.
DOSSIER_TOPICS = (Topics.INTAKE_DOSSIERS, Topics.PROCESSING_DOSSIERS)
# A 409 that a citizen's retry outlives: the first request with the key is still in the store's
# hands, or has just failed.
RETRY_LATER = ("vui lòng thử lại sau", "vui lòng gửi lại")


@dataclass
class Filing:
    key: str
    email: str
    code: str | None = None
    secret: str | None = None
    accepted: bool = False
    tries: int = 0


@dataclass
class Ledger:
    """The filings of this module's tests, in the order filed; `tag` is in every address."""

    tag: str = field(default_factory=lambda: f"faults{uuid.uuid4().hex[:8]}")
    filings: list[Filing] = field(default_factory=list)

    def new(self, count: int) -> list[Filing]:
        start = len(self.filings)
        made = [
            Filing(key=f"{self.tag}-{n}", email=f"c{n:04d}.{self.tag}@example.vn")
            for n in range(start, start + count)
        ]
        self.filings.extend(made)
        return made


@dataclass
class Platform:
    processes: PlatformProcesses
    infra: Any
    mongo: MongoClient[dict[str, Any]]
    officer: dict[str, str]

    def url(self, service: str) -> str:
        return api_url(service, self.processes.ports)

    def db(self, service: str) -> Any:
        return self.mongo[f"motcua_{service}"]


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture(scope="module")
def running(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[Platform]:
    infra.ensure_running()
    # Hundreds of uploads and lookups come from this one address; the limits are tested elsewhere.
    with platform_processes(
        infra,
        jwt_keys[1],
        signing_certs,
        tmp_path_factory,
        UPLOAD_RATE_LIMIT="100000/minute",
        LOOKUP_RATE_LIMIT="100000/minute",
    ) as processes:
        mongo: MongoClient[dict[str, Any]] = MongoClient(
            infra.mongo_url, retryWrites=False, serverSelectionTimeoutMS=3000, tz_aware=True
        )
        token = issue_token(["receptionist"], [UNIT], user_id=f"tn.{UNIT}", private_key=jwt_keys[0])
        platform = Platform(processes, infra, mongo, {"Authorization": f"Bearer {token}"})
        try:
            intake = platform.db("intake")
            assert wait_until(
                lambda: intake.procedures.count_documents({"_id": online_filing("x")["procedure_code"]}) == 1,
                timeout=90,
            ), "intake's worker has the catalogue"
            yield platform
        finally:
            mongo.close()
            infra.ensure_running()


# -- citizens and the counter --------------------------------------------------------------------


def message_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return response.text[:200]


def retryable(response: requests.Response) -> bool:
    if response.status_code >= 500 or response.status_code == 429:
        return True
    return response.status_code == 409 and any(s in message_of(response) for s in RETRY_LATER)


def file_online(session: requests.Session, intake: str, filing: Filing, pdf: bytes) -> None:
    """Upload the document, then file with the filing's Idempotency-Key, each sent again (the same
    key and body) after a 5xx, a "try again" 409 or no answer at all, as a citizen's app does."""
    deadline = time.monotonic() + FILING_PATIENCE
    body: dict[str, Any] | None = None
    last = ""
    while time.monotonic() < deadline:
        filing.tries += 1
        try:
            if body is None:
                answer = session.post(
                    f"{intake}/api/v1/uploads", files={"file": ("to-khai.pdf", pdf)}, timeout=20
                )
                if answer.status_code == 201:
                    body = online_filing(answer.json()["id"])
                    body["applicant"] = {**body["applicant"], "email": filing.email}
                    continue
            else:
                answer = session.post(
                    f"{intake}/api/v1/dossiers",
                    json=body,
                    headers={"Idempotency-Key": filing.key},
                    timeout=30,
                )
                if answer.status_code == 201:
                    filing.code = answer.json()["code"]
                    filing.secret = answer.json()["lookup_secret"]
                    return
            if not retryable(answer):
                raise AssertionError(f"{filing.key}: {answer.status_code} {answer.text[:300]}")
            last = f"{answer.status_code} {message_of(answer)}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(1.0)
    raise AssertionError(f"{filing.key}: not filed in {FILING_PATIENCE:.0f} s; last answer {last}")


def accept(session: requests.Session, platform: Platform, filing: Filing) -> None:
    """The counter accepts the dossier once processing has it; an accept sent again after a lost
    answer finds it accepted (409)."""
    deadline = time.monotonic() + RECOVERY
    while filing.code is None:
        assert time.monotonic() < deadline, f"{filing.key} was never filed"
        time.sleep(0.5)
    detail = f"{platform.url('processing')}/api/v1/dossiers/{filing.code}"
    last = ""
    while time.monotonic() < deadline:
        try:
            answer = session.post(f"{detail}/actions/accept", json={}, headers=platform.officer, timeout=20)
            if answer.status_code == 200:
                filing.accepted = True
                return
            if answer.status_code == 409:
                now = session.get(detail, headers=platform.officer, timeout=10)
                if now.status_code == 200 and now.json()["state"] == "accepted":
                    filing.accepted = True
                    return
            elif answer.status_code not in (404, 429) and answer.status_code < 500:
                raise AssertionError(f"accept {filing.code}: {answer.status_code} {answer.text[:300]}")
            last = f"{answer.status_code} {message_of(answer)}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise AssertionError(f"accept {filing.code}: not accepted; last answer {last}")


class Crew:
    """Threads that must all finish without an error."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def run(self, target: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                target()
            except BaseException as exc:  # reported by join
                self.errors.append(f"{type(exc).__name__}: {exc}")

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), "a client is still at work"
        assert not self.errors, self.errors[:5]


def file_all(platform: Platform, filings: list[Filing], clients: int = 4, over: float = 0.0) -> Crew:
    """`clients` citizens' apps filing `filings` between them, spread evenly over `over` seconds."""
    crew = Crew()
    intake, pdf, start = platform.url("intake"), pdf_bytes(2048), time.monotonic()
    step = over / max(1, len(filings))

    def client(mine: list[tuple[int, Filing]]) -> None:
        with requests.Session() as session:
            for n, filing in mine:
                time.sleep(max(0.0, start + n * step - time.monotonic()))
                file_online(session, intake, filing, pdf)

    numbered = list(enumerate(filings))
    for c in range(clients):
        crew.run(lambda mine=numbered[c::clients]: client(mine))
    return crew


def accept_all(platform: Platform, filings: list[Filing]) -> Crew:
    crew = Crew()

    def officer() -> None:
        with requests.Session() as session:
            for filing in filings:
                accept(session, platform, filing)

    crew.run(officer)
    return crew


# -- what the platform holds ---------------------------------------------------------------------


def received_subject(code: str) -> str:
    return f"Đã nhận hồ sơ {code}"


def accepted_subject(code: str) -> str:
    return f"Hồ sơ {code} đã được tiếp nhận"


def mails_by_address(platform: Platform, tag: str) -> dict[str, list[str]]:
    """The subjects of the messages that reached Mailpit for each address with `tag`."""
    api = platform.infra.mailpit.api_url
    found: dict[str, list[str]] = defaultdict(list)
    start = 0
    while True:
        answer = requests.get(
            f"{api}/api/v1/search",
            params={"query": f"to:{tag}", "start": start, "limit": 500},
            timeout=20,
        )
        answer.raise_for_status()
        messages = answer.json().get("messages") or []
        for message in messages:
            for to in message.get("To") or []:
                if tag in to["Address"]:
                    found[to["Address"]].append(message["Subject"])
        if len(messages) < 500:
            return found
        start += len(messages)


def mail_kind(code: str, subject: str) -> str:
    if subject == received_subject(code):
        return "received"
    if subject.startswith(accepted_subject(code)):
        return "accepted"
    return f"other: {subject}"


def problems(platform: Platform, filings: list[Filing], tag: str) -> list[str]:
    """What differs from one dossier per filing, in every service, and one email and one
    notification per template: empty once the platform has caught up."""
    out: list[str] = []
    emails = [f.email for f in filings]
    codes = [f.code for f in filings]
    if None in codes:
        return ["a filing has no code"]
    for service in ("intake", "processing"):
        held: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for doc in platform.db(service).dossiers.find(
            {"applicant.email": {"$in": emails}}, {"applicant.email": 1, "state": 1, "status": 1}
        ):
            held[doc["applicant"]["email"]].append((doc["_id"], doc.get("state") or doc.get("status")))
        for f in filings:
            want = "accepted" if f.accepted else "submitted"
            if held[f.email] != [(f.code, want)]:
                out.append(f"{service}: {f.email} has {held[f.email]}, expected [({f.code}, {want})]")

    expected: dict[str, Counter[str]] = {
        f.code: Counter(["received", "accepted"] if f.accepted else ["received"]) for f in filings if f.code
    }
    notify: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in platform.db("notify").notifications.find(
        {"dossier": {"$in": codes}, "recipient.kind": "citizen"}, {"dossier": 1, "template": 1}
    ):
        notify[doc["dossier"]][doc["template"]] += 1
    portal: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in platform.db("portal").notification_statuses.find({"dossier": {"$in": codes}}):
        if doc.get("status") == "delivered":
            portal[doc["dossier"]][doc["template"]] += 1
    portal_states = {
        doc["_id"]: doc.get("processing_state")
        for doc in platform.db("portal").dossiers.find({"_id": {"$in": codes}}, {"processing_state": 1})
    }
    mails = mails_by_address(platform, tag)
    for f in filings:
        assert f.code is not None
        if notify[f.code] != expected[f.code]:
            out.append(f"notify: {f.code} has notifications {dict(notify[f.code])}")
        if portal[f.code] != expected[f.code]:
            out.append(f"portal: {f.code} shows delivered {dict(portal[f.code])}")
        if f.code not in portal_states:
            out.append(f"portal: no public status of {f.code}")
        elif portal_states[f.code] != ("accepted" if f.accepted else None):
            out.append(f"portal: {f.code} is {portal_states[f.code]}")
        kinds = Counter(mail_kind(f.code, subject) for subject in mails.get(f.email, []))
        if kinds != expected[f.code]:
            out.append(f"mail: {f.email} got {dict(kinds)}")
    return out


def assert_caught_up(platform: Platform, filings: list[Filing], tag: str, timeout: float = RECOVERY) -> None:
    found: list[str] = ["not checked yet"]

    def check() -> bool:
        try:
            found[:] = problems(platform, filings, tag)
        except (PyMongoError, requests.RequestException) as exc:
            found[:] = [f"{type(exc).__name__}: {exc}"]
        return not found

    assert wait_until(check, timeout=timeout, interval=3), (
        f"{len(found)} problems, e.g. {found[:8]}\n"
        + "\n".join(platform.processes.log_tail(f"{s}-worker", 1500) for s in WORKERS)
    )


def assert_public_status(platform: Platform, filings: list[Filing]) -> None:
    """What the citizen's lookup shows: the state, each step once, each email delivered once."""
    with requests.Session() as session:
        for f in filings:
            answer = session.post(
                f"{platform.url('portal')}/api/v1/lookup",
                json={"code": f.code, "secret": f.secret},
                timeout=10,
            )
            assert answer.status_code == 200, (f.code, answer.text[:300])
            view = answer.json()
            steps = Counter(step["step"] for step in view["steps"])
            if f.accepted:
                assert view["state"] == "accepted" and steps == {"submitted": 1, "accepted": 1}, view
            else:
                assert view["state"] == "submitted" and steps == {"submitted": 1}, view
            sent = Counter(n["template"] for n in view["notifications"] if n["status"] == "delivered")
            assert sent == Counter(["received", "accepted"] if f.accepted else ["received"]), view


def outboxes_pending(platform: Platform) -> int:
    return sum(
        platform.db(service)[collection].count_documents({PENDING: True})
        for service, collection in (
            ("intake", "dossiers"),
            ("processing", "dossiers"),
            ("notify", "notifications"),
        )
    )


def settle(platform: Platform, timeout: float = RECOVERY) -> None:
    """Until every outbox is published and every group has committed past every record."""
    left: list[Any] = []

    def settled() -> bool:
        try:
            left[:] = [outboxes_pending(platform), backlog(platform.infra.bootstrap)]
        except (PyMongoError, KafkaError) as exc:
            left[:] = [repr(exc)]
            return False
        return left == [0, {}]

    assert wait_until(settled, timeout=timeout, interval=2), f"not settled: {left}"


def months_now() -> list[str]:
    """This month and the next (local time): a run that crosses midnight at a month's end still
    reads every counter it moved."""
    now = datetime.now(TZ)
    following = f"{now.year + now.month // 12}-{now.month % 12 + 1:02d}"
    return [now.strftime("%Y-%m"), following]


def statistics(platform: Platform, months: list[str]) -> dict[str, dict[str, int]]:
    """The unit's counters over `months` as processing reports them and as the portal keeps them."""
    answer = requests.get(
        f"{platform.url('processing')}/api/v1/stats",
        params={"unit": UNIT, "from": months[0], "to": months[-1], "group_by": "unit"},
        headers=platform.officer,
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    rows = [row for row in answer.json()["rows"] if row.get("unit") == UNIT]
    processing = {name: sum(int(row[column]) for row in rows) for name, column in STAT_FIELDS.items()}
    processing["in_progress"] = sum(int(row["in_progress"]) for row in rows)
    counters = list(
        platform.db("portal").stats_counters.find({"_id": {"$in": [f"{UNIT}|{m}" for m in months]}})
    )
    portal = {name: sum(int(doc.get(name, 0)) for doc in counters) for name in STAT_FIELDS}
    return {"processing": processing, "portal": portal}


def changes(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {side: {k: after[side][k] - before[side][k] for k in after[side]} for side in after}


def assert_statistics_moved(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], received: int
) -> None:
    moved = changes(before, after)
    expected = dict.fromkeys(STAT_FIELDS, 0) | {"received_online": received}
    assert moved["portal"] == expected, moved
    assert moved["processing"] == expected | {"in_progress": received}, moved


# -- 1. the burst ------------------------------------------------------------------------------


def kill_mid_run(platform: Platform, service: str, busy: Callable[[], bool], log: list[str]) -> None:
    """SIGKILL the worker once `busy()` says it is in the middle of its work (or after 30 s), then
    start it again."""

    def safe() -> bool:
        try:
            return busy()
        except PyMongoError:
            return False

    was_busy = wait_until(safe, timeout=30, interval=0.2)
    platform.processes.kill(f"{service}-worker")
    platform.processes.start(f"{service}-worker")
    log.append(f"{service}-worker killed {'mid-run' if was_busy else 'after waiting 30 s'}")
    platform.processes.wait_worker_running(service)


def test_a_burst_of_filings_outlives_the_store_kafka_mailpit_and_every_worker_failing(
    running: Platform, platform, ledger: Ledger
):
    settle(running)
    months = months_now()
    before = statistics(running, months)
    filings = ledger.new(FILINGS)
    codes = lambda: [f.code for f in filings if f.code]  # noqa: E731
    intake_db, processing_db = running.db("intake"), running.db("processing")
    notify_db, portal_db = running.db("notify"), running.db("portal")
    kills: list[str] = []

    started = time.monotonic()
    citizens = file_all(running, filings, over=BURST_SECONDS)

    # The store restarts under the first filings and the workers' first events.
    time.sleep(4)
    platform.ferretdb.stop()
    time.sleep(3)
    platform.ferretdb.start()
    platform.ferretdb.wait_ready()

    # Kafka is away for 30 s in the middle of the burst: intake keeps filing into its outboxes.
    time.sleep(max(0.0, started + 12 - time.monotonic()))
    platform.kafka.stop()
    time.sleep(KAFKA_DOWN)
    platform.kafka.start()
    platform.kafka.wait_ready()

    # The mail relay is down for a minute while notify has the backlog to send; the counter
    # accepts meanwhile, and each worker is killed while it works through the backlog.
    platform.mailpit.stop()
    mailpit_down = time.monotonic()
    officer = accept_all(running, filings[:ACCEPTED])
    kill_mid_run(
        running,
        "intake",
        lambda: intake_db.dossiers.count_documents({"_id": {"$in": codes()}, PENDING: True}) > 0,
        kills,
    )
    kill_mid_run(
        running,
        "processing",
        lambda: 0 < processing_db.dossiers.count_documents({"_id": {"$in": codes()}}) < FILINGS,
        kills,
    )
    kill_mid_run(
        running,
        "notify",
        lambda: 0 < notify_db.notifications.count_documents({"dossier": {"$in": codes()}}) < FILINGS,
        kills,
    )
    kill_mid_run(
        running,
        "portal",
        lambda: 0 < portal_db.dossiers.count_documents({"_id": {"$in": codes()}}) < FILINGS,
        kills,
    )
    citizens.join(FILING_PATIENCE + 60)
    time.sleep(max(0.0, mailpit_down + MAILPIT_DOWN - time.monotonic()))
    platform.mailpit.start()
    platform.mailpit.wait_ready()
    officer.join(RECOVERY)

    assert len({f.code for f in filings}) == FILINGS, "every filing answered with its own code"
    assert sum(f.accepted for f in filings) == ACCEPTED
    assert_caught_up(running, filings, ledger.tag)
    settle(running)
    # Nothing arrives late: still one of everything once every record and outbox is through.
    assert problems(running, filings, ledger.tag) == []
    assert_public_status(running, filings)
    assert_statistics_moved(before, statistics(running, months), ACCEPTED)
    log.info(
        "burst: %.0f s; %s; %d filings sent more than once",
        time.monotonic() - started,
        "; ".join(kills),
        sum(f.tries > 2 for f in filings),
    )


# -- 2. poison -----------------------------------------------------------------------------------


# Two poisons, both well-formed envelopes (the session's other tests read these topics whole and
# decode every record): a type no group handles or skips (an event of a newer producer), and a
# type of the topic whose payload fails the handler's schema.
UNKNOWN_TYPE = "unknown-type"
BAD_PAYLOAD = "bad-payload"
BAD_PAYLOADS: dict[str, tuple[str, dict[str, Any]]] = {
    Topics.INTAKE_DOSSIERS.name: ("vn.motcua.intake.dossier.submitted.v1", {"code": 12345}),
    Topics.PROCESSING_DOSSIERS.name: ("vn.motcua.processing.dossier.accepted.v1", {"code": 12345}),
    Topics.PROCESSING_RESULTS.name: ("vn.motcua.processing.result.issued.v1", {"code": 12345}),
    Topics.PROCESSING_PROCEDURES.name: ("vn.motcua.processing.procedure.published.v1", {"code": 12345}),
    Topics.PROCESSING_UNITS.name: ("vn.motcua.processing.unit.published.v1", {"code": 12345}),
    Topics.NOTIFY_NOTIFICATIONS.name: ("vn.motcua.notify.notification.delivered.v1", {"id": 12345}),
    Topics.NOTIFY_LETTERS.name: ("vn.motcua.notify.letter.returned.v1", {"letter_id": 12345}),
}
# Intake reads only the type and the subject of processing's events (its schema takes any payload):
# the bad payload is an event about a dossier it does not hold, which changes nothing there.
PAYLOAD_UNREAD = {(Topics.PROCESSING_DOSSIERS.name, "intake.processing-dossiers")}
ERROR_OF = {UNKNOWN_TYPE: "UnhandledEventType", BAD_PAYLOAD: "ValidationError"}


def consumed_topics() -> list[Any]:
    return [topic for topic in REGISTRY if topic.consumers]


def poison_events(topic: Any, tag: str) -> dict[str, bytes]:
    event_type, data = BAD_PAYLOADS[topic.name]
    kinds = {
        UNKNOWN_TYPE: (f"vn.motcua.{topic.owner}.poison.injected.v1", {"code": f"poison-{tag}"}),
        BAD_PAYLOAD: (event_type, data),
    }
    return {
        kind: encode(
            new_event(
                type=kind_type,
                source=f"/services/{topic.owner}",
                subject=f"poison-{tag}-{kind}",
                data=kind_data,
                sequence=1,
            )
        )
        for kind, (kind_type, kind_data) in kinds.items()
    }


def expected_dead_letters(topic: str, group: str) -> set[str]:
    return {UNKNOWN_TYPE} if (topic, group) in PAYLOAD_UNREAD else {UNKNOWN_TYPE, BAD_PAYLOAD}


def inject_poison(bootstrap: str, tag: str) -> dict[tuple[str, int], dict[str, int]]:
    """Each poison on every partition of every consumed topic: their offsets by (topic, partition)
    and kind."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        futures = []
        for topic in consumed_topics():
            for partition in sorted(consumer.partitions_for_topic(topic.name) or ()):
                for kind, value in poison_events(topic, tag).items():
                    key = f"poison-{tag}-{kind}".encode()
                    sent = producer.send(topic.name, key=key, value=value, partition=partition)
                    futures.append((kind, sent))
        producer.flush()
        offsets: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
        for kind, future in futures:
            sent = future.get(timeout=30)
            offsets[(sent.topic, sent.partition)][kind] = sent.offset
        return dict(offsets)
    finally:
        producer.close()
        consumer.close()


def resend_newest_good_records(bootstrap: str) -> dict[tuple[str, int], int]:
    """A copy of each catalogue topic's newest event, per partition, sent after the poison: a good
    record every catalogue group must handle (the same version again changes nothing)."""
    copies: dict[tuple[str, int], int] = {}
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    try:
        for topic in (Topics.PROCESSING_PROCEDURES, Topics.PROCESSING_UNITS):
            newest: dict[int, Any] = {}
            for record in read_topic(bootstrap, topic.name, expect=0, timeout=20):
                if record.key and record.key.startswith(b"poison-"):
                    continue
                newest[record.partition] = record
            for partition, record in newest.items():
                sent = producer.send(topic.name, key=record.key, value=record.value, partition=partition)
                copies[(topic.name, partition)] = sent.get(timeout=30).offset
    finally:
        producer.close()
    return copies


def committed(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {
            (tp.topic, tp.partition): offset.offset
            for tp, offset in admin.list_group_offsets({group: None})[group].items()
        }
    finally:
        admin.close()


def test_poison_on_every_consumed_topic_is_parked_in_each_groups_dead_letter_topic(
    running: Platform, platform, ledger: Ledger
):
    settle(running)
    months = months_now()
    before = statistics(running, months)
    tag = uuid.uuid4().hex[:10]
    earlier, later = ledger.new(5), ledger.new(5)
    file_all(running, earlier).join(FILING_PATIENCE)
    poisoned = inject_poison(platform.bootstrap, tag)
    copies = resend_newest_good_records(platform.bootstrap)
    assert copies, "the catalogue topics hold the seed's events"
    # Good events after the poison on the dossier topics and notify's status topics: new filings,
    # their acceptance, their emails' statuses.
    file_all(running, later).join(FILING_PATIENCE)
    accept_all(running, earlier + later).join(RECOVERY)
    assert_caught_up(running, earlier + later, ledger.tag)

    expected = {
        (topic.name, group, partition, kind, offset)
        for topic in consumed_topics()
        for group in topic.consumers
        for (name, partition), offsets in poisoned.items()
        if name == topic.name
        for kind, offset in offsets.items()
        if kind in expected_dead_letters(topic.name, group)
    }
    parked: set[tuple[str, str, int, str, int]] = set()
    unexpected: list[dict[str, str]] = []

    def all_parked() -> bool:
        parked.clear()
        unexpected.clear()
        for topic in consumed_topics():
            for group in topic.consumers:
                dlt = dead_letter_topic(topic.name, group)
                for record in read_topic(platform.bootstrap, dlt, expect=0, timeout=5):
                    headers = {k: v.decode() for k, v in record.headers or []}
                    origin = (topic.name, int(headers[H_ORIGINAL_PARTITION]))
                    offset = int(headers[H_ORIGINAL_OFFSET])
                    kinds = {o: k for k, o in poisoned.get(origin, {}).items()}
                    if offset in kinds:
                        assert headers[H_ORIGINAL_TOPIC] == topic.name and headers[H_GROUP] == group, headers
                        assert headers[H_ERROR_TYPE] == ERROR_OF[kinds[offset]], headers
                        parked.add((topic.name, group, origin[1], kinds[offset], offset))
                    elif copies.get(origin) == offset:
                        unexpected.append(headers)  # a good record dead-lettered
        return parked == expected

    assert wait_until(all_parked, timeout=120, interval=2), (len(parked), len(expected), expected - parked)
    assert unexpected == [], unexpected
    log.info(
        "poison: %d records on %d partitions, %d dead letters; %d good copies after them",
        sum(len(v) for v in poisoned.values()),
        len(poisoned),
        len(parked),
        len(copies),
    )

    # Every group went on past the poison: its commits are beyond the poison and the copies.
    marks = {**{k: max(v.values()) for k, v in poisoned.items()}, **copies}
    for topic in consumed_topics():
        for group in topic.consumers:
            done = committed(platform.bootstrap, group)
            for (name, partition), offset in marks.items():
                if name == topic.name:
                    assert done.get((name, partition), -1) > offset, (group, name, partition, done)

    settle(running)
    assert problems(running, earlier + later, ledger.tag) == []
    assert_public_status(running, earlier + later)
    assert_statistics_moved(before, statistics(running, months), len(earlier + later))


# -- 3. replay -----------------------------------------------------------------------------------


def handled_total(platform: Platform, service: str, group: str) -> float:
    metrics = requests.get(f"{worker_url(service, platform.processes.ports)}/metrics", timeout=10).text
    pattern = rf'^events_consumed_total\{{group="{re.escape(group)}",outcome="handled"\}} (\S+)$'
    found = re.search(pattern, metrics, re.M)
    return float(found.group(1)) if found else 0.0


def replay(platform: Platform, topic: str, group: str) -> int:
    """`make replay ARGS="group TOPIC GROUP --from-offset 0"`; the number of records copied."""
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "eventkit.replay", "group", topic, group, "--from-offset", "0"],
        env={**platform.processes.env, "KAFKA_BOOTSTRAP_SERVERS": platform.infra.bootstrap},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    copied = re.search(r"copied (\d+) records", done.stdout)
    assert copied, done.stdout
    return int(copied.group(1))


def snapshot(platform: Platform, filings: list[Filing], tag: str, months: list[str]) -> dict[str, Any]:
    codes = [f.code for f in filings]
    return {
        "mail": {k: sorted(v) for k, v in mails_by_address(platform, tag).items()},
        "notifications": sorted(
            (d["_id"], d["status"])
            for d in platform.db("notify").notifications.find({"dossier": {"$in": codes}})
        ),
        "processing": sorted(
            (d["_id"], d["state"], d["sequence"])
            for d in platform.db("processing").dossiers.find({"_id": {"$in": codes}})
        ),
        "portal": sorted(
            (d["_id"], d.get("processing_state"), sorted(d.get("steps", {})))
            for d in platform.db("portal").dossiers.find({"_id": {"$in": codes}})
        ),
        "statistics": statistics(platform, months),
    }


def test_groups_replayed_from_the_start_change_nothing(running: Platform, platform, ledger: Ledger):
    if not ledger.filings:  # run alone: a few filings, half of them accepted
        filings = ledger.new(10)
        file_all(running, filings).join(FILING_PATIENCE)
        accept_all(running, filings[:5]).join(RECOVERY)
    filings = [f for f in ledger.filings if f.code]
    assert_caught_up(running, filings, ledger.tag)
    settle(running)
    months = months_now()
    before = snapshot(running, filings, ledger.tag, months)

    groups = [(topic.name, group) for topic in DOSSIER_TOPICS for group in topic.consumers]
    handled_before = {
        (topic, group): handled_total(running, group.split(".", 1)[0], group) for topic, group in groups
    }
    copied = {(topic, group): replay(running, topic, group) for topic, group in groups}
    mine = {
        Topics.INTAKE_DOSSIERS.name: len(filings),  # one submitted event each
        Topics.PROCESSING_DOSSIERS.name: sum(f.accepted for f in filings),
    }
    for (topic, group), count in copied.items():
        assert count >= mine[topic], (topic, group, count)

    # Each group has been through its retry topic, where the replay put the copies...
    settle(running)
    # ...and handled them again, not skipped or parked them.
    for (topic, group), count in copied.items():
        handled = handled_total(running, group.split(".", 1)[0], group) - handled_before[(topic, group)]
        assert handled >= mine[topic], (topic, group, handled, count)
        log.info("replayed %s to %s: %d copied, %d handled again", topic, group, count, handled)

    assert snapshot(running, filings, ledger.tag, months) == before
    assert problems(running, filings, ledger.tag) == []
