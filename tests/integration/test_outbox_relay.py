"""The outbox relay against the real broker and store: nothing lost, nothing applied twice."""

from __future__ import annotations

import collections
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from devstack.infra import wait_until
from eventkit.consumer import ConsumerRunner
from eventkit.envelope import decode
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import (
    OUTBOX,
    PARKED,
    PENDING,
    Delivery,
    OutboxRelay,
    OutboxStalled,
    acquire_lease,
    add_outbox,
    ensure_outbox_index,
    insert_with_outbox,
    outbox_entry,
    update_with_outbox,
)
from eventkit.topics import TopicSpec, dead_letter_topic, retry_topic
from tests.integration.counters import INCREMENTED, counting_handler, incremented, record_increment
from tests.integration.kafka_tools import read_topic, run_until
from tests.integration.test_store_indexes import seeks_only

pytestmark = pytest.mark.integration


def relay_for(mongo_db, bootstrap, owner="relay-1", **options):
    return OutboxRelay(
        [mongo_db["counters"]], make_producer(bootstrap, owner), mongo_db["leases"], owner, **options
    )


def record_with_store_helpers(aggregates, topic: str, key: str, seq: int) -> dict[str, Any]:
    """As the services write: through eventkit's insert/update helpers."""
    event = incremented(key, seq)
    entries = [outbox_entry(topic, event)]
    if not update_with_outbox(aggregates, {"_id": key}, {"$set": {"seq": seq}}, entries):
        insert_with_outbox(aggregates, {"_id": key, "seq": seq}, entries)
    return event


@pytest.mark.parametrize("path", ["store helpers", "plain writes"])
def test_events_recorded_while_kafka_is_down_are_published_once_it_is_back(
    platform, mongo_db, new_topic, path
):
    topic = new_topic("outbox-down")
    relay = relay_for(mongo_db, platform.bootstrap)
    assert relay.relay_once() == 0
    platform.kafka.stop()

    record = record_with_store_helpers if path == "store helpers" else record_increment
    recorded = [record(mongo_db["counters"], topic, f"k{i % 4}", i)["id"] for i in range(20)]
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


def test_the_relay_finds_pending_documents_through_the_index_among_many_settled_ones(
    platform, mongo_db, new_topic
):
    topic = new_topic("pending-index")
    counters = mongo_db["counters"]
    ensure_outbox_index(counters)
    counters.insert_many([{"_id": f"settled{i:05}", PENDING: False, OUTBOX: []} for i in range(3000)])
    events = [incremented(f"new{i}", 1) for i in range(3)]
    for event in events:
        insert_with_outbox(counters, {"_id": event["subject"]}, [outbox_entry(topic, event)])

    # The relay's query is answered from the `outbox_pending` index, not by reading every document.
    assert seeks_only(mongo_db, "counters", "outbox_pending", {PENDING: True})
    relay = relay_for(mongo_db, platform.bootstrap)
    assert relay.relay_once() == 3
    assert counters.count_documents({PENDING: True}) == 0
    ids = {decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=3)}
    assert ids == {e["id"] for e in events}


def test_an_oversized_entry_is_parked_and_every_other_entry_is_published(platform, mongo_db, new_topic):
    topic = new_topic("oversized")
    # The broker takes records up to its default (about 1 MiB) on this topic and up to 20 kB on
    # the other: both entries are refused by the broker (the producer takes up to 8 MiB, for the
    # topic of signed results).
    small_limit = f"test.small.{uuid.uuid4().hex[:8]}"
    ensure_topics(platform.bootstrap, [TopicSpec(small_limit, 1, {"max.message.bytes": "20000"})])
    counters = mongo_db["counters"]
    good = [incremented(f"good{i}", 1) for i in range(6)]
    for event in good[:4]:
        insert_with_outbox(counters, {"_id": event["subject"]}, [outbox_entry(topic, event)])
    huge = incremented("mixed", 2)
    huge["data"] = {"seq": 2, "padding": "x" * 2_000_000}
    large = incremented("mixed", 3)
    large["data"] = {"seq": 3, "padding": "x" * 50_000}
    mixed = [outbox_entry(topic, good[4]), outbox_entry(topic, huge), outbox_entry(small_limit, large)]
    mixed.append(outbox_entry(topic, good[5]))
    insert_with_outbox(counters, {"_id": "mixed"}, mixed)

    relay = relay_for(mongo_db, platform.bootstrap)
    assert relay.relay_once() == 6, "no stall: the pass goes on past the entries it cannot send"

    ids = [decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=6)]
    assert sorted(ids) == sorted(e["id"] for e in good)
    document = counters.find_one({"_id": "mixed"})
    assert document[OUTBOX] == [] and document[PENDING] is False
    parked = {p["id"]: p["error_type"] for p in document[PARKED]}
    assert parked == {huge["id"]: "MessageSizeTooLargeError", large["id"]: "MessageSizeTooLargeError"}
    assert relay.relay_once() == 0, "a parked entry is not sent again"


def test_an_entry_as_large_as_the_largest_signed_result_is_published_or_parked_whole(platform, mongo_db):
    from eventkit.topics import FILE_MESSAGE_MAX_BYTES
    from processing.config import MAX_ATTACHED_RESULT

    # A topic sized like processing.results.v1 takes it; one of the broker's default refuses it,
    # and parking it (removed and kept aside in one update, twice its size) still fits the store.
    files = f"test.files.{uuid.uuid4().hex[:8]}"
    plain = f"test.plain.{uuid.uuid4().hex[:8]}"
    ensure_topics(
        platform.bootstrap,
        [TopicSpec(files, 1, {"max.message.bytes": str(FILE_MESSAGE_MAX_BYTES)}), TopicSpec(plain, 1)],
    )
    counters = mongo_db["counters"]
    padding = "x" * (MAX_ATTACHED_RESULT * 4 // 3)  # the largest file, as base64
    sent, refused = incremented("file-sent", 1), incremented("file-refused", 1)
    sent["data"] = refused["data"] = {"seq": 1, "padding": padding}
    insert_with_outbox(counters, {"_id": "file-sent"}, [outbox_entry(files, sent)])
    insert_with_outbox(counters, {"_id": "file-refused"}, [outbox_entry(plain, refused)])

    assert relay_for(mongo_db, platform.bootstrap).relay_once() == 1
    [record] = read_topic(platform.bootstrap, files, expect=1)
    assert decode(record.value)["data"]["padding"] == padding
    kept = counters.find_one({"_id": "file-refused"})
    assert kept[OUTBOX] == [] and [p["error_type"] for p in kept[PARKED]] == ["MessageSizeTooLargeError"]
    assert counters.find_one({"_id": "file-sent"})[OUTBOX] == []


def test_flagged_documents_with_nothing_to_send_are_settled_and_the_real_ones_published(
    platform, mongo_db, new_topic
):
    topic = new_topic("flagged-empty")
    counters = mongo_db["counters"]
    # Emptied by a relay that died before clearing the flag: more of them than one pass reads.
    counters.insert_many([{"_id": f"empty{i:03}", PENDING: True, OUTBOX: []} for i in range(200)])
    real = [record_with_store_helpers(counters, topic, f"k{i}", 1) for i in range(10)]
    relay = relay_for(mongo_db, platform.bootstrap)

    published = 0
    for _ in range(10):
        published += relay.relay_once()
        if counters.count_documents({PENDING: True}) == 0:
            break
    assert counters.count_documents({PENDING: True}) == 0, "every flag is cleared"
    assert published == 10
    ids = {decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=10)}
    assert ids == {e["id"] for e in real}


class WriterBetween:
    """The relay's collection, with another writer pushing an event at the moment the relay is about
    to clear `outbox_pending`."""

    def __init__(self, collection, entry) -> None:
        self._collection = collection
        self._entry = entry
        self.pushed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def update_one(self, filter, update, *args, **kwargs):
        if not self.pushed and update.get("$set", {}).get(PENDING) is False:
            self.pushed = True
            self._collection.update_one({"_id": filter["_id"]}, add_outbox({}, [self._entry]))
        return self._collection.update_one(filter, update, *args, **kwargs)


def test_an_entry_pushed_while_the_relay_cleans_up_is_never_stranded(platform, mongo_db, new_topic):
    topic = new_topic("stranded")
    counters = mongo_db["counters"]
    first, late = incremented("k", 1), incremented("k", 2)
    insert_with_outbox(counters, {"_id": "k"}, [outbox_entry(topic, first)])
    racing = WriterBetween(counters, outbox_entry(topic, late))
    relay = OutboxRelay([racing], make_producer(platform.bootstrap, "relay"), mongo_db["leases"], "relay")
    relay.relay_once()
    assert racing.pushed

    document = counters.find_one({"_id": "k"})
    assert [e["id"] for e in document[OUTBOX]] == [late["id"]]
    assert document[PENDING] is True, "the late entry keeps the document pending for the next pass"
    assert relay.relay_once() == 1
    ids = {decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=2)}
    assert ids == {first["id"], late["id"]}


class SlowProducer:
    """Takes a quarter of a second per send, as a broker far away or busy would."""

    def __init__(self, producer) -> None:
        self._producer = producer
        self.sent = 0

    def send(self, topic, value, key, headers=None):
        time.sleep(0.25)
        self.sent += 1
        return self._producer.send(topic, value=value, key=key, headers=headers)


def test_a_pass_that_outlives_the_lease_keeps_it_and_no_second_relay_publishes_meanwhile(
    platform, mongo_db, new_topic
):
    topic = new_topic("lease")
    counters = mongo_db["counters"]
    events = [record_with_store_helpers(counters, topic, f"k{i}", 1) for i in range(24)]
    ttl = timedelta(seconds=3)
    slow = SlowProducer(make_producer(platform.bootstrap, "slow"))
    relay = OutboxRelay([counters], slow, mongo_db["leases"], "slow", lease_ttl=ttl, send_timeout=1.5)
    published: list[int] = []
    passing = threading.Thread(target=lambda: published.append(relay.relay_once()))
    passing.start()
    # The second relay starts trying once the first holds the lease (it sends only then).
    assert wait_until(lambda: slow.sent >= 1, timeout=30), "the first relay never started sending"
    taken_over = False
    while passing.is_alive():
        # A second relay tries for the lease as its loop would.
        taken_over = taken_over or acquire_lease(mongo_db["leases"], "outbox:counters", "second", ttl)
        time.sleep(0.1)
    passing.join()

    assert slow.sent == 24, "one pass sent every document; it lasted longer than the lease"
    assert not taken_over, "the second relay got the lease while the first was still publishing"
    assert published == [24]
    ids = {decode(r.value)["id"] for r in read_topic(platform.bootstrap, topic, expect=24)}
    assert ids == {e["id"] for e in events}


def test_a_fully_sent_outbox_is_emptied_in_one_write_unless_an_entry_came_meanwhile(mongo_db) -> None:
    """The relay's usual clean-up is one conditional write on the outbox as read; an entry pushed
    after the read makes it miss, so the two-write clean-up keeps that entry pending."""
    aggregates = mongo_db["counters"]
    relay = OutboxRelay([aggregates], None, mongo_db["leases"], "relay-one-write")  # type: ignore[arg-type]
    first, second = (outbox_entry("t", incremented("one-write", n)) for n in (1, 2))
    insert_with_outbox(aggregates, {"_id": "one-write", "seq": 1}, [first])
    read = aggregates.find_one({"_id": "one-write"})[OUTBOX]
    assert relay._empty_at_once(aggregates, Delivery("one-write", read, True, [], read))
    stored = aggregates.find_one({"_id": "one-write"})
    assert stored[OUTBOX] == [] and stored[PENDING] is False

    update_with_outbox(aggregates, {"_id": "one-write"}, {"$set": {"seq": 2}}, [second])
    read = aggregates.find_one({"_id": "one-write"})[OUTBOX]
    meanwhile = [outbox_entry("t", incremented("one-write", 3))]
    aggregates.update_one({"_id": "one-write"}, add_outbox({}, meanwhile))
    assert not relay._empty_at_once(aggregates, Delivery("one-write", read, True, [], read))
    stored = aggregates.find_one({"_id": "one-write"})
    assert len(stored[OUTBOX]) == 2 and stored[PENDING] is True
