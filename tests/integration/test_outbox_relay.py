"""The outbox relay against the real broker and store: nothing lost, nothing applied twice."""

from __future__ import annotations

import collections
import uuid

import pytest

from eventkit.consumer import ConsumerRunner
from eventkit.envelope import decode
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import (
    MARKERS,
    OUTBOX,
    PENDING,
    OutboxRelay,
    OutboxStalled,
    acquire_lease,
    insert_with_outbox,
    outbox_entry,
    with_outbox,
)
from eventkit.topics import TopicSpec, dead_letter_topic, retry_topic
from tests.integration.counters import INCREMENTED, counting_handler, incremented, record_increment
from tests.integration.kafka_tools import read_topic, run_until

pytestmark = pytest.mark.integration


def relay_for(mongo_db, bootstrap, owner="relay-1"):
    return OutboxRelay([mongo_db["counters"]], make_producer(bootstrap, owner), mongo_db["leases"], owner)


def test_events_recorded_while_kafka_is_down_are_published_once_it_is_back(platform, mongo_db, new_topic):
    topic = new_topic("outbox-down")
    relay = relay_for(mongo_db, platform.bootstrap)
    platform.kafka.stop()

    recorded = [record_increment(mongo_db["counters"], topic, f"k{i % 4}", i)["id"] for i in range(20)]
    with pytest.raises(OutboxStalled):
        relay.relay_once()
    assert mongo_db["counters"].count_documents({PENDING: True}) == 4

    platform.kafka.start()
    platform.kafka.wait_ready()
    published = 0
    for _ in range(30):
        try:
            published += relay.relay_once()
        except OutboxStalled:
            continue
        if mongo_db["counters"].count_documents({PENDING: True}) == 0:
            break
    assert published == 20
    assert all(doc[OUTBOX] == [] for doc in mongo_db["counters"].find())

    ids = [decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=20)]
    assert sorted(ids) == sorted(recorded)
    assert len(ids) == len(set(ids)), "an event was published twice"


def test_relay_killed_between_publish_and_clean_up_resends_same_ids_applied_once(
    platform, mongo_db, new_topic
):
    topic = new_topic("outbox-crash")
    events = [record_increment(mongo_db["counters"], topic, f"k{i % 2}", i) for i in range(6)]

    crashed = relay_for(mongo_db, platform.bootstrap, owner="relay-crashed")
    deliveries = crashed.publish_pending(mongo_db["counters"])
    assert sum(len(d.sent_ids) for d in deliveries) == 6
    # The process dies here: the entries are on the broker but still in the outbox.
    assert mongo_db["counters"].count_documents({PENDING: True}) == 2
    mongo_db["leases"].delete_many({})  # its lease would have expired by the time another starts

    restarted = relay_for(mongo_db, platform.bootstrap, owner="relay-restarted")
    assert restarted.relay_once() == 6
    assert mongo_db["counters"].count_documents({PENDING: True}) == 0

    records = read_topic(platform.bootstrap, topic, expect=12)
    ids = collections.Counter(decode(r.value)["id"] for r in records)
    assert set(ids) == {e["id"] for e in events}
    assert set(ids.values()) == {2}, "each event should have been sent exactly twice"

    seen: list[tuple[str, int, bool]] = []
    group = f"test.{uuid.uuid4().hex[:8]}"
    ensure_topics(
        platform.bootstrap,
        [TopicSpec(retry_topic(topic, group), 3), TopicSpec(dead_letter_topic(topic, group), 3)],
    )
    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: counting_handler(mongo_db["projection"], seen)},
        producer=make_producer(platform.bootstrap, "test"),
    )
    assert run_until(runner, lambda: len(seen) == 12)
    assert sum(1 for *_, applied in seen if applied) == 6
    counts = {doc["_id"]: doc["count"] for doc in mongo_db["projection"].find()}
    assert counts == {"k0": 3, "k1": 3}


def test_one_relay_at_a_time_holds_the_lease(mongo_db):
    from datetime import timedelta

    leases = mongo_db["leases"]
    assert acquire_lease(leases, "outbox:x", "a", timedelta(seconds=30))
    assert acquire_lease(leases, "outbox:x", "a", timedelta(seconds=30)), "the holder renews"
    assert not acquire_lease(leases, "outbox:x", "b", timedelta(seconds=30))
    assert acquire_lease(leases, "outbox:x", "a", timedelta(seconds=-1))  # a expires it
    assert acquire_lease(leases, "outbox:x", "b", timedelta(seconds=30)), "an expired lease is taken over"


def test_the_relay_follows_markers_and_its_sweep_finds_a_lost_one(platform, mongo_db, new_topic):
    topic = new_topic("markers")
    counters = mongo_db["counters"]
    relay = OutboxRelay(
        [counters], make_producer(platform.bootstrap, "relay"), mongo_db["leases"], "relay", sweep_every=3600
    )
    assert relay.relay_once() == 0  # the first pass sweeps; nothing is pending yet

    marked = incremented("marked", 1)
    insert_with_outbox(counters, {"_id": "marked"}, [outbox_entry(topic, marked)])
    assert mongo_db[MARKERS].count_documents({}) == 1
    # A crash between the aggregate write and its marker: only the sweep can find it.
    lost = incremented("lost", 1)
    counters.insert_one(with_outbox({"_id": "lost"}, [outbox_entry(topic, lost)]))

    assert relay.relay_once() == 1, "the marked document only; no sweep is due"
    assert counters.find_one({"_id": "lost"})[PENDING] is True
    relay._next_sweep.clear()  # the sweep interval has passed
    assert relay.relay_once() == 1
    assert counters.count_documents({PENDING: True}) == 0
    assert mongo_db[MARKERS].count_documents({}) == 0
    ids = {decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=2)}
    assert ids == {marked["id"], lost["id"]}
