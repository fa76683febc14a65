"""The outbox relay as a state machine: every branch of a pass, on in-memory doubles.

The store double implements only the collection methods the relay calls, with MongoDB's meaning
for the few operators it uses; the real store is exercised by the integration tier.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError
from pymongo.errors import DuplicateKeyError

from eventkit.kafka import ResilientProducer
from eventkit.outbox import (
    OUTBOX,
    PARKED,
    PENDING,
    OutboxRelay,
    OutboxStalled,
    insert_with_outbox,
    update_with_outbox,
)

# -- store double ----------------------------------------------------------------------------


def _matches(document: dict[str, Any], filter: dict[str, Any]) -> bool:
    for name, condition in filter.items():
        if name == "$or":
            if not any(_matches(document, option) for option in condition):
                return False
            continue
        value = document.get(name)
        if isinstance(condition, dict) and any(k.startswith("$") for k in condition):
            for op, arg in condition.items():
                if op == "$size" and not (isinstance(value, list) and len(value) == arg):
                    return False
                if op == "$exists" and (name in document) != arg:
                    return False
                if op == "$lt" and not (value is not None and value < arg):
                    return False
        elif value != condition:
            return False
    return True


def _apply(document: dict[str, Any], update: dict[str, Any]) -> None:
    for op, fields in update.items():
        for name, arg in fields.items():
            if op == "$set":
                document[name] = copy.deepcopy(arg)
            elif op == "$push":
                items = arg["$each"] if isinstance(arg, dict) and "$each" in arg else [arg]
                document.setdefault(name, []).extend(copy.deepcopy(items))
            elif op == "$pullAll":
                document[name] = [item for item in document.get(name, []) if item not in arg]
            else:
                raise NotImplementedError(op)


class Result:
    def __init__(self, matched: int) -> None:
        self.matched_count = matched


class Cursor(list[dict[str, Any]]):
    def limit(self, count: int) -> Cursor:
        return Cursor(self[:count])


class FakeDatabase(dict[str, "FakeCollection"]):
    def __missing__(self, name: str) -> FakeCollection:
        self[name] = FakeCollection(name, self)
        return self[name]


class FakeCollection:
    def __init__(self, name: str, database: FakeDatabase) -> None:
        self.name = name
        self.database = database
        self.docs: dict[Any, dict[str, Any]] = {}
        # Called before each update_one, to interleave another writer.
        self.before_update: Callable[[dict[str, Any], dict[str, Any]], None] = lambda _f, _u: None

    def _project(self, document: dict[str, Any], projection: dict[str, int] | None) -> dict[str, Any]:
        if projection is None:
            return copy.deepcopy(document)
        kept = {k: copy.deepcopy(v) for k, v in document.items() if k in projection}
        return {"_id": document["_id"], **kept}

    def find(self, filter: dict[str, Any], projection: dict[str, int] | None = None) -> Cursor:
        return Cursor(self._project(d, projection) for d in self.docs.values() if _matches(d, filter))

    def find_one(
        self, filter: dict[str, Any], projection: dict[str, int] | None = None
    ) -> dict[str, Any] | None:
        found = self.find(filter, projection)
        return found[0] if found else None

    def insert_one(self, document: dict[str, Any]) -> None:
        if document["_id"] in self.docs:
            raise DuplicateKeyError("duplicate _id")
        self.docs[document["_id"]] = copy.deepcopy(document)

    def update_one(self, filter: dict[str, Any], update: dict[str, Any], upsert: bool = False) -> Result:
        self.before_update(filter, update)
        for document in self.docs.values():
            if _matches(document, filter):
                _apply(document, update)
                return Result(1)
        if upsert:
            document = {k: v for k, v in filter.items() if not k.startswith("$")}
            _apply(document, update)
            self.docs[document["_id"]] = document
        return Result(0)

    def find_one_and_update(
        self, filter: dict[str, Any], update: dict[str, Any], upsert: bool = False, **_: Any
    ) -> dict[str, Any] | None:
        for document in self.docs.values():
            if _matches(document, filter):
                _apply(document, update)
                return copy.deepcopy(document)
        if upsert:
            if filter["_id"] in self.docs:
                raise DuplicateKeyError("duplicate _id")
            document = {"_id": filter["_id"]}
            _apply(document, update)
            self.docs[document["_id"]] = document
        return None

    def delete_one(self, filter: dict[str, Any]) -> None:
        for key, document in list(self.docs.items()):
            if _matches(document, filter):
                del self.docs[key]
                return


# -- producer double -------------------------------------------------------------------------


class Future:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> str:
        if self.error is not None:
            raise self.error
        return "acked"


class FakeProducer:
    """Sends succeed unless `refuse` (raised by send) or `fail` (raised by the future) says otherwise."""

    def __init__(
        self,
        refuse: Callable[[bytes], BaseException | None] = lambda _v: None,
        fail: Callable[[bytes], BaseException | None] = lambda _v: None,
        on_send: Callable[[], None] = lambda: None,
    ) -> None:
        self.refuse, self.fail, self.on_send = refuse, fail, on_send
        self.acked: list[str] = []
        self.closed = False

    def send(self, topic: str, value: bytes, key: bytes, headers: Any = None) -> Future:
        self.on_send()
        refused = self.refuse(value)
        if refused is not None:
            raise refused
        error = self.fail(value)
        if error is None:
            self.acked.append(value.decode())
        return Future(error)

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(event_id: str, sequence: int = 1, value: str | None = None) -> dict[str, Any]:
    return {"id": event_id, "topic": "t", "key": "k", "value": value or event_id, "sequence": sequence}


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


def relay_of(db: FakeDatabase, producer: Any, clock: Clock | None = None, **options: Any) -> OutboxRelay:
    return OutboxRelay([db["items"]], producer, db["leases"], "me", clock=clock or Clock(), **options)


# -- branches --------------------------------------------------------------------------------


def test_published_entries_leave_the_outbox_in_sequence_order(db):
    items = db["items"]
    insert_with_outbox(items, {"_id": "a"}, [entry("a3", 3), entry("a1", 1)])
    update_with_outbox(items, {"_id": "a"}, {"$set": {"x": 1}}, [entry("a2", 2)])
    producer = FakeProducer()

    assert relay_of(db, producer).relay_once() == 3
    assert producer.acked == ["a1", "a2", "a3"]
    assert items.docs["a"][OUTBOX] == [] and items.docs["a"][PENDING] is False
    assert set(db) == {"items", "leases"}, "nothing is written beside the aggregate and the lease"


def test_entries_without_a_sequence_keep_their_written_order(db):
    insert_with_outbox(db["items"], {"_id": "a"}, [{**entry("x"), "sequence": 0}, {**entry("y")}])
    del db["items"].docs["a"][OUTBOX][1]["sequence"]
    producer = FakeProducer()
    relay_of(db, producer).relay_once()
    assert producer.acked == ["x", "y"]


def test_a_refused_send_keeps_the_rest_and_reports_a_stall_after_every_collection(db):
    insert_with_outbox(db["items"], {"_id": "a"}, [entry("a1")])
    insert_with_outbox(db["other"], {"_id": "b"}, [entry("b1")])
    producer = FakeProducer(refuse=lambda v: KafkaTimeoutError("metadata") if v == b"a1" else None)
    relay = OutboxRelay([db["items"], db["other"]], producer, db["leases"], "me", clock=Clock())

    with pytest.raises(OutboxStalled, match="items"):
        relay.relay_once()
    assert producer.acked == ["b1"], "the second collection is still published"
    assert db["items"].docs["a"][OUTBOX] == [entry("a1")] and db["items"].docs["a"][PENDING] is True
    assert relay.pending_documents(db["items"]) == [{"_id": "a", OUTBOX: [entry("a1")]}], (
        "the document stays pending for the next pass"
    )


def test_an_ack_timeout_keeps_that_entry_and_every_later_one_of_the_document(db):
    insert_with_outbox(db["items"], {"_id": "a"}, [entry("a1", 1), entry("a2", 2), entry("a3", 3)])
    insert_with_outbox(db["items"], {"_id": "b"}, [entry("b1")])
    producer = FakeProducer(fail=lambda v: KafkaTimeoutError("no ack") if v == b"a2" else None)

    with pytest.raises(OutboxStalled):
        relay_of(db, producer).relay_once()
    assert [e["id"] for e in db["items"].docs["a"][OUTBOX]] == ["a2", "a3"]
    assert db["items"].docs["b"][OUTBOX] == [], "another document is not held back"
    assert db["items"].docs["a"][PENDING] is True and db["items"].docs["b"][PENDING] is False


@pytest.mark.parametrize("where", ["send", "ack"])
def test_an_entry_that_can_never_be_sent_is_parked_and_the_others_go_out(db, where):
    big = "x" * 100
    insert_with_outbox(db["items"], {"_id": "a"}, [entry("a1", 1), entry("a2", 2, value=big), entry("a3", 3)])
    insert_with_outbox(db["items"], {"_id": "b"}, [entry("b1")])

    def too_large(value: bytes) -> BaseException | None:
        return MessageSizeTooLargeError("too large") if value == big.encode() else None

    producer = FakeProducer(**{"refuse" if where == "send" else "fail": too_large})
    relay = relay_of(db, producer)
    assert relay.relay_once() == 3, "no stall is reported for a parked entry"
    assert producer.acked == ["a1", "a3", "b1"]
    document = db["items"].docs["a"]
    assert document[OUTBOX] == [] and document[PENDING] is False
    assert [(p["id"], p["error_type"]) for p in document[PARKED]] == [("a2", "MessageSizeTooLargeError")]
    assert relay.relay_once() == 0, "a parked entry is not tried again"


def test_a_malformed_entry_is_parked(db):
    insert_with_outbox(db["items"], {"_id": "a"}, [{"id": "bad", "topic": "t"}, entry("a2", 2)])
    producer = FakeProducer()
    assert relay_of(db, producer).relay_once() == 1
    assert [p["error_type"] for p in db["items"].docs["a"][PARKED]] == ["KeyError"]


def test_flagged_documents_with_nothing_to_send_are_settled_and_do_not_block_real_ones(db):
    # Flagged but empty (an outbox emptied by a relay that died before clearing the flag), and
    # flagged without any outbox field: more of them than one pass reads.
    for i in range(150):
        db["items"].insert_one({"_id": f"empty{i:03}", OUTBOX: [], PENDING: True})
    for i in range(100):
        db["items"].insert_one({"_id": f"bare{i:03}", PENDING: True})
    insert_with_outbox(db["items"], {"_id": "zz"}, [entry("z1")])
    producer = FakeProducer()
    relay = relay_of(db, producer)

    passes = 0
    while relay.pending_documents(db["items"]) and passes < 10:
        relay.relay_once()
        passes += 1
    assert producer.acked == ["z1"]
    assert passes <= 3, "each pass settles a whole batch"
    assert not any(d[PENDING] for d in db["items"].docs.values())


def test_an_entry_pushed_after_the_look_is_never_stranded(db):
    items = db["items"]
    insert_with_outbox(items, {"_id": "a"}, [entry("a1")])

    def writer_pushes_meanwhile(filter: dict[str, Any], update: dict[str, Any]) -> None:
        if update.get("$set", {}).get(PENDING) is False and filter.get("_id") == "a":
            items.before_update = lambda _f, _u: None
            items.update_one({"_id": "a"}, {"$push": {OUTBOX: entry("a2", 2)}, "$set": {PENDING: True}})

    items.before_update = writer_pushes_meanwhile
    producer = FakeProducer()
    relay = relay_of(db, producer)
    relay.relay_once()
    assert items.docs["a"][PENDING] is True, "the late entry keeps the document pending"
    relay.relay_once()
    assert producer.acked == ["a1", "a2"]


def test_the_lease_is_renewed_during_a_long_pass_and_a_pass_stops_at_its_bound(db):
    clock = Clock()
    for i in range(30):
        insert_with_outbox(db["items"], {"_id": f"d{i:02}"}, [entry(f"e{i:02}")])

    def tick() -> None:
        clock.now += 1.0

    producer = FakeProducer(on_send=tick)
    relay = relay_of(db, producer, clock, lease_ttl=timedelta(seconds=9), send_timeout=1.0, max_pass=20.0)
    renewals: list[datetime] = []
    original = db["leases"].find_one_and_update

    def spy(*args: Any, **kwargs: Any) -> Any:
        renewals.append(datetime.now(UTC))
        return original(*args, **kwargs)

    db["leases"].find_one_and_update = spy  # type: ignore[method-assign]
    assert relay.relay_once() == 20, "sending stops once the pass has run for max_pass"
    assert len(renewals) >= 20 // 3, "renewed every third of the lease time to live"
    assert relay.relay_once() == 10


def test_a_lost_lease_stops_sending(db):
    clock = Clock()
    for i in range(10):
        insert_with_outbox(db["items"], {"_id": f"d{i}"}, [entry(f"e{i}")])
    leases = db["leases"]

    def tick_and_lose() -> None:
        clock.now += 1.0
        if clock.now >= 1003:  # another relay took over (the lease had expired meanwhile)
            leases.docs["outbox:items"].update(owner="other", until=datetime.now(UTC) + timedelta(hours=1))

    producer = FakeProducer(on_send=tick_and_lose)
    relay = relay_of(db, producer, clock, lease_ttl=timedelta(seconds=6), send_timeout=1.0)
    published = relay.relay_once()
    assert published == 4, "the documents sent before the renewal failed"
    assert sum(1 for d in db["items"].docs.values() if d[OUTBOX]) == 6
    assert relay.relay_once() == 0, "it does not take the lease back while the other holds it"


def test_readiness_fails_only_after_the_relay_has_stalled_for_the_limit(db):
    clock = Clock()
    insert_with_outbox(db["items"], {"_id": "a"}, [entry("a1")])
    broken = True
    producer = FakeProducer(fail=lambda _v: KafkaConnectionError("down") if broken else None)
    relay = relay_of(db, producer, clock, stall_limit=30.0)

    with pytest.raises(OutboxStalled):
        relay.relay_once()
    assert relay.healthy()
    clock.now += 31
    with pytest.raises(OutboxStalled):
        relay.relay_once()
    assert not relay.healthy() and relay.stalled_seconds() == 31
    broken = False
    relay.relay_once()
    assert relay.healthy() and relay.stalled_seconds() == 0


def test_an_idle_relay_is_healthy(db):
    clock = Clock()
    relay = relay_of(db, FakeProducer(), clock)
    relay.relay_once()
    clock.now += 3600
    assert relay.healthy()


# -- the producer that replaces itself -------------------------------------------------------


class WedgedFuture:
    def get(self, timeout: float | None = None) -> None:
        raise KafkaTimeoutError(f"Timeout after waiting for {timeout} secs.")


def test_a_wedged_producer_is_replaced_and_the_relay_publishes_through_the_new_one(db):
    built: list[Any] = []

    def factory() -> Any:
        producer = FakeProducer()
        if not built:
            producer.send = lambda *a, **k: WedgedFuture()  # type: ignore[method-assign]
        built.append(producer)
        return producer

    resilient = ResilientProducer(factory, client="test", failures_to_recreate=2)
    for i in range(3):
        insert_with_outbox(db["items"], {"_id": f"d{i}"}, [entry(f"e{i}")])
    relay = relay_of(db, resilient)

    with pytest.raises(OutboxStalled):
        relay.relay_once()
    assert resilient.recreated == 1 and built[0].closed
    assert relay.relay_once() == 3
    assert built[1].acked == ["e0", "e1", "e2"]


def test_record_errors_and_failures_of_a_replaced_producer_do_not_replace_it():
    built: list[FakeProducer] = []

    def factory() -> FakeProducer:
        built.append(FakeProducer(fail=lambda _v: MessageSizeTooLargeError("too large")))
        return built[-1]

    resilient = ResilientProducer(factory, failures_to_recreate=2)
    for _ in range(5):
        with pytest.raises(MessageSizeTooLargeError):
            resilient.send("t", b"v", b"k").get()
    assert resilient.recreated == 0

    timing_out = [resilient.send("t", b"v", b"k") for _ in range(3)]
    for future in timing_out[:2]:
        future._future = WedgedFuture()  # type: ignore[attr-defined]
        with pytest.raises(KafkaTimeoutError):
            future.get(0)
    assert resilient.recreated == 1 and len(built) == 1
    timing_out[2]._future = WedgedFuture()  # type: ignore[attr-defined]
    with pytest.raises(KafkaTimeoutError):
        timing_out[2].get(0)
    assert resilient.recreated == 1, "a late failure of the old producer counts for nothing"
    resilient.send("t", b"v", b"k")
    assert len(built) == 2


def test_a_success_resets_the_count_of_failures():
    outcomes = iter([KafkaTimeoutError("t"), None, KafkaTimeoutError("t"), None])
    resilient = ResilientProducer(
        lambda: FakeProducer(fail=lambda _v: next(outcomes)), failures_to_recreate=2
    )
    for _ in range(4):
        try:
            resilient.send("t", b"v", b"k").get()
        except KafkaTimeoutError:
            pass
    assert resilient.recreated == 0
