"""The consumer runner against the real broker: redelivery, dead letters, retries, ordering."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

from eventkit.consumer import ConsumerRunner, Handler, RetryPolicy
from eventkit.envelope import encode
from eventkit.errors import TransientError
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import OutboxRelay
from eventkit.topics import TopicSpec, dead_letter_topic, retry_topic
from tests.integration.counters import (
    INCREMENTED,
    IncrementedSchema,
    counting_handler,
    incremented,
    record_increment,
)
from tests.integration.kafka_tools import read_topic, run_until, write_raw

pytestmark = pytest.mark.integration
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def group_name() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


def with_failure_topics(bootstrap: str, topic: str, group: str) -> None:
    ensure_topics(
        bootstrap, [TopicSpec(retry_topic(topic, group), 3), TopicSpec(dead_letter_topic(topic, group), 3)]
    )


def committed(bootstrap: str, group: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return sum(consumer.committed(TopicPartition(topic, p)) or 0 for p in range(3))
    finally:
        consumer.close()


def test_consumer_killed_before_commit_gets_the_record_again_and_applies_it_once(
    platform, mongo_db, new_topic
):
    topic, group = new_topic("redelivery"), group_name()
    event = incremented("k1", 1)
    write_raw(platform.bootstrap, topic, [(b"k1", encode(event))])

    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.consume_and_die",
            platform.bootstrap,
            platform.mongo_url,
            mongo_db.name,
            group,
            topic,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, f"{ROOT}/libs/eventkit"])},
        timeout=120,
        capture_output=True,
    )
    assert child.returncode == 17, child.stderr.decode()[-2000:]
    assert mongo_db["projection"].find_one({"_id": "k1"})["count"] == 1
    assert committed(platform.bootstrap, group, topic) == 0, "the dead consumer must not have committed"

    seen: list[tuple[str, int, bool]] = []
    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: counting_handler(mongo_db["projection"], seen)},
        producer=make_producer(platform.bootstrap, "test"),
    )
    assert run_until(runner, lambda: len(seen) == 1)
    assert seen == [("k1", 1, False)], "redelivered, recognised as already applied"
    assert mongo_db["projection"].find_one({"_id": "k1"})["count"] == 1
    assert committed(platform.bootstrap, group, topic) == 1


def test_poison_messages_go_to_the_dead_letter_topic_and_the_next_valid_one_is_handled(
    platform, mongo_db, new_topic
):
    topic, group = new_topic("poison", partitions=1), group_name()
    with_failure_topics(platform.bootstrap, topic, group)
    bad_envelope = {**incremented("k1", 1), "specversion": "0.3"}
    bad_payload = incremented("k1", 2)
    bad_payload["data"] = {"seq": "not a number"}
    good = incremented("k1", 3)
    write_raw(
        platform.bootstrap,
        topic,
        [
            (b"k1", b"\xff\xfe not json"),
            (b"k1", encode(bad_envelope)),
            (b"k1", encode(bad_payload)),
            (b"k1", encode(good)),
        ],
    )
    seen: list[tuple[str, int, bool]] = []
    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: counting_handler(mongo_db["projection"], seen)},
        producer=make_producer(platform.bootstrap, "test"),
    )
    assert run_until(runner, lambda: len(seen) == 1)
    assert seen == [("k1", 3, True)]

    dead = read_topic(platform.bootstrap, dead_letter_topic(topic, group), expect=3)
    assert len(dead) == 3
    headers = [{k: v.decode() for k, v in r.headers} for r in dead]
    assert [h["x-original-offset"] for h in headers] == ["0", "1", "2"]
    assert {h["x-original-topic"] for h in headers} == {topic}
    assert {h["x-original-partition"] for h in headers} == {"0"}
    assert [h["x-error-type"] for h in headers] == ["InvalidEvent", "InvalidEvent", "ValidationError"]
    assert "seq" in headers[2]["x-error-message"]
    assert dead[0].value == b"\xff\xfe not json", "the original bytes are kept"
    assert committed(platform.bootstrap, group, topic) == 4


def test_transient_failures_are_retried_then_dead_lettered_when_they_persist(platform, new_topic):
    topic, group = new_topic("retry", partitions=1), group_name()
    with_failure_topics(platform.bootstrap, topic, group)
    flaky, broken = incremented("flaky", 1), incremented("broken", 1)
    write_raw(platform.bootstrap, topic, [(b"flaky", encode(flaky)), (b"broken", encode(broken))])
    calls: dict[str, int] = {"flaky": 0, "broken": 0}
    handled: list[str] = []

    def handle(event: dict[str, Any], _data: dict[str, Any]) -> None:
        key = event["subject"]
        calls[key] += 1
        # "flaky" fails through its in-place attempts and one retry round, then succeeds.
        if key == "broken" or calls[key] <= 2:
            raise TransientError("store briefly unavailable")
        handled.append(key)

    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: Handler(IncrementedSchema(), handle)},
        producer=make_producer(platform.bootstrap, "test"),
        policy=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.05, delays=(0.5, 1.0)),
    )
    dead: list[Any] = []

    def finished() -> bool:
        if not dead:
            dead.extend(
                read_topic(platform.bootstrap, dead_letter_topic(topic, group), expect=1, timeout=0.5)
            )
        return handled == ["flaky"] and bool(dead)

    assert run_until(runner, finished, timeout=60)
    assert calls == {"flaky": 3, "broken": 6}, "2 attempts in place, then 2 rounds of 2 via the retry topic"
    assert len(dead) == 1
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert headers["x-original-topic"] == topic
    assert headers["x-error-type"] == "TransientError"
    assert headers["x-attempts"] == "6"
    retried = read_topic(platform.bootstrap, retry_topic(topic, group), expect=3)
    assert sorted(r.key for r in retried) == [b"broken", b"broken", b"flaky"]


def topic_config(bootstrap: str, topic: str) -> dict[str, str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    return {key: entry["value"] for key, entry in described["topic"][topic].items()}


def test_topics_created_by_ensure_topics_carry_min_insync_replicas_from_config(platform):
    name = f"test.isr.{uuid.uuid4().hex[:10]}"
    specs = [TopicSpec(name, 3, {"retention.ms": "3600000"}), TopicSpec(f"{name}.dlt", 1)]
    assert ensure_topics(platform.bootstrap, specs, replication_factor=1, min_insync_replicas=1) == sorted(
        s.name for s in specs
    )
    for spec in specs:
        configs = topic_config(platform.bootstrap, spec.name)
        assert configs["min.insync.replicas"] == "1", "set on the topic itself, not left to the broker"
    assert topic_config(platform.bootstrap, name)["retention.ms"] == "3600000"


def test_an_event_type_the_group_neither_handles_nor_skips_is_dead_lettered_not_committed_past(
    platform, mongo_db, new_topic
):
    topic, group = new_topic("unhandled", partitions=1), group_name()
    with_failure_topics(platform.bootstrap, topic, group)
    skipped = incremented("k1", 1)
    skipped["type"] = "vn.motcua.test.counter.reset.v1"
    unknown = incremented("k1", 2)
    unknown["type"] = "vn.motcua.test.counter.renamed.v1"
    good = incremented("k1", 3)
    write_raw(platform.bootstrap, topic, [(b"k1", encode(e)) for e in (skipped, unknown, good)])
    seen: list[tuple[str, int, bool]] = []
    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: counting_handler(mongo_db["projection"], seen)},
        producer=make_producer(platform.bootstrap, "test"),
        skipped={"vn.motcua.test.counter.reset.v1"},
    )
    assert run_until(runner, lambda: len(seen) == 1)
    [dead] = read_topic(platform.bootstrap, dead_letter_topic(topic, group), expect=1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["x-error-type"] == "UnhandledEventType" and headers["x-original-offset"] == "1"
    assert dead.value == encode(unknown)
    assert committed(platform.bootstrap, group, topic) == 3


def test_order_per_key_holds_across_partitions_for_1000_events_on_3_keys(platform, mongo_db, new_topic):
    topic = new_topic("ordering", partitions=3)
    keys = ["000.00.06.H06-190102-0001", "000.00.06.H06-190102-0002", "000.00.06.H06-190102-0003"]
    for seq in range(1000):
        record_increment(mongo_db["counters"], topic, keys[seq % 3], seq)
    relay = OutboxRelay(
        [mongo_db["counters"]], make_producer(platform.bootstrap, "relay"), mongo_db["leases"], "relay"
    )
    while relay.relay_once():
        pass

    group = group_name()
    received: dict[str, list[int]] = {k: [] for k in keys}
    lock = threading.Lock()

    def handle(event: dict[str, Any], data: dict[str, Any]) -> None:
        with lock:
            received[event["subject"]].append(data["seq"])

    # Two members of one group share the three partitions.
    runners = [
        ConsumerRunner(
            bootstrap=platform.bootstrap,
            group=group,
            topics=[topic],
            handlers={INCREMENTED: Handler(IncrementedSchema(), handle)},
            producer=make_producer(platform.bootstrap, "test"),
            client_id=f"member-{i}",
        )
        for i in range(2)
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=r.run, args=(stop,), daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 90
    while sum(len(v) for v in received.values()) < 1000 and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(30)

    for index, key in enumerate(keys):
        assert received[key] == list(range(index, 1000, 3)), f"{key} out of order or incomplete"
    partitions = {r.partition for r in read_topic(platform.bootstrap, topic, expect=1000)}
    assert len(partitions) >= 2, "the keys should spread over several partitions"
