"""ConsumerRunner as a state machine, with doubles of the Kafka consumer and producer.

Each branch: handled, skipped on purpose, unknown type dead-lettered, undecodable input
dead-lettered, retried in place, sent to the retry topic, retry not yet due, retry rounds
exhausted, non-transient failure, what is committed, rebalance callbacks.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
import time
import types
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka import OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from marshmallow import Schema, fields, validate
from prometheus_client import REGISTRY

from eventkit import consumer as consumer_module
from eventkit.consumer import ConsumerRunner, Handler, RetryPolicy
from eventkit.envelope import Event, encode, new_event
from eventkit.errors import TransientError

TOPIC = "a.things.v1"
MADE = "vn.motcua.a.thing.made.v1"
GONE = "vn.motcua.a.thing.gone.v1"
NEW = "vn.motcua.a.thing.renamed.v1"

_groups = itertools.count()


def unique_group() -> str:
    # The outcome counters are process-wide: each test reads its own group's.
    return f"test.unit-{next(_groups)}-{uuid.uuid4().hex[:6]}"


# Envelopes carry a per-aggregate sequence number once `new_event` takes one.
SEQUENCE: dict[str, Any] = {"sequence": 1} if "sequence" in inspect.signature(new_event).parameters else {}


def thing(event_type: str = MADE, key: str = "k1", **data: Any) -> Event:
    return new_event(type=event_type, source="/tests", subject=key, data=data or {"n": 1}, **SEQUENCE)


def record(
    value: bytes | None,
    offset: int = 0,
    *,
    topic: str = TOPIC,
    partition: int = 0,
    key: bytes = b"k1",
    headers: dict[str, str] | None = None,
) -> ConsumerRecord:
    encoded = [(k, v.encode()) for k, v in (headers or {}).items()]
    return ConsumerRecord(topic, partition, -1, offset, 0, 0, key, value, encoded, None, 0, 0, 0)


def event_record(event: Event, offset: int = 0, **kwargs: Any) -> ConsumerRecord:
    return record(encode(event), offset, **kwargs)


@dataclass
class FakeConsumer:
    """Hands out the given batches one poll at a time and notes what the runner does to it."""

    batches: list[dict[TopicPartition, list[ConsumerRecord]]] = field(default_factory=list)
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    seeks: list[tuple[TopicPartition, int]] = field(default_factory=list)
    paused: set[TopicPartition] = field(default_factory=set)
    resumed: list[TopicPartition] = field(default_factory=list)
    subscribed: list[str] = field(default_factory=list)
    listener: Any = None
    closed: bool = False

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[ConsumerRecord]]:
        return self.batches.pop(0) if self.batches else {}

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    def pause(self, *tps: TopicPartition) -> None:
        self.paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused.difference_update(tps)
        self.resumed.extend(tps)

    def partitions_for_topic(self, _topic: str) -> set[int]:
        return {0}

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        self.subscribed = list(topics)
        self.listener = listener

    def close(self, autocommit: bool = True) -> None:
        self.closed = True

    @property
    def committed(self) -> dict[TopicPartition, int]:
        merged: dict[TopicPartition, int] = {}
        for commit in self.commits:
            merged.update(commit)
        return merged


@dataclass
class Sent:
    topic: str
    value: bytes | None
    key: bytes | None
    headers: dict[str, str]


class FakeFuture:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class FakeProducer:
    sent: list[Sent] = field(default_factory=list)
    error: BaseException | None = None

    def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> FakeFuture:
        if self.error is None:
            self.sent.append(Sent(topic, value, key, {k: v.decode() for k, v in headers or []}))
        return FakeFuture(self.error)


FAST = RetryPolicy(attempts=3, backoff_initial=0.0, backoff_max=0.0, delays=(10.0, 60.0))


def runner(
    handlers: dict[str, Handler],
    *,
    skipped: frozenset[str] = frozenset(),
    producer: FakeProducer | None = None,
    consumers: dict[str, FakeConsumer] | None = None,
    group: str | None = None,
) -> ConsumerRunner:
    fakes = consumers if consumers is not None else {}
    return ConsumerRunner(
        bootstrap="unused:9092",
        group=group or unique_group(),
        topics=[TOPIC],
        handlers=handlers,
        producer=producer or FakeProducer(),
        policy=FAST,
        consumer_factory=lambda group_id: fakes.setdefault(group_id, FakeConsumer()),
        skipped=skipped,
    )


TP = TopicPartition(TOPIC, 0)


def outcome(group: str, name: str) -> float:
    return REGISTRY.get_sample_value("events_consumed_total", {"group": group, "outcome": name}) or 0.0


class ThingSchema(Schema):
    n = fields.Integer(required=True)


class Recorder:
    """A handler that notes its calls and fails as told: `fail(n, exc)` raises exc on the next n calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[BaseException] = []

    def fail(self, times: int, exc: BaseException) -> None:
        self.failures = [exc] * times

    def __call__(self, event: Event, data: dict[str, Any]) -> None:
        self.calls.append((event["id"], data))
        if self.failures:
            raise self.failures.pop(0)

    @property
    def handler(self) -> Handler:
        return Handler(ThingSchema(), self)


def consume(r: ConsumerRunner, records: list[ConsumerRecord], from_retry: bool = False) -> FakeConsumer:
    fake = FakeConsumer()
    by_tp: dict[TopicPartition, list[ConsumerRecord]] = {}
    for rec in records:
        by_tp.setdefault(TopicPartition(rec.topic, rec.partition), []).append(rec)
    r._consume(fake, by_tp, threading.Event(), from_retry=from_retry)
    return fake


@pytest.fixture
def clock(monkeypatch):
    """The runner's wall clock, set by the test (the retry topic's not-before times use it)."""
    now = [1_700_000_000.0]
    fake = types.SimpleNamespace(time=lambda: now[0], monotonic=time.monotonic)
    monkeypatch.setattr(consumer_module, "time", fake)
    return now


def test_a_handled_event_is_loaded_by_its_schema_applied_and_then_committed():
    handle = Recorder()
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    event = thing(n="7")
    fake = consume(r, [event_record(event, offset=41)])
    assert handle.calls == [(event["id"], {"n": 7})]
    assert fake.committed == {TP: 42}, "the next offset to read, after the handled record"
    assert producer.sent == []
    assert outcome(r.group, "handled") == 1


def test_a_type_the_group_skips_on_purpose_is_committed_past_without_a_handler_or_a_dead_letter():
    handle = Recorder()
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, skipped=frozenset({GONE}), producer=producer)
    fake = consume(r, [event_record(thing(GONE), offset=0)])
    assert handle.calls == [] and producer.sent == []
    assert fake.committed == {TP: 1}
    assert outcome(r.group, "skipped") == 1


def test_a_type_neither_handled_nor_skipped_is_dead_lettered_and_counted_not_silently_committed():
    producer = FakeProducer()
    r = runner({MADE: Recorder().handler}, skipped=frozenset({GONE}), producer=producer)
    event = thing(NEW)
    fake = consume(r, [event_record(event, offset=5)])
    [dead] = producer.sent
    assert dead.topic == f"{TOPIC}.{r.group}.dlt"
    assert dead.value == encode(event) and dead.key == b"k1", "kept whole for a replay"
    assert dead.headers["x-error-type"] == "UnhandledEventType"
    assert NEW in dead.headers["x-error-message"]
    assert (dead.headers["x-original-topic"], dead.headers["x-original-offset"]) == (TOPIC, "5")
    assert fake.committed == {TP: 6}, "committed only once it is safe in the dead-letter topic"
    assert outcome(r.group, "unhandled") == 1 and outcome(r.group, "skipped") == 0


def test_a_runner_cannot_both_handle_and_skip_a_type():
    with pytest.raises(ValueError, match=MADE):
        runner({MADE: Recorder().handler}, skipped=frozenset({MADE}))


@pytest.mark.parametrize(
    ("value", "error_type"),
    [
        (b"\xff\xfe not json", "InvalidEvent"),
        (None, "InvalidEvent"),
        (encode({**thing(), "specversion": "0.3"}), "InvalidEvent"),
        (encode(thing(n="not a number")), "ValidationError"),
    ],
    ids=["bytes", "empty", "envelope", "payload"],
)
def test_undecodable_input_goes_straight_to_the_dead_letter_topic(value, error_type):
    handle = Recorder()
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    fake = consume(r, [record(value, offset=3)])
    [dead] = producer.sent
    assert dead.topic == f"{TOPIC}.{r.group}.dlt" and dead.value == value
    assert dead.headers["x-error-type"] == error_type and dead.headers["x-attempts"] == "1"
    assert handle.calls == [], "never handled"
    assert fake.committed == {TP: 4}
    assert outcome(r.group, "dead_lettered") == 1


def test_a_transient_failure_is_retried_in_place_then_handled():
    handle = Recorder()
    handle.fail(2, TransientError("store briefly away"))
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    fake = consume(r, [event_record(thing(), offset=0)])
    assert len(handle.calls) == 3, "two failures, then the third attempt succeeds"
    assert producer.sent == []
    assert fake.committed == {TP: 1}
    assert outcome(r.group, "handled") == 1


def test_a_persisting_transient_failure_goes_to_the_groups_retry_topic_with_a_not_before_time(clock):
    handle = Recorder()
    handle.fail(3, ConnectionError("refused"))
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    event = thing()
    fake = consume(r, [event_record(event, offset=9)])
    [retry] = producer.sent
    assert retry.topic == f"{TOPIC}.{r.group}.retry"
    assert retry.value == encode(event)
    assert retry.headers["x-retry-round"] == "1"
    assert float(retry.headers["x-not-before"]) == clock[0] + FAST.delays[0]
    assert retry.headers["x-attempts"] == "3" and retry.headers["x-error-type"] == "ConnectionError"
    assert (retry.headers["x-original-topic"], retry.headers["x-original-offset"]) == (TOPIC, "9")
    assert fake.committed == {TP: 10}
    assert outcome(r.group, "retried") == 1


def retry_record(event: Event, group: str, offset: int, round_: int, not_before: float) -> ConsumerRecord:
    return event_record(
        event,
        offset,
        topic=f"{TOPIC}.{group}.retry",
        headers={
            "x-original-topic": TOPIC,
            "x-original-partition": "2",
            "x-original-offset": "77",
            "x-retry-round": str(round_),
            "x-not-before": f"{not_before:.3f}",
        },
    )


def test_a_retry_not_yet_due_pauses_its_partition_and_is_handled_once_resumed(clock):
    handle = Recorder()
    r = runner({MADE: handle.handler})
    event = thing()
    early = retry_record(event, r.group, offset=4, round_=1, not_before=clock[0] + 10)
    retry_tp = TopicPartition(early.topic, 0)
    retry = FakeConsumer(batches=[{retry_tp: [early]}, {}, {retry_tp: [early]}])
    main = FakeConsumer()
    stop = threading.Event()

    r.poll_once(main, retry, stop)
    assert handle.calls == [], "not due yet"
    assert retry.seeks == [(retry_tp, 4)] and retry.paused == {retry_tp}
    assert retry.commits == [], "nothing committed for a record still waiting"

    clock[0] += 5
    r.poll_once(main, retry, stop)
    assert retry.paused == {retry_tp}, "still waiting"

    clock[0] += 6
    r.poll_once(main, retry, stop)
    assert retry.resumed == [retry_tp] and retry.paused == set()
    assert handle.calls == [(event["id"], {"n": 1})]
    assert retry.committed == {retry_tp: 5} and main.commits == []


def test_a_failure_in_the_last_retry_round_goes_to_the_dead_letter_topic_of_the_original_topic(clock):
    handle = Recorder()
    handle.fail(3, TransientError("still away"))
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    last = retry_record(thing(), r.group, offset=0, round_=len(FAST.delays), not_before=clock[0])
    fake = consume(r, [last], from_retry=True)
    [dead] = producer.sent
    assert dead.topic == f"{TOPIC}.{r.group}.dlt"
    assert dead.headers["x-original-partition"] == "2" and dead.headers["x-original-offset"] == "77"
    assert dead.headers["x-attempts"] == str(len(FAST.delays) * FAST.attempts + 3)
    assert fake.committed == {TopicPartition(last.topic, 0): 1}


def test_a_failure_in_an_earlier_retry_round_goes_to_the_next_round(clock):
    handle = Recorder()
    handle.fail(3, TransientError("still away"))
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    consume(r, [retry_record(thing(), r.group, offset=0, round_=1, not_before=clock[0])], from_retry=True)
    [retry] = producer.sent
    assert retry.topic == f"{TOPIC}.{r.group}.retry" and retry.headers["x-retry-round"] == "2"
    assert float(retry.headers["x-not-before"]) == clock[0] + FAST.delays[1]
    assert retry.headers["x-original-offset"] == "77", "the origin survives the rounds"


def test_a_non_transient_failure_is_dead_lettered_at_once():
    handle = Recorder()
    handle.fail(1, KeyError("code"))
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    fake = consume(r, [event_record(thing(), offset=0)])
    assert len(handle.calls) == 1, "not retried"
    [dead] = producer.sent
    assert dead.topic.endswith(".dlt") and dead.headers["x-error-type"] == "KeyError"
    assert dead.headers["x-attempts"] == "1"
    assert fake.committed == {TP: 1}


def test_a_crash_mid_batch_commits_only_the_records_before_it():
    handle = Recorder()
    producer = FakeProducer()
    r = runner({MADE: handle.handler}, producer=producer)
    records = [event_record(thing(), 0), record(b"poison", 1), event_record(thing(), 2)]
    # The dead-letter send of the second record fails: the runner must not commit past it.
    producer.error = TimeoutError("broker gone")
    fake = FakeConsumer()
    with pytest.raises(TimeoutError):
        r._consume(fake, {TP: records}, threading.Event(), from_retry=False)
    assert len(handle.calls) == 1
    assert fake.committed == {TP: 1}, "the poison record and the one after it are delivered again"


def test_a_stop_mid_batch_commits_what_was_handled_and_leaves_the_rest():
    stop = threading.Event()
    seen: list[str] = []

    def handle(event: Event, _data: dict[str, Any]) -> None:
        seen.append(event["id"])
        stop.set()

    r = runner({MADE: Handler(ThingSchema(), handle)})
    fake = FakeConsumer()
    r._consume(fake, {TP: [event_record(thing(), 0), event_record(thing(), 1)]}, stop, from_retry=False)
    assert len(seen) == 1 and fake.committed == {TP: 1}


def test_nothing_is_committed_when_nothing_was_consumed():
    fake = consume(runner({MADE: Recorder().handler}), [])
    assert fake.commits == []


def test_a_session_subscribes_both_consumers_with_listeners_that_only_log(caplog):
    consumers: dict[str, FakeConsumer] = {}
    r = runner({MADE: Recorder().handler}, consumers=consumers)
    stop = threading.Event()
    stop.set()
    r._run_session(stop)
    main, retry = consumers[r.group], consumers[f"{r.group}.retry"]
    assert main.subscribed == [TOPIC] and retry.subscribed == [f"{TOPIC}.{r.group}.retry"]
    assert main.closed and retry.closed
    with caplog.at_level(logging.INFO, logger="eventkit.consumer"):
        main.listener.on_partitions_revoked({TP})
        main.listener.on_partitions_assigned({TP})
        retry.listener.on_partitions_assigned(set())
    assert [rec.getMessage() for rec in caplog.records] == [
        "partitions revoked",
        "partitions assigned",
        "partitions assigned",
    ]
    assert main.commits == [] and main.seeks == [] and retry.commits == [], "a rebalance only logs"


# -- dead-letter headers carry no personal data -----------------------------------------------------

NAME, EMAIL, PHONE, CCCD = "Nguyễn Thị Hoa", "hoa@example.vn", "0912 345 678", "027190001234"
PERSONAL = (NAME, EMAIL, PHONE, CCCD, "0912345678", "Nguyễn", "hoa@")


class ApplicantSchema(Schema):
    full_name = fields.String(required=True, validate=validate.Length(max=5))
    email = fields.Email(required=True)
    phone = fields.String(required=True, validate=validate.Regexp(r"^0\d{9}$"))
    id_number = fields.String(required=True, validate=validate.OneOf(["001", "002"]))
    gender = fields.String(required=True, validate=validate.OneOf(["male", "female"]))
    children = fields.List(fields.Nested(lambda: ChildSchema()), required=True)


class ChildSchema(Schema):
    birth_date = fields.Date(required=True)


PAYLOAD = {
    "full_name": NAME,
    "email": f"not-an-email {EMAIL} x",
    "phone": PHONE,
    "id_number": CCCD,
    "gender": NAME,
    "children": [{"birth_date": CCCD}],
    EMAIL: NAME,
}


def dead_letter_headers(handler: Handler, value: bytes | None) -> tuple[dict[str, str], bytes | None]:
    producer = FakeProducer()
    r = runner({MADE: handler}, producer=producer)
    consume(r, [record(value, offset=0)])
    [dead] = producer.sent
    return dead.headers, dead.value


def assert_no_personal_data(headers: dict[str, str]) -> None:
    text = " ".join(f"{k}={v}" for k, v in headers.items())
    for value in PERSONAL:
        assert value not in text, f"{value!r} leaked into the headers: {text}"


def test_a_payload_validation_error_keeps_field_paths_and_messages_only():
    value = encode(thing(**PAYLOAD))
    headers, kept = dead_letter_headers(Handler(ApplicantSchema(), Recorder()), value)
    assert kept == value, "the payload stays in the record"
    assert headers["x-error-type"] == "ValidationError"
    message = headers["x-error-message"]
    for path in ("full_name", "email", "phone", "id_number", "gender", "children.0.birth_date"):
        assert f"{path}:" in message, message
    # The schema's own messages are kept (in English, or in Vietnamese once eventkit.schemas has
    # translated marshmallow's defaults in this process), and an unknown key is named by a mark.
    email_message = ApplicantSchema().validate({"email": "x"})["email"][0]
    assert f"email: {email_message}" in message and "<email>: Unknown field." in message
    assert_no_personal_data(headers)


def test_a_handler_error_keeps_its_type_and_a_message_scrubbed_of_personal_data():
    def handle(_event: Event, _data: dict[str, Any]) -> None:
        raise ValueError(
            f"can't file for '{NAME}' <{EMAIL}> tel {PHONE}, CCCD {CCCD} "
            f'(dup key: {{ _id: "{CCCD}" }}) at unit 09496, last try \'{NAME}' + " x" * 2000
        )

    headers, _ = dead_letter_headers(Handler(ThingSchema(), handle), encode(thing()))
    assert headers["x-error-type"] == "ValueError"
    message = headers["x-error-message"]
    assert message.startswith("can't file for") and "unit 09496" in message, "what is not personal stays"
    assert len(message) <= consumer_module.MESSAGE_LIMIT
    assert_no_personal_data(headers)


def test_an_invalid_envelope_keeps_its_structural_reason_only():
    broken_json = b'{"data": {"full_name": "' + NAME.encode() + b'", "email": "' + EMAIL.encode()
    headers, kept = dead_letter_headers(Recorder().handler, broken_json)
    assert kept == broken_json
    assert headers["x-error-message"].startswith("not JSON: ") and "line 1" in headers["x-error-message"]
    assert_no_personal_data(headers)

    missing = {k: v for k, v in thing(**PAYLOAD).items() if k not in ("id", "type")}
    headers, _ = dead_letter_headers(Recorder().handler, encode(missing))
    assert headers["x-error-type"] == "InvalidEvent"
    assert "id:" in headers["x-error-message"] and "type:" in headers["x-error-message"]
    assert_no_personal_data(headers)

    latin1 = f'{{"full_name": "{NAME}"}}'.encode("cp1258", "replace") + b"\xff"
    headers, _ = dead_letter_headers(Recorder().handler, latin1)
    assert headers["x-error-message"].startswith("not UTF-8: ")
    assert_no_personal_data(headers)
