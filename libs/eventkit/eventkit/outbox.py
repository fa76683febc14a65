"""Outbox inside the aggregate document, and the relay that publishes it.

A state change and the events it causes are written in ONE single-document update (no
transactions needed): the events go into the document's `outbox` array and `outbox_pending` is
set. The store then leaves a marker (`outbox_markers`, `_id` = `<collection>:<document id>`) so the
relay finds pending documents by `_id` instead of querying the aggregates (FerretDB indexes nothing
but `_id`); a periodic sweep over `outbox_pending` re-marks any document whose marker was lost
(a crash between the two writes). The relay, in the worker, publishes each entry with the durable
producer, waits for the broker's acknowledgement, then pulls the acknowledged entries. A crash
between publishing and pulling re-sends the same event ids; consumers are idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from eventkit.envelope import Event, encode
from eventkit.mongo import Coll, Document

log = logging.getLogger(__name__)

PUBLISHED = Counter("outbox_events_published_total", "Events published by the outbox relay", ["collection"])

OUTBOX = "outbox"
PENDING = "outbox_pending"
MARKERS = "outbox_markers"


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
    collection.create_index([(PENDING, ASCENDING)], name="outbox_pending")
    collection.database[MARKERS].create_index([("collection", ASCENDING)], name="collection")


def _marker_id(collection: Coll, document_id: Any) -> str:
    return f"{collection.name}:{document_id}"


def _marker(collection: Coll, document_id: Any) -> dict[str, Any]:
    return {"collection": collection.name, "document": document_id, "at": datetime.now(UTC)}


def mark_pending(collection: Coll, document_id: Any) -> None:
    """Tell the relay that a document has events to publish (after writing them into it)."""
    collection.database[MARKERS].update_one(
        {"_id": _marker_id(collection, document_id)}, {"$set": _marker(collection, document_id)}, upsert=True
    )


def insert_with_outbox(collection: Coll, document: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Insert a new aggregate carrying its first events, and mark it for the relay."""
    collection.insert_one(with_outbox(document, entries))
    if entries:
        # A new document has no marker yet: a plain insert costs the store less than an upsert.
        marker = {"_id": _marker_id(collection, document["_id"]), **_marker(collection, document["_id"])}
        try:
            collection.database[MARKERS].insert_one(marker)
        except DuplicateKeyError:
            pass  # a marker is there already: the relay looks at the document either way


def update_with_outbox(
    collection: Coll, filter: dict[str, Any], update: dict[str, Any], entries: list[dict[str, Any]]
) -> bool:
    """Update the aggregate `filter` names (by `_id`) together with its new events; False if no match."""
    result = collection.update_one(filter, add_outbox(update, entries))
    if result.matched_count == 1 and entries:
        mark_pending(collection, filter["_id"])
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


@dataclass
class Delivery:
    """The entries of one document that the broker acknowledged, in order."""

    document_id: Any
    sent: list[dict[str, str]]
    complete: bool

    @property
    def sent_ids(self) -> list[str]:
        return [entry["id"] for entry in self.sent]


class OutboxRelay:
    """Publishes the outboxes of some collections. One relay per collection at a time (a lease)."""

    def __init__(
        self,
        collections: list[Coll],
        producer: Producer,
        leases: Coll,
        owner: str,
        batch_size: int = 100,
        lease_ttl: timedelta = timedelta(seconds=30),
        send_timeout: float = 20.0,
        sweep_every: float = 300.0,
    ) -> None:
        self.collections = collections
        self.producer = producer
        self.leases = leases
        self.owner = owner
        self.batch_size = batch_size
        self.lease_ttl = lease_ttl
        self.send_timeout = send_timeout
        self.sweep_every = sweep_every
        self._next_sweep: dict[str, float] = {}

    def _sweep(self, collection: Coll) -> None:
        """Re-mark documents whose marker was lost; at start and every `sweep_every` seconds."""
        if time.monotonic() < self._next_sweep.get(collection.name, 0.0):
            return
        for document in collection.find({PENDING: True}, {"_id": 1}):
            mark_pending(collection, document["_id"])
        self._next_sweep[collection.name] = time.monotonic() + self.sweep_every

    def pending_documents(self, collection: Coll) -> list[Document]:
        self._sweep(collection)
        markers = collection.database[MARKERS].find({"collection": collection.name}).limit(self.batch_size)
        found = (collection.find_one({"_id": marker["document"]}, {OUTBOX: 1}) for marker in list(markers))
        return [document for document in found if document is not None]

    def publish_pending(self, collection: Coll) -> list[Delivery]:
        """Send every pending entry of up to `batch_size` documents; return what was acknowledged."""
        documents = self.pending_documents(collection)
        sends: list[tuple[Any, list[tuple[dict[str, str], SendFuture]], bool]] = []
        for document in documents:
            entries = document.get(OUTBOX, [])
            futures: list[tuple[dict[str, str], SendFuture]] = []
            try:
                for entry in entries:
                    value, key = entry["value"].encode("utf-8"), entry["key"].encode("utf-8")
                    futures.append((entry, self.producer.send(entry["topic"], value=value, key=key)))
            except Exception:
                # The broker is unreachable: stop sending, but keep what is already on its way.
                log.warning("outbox send refused", exc_info=True)
                sends.append((document["_id"], futures, False))
                break
            sends.append((document["_id"], futures, True))
        deliveries = []
        for document_id, futures, all_sent in sends:
            sent: list[dict[str, str]] = []
            complete = all_sent
            for entry, future in futures:
                try:
                    future.get(timeout=self.send_timeout)
                except Exception:
                    # Keep order per aggregate: nothing after a failed entry counts as sent.
                    log.warning("outbox send failed", extra={"event_id": entry["id"]}, exc_info=True)
                    complete = False
                    break
                sent.append(entry)
            deliveries.append(Delivery(document_id, sent, complete))
        return deliveries

    def clean_up(self, collection: Coll, deliveries: list[Delivery]) -> None:
        markers = collection.database[MARKERS]
        for delivery in deliveries:
            if delivery.sent:
                # $pullAll removes exact entries; FerretDB has no conditional $pull on sub-documents.
                collection.update_one({"_id": delivery.document_id}, {"$pullAll": {OUTBOX: delivery.sent}})
            # The marker goes before the look at what is left: a writer adding events after that look
            # leaves its own marker after this deletion, so nothing is left unmarked.
            markers.delete_one({"_id": _marker_id(collection, delivery.document_id)})
            left = collection.find_one({"_id": delivery.document_id}, {OUTBOX: 1})
            if left is not None and left.get(OUTBOX):
                mark_pending(collection, delivery.document_id)
            else:
                collection.update_one({"_id": delivery.document_id}, {"$set": {PENDING: False}})

    def relay_once(self) -> int:
        """One pass over all collections; returns the number of events published."""
        published = 0
        for collection in self.collections:
            if not acquire_lease(self.leases, f"outbox:{collection.name}", self.owner, self.lease_ttl):
                continue
            deliveries = self.publish_pending(collection)
            self.clean_up(collection, deliveries)
            count = sum(len(d.sent) for d in deliveries)
            PUBLISHED.labels(collection.name).inc(count)
            published += count
            if not all(d.complete for d in deliveries):
                raise OutboxStalled(f"some outbox entries of {collection.name} could not be sent")
        return published

    def run(self, stop: threading.Event, idle_interval: float = 0.3, max_backoff: float = 10.0) -> None:
        backoff = idle_interval
        while not stop.is_set():
            try:
                published = self.relay_once()
                backoff = idle_interval
                if published:
                    continue
            except Exception:
                log.warning("outbox relay pass failed; retrying", exc_info=True)
                backoff = min(max_backoff, backoff * 2)
            stop.wait(backoff)


class OutboxStalled(RuntimeError):
    """The broker refused or did not acknowledge some entries; the relay backs off and retries."""
