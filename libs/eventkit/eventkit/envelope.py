"""CloudEvents 1.0 envelope in structured JSON mode.

Every event carries `correlationid` (one business flow), `causationid` (the event that caused it),
`partitionkey` (the aggregate id, also the Kafka message key, so order holds per aggregate) and
`sequence` (its position in its aggregate's history, from 1): retries and re-sends reorder events,
so a consumer that keeps state applies an event only when its sequence is newer than what it holds.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
DATA_CONTENT_TYPE = "application/json"
TYPE_PATTERN = r"^vn\.motcua\.[a-z]+\.[a-z_]+\.[a-z_]+\.v[0-9]+$"

Event = dict[str, Any]


class InvalidEvent(ValueError):
    """The bytes are not a valid envelope: undecodable JSON or a schema violation."""


class EnvelopeSchema(Schema):
    class Meta:
        # CloudEvents lets producers add extension attributes; a reader keeps what it does not know.
        unknown = INCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1))
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    type = fields.String(required=True, validate=validate.Regexp(TYPE_PATTERN))
    time = fields.String(required=True, validate=validate.Length(min=1))
    subject = fields.String(required=True, validate=validate.Length(min=1))
    datacontenttype = fields.String(load_default=DATA_CONTENT_TYPE)
    data = fields.Dict(required=True)
    correlationid = fields.String(required=True, validate=validate.Length(min=1))
    causationid = fields.String(required=True, validate=validate.Length(min=1))
    partitionkey = fields.String(required=True, validate=validate.Length(min=1))
    # An Integer extension attribute (CloudEvents' type system), not the deprecated string `sequence`
    # extension: consumers compare numbers, and a string comparison would put 10 before 9.
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


_schema = EnvelopeSchema()


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_event(
    *,
    type: str,
    source: str,
    subject: str,
    data: dict[str, Any],
    sequence: int,
    correlationid: str | None = None,
    causationid: str | None = None,
) -> Event:
    """Build an envelope, the `sequence`-th event of aggregate `subject`; an event that starts a flow
    is its own correlation and cause."""
    event_id = str(uuid.uuid4())
    event: Event = {
        "id": event_id,
        "source": source,
        "specversion": SPECVERSION,
        "type": type,
        "time": utc_now_iso(),
        "subject": subject,
        "datacontenttype": DATA_CONTENT_TYPE,
        "data": data,
        "correlationid": correlationid or event_id,
        "causationid": causationid or correlationid or event_id,
        "partitionkey": subject,
        "sequence": sequence,
    }
    errors = _schema.validate(event)
    if errors:
        raise InvalidEvent(f"invalid envelope: {errors}")
    return event


def caused_by(
    cause: Event, *, type: str, source: str, subject: str, data: dict[str, Any], sequence: int
) -> Event:
    """An event produced while handling `cause`: same correlation, caused by it."""
    return new_event(
        type=type,
        source=source,
        subject=subject,
        data=data,
        sequence=sequence,
        correlationid=cause["correlationid"],
        causationid=cause["id"],
    )


def jsonable(value: Any) -> Any:
    """Dates and times as ISO 8601 strings, recursively, so a payload encodes as JSON."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def encode(event: Event) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(raw: bytes | None) -> Event:
    if raw is None:
        raise InvalidEvent("empty message")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidEvent("envelope is not a JSON object")
    try:
        loaded: Event = _schema.load(payload)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid envelope: {exc.messages}") from exc
    return loaded
