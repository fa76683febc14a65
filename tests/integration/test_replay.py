"""`python -m eventkit.replay` against the real broker: a range to one group, dead letters back home."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from eventkit.consumer import ConsumerRunner, Handler
from eventkit.envelope import encode, new_event
from eventkit.kafka import ensure_topics, make_producer
from eventkit.replay import main, replay_dead_letters, replay_to_group
from eventkit.topics import TopicSpec, dead_letter_topic, retry_topic
from tests.integration.counters import INCREMENTED, counting_handler, incremented
from tests.integration.kafka_tools import read_topic, run_until, write_raw

pytestmark = pytest.mark.integration

RENAMED = "vn.motcua.test.counter.renamed.v1"


def group_name() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


def with_failure_topics(bootstrap: str, topic: str, group: str, partitions: int) -> None:
    ensure_topics(
        bootstrap,
        [
            TopicSpec(retry_topic(topic, group), partitions),
            TopicSpec(dead_letter_topic(topic, group), partitions),
        ],
    )


def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def counting_runner(bootstrap: str, topic: str, group: str, handler: Handler) -> ConsumerRunner:
    return ConsumerRunner(
        bootstrap=bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: handler},
        producer=make_producer(bootstrap, "test"),
    )


def test_a_range_replayed_to_one_group_reaches_that_groups_handler_again_and_no_other_group(
    platform, mongo_db, new_topic
):
    topic = new_topic("replay", partitions=1)
    mine, other = group_name(), group_name()
    for group in (mine, other):
        with_failure_topics(platform.bootstrap, topic, group, 1)
    events = [incremented(f"k{i}", i) for i in range(6)]
    write_raw(platform.bootstrap, topic, [(e["subject"].encode(), encode(e)) for e in events])
    seen: dict[str, list[tuple[str, int, bool]]] = {mine: [], other: []}
    for group in (mine, other):
        runner = counting_runner(
            platform.bootstrap, topic, group, counting_handler(mongo_db[group], seen[group])
        )
        assert run_until(runner, lambda g=group: len(seen[g]) == 6)

    result = replay_to_group(platform.bootstrap, topic, mine, from_offset=3)
    assert result.per_partition == {0: 3} and result.per_target == {retry_topic(topic, mine): 3}
    assert end_offsets(platform.bootstrap, topic) == 6, "nothing written to the topic every group reads"
    assert read_topic(platform.bootstrap, retry_topic(topic, other), expect=0, timeout=1) == []
    copies = read_topic(platform.bootstrap, retry_topic(topic, mine), expect=3)
    headers = [{k: v.decode() for k, v in r.headers} for r in copies]
    assert [h["x-original-offset"] for h in headers] == ["3", "4", "5"]
    assert {(h["x-original-topic"], h["x-retry-round"]) for h in headers} == {(topic, "0")}
    assert all(float(h["x-not-before"]) <= time.time() for h in headers), "due at once"

    # Both groups run again; only `mine` gets the three events, and applies none of them twice.
    other_runner = counting_runner(
        platform.bootstrap, topic, other, counting_handler(mongo_db[other], seen[other])
    )
    stop = threading.Event()
    other_thread = threading.Thread(target=other_runner.run, args=(stop,), daemon=True)
    other_thread.start()
    try:
        runner = counting_runner(
            platform.bootstrap, topic, mine, counting_handler(mongo_db[mine], seen[mine])
        )
        assert run_until(runner, lambda: len(seen[mine]) == 9)
    finally:
        stop.set()
        other_thread.join(30)
    assert seen[mine][6:] == [("k3", 3, False), ("k4", 4, False), ("k5", 5, False)]
    assert len(seen[other]) == 6, "the other group saw nothing again"
    assert {d["_id"]: d["count"] for d in mongo_db[mine].find()} == {f"k{i}": 1 for i in range(6)}


def test_a_replay_from_a_time_copies_only_later_records_and_a_dry_run_writes_nothing(
    platform, new_topic, capsys
):
    topic, group = new_topic("replay-time", partitions=3), group_name()
    with_failure_topics(platform.bootstrap, topic, group, 3)
    before = [incremented(f"old{i}", i) for i in range(3)]
    write_raw(platform.bootstrap, topic, [(e["subject"].encode(), encode(e)) for e in before])
    time.sleep(0.05)  # the broker stamps records in milliseconds: keep the batches apart
    since = time.time()
    time.sleep(0.05)
    after = [incremented(f"new{i}", i) for i in range(4)]
    write_raw(platform.bootstrap, topic, [(e["subject"].encode(), encode(e)) for e in after])
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since)) + f".{int(since % 1 * 1000):03d}+00:00"

    code = main(["--bootstrap", platform.bootstrap, "--dry-run", "group", topic, group, "--from-time", iso])
    assert code == 0
    out = capsys.readouterr().out
    assert "would copy 4 records" in out and "dry run: nothing written" in out
    assert read_topic(platform.bootstrap, retry_topic(topic, group), expect=0, timeout=1) == []

    assert main(["--bootstrap", platform.bootstrap, "group", topic, group, "--from-time", iso]) == 0
    out = capsys.readouterr().out
    assert "copied 4 records" in out
    copies = read_topic(platform.bootstrap, retry_topic(topic, group), expect=4)
    assert sorted(r.key for r in copies) == sorted(e["subject"].encode() for e in after)
    assert sum(int(line.split(": ")[1]) for line in out.splitlines() if "partition" in line) == 4


def test_dead_letters_go_back_to_their_original_topic_by_error_type_and_are_handled_once_fixed(
    platform, mongo_db, new_topic, capsys
):
    topic, group = new_topic("replay-dlt", partitions=1), group_name()
    with_failure_topics(platform.bootstrap, topic, group, 1)
    renamed = new_event(type=RENAMED, source="/tests", subject="k1", data={"seq": 1}, sequence=1)
    bad = incremented("k2", 2)
    bad["data"] = {"seq": "not a number"}
    write_raw(platform.bootstrap, topic, [(b"k1", encode(renamed)), (b"k2", encode(bad))])
    seen: list[tuple[str, int, bool]] = []
    runner = counting_runner(platform.bootstrap, topic, group, counting_handler(mongo_db["p"], seen))
    dlt = dead_letter_topic(topic, group)
    assert run_until(runner, lambda: end_offsets(platform.bootstrap, dlt) == 2)

    dry = replay_dead_letters(platform.bootstrap, dlt, error_type="UnhandledEventType", dry_run=True)
    assert (dry.total, dry.left_out, dry.per_target) == (1, 1, {topic: 1})
    assert end_offsets(platform.bootstrap, topic) == 2, "a dry run writes nothing"

    assert (
        main(["--bootstrap", platform.bootstrap, "dead-letters", dlt, "--error-type", "UnhandledEventType"])
        == 0
    )
    assert "copied 1 records" in capsys.readouterr().out
    back = read_topic(platform.bootstrap, topic, expect=3)
    assert len(back) == 3 and back[2].value == encode(renamed) and back[2].key == b"k1"
    headers = {k: v.decode() for k, v in back[2].headers}
    assert headers == {"x-replayed-from": f"{dlt}:0:0"}, "no failure headers on the way back"

    # The handler for the new type has shipped: the replayed record is handled, exactly once.
    handled: list[Any] = []
    fixed = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={
            INCREMENTED: counting_handler(mongo_db["p"], seen),
            RENAMED: Handler(
                counting_handler(mongo_db["p"], seen).schema, lambda e, _d: handled.append(e["id"])
            ),
        },
        producer=make_producer(platform.bootstrap, "test"),
    )
    assert run_until(fixed, lambda: handled == [renamed["id"]])

    to_retry = replay_dead_letters(platform.bootstrap, dlt, error_type="ValidationError", to_retry=True)
    assert to_retry.per_target == {retry_topic(topic, group): 1}
    [copy] = read_topic(platform.bootstrap, retry_topic(topic, group), expect=1)
    retry_headers = {k: v.decode() for k, v in copy.headers}
    assert (retry_headers["x-original-offset"], retry_headers["x-retry-round"]) == ("1", "0")
