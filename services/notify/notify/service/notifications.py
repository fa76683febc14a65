"""Notifications made from dossier events, their status events, and the staff's view of them.

A notification's `_id` is derived from (event id, recipient, template), so an event delivered any
number of times makes each of its notifications once: the second insert of an id changes nothing.
Every status change is one conditional write of the notification together with its status event
(`vn.motcua.notify.notification.<status>.v1`, in its outbox, numbered by its `sequence`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eventkit.auth import Staff
from eventkit.envelope import Event, caused_by, jsonable
from eventkit.errors import Forbidden, NotFound, TransientError
from eventkit.mongo import Db, Document
from eventkit.outbox import outbox_entry
from eventkit.redact import scrub
from eventkit.topics import Topics
from notify import store
from notify.events import ConsumedTypes, status_event_type
from notify.service import dossiers, letters, slips
from notify.service.triggers import CITIZEN, Channels, Intent, intents_for, needs_contact

SOURCE = "/services/notify"
NAMESPACE = uuid.UUID("6f1c2a52-8a1e-4d53-9a55-3f0f7f0b1c11")
LIST_LIMIT = 500


class Statuses:
    CREATED = "created"
    SENDING = "sending"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"
    TECHNICAL_FAILURE = "technical-failure"
    # Not sent on this channel at all (a citizen without an email address); `skip_reason` says why.
    SKIPPED = "skipped"
    # Statuses from which the sender tries (again) once `send_after` has come.
    DUE = (CREATED, TEMPORARY_FAILURE)


class SkipReasons:
    NO_EMAIL = "no-email-address"


def notification_id(event_id: str, recipient_key: str, template: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event_id}|{recipient_key}|{template}"))


def status_entries(notification: Document, status: str, sequence: int, **extra: Any) -> list[dict[str, Any]]:
    """The status event of `notification` entering `status`, as an outbox entry."""
    recipient = notification.get("recipient") or {}
    data = {
        "id": notification["_id"],
        "channel": notification["channel"],
        "template": notification["template"],
        "template_version": notification.get("template_version"),
        "dossier": notification["dossier"],
        "unit": notification.get("unit"),
        "event_id": notification["event_id"],
        # Who, without the address: the applicant, or a staff member's user id.
        "recipient": {"kind": recipient.get("kind"), "user_id": recipient.get("user_id")},
        "status": status,
        "attempts": notification.get("attempts", 0),
        "reason": notification.get("reason"),
        **extra,
    }
    cause = {
        "id": notification["event_id"],
        "correlationid": notification.get("correlationid") or notification["event_id"],
    }
    event = caused_by(
        cause,
        type=status_event_type(status),
        source=SOURCE,
        subject=notification["_id"],
        data=jsonable(data),
        sequence=sequence,
    )
    return [outbox_entry(Topics.NOTIFY_NOTIFICATIONS.name, event)]


def public_error(error: Document | None) -> Document | None:
    """An error as the status event carries it: the reply scrubbed of addresses and quoted values."""
    if not error:
        return None
    return {
        "kind": error.get("kind"),
        "smtp_code": error.get("smtp_code"),
        "message": scrub(str(error.get("message") or "")),
    }


def _notification(
    event: Event, intent: Intent, dossier: Document, version: str | None, now: datetime
) -> Document:
    email = intent.recipient.get("email")
    status = Statuses.CREATED if email else Statuses.SKIPPED
    return {
        "_id": notification_id(event["id"], intent.recipient_key, intent.template),
        "channel": Channels.EMAIL,
        "template": intent.template,
        "template_version": version,
        "dossier": event["subject"],
        "unit": intent.personalisation.get("unit") or dossiers.unit_of(dossier),
        "event_id": event["id"],
        "event_type": event["type"],
        "correlationid": event.get("correlationid"),
        "recipient": intent.recipient,
        "reason": intent.reason,
        "personalisation": intent.personalisation,
        "attachments": list(intent.attachments),
        "status": status,
        "skip_reason": None if email else SkipReasons.NO_EMAIL,
        "attempts": 0,
        "send_after": now if email else None,
        "lease_until": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
        "sequence": 1,
    }


def handle_dossier_event(
    db: Db,
    event: Event,
    data: Document,
    version_of: Callable[[str], str | None],
    now: datetime | None = None,
    slip_settings: slips.SlipSettings | None = None,
) -> list[str]:
    """Apply a dossier event to notify's copy and make its notifications, and record the letter
    (legal slip) it owes the citizen when `slip_settings` are given; the notification ids made now."""
    now = now or datetime.now(UTC)
    # The copy as the event left it; read again only when the event changed nothing.
    dossier = dossiers.apply(db, event, data) or store.get_dossier(db, event["subject"]) or {}
    unit = None
    if event["type"] == ConsumedTypes.RESULT_ISSUED:  # the result email says where to collect it
        unit = store.get_unit(db, str(dossier.get("receiving_unit") or data.get("receiving_unit") or ""))
    intents = intents_for(event, data, dossier, unit)
    if intents and needs_contact(event) and not dossier.get("applicant"):
        # The filing (intake's `submitted`) has not reached notify yet: this waits for it.
        raise TransientError("the dossier's filing has not arrived yet")
    if slip_settings is not None:
        _record_slip(db, event, data, dossier, slip_settings, now)
    made = []
    for intent in intents:
        notification = _notification(event, intent, dossier, version_of(intent.template), now)
        if store.insert_notification(
            db, notification, status_entries(notification, notification["status"], 1)
        ):
            made.append(notification["_id"])
    return made


def _record_slip(
    db: Db, event: Event, data: Document, dossier: Document, settings: slips.SlipSettings, now: datetime
) -> None:
    def lookup(kind: str, code: str) -> Document | None:
        return store.get_unit(db, code) if kind == "units" else store.get_procedure(db, code)

    def register_entry() -> int:
        unit = str(data.get("receiving_unit") or dossier.get("receiving_unit") or "")
        return store.tracking_entry(db, unit, now.astimezone(slips.TZ).year, event["subject"], now)

    request = slips.slip_letter(event, data, dossier, lookup, settings, register_entry)
    if request is not None:
        letters.create(db, request, now)


def _view(notification: Document) -> Document:
    recipient = notification.get("recipient") or {}
    return {
        "id": notification["_id"],
        "channel": notification["channel"],
        "template": notification["template"],
        "template_version": notification.get("template_version"),
        "dossier": notification["dossier"],
        "event_type": notification.get("event_type"),
        "recipient": {
            "kind": recipient.get("kind") or CITIZEN,
            "name": recipient.get("name") or "",
            "email": recipient.get("email"),
            "user_id": recipient.get("user_id"),
        },
        "reason": notification.get("reason") or "",
        "status": notification["status"],
        "skip_reason": notification.get("skip_reason"),
        "attempts": notification.get("attempts", 0),
        "error": notification.get("error"),
        "created_at": notification["created_at"],
        "sent_at": notification.get("sent_at"),
    }


def list_for_dossier(db: Db, code: str, staff: Staff) -> list[Document]:
    """A dossier's notifications, for staff of the unit handling it or of the one that received it."""
    dossier = store.get_dossier(db, code)
    if dossier is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.")
    units = {u for u in (dossier.get("unit"), dossier.get("receiving_unit")) if u}
    if not units & staff.units:
        raise Forbidden("Tài khoản không thuộc đơn vị xử lý hồ sơ này.")
    return [_view(n) for n in store.notifications_of_dossier(db, code, LIST_LIMIT)]
