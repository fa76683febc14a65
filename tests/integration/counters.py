"""A tiny aggregate for the platform tests: a counter document whose events carry a number `seq`
(from 0; the envelope's `sequence`, which starts at 1, is `seq + 1`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from eventkit.consumer import Handler
from eventkit.envelope import Event, new_event
from eventkit.inbox import apply_once
from eventkit.mongo import Coll
from eventkit.outbox import add_outbox, outbox_entry, with_outbox

INCREMENTED = "vn.motcua.test.counter.incremented.v1"


class IncrementedSchema(Schema):
    seq = fields.Integer(required=True)


def incremented(key: str, seq: int) -> Event:
    return new_event(type=INCREMENTED, source="/tests", subject=key, data={"seq": seq}, sequence=seq + 1)


def record_increment(aggregates: Coll, topic: str, key: str, seq: int) -> Event:
    """The producing side: state change and its event in one single-document write."""
    event = incremented(key, seq)
    entries = [outbox_entry(topic, event)]
    if aggregates.count_documents({"_id": key}, limit=1):
        aggregates.update_one({"_id": key}, add_outbox({"$set": {"seq": seq}}, entries))
    else:
        aggregates.insert_one(with_outbox({"_id": key, "seq": seq}, entries))
    return event


def counting_handler(projection: Coll, seen: list[tuple[str, int, bool]]) -> Handler:
    """The consuming side: counts each event once per key, and notes every delivery."""

    def handle(event: Event, data: dict[str, Any]) -> None:
        applied = apply_once(projection, event["subject"], {"$inc": {"count": 1}}, event["id"], upsert=True)
        seen.append((event["subject"], data["seq"], applied))

    return Handler(IncrementedSchema(), handle)
