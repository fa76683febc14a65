"""Consumer runner: dispatch by event type, manual commits, bounded retries, dead letters.

For each record of a group's topics:
- undecodable bytes, an invalid envelope or a payload that fails the handler's schema go straight
  to `<topic>.<group>.dlt`;
- event types the registry lists as skipped by the group are committed past;
- any other type without a handler goes to the DLT as `UnhandledEventType` (counted as
  `unhandled`), so it can be replayed once the handler ships instead of being lost;
- a transient failure is retried in place with exponential backoff; if it persists the record goes
  to `<topic>.<group>.retry` with a not-before time, and after the last retry round to the DLT;
- any other failure goes to the DLT.
The offset is committed only after the record was handled, retried later or dead-lettered. Handlers
must be idempotent: a crash before the commit delivers the record again.

Failure headers never repeat the payload: the error message is reduced to field paths and schema
messages, or to a structural reason, or scrubbed of anything that could be personal data.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from marshmallow import Schema, ValidationError
from prometheus_client import Counter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from eventkit.envelope import Event, InvalidEvent, decode
from eventkit.errors import is_transient
from eventkit.kafka import make_consumer
from eventkit.logs import correlation
from eventkit.outbox import Producer
from eventkit.redact import scrub
from eventkit.topics import dead_letter_topic, retry_topic

log = logging.getLogger(__name__)

OUTCOMES = Counter("events_consumed_total", "Events consumed, by outcome", ["group", "outcome"])

H_ORIGINAL_TOPIC = "x-original-topic"
H_ORIGINAL_PARTITION = "x-original-partition"
H_ORIGINAL_OFFSET = "x-original-offset"
H_ERROR_TYPE = "x-error-type"
H_ERROR_MESSAGE = "x-error-message"
H_ATTEMPTS = "x-attempts"
H_GROUP = "x-consumer-group"
H_NOT_BEFORE = "x-not-before"
H_RETRY_ROUND = "x-retry-round"

MESSAGE_LIMIT = 500


class UnhandledEventType(Exception):
    """A type the group neither handles nor skips on purpose: kept in the DLT for a later replay."""


@dataclass(frozen=True)
class Handler:
    """Handles one event type: `schema` validates the payload, `handle(event, data)` applies it."""

    schema: Schema
    handle: Callable[[Event, dict[str, Any]], None]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_initial: float = 0.5
    backoff_max: float = 4.0
    # Delays, in seconds, of the rounds through the retry topic before the dead-letter topic.
    delays: tuple[float, ...] = (10.0, 60.0, 240.0)


class _LoggingListener(ConsumerRebalanceListener):
    # kafka-python 3 runs these on its IO thread, where a blocking commit raises: log only.
    def __init__(self, group: str) -> None:
        self.group = group

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked", extra={"group": self.group, "partitions": str(revoked)})

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("partitions assigned", extra={"group": self.group, "partitions": str(assigned)})


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}


class ConsumerRunner:
    def __init__(
        self,
        *,
        bootstrap: str,
        group: str,
        topics: list[str],
        handlers: Mapping[str, Handler],
        producer: Producer,
        policy: RetryPolicy | None = None,
        client_id: str | None = None,
        poll_timeout_ms: int = 300,
        send_timeout: float = 20.0,
        consumer_factory: Callable[[str], KafkaConsumer] | None = None,
        skipped: Collection[str] = frozenset(),
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topics = list(topics)
        self.handlers = dict(handlers)
        both = set(self.handlers) & set(skipped)
        if both:
            raise ValueError(f"{group} both handles and skips {sorted(both)}")
        self.skipped = frozenset(skipped)
        self.producer = producer
        self.policy = policy or RetryPolicy()
        self.client_id = client_id or group
        self.poll_timeout_ms = poll_timeout_ms
        self.send_timeout = send_timeout
        self._make_consumer = consumer_factory or (
            lambda group_id: make_consumer(self.bootstrap, group_id, self.client_id)
        )
        self.last_poll: float = 0.0
        self._paused_until: dict[TopicPartition, float] = {}

    @property
    def retry_topics(self) -> list[str]:
        return [retry_topic(t, self.group) for t in self.topics]

    # -- loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event, restart_delay: float = 2.0) -> None:
        """Consume until `stop` is set; on a broker or commit failure, reconnect from the last commit."""
        while not stop.is_set():
            try:
                self._run_session(stop)
            except Exception:
                log.warning("consumer session failed; restarting", extra={"group": self.group}, exc_info=True)
                stop.wait(restart_delay)

    def _run_session(self, stop: threading.Event) -> None:
        main = self._make_consumer(self.group)
        retry = self._make_consumer(f"{self.group}.retry")
        self._paused_until.clear()
        try:
            # Know the topics' partitions before joining: a group that assigns while the metadata is
            # still empty gives this member nothing until the next rebalance.
            for topic in self.topics:
                main.partitions_for_topic(topic)
            for topic in self.retry_topics:
                retry.partitions_for_topic(topic)
            main.subscribe(self.topics, listener=_LoggingListener(self.group))
            retry.subscribe(self.retry_topics, listener=_LoggingListener(f"{self.group}.retry"))
            while not stop.is_set():
                self.poll_once(main, retry, stop)
        finally:
            main.close(autocommit=False)
            retry.close(autocommit=False)

    def poll_once(self, main: KafkaConsumer, retry: KafkaConsumer, stop: threading.Event) -> None:
        batch = main.poll(timeout_ms=self.poll_timeout_ms)
        self.last_poll = time.monotonic()
        self._consume(main, batch, stop, from_retry=False)
        self._resume_due(retry)
        # A zero timeout would never let the retry consumer join its group.
        self._consume(retry, retry.poll(timeout_ms=100), stop, from_retry=True)

    def _consume(
        self,
        consumer: KafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord]],
        stop: threading.Event,
        from_retry: bool,
    ) -> None:
        done: dict[TopicPartition, OffsetAndMetadata] = {}
        try:
            for tp, records in batch.items():
                for record in records:
                    if stop.is_set():
                        return
                    if from_retry and self._not_due(consumer, tp, record):
                        break
                    self.process(record, from_retry=from_retry)
                    done[tp] = OffsetAndMetadata(record.offset + 1, "", -1)
        finally:
            if done:
                consumer.commit(done)

    def _not_due(self, consumer: KafkaConsumer, tp: TopicPartition, record: ConsumerRecord) -> bool:
        not_before = float(_headers(record).get(H_NOT_BEFORE, "0"))
        if not_before <= time.time():
            return False
        # Wait without blocking the main topic: rewind, pause the partition, resume when due.
        consumer.seek(tp, record.offset)
        consumer.pause(tp)
        self._paused_until[tp] = not_before
        return True

    def _resume_due(self, consumer: KafkaConsumer) -> None:
        now = time.time()
        due = [tp for tp, until in self._paused_until.items() if until <= now]
        for tp in due:
            del self._paused_until[tp]
        if due:
            consumer.resume(*due)

    # -- one record ---------------------------------------------------------------------------

    def process(self, record: ConsumerRecord, from_retry: bool = False) -> None:
        headers = _headers(record) if from_retry else {}
        origin = (
            headers.get(H_ORIGINAL_TOPIC, record.topic),
            int(headers.get(H_ORIGINAL_PARTITION, record.partition)),
            int(headers.get(H_ORIGINAL_OFFSET, record.offset)),
        )
        retry_round = int(headers.get(H_RETRY_ROUND, "0"))
        try:
            event = decode(record.value)
        except InvalidEvent as exc:
            self.dead_letter(record, origin, exc, attempts=1)
            return
        handler = self.handlers.get(event["type"])
        if handler is None:
            if event["type"] in self.skipped:
                log.debug("event type skipped", extra={"event_type": event["type"], "group": self.group})
                OUTCOMES.labels(self.group, "skipped").inc()
            else:
                unhandled = UnhandledEventType(
                    f"group {self.group} has no handler for {event['type']} and does not skip it"
                )
                self.dead_letter(record, origin, unhandled, attempts=0, outcome="unhandled")
            return
        with correlation(event["correlationid"], event["id"]):
            try:
                data = handler.schema.load(event["data"])
            except ValidationError as exc:
                self.dead_letter(record, origin, exc, attempts=1)
                return
            attempts = 0
            try:
                for attempt in Retrying(
                    stop=stop_after_attempt(self.policy.attempts),
                    wait=wait_exponential(
                        multiplier=self.policy.backoff_initial, max=self.policy.backoff_max
                    ),
                    retry=retry_if_exception(is_transient),
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        handler.handle(event, data)
            except Exception as exc:
                total = retry_round * self.policy.attempts + attempts
                if is_transient(exc) and retry_round < len(self.policy.delays):
                    self.send_to_retry(record, origin, exc, retry_round, total)
                else:
                    self.dead_letter(record, origin, exc, attempts=total)
                return
            OUTCOMES.labels(self.group, "handled").inc()
            log.info(  # inside the event's correlation: the line carries its id
                "event handled",
                extra={
                    "event_id": event["id"],
                    "event_type": event["type"],
                    "subject": event.get("subject"),
                    "group": self.group,
                },
            )

    def _send(self, topic: str, record: ConsumerRecord, headers: dict[str, str]) -> None:
        encoded = [(k, v.encode("utf-8")) for k, v in headers.items()]
        future = self.producer.send(topic, value=record.value, key=record.key, headers=encoded)
        future.get(timeout=self.send_timeout)

    def _failure_headers(
        self, origin: tuple[str, int, int], exc: BaseException, attempts: int
    ) -> dict[str, str]:
        return {
            H_ORIGINAL_TOPIC: origin[0],
            H_ORIGINAL_PARTITION: str(origin[1]),
            H_ORIGINAL_OFFSET: str(origin[2]),
            H_ERROR_TYPE: type(exc).__name__,
            H_ERROR_MESSAGE: safe_message(exc),
            H_ATTEMPTS: str(attempts),
            H_GROUP: self.group,
        }

    def send_to_retry(
        self,
        record: ConsumerRecord,
        origin: tuple[str, int, int],
        exc: BaseException,
        retry_round: int,
        attempts: int,
    ) -> None:
        headers = self._failure_headers(origin, exc, attempts)
        headers[H_RETRY_ROUND] = str(retry_round + 1)
        headers[H_NOT_BEFORE] = f"{time.time() + self.policy.delays[retry_round]:.3f}"
        self._send(retry_topic(origin[0], self.group), record, headers)
        OUTCOMES.labels(self.group, "retried").inc()
        log.warning(
            "event handling failed; retrying later",
            extra={"group": self.group, "error_type": type(exc).__name__, "retry_round": retry_round + 1},
        )

    def dead_letter(
        self,
        record: ConsumerRecord,
        origin: tuple[str, int, int],
        exc: BaseException,
        attempts: int,
        outcome: str = "dead_lettered",
    ) -> None:
        self._send(
            dead_letter_topic(origin[0], self.group), record, self._failure_headers(origin, exc, attempts)
        )
        OUTCOMES.labels(self.group, outcome).inc()
        log.error(
            "event dead-lettered",
            extra={
                "group": self.group,
                "topic": origin[0],
                "partition": origin[1],
                "offset": origin[2],
                "error_type": type(exc).__name__,
            },
        )


def _flatten(messages: Any, path: str = "") -> list[str]:
    if isinstance(messages, Mapping):
        out: list[str] = []
        for key, value in messages.items():
            # A key may come from the input (an unknown field, a dict key): scrub it too.
            name = str(key) if isinstance(key, int) else scrub(str(key), 100)
            out.extend(_flatten(value, f"{path}.{name}" if path else name))
        return out
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        return [f"{path or '_schema'}: {scrub(' '.join(messages), 200)}"]
    if isinstance(messages, list | tuple):
        return [line for index, item in enumerate(messages) for line in _flatten(item, f"{path}.{index}")]
    return [f"{path or '_schema'}: {scrub(str(messages), 200)}"]


def validation_summary(exc: ValidationError) -> str:
    """Field paths and the schema's messages (marshmallow's own messages never quote the input)."""
    return scrub("; ".join(_flatten(exc.messages)))


def _structural_reason(exc: InvalidEvent) -> str:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return "invalid envelope: " + validation_summary(cause)
    if isinstance(cause, json.JSONDecodeError):
        return f"not JSON: {cause.msg} at line {cause.lineno} column {cause.colno}"
    if isinstance(cause, UnicodeDecodeError):
        return f"not UTF-8: {cause.reason} at byte {cause.start}"
    return scrub(str(exc))


def safe_message(exc: BaseException) -> str:
    """A dead-letter message that says what failed without repeating the payload."""
    if isinstance(exc, ValidationError):
        return validation_summary(exc)
    if isinstance(exc, InvalidEvent):
        return _structural_reason(exc)
    return scrub(str(exc))
