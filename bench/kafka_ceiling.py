"""Raw kafka-python rates on the benchmark's broker: a producer with the relay's settings
(`eventkit.kafka.make_producer`: acks=all, idempotence, linger 5 ms) sending copies of one real
event to a topic of 3 partitions, then a consumer group reading them all back and committing, as
the consumer runner does, after each poll. No store, no handler: the ceiling of the event path."""

from __future__ import annotations

import time
import uuid

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from eventkit.kafka import make_producer

PARTITIONS = 3
WINDOW = 1000  # records in flight at most


def sample_event(bootstrap: str, topic: str) -> bytes:
    """The newest record of `topic`'s partitions (an event the platform published)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000)
    try:
        assigned = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(assigned)
        ends = consumer.end_offsets(assigned)
        for tp in assigned:
            if ends[tp]:
                consumer.seek(tp, ends[tp] - 1)
                for record in consumer:
                    return bytes(record.value)
        raise RuntimeError(f"{topic} holds no record")
    finally:
        consumer.close()


def measure(bootstrap: str, event: bytes, count: int) -> dict[str, float]:
    """Records per second produced (until every send is acknowledged) and consumed."""
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        admin.close()
    producer = make_producer(bootstrap, "bench-raw")
    try:
        started = time.perf_counter()
        # In windows, as the relay sends a pass's documents and waits for them: all at once would
        # outlast the producer's delivery timeout in its own queue.
        for first in range(0, count, WINDOW):
            futures = [
                producer.send(topic, key=str(n).encode(), value=event)
                for n in range(first, min(count, first + WINDOW))
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=30)
        produced = time.perf_counter() - started
    finally:
        producer.close()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}.reader",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        read = 0
        started = time.perf_counter()
        deadline = started + 300
        while read < count and time.perf_counter() < deadline:
            batches = consumer.poll(timeout_ms=1000)
            read += sum(len(records) for records in batches.values())
            if batches:
                consumer.commit()
        consumed = time.perf_counter() - started
    finally:
        consumer.close()
    return {
        "event_bytes": len(event),
        "records": count,
        "produced_per_s": round(count / produced, 1),
        "consumed_per_s": round(read / consumed, 1),
        "consumed": read,
    }
