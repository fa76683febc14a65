"""Helpers for integration tests: read a topic whole, write raw bytes, run a consumer runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from eventkit.consumer import ConsumerRunner


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30.0) -> list[ConsumerRecord]:
    """Every record of `topic` from the beginning to its current end, and at least `expect` of them
    (or what arrived by the timeout)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout

        def behind() -> bool:
            return len(records) < expect or any(consumer.position(tp) < ends[tp] for tp in partitions)

        while behind() and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
        # A short extra poll catches records beyond the expected count (duplicates).
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
        return records
    finally:
        consumer.close()


def write_raw(bootstrap: str, topic: str, items: list[tuple[bytes, bytes | None]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    try:
        for key, value in items:
            producer.send(topic, key=key, value=value).get(timeout=15)
    finally:
        producer.close()


def run_until(runner: ConsumerRunner, done: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Run the runner in a thread until `done()` holds; returns whether it did in time."""
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.1)
        return done()
    finally:
        stop.set()
        thread.join(30)
