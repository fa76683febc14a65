"""Kafka clients with the platform's durable settings, and explicit topic creation."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import errors as Errors
from kafka.errors import KafkaError, TopicAlreadyExistsError
from prometheus_client import Counter

from eventkit.topics import FILE_MESSAGE_MAX_BYTES, TopicSpec

log = logging.getLogger(__name__)

# A send fails after this long, so the outbox keeps the entry and retries it later instead of the
# producer holding it in memory for minutes. Callers wait a little longer than this for an
# acknowledgement: a future still open after that means the producer itself is stuck.
SEND_TIMEOUT_MS = 10_000
REQUEST_TIMEOUT_MS = 5_000
MAX_BLOCK_MS = 5_000
# The largest record the producer sends: the largest any topic takes (a file on
# processing.results.v1) with room for the request's own framing. Each topic's
# `max.message.bytes` still bounds what it accepts, so the others keep the broker's default.
MAX_REQUEST_BYTES = FILE_MESSAGE_MAX_BYTES + 64 * 1024

RECREATED = Counter(
    "kafka_producer_recreated_total", "Producers closed and built again after repeated failures", ["client"]
)

# Errors that sending the same record again can never cure: the record itself is at fault.
_UNSENDABLE: tuple[type[BaseException], ...] = (
    Errors.MessageSizeTooLargeError,
    Errors.RecordListTooLargeError,
    Errors.InvalidTopicError,
    Errors.InvalidRecordError,
)


def is_unsendable(exc: BaseException) -> bool:
    """Whether `exc`, raised by sending a record, is a fault of the record rather than of the broker."""
    return isinstance(exc, _UNSENDABLE)


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    # acks=all and idempotence are set explicitly so a conflicting option fails at start.
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_block_ms=MAX_BLOCK_MS,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        delivery_timeout_ms=SEND_TIMEOUT_MS,
        bootstrap_timeout_ms=MAX_BLOCK_MS,
        allow_auto_create_topics=False,
        max_request_size=MAX_REQUEST_BYTES,
    )


class _TrackedFuture:
    """A send's future that tells its producer how the send ended."""

    def __init__(self, owner: ResilientProducer, generation: int, future: Any) -> None:
        self._owner = owner
        self._generation = generation
        self._future = future

    def get(self, timeout: float | None = None) -> Any:
        try:
            result = self._future.get(timeout=timeout)
        except Exception as exc:
            self._owner._failed(self._generation, exc)
            raise
        self._owner._succeeded(self._generation)
        return result


class ResilientProducer:
    """A Kafka producer that replaces itself after repeated delivery failures.

    kafka-python 3.0.12's idempotent producer can wedge for good after a broker hang: once a batch
    that was already sent expires, the sender drops its producer id without going back to the
    state that asks for a new one, and from then on it neither sends nor expires anything, so
    every future stays open. A broker restart or a leader change can leave it in the same place.
    Nothing but a new producer recovers, so after `failures_to_recreate` consecutive timeouts or
    retriable errors the producer is closed (briefly; its open futures fail) and the next send
    builds a fresh one. Errors caused by the record itself (`is_unsendable`) do not count.
    Thread-safe: the relay and the consumer runners share one.
    """

    def __init__(
        self,
        factory: Callable[[], Any],
        *,
        client: str = "producer",
        failures_to_recreate: int = 2,
        close_timeout: float = 1.0,
    ) -> None:
        self._factory = factory
        self._client = client
        self._failures_to_recreate = failures_to_recreate
        self._close_timeout = close_timeout
        self._lock = threading.Lock()
        self._producer: Any | None = None
        self._generation = 0
        self._failures = 0
        self.recreated = 0

    def _current(self) -> tuple[Any, int]:
        with self._lock:
            if self._producer is None:
                self._producer = self._factory()
            return self._producer, self._generation

    def connect(self) -> None:
        """Build the producer now (at start, so a broker that is not there yet fails loudly)."""
        self._current()

    def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> _TrackedFuture:
        producer, generation = self._current()
        try:
            future = producer.send(topic, value=value, key=key, headers=headers)
        except Exception as exc:
            self._failed(generation, exc)
            raise
        return _TrackedFuture(self, generation, future)

    def _succeeded(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._failures = 0

    def _failed(self, generation: int, exc: BaseException) -> None:
        if is_unsendable(exc) or not getattr(exc, "retriable", False):
            return
        stale = None
        with self._lock:
            if generation != self._generation:
                return  # a failure of a producer already replaced
            self._failures += 1
            if self._failures < self._failures_to_recreate:
                return
            stale, self._producer = self._producer, None
            self._generation += 1
            self._failures = 0
            self.recreated += 1
        RECREATED.labels(self._client).inc()
        log.warning(
            "kafka producer replaced after repeated failures",
            extra={"client": self._client, "error_type": type(exc).__name__},
        )
        if stale is not None:
            self._close_quietly(stale, self._close_timeout)

    @staticmethod
    def _close_quietly(producer: Any, timeout: float) -> None:
        try:
            producer.close(timeout=timeout)
        except Exception as exc:
            log.warning("closing a kafka producer failed", extra={"error_type": type(exc).__name__})

    def flush(self, timeout: float | None = None) -> None:
        with self._lock:
            producer = self._producer
        if producer is not None:
            producer.flush(timeout=timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
            self._generation += 1
        if producer is not None:
            self._close_quietly(producer, timeout)


def make_resilient_producer(bootstrap: str, client_id: str) -> ResilientProducer:
    return ResilientProducer(lambda: make_producer(bootstrap, client_id), client=client_id)


def make_consumer(bootstrap: str, group: str, client_id: str, max_poll_records: int = 50) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        allow_auto_create_topics=False,
        bootstrap_timeout_ms=10_000,
        # A killed worker's partitions go to another member after 10 s, not kafka-python's 45 s.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )


def creation_requests(
    specs: Iterable[TopicSpec], replication_factor: int = 1, min_insync_replicas: int = 1
) -> dict[str, dict[str, object]]:
    """The admin client's create request for each topic: its partitions, copies and configs."""
    return {
        spec.name: {
            "num_partitions": spec.partitions,
            "replication_factor": replication_factor,
            # With acks=all a write then needs this many copies, so one lost broker loses nothing.
            "configs": {**spec.configs, "min.insync.replicas": str(min_insync_replicas)},
        }
        for spec in specs
    }


def ensure_topics(
    bootstrap: str, specs: Iterable[TopicSpec], replication_factor: int = 1, min_insync_replicas: int = 1
) -> list[str]:
    """Create the topics that do not exist yet and wait until all are usable; returns those created.

    Several workers start at once and create overlapping sets, so "already exists" is success.
    Existing topics keep their settings (change those with the admin tools).
    """
    wanted = {spec.name: spec for spec in specs}
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="eventkit-admin")
    try:
        existing = set(admin.list_topics())
        missing = creation_requests(
            (spec for name, spec in wanted.items() if name not in existing),
            replication_factor,
            min_insync_replicas,
        )
        created = []
        if missing:
            response = admin.create_topics(missing, raise_errors=False)
            for topic in response["topics"]:
                if topic["error_code"] == 0:
                    created.append(topic["name"])
                elif topic["error_code"] != TopicAlreadyExistsError.errno:
                    raise KafkaError(f"cannot create topic {topic['name']}: {topic['error_message']}")
            log.info("created topics", extra={"topics": sorted(created)})
        admin.wait_for_topics(sorted(wanted))
        return sorted(created)
    finally:
        admin.close()


def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """A cheap liveness probe of the first reachable bootstrap address (TCP connect)."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host or "localhost", int(port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False
