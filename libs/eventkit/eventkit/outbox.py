"""Outbox inside the aggregate document, and the relay that publishes it.

A state change and the events it causes are written in ONE single-document update (no
transactions needed): the events go into the document's `outbox` array and `outbox_pending` is
set in that same write. The relay finds pending documents through the index on `outbox_pending`
(MongoDB, and the project's FerretDB build, answer that equality from the index), so nothing else
is written beside the aggregate and nothing can be lost between two writes. The relay, in the
worker, publishes each entry with the durable
producer, in `sequence` order, waits for the broker's acknowledgement, then pulls the acknowledged
entries. A crash between publishing and pulling re-sends the same event ids; consumers are
idempotent. An entry the broker can never take is parked in `outbox_parked` rather than retried
for ever, and `outbox_pending` is cleared only by a write that finds the outbox empty.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter, Gauge
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from eventkit.envelope import Event, encode
from eventkit.kafka import is_unsendable
from eventkit.mongo import Coll, Document

log = logging.getLogger(__name__)

PUBLISHED = Counter("outbox_events_published_total", "Events published by the outbox relay", ["collection"])
PARKED_ENTRIES = Counter(
    "outbox_entries_parked_total", "Outbox entries set aside because they can never be sent", ["collection"]
)
STALLED = Gauge(
    "outbox_relay_stalled_seconds",
    "Seconds the relay has had pending entries without publishing any (0 when it keeps up)",
    multiprocess_mode="max",
)

OUTBOX = "outbox"
PENDING = "outbox_pending"


class SendFuture(Protocol):
    def get(self, timeout: float | None = None) -> Any: ...


class Producer(Protocol):
    def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> SendFuture: ...


def outbox_entry(topic: str, event: Event) -> dict[str, Any]:
    # The envelope is kept as the exact JSON text to send: it then needs none of the
    # store's key or nesting rules, and a re-send is byte-identical. Its sequence is kept beside it
    # so the relay sends an aggregate's entries in order.
    return {
        "id": event["id"],
        "topic": topic,
        "key": event["partitionkey"],
        "sequence": event["sequence"],
        "value": encode(event).decode("utf-8"),
    }


def with_outbox(document: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A new aggregate document carrying its first events."""
    return {**document, OUTBOX: list(entries), PENDING: bool(entries)}


def add_outbox(update: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """An update of an aggregate that also appends events to its outbox."""
    merged: dict[str, Any] = {op: dict(fields) for op, fields in update.items()}
    if entries:
        merged.setdefault("$push", {})[OUTBOX] = {"$each": list(entries)}
        merged.setdefault("$set", {})[PENDING] = True
    return merged


def ensure_outbox_index(collection: Coll) -> None:
    """The index the relay finds pending documents through: without it every pass reads them all."""
    collection.create_index([(PENDING, ASCENDING)], name="outbox_pending")


def insert_with_outbox(collection: Coll, document: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Insert a new aggregate carrying its first events (one write)."""
    collection.insert_one(with_outbox(document, entries))


def update_with_outbox(
    collection: Coll, filter: dict[str, Any], update: dict[str, Any], entries: list[dict[str, Any]]
) -> bool:
    """Update the aggregate `filter` names (by `_id`) together with its new events (one write);
    False if no match."""
    result = collection.update_one(filter, add_outbox(update, entries))
    return result.matched_count == 1


def acquire_lease(leases: Coll, name: str, owner: str, ttl: timedelta) -> bool:
    """Hold `name` for `ttl` unless another owner holds an unexpired lease (single-document write)."""
    now = datetime.now(UTC)
    try:
        leases.find_one_and_update(
            {"_id": name, "$or": [{"owner": owner}, {"until": {"$lt": now}}]},
            {"$set": {"owner": owner, "until": now + ttl}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        return False
    return True


# An entry the broker can never take (too large, malformed) is moved here, out of the relay's way.
PARKED = "outbox_parked"


@dataclass
class Delivery:
    """What became of the pending entries of one document, in sequence order."""

    document_id: Any
    sent: list[dict[str, Any]]
    complete: bool
    # Entries that can never be sent, with the type of the error that proves it.
    parked: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    # The document's outbox as the relay read it, in its stored order.
    read: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sent_ids(self) -> list[str]:
        return [entry["id"] for entry in self.sent]


def _unsendable(exc: BaseException) -> bool:
    # A malformed entry (a field missing or of the wrong type) fails the same way every time.
    return is_unsendable(exc) or isinstance(exc, (KeyError, TypeError, AttributeError, UnicodeError))


def _in_sequence(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Stable: entries written before sequence numbers existed keep the order they were pushed in.
    return sorted(entries, key=lambda entry: entry.get("sequence", 0))


class OutboxRelay:
    """Publishes the outboxes of some collections. One relay per collection at a time (a lease).

    A pass over a collection is bounded: it stops sending new documents after `max_pass` seconds
    and waits at most `send_timeout` for the acknowledgements. The lease is renewed between
    documents every third of its time to live, and a pass that cannot renew it stops sending, so
    a second relay never publishes the same collection meanwhile. Failures are kept per
    document: an entry that can never be sent is parked, and every collection is finished before
    the pass reports what failed.
    """

    def __init__(
        self,
        collections: list[Coll],
        producer: Producer,
        leases: Coll,
        owner: str,
        batch_size: int = 100,
        lease_ttl: timedelta = timedelta(seconds=30),
        send_timeout: float = 12.0,
        max_pass: float = 10.0,
        stall_limit: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        ttl = lease_ttl.total_seconds()
        # Between two renewals a pass may block once, on a send or on the acknowledgements.
        if send_timeout >= ttl * 2 / 3:
            raise ValueError("send_timeout must stay well below the lease's time to live")
        self.collections = collections
        self.producer = producer
        self.leases = leases
        self.owner = owner
        self.batch_size = batch_size
        self.lease_ttl = lease_ttl
        self.send_timeout = send_timeout
        self.max_pass = max_pass
        self.stall_limit = stall_limit
        self.clock = clock
        self._renew_every = ttl / 3
        self._renewed_at = 0.0
        self._stalled_since: float | None = None
        self._pass_started: float | None = None
        self.progressed = False

    # -- health -------------------------------------------------------------------------------

    def stalled_seconds(self) -> float:
        """How long pending entries have been waiting without the relay publishing any; 0 if fine."""
        now = self.clock()
        since = self._stalled_since
        started = self._pass_started
        if started is not None and now - started > self.max_pass + self.send_timeout:
            since = started if since is None else min(since, started)  # a pass that does not end
        stalled = 0.0 if since is None else now - since
        STALLED.set(stalled)
        return stalled

    def healthy(self) -> bool:
        return self.stalled_seconds() < self.stall_limit

    # -- lease --------------------------------------------------------------------------------

    def _lease_name(self, collection: Coll) -> str:
        return f"outbox:{collection.name}"

    def _acquire(self, collection: Coll) -> bool:
        if not acquire_lease(self.leases, self._lease_name(collection), self.owner, self.lease_ttl):
            return False
        self._renewed_at = self.clock()
        return True

    def _hold(self, collection: Coll) -> bool:
        """Renew the lease when a third of its time has gone; False if another relay took it."""
        if self.clock() - self._renewed_at < self._renew_every:
            return True
        if self._acquire(collection):
            return True
        log.warning("outbox lease lost", extra={"collection": collection.name})
        return False

    # -- one collection -----------------------------------------------------------------------

    def pending_documents(self, collection: Coll) -> list[Document]:
        """Up to `batch_size` documents with events to publish, through the `outbox_pending` index."""
        return list(collection.find({PENDING: True}, {OUTBOX: 1}).limit(self.batch_size))

    def publish_pending(self, collection: Coll) -> list[Delivery]:
        """Send the pending entries of up to `batch_size` documents; return what became of them."""
        if not self._hold(collection):
            return []
        documents = self.pending_documents(collection)
        stop_sending_at = self.clock() + self.max_pass
        sends: list[
            tuple[Any, list[tuple[dict[str, Any], SendFuture]], list[tuple[dict[str, Any], str]], bool]
        ]
        sends = []
        for document in documents:
            if self.clock() >= stop_sending_at or not self._hold(collection):
                break  # the rest waits for the next pass
            futures: list[tuple[dict[str, Any], SendFuture]] = []
            parked: list[tuple[dict[str, Any], str]] = []
            refused = False
            for entry in _in_sequence(document.get(OUTBOX) or []):
                try:
                    value, key = entry["value"].encode("utf-8"), entry["key"].encode("utf-8")
                    futures.append((entry, self.producer.send(entry["topic"], value=value, key=key)))
                except Exception as exc:
                    if _unsendable(exc):
                        parked.append((entry, type(exc).__name__))
                        continue
                    # The broker does not take records now: stop sending, keep what is on its way.
                    log.warning(
                        "outbox send refused",
                        extra={"collection": collection.name, "error_type": type(exc).__name__},
                    )
                    refused = True
                    break
            sends.append((document, futures, parked, not refused))
            if refused:
                break
        acknowledged_by = self.clock() + self.send_timeout
        deliveries = []
        for document, futures, parked, complete in sends:
            self._hold(collection)  # already sent: waiting for the broker publishes nothing new
            sent: list[dict[str, Any]] = []
            for entry, future in futures:
                try:
                    future.get(timeout=max(0.0, acknowledged_by - self.clock()))
                except Exception as exc:
                    if _unsendable(exc):
                        parked.append((entry, type(exc).__name__))
                        continue
                    # Keep order per aggregate: nothing after a failed entry counts as sent.
                    log.warning(
                        "outbox send failed",
                        extra={
                            "collection": collection.name,
                            "event_id": entry.get("id"),
                            "error_type": type(exc).__name__,
                        },
                    )
                    complete = False
                    break
                sent.append(entry)
            deliveries.append(Delivery(document["_id"], sent, complete, parked, document.get(OUTBOX) or []))
        return deliveries

    def clean_up(self, collection: Coll, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._hold(collection)
            if self._empty_at_once(collection, delivery):
                continue
            done = delivery.sent + [entry for entry, _ in delivery.parked]
            if done:
                # $pullAll removes exact entries; FerretDB has no conditional $pull on sub-documents.
                update: dict[str, Any] = {"$pullAll": {OUTBOX: done}}
                if delivery.parked:
                    now = datetime.now(UTC)
                    kept = [
                        {**entry, "error_type": error, "parked_at": now} for entry, error in delivery.parked
                    ]
                    update["$push"] = {PARKED: {"$each": kept}}
                collection.update_one({"_id": delivery.document_id}, update)
            for entry, error in delivery.parked:
                PARKED_ENTRIES.labels(collection.name).inc()
                log.error(
                    "outbox entry parked: it can never be sent",
                    extra={
                        "collection": collection.name,
                        "document_id": str(delivery.document_id),
                        "event_id": entry.get("id"),
                        "error_type": error,
                    },
                )
            self._settle(collection, delivery.document_id)

    def _empty_at_once(self, collection: Coll, delivery: Delivery) -> bool:
        """The usual case in one write: every entry read was sent and the outbox still holds
        exactly those, so it is emptied and the flag cleared together. Anything else (an entry
        pushed meanwhile, one parked or not sent) takes the two writes below."""
        if delivery.parked or not delivery.read or len(delivery.sent) != len(delivery.read):
            return False
        result = collection.update_one(
            {"_id": delivery.document_id, OUTBOX: delivery.read}, {"$set": {OUTBOX: [], PENDING: False}}
        )
        return result.matched_count == 1

    def _settle(self, collection: Coll, document_id: Any) -> None:
        """Clear `outbox_pending` only if the outbox is empty at that very write: a writer that
        pushed an entry meanwhile makes it miss, and the flag stays for the next pass."""
        # No outbox field at all counts as empty: a push would have created one.
        empty = [{OUTBOX: {"$size": 0}}, {OUTBOX: {"$exists": False}}]
        collection.update_one({"_id": document_id, "$or": empty}, {"$set": {PENDING: False}})

    # -- passes -------------------------------------------------------------------------------

    def relay_once(self) -> int:
        """One pass over all collections; returns the number of events published.

        Raises `OutboxStalled` after the pass if some collection could not be published."""
        published = 0
        failed: list[str] = []
        self.progressed = False
        self._pass_started = self.clock()
        try:
            for collection in self.collections:
                if not self._acquire(collection):
                    continue
                try:
                    deliveries = self.publish_pending(collection)
                    self.clean_up(collection, deliveries)
                except Exception:
                    log.warning(
                        "outbox relay failed on a collection",
                        extra={"collection": collection.name},
                        exc_info=True,
                    )
                    failed.append(collection.name)
                    continue
                count = sum(len(d.sent) for d in deliveries)
                PUBLISHED.labels(collection.name).inc(count)
                published += count
                if any(d.sent or d.parked for d in deliveries):
                    self.progressed = True
                if not all(d.complete for d in deliveries):
                    failed.append(collection.name)
        finally:
            self._pass_started = None
        if failed and not self.progressed:
            if self._stalled_since is None:
                self._stalled_since = self.clock()
        else:
            self._stalled_since = None
        self.stalled_seconds()
        if failed:
            raise OutboxStalled(f"some outbox entries of {', '.join(failed)} could not be sent")
        return published

    def run(self, stop: threading.Event, idle_interval: float = 0.3, max_backoff: float = 10.0) -> None:
        backoff = idle_interval
        while not stop.is_set():
            try:
                self.relay_once()
                backoff = idle_interval
                if self.progressed:
                    continue
            except Exception:
                log.warning("outbox relay pass failed; retrying", exc_info=True)
                backoff = min(max_backoff, backoff * 2)
            stop.wait(backoff)


class OutboxStalled(RuntimeError):
    """The broker refused or did not acknowledge some entries; the relay backs off and retries."""
