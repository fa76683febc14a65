"""Notify's copy of each dossier, fed by intake's and processing's dossier events.

It keeps only what notifications need. Each source's events are applied once each and in order:
the write is conditional on the source's sequence held (`intake_sequence`, `processing_sequence`),
so a repeated or overtaken event changes nothing. The two sources set different fields (intake the
filing, processing the workflow), so their events may arrive in any order relative to each other.
"""

from __future__ import annotations

from typing import Any

from eventkit.envelope import Event
from eventkit.mongo import Db, Document
from notify import store
from notify.events import ConsumedTypes
from notify.service import control


def _contact(applicant: Any) -> Document:
    applicant = applicant if isinstance(applicant, dict) else {}
    return {
        "full_name": applicant.get("full_name") or "",
        "email": (applicant.get("email") or "").strip() or None,
        "address": applicant.get("address") or None,
        # Printed on the control slip and the tracking register (Mẫu 05, 06).
        "phone": applicant.get("phone") or None,
    }


def _delivery(delivery: Any) -> Document:
    delivery = delivery if isinstance(delivery, dict) else {}
    return {"method": delivery.get("method") or None, "address": delivery.get("address") or None}


def _intake_fields(event_type: str, data: Document) -> Document:
    if event_type == ConsumedTypes.DOSSIER_SUBMITTED:
        return {
            "receiving_unit": data["unit"],
            "procedure_code": data["procedure_code"],
            "channel": data["channel"],
            "applicant": _contact(data.get("applicant")),
            "delivery": _delivery(data.get("delivery")),
            "submitted_at": data.get("submitted_at"),
            "intake_state": "submitted",
        }
    if event_type == ConsumedTypes.DOSSIER_WITHDRAWN:
        return {"intake_state": "withdrawn", "withdrawn_at": data.get("withdrawn_at")}
    return {"supplemented_at": data.get("supplemented_at")}


def _processing_fields(event_type: str, data: Document) -> Document:
    fields: Document = {
        name: data[name]
        for name in ("unit", "receiving_unit", "procedure_code", "channel", "state")
        if name in data
    }
    if event_type == ConsumedTypes.DOSSIER_ACCEPTED:
        fields.update(
            procedure_name=data.get("procedure_name") or None,
            received_at=data.get("received_at"),
            # As a date, for the tracking register's index (unit, received_time).
            received_time=control.instant(data.get("received_at")),
        )
        # The contact as filed, when the event carries it (intake's `submitted` has it too).
        if data.get("applicant"):
            fields["applicant"] = _contact(data["applicant"])
        if data.get("delivery"):
            fields["delivery"] = _delivery(data["delivery"])
    due = data.get("new_due_at") if event_type == ConsumedTypes.DOSSIER_EXTENDED else data.get("due_at")
    if due:
        fields["due_at"] = due
    return fields


def apply(db: Db, event: Event, data: Document) -> Document | None:
    """Apply one dossier event to the copy (made at its first event); the copy after it, None
    when the event changes nothing (a repeat or older).

    The event's control-slip row (service/control.py) goes in with the same conditional write. An
    event overtaken by a newer one of its source changes none of the copy's fields, but its row,
    which no newer event stands for, is still added once (a write conditional on its key)."""
    code = event["subject"]
    intake = event["type"] in ConsumedTypes.INTAKE
    row = None
    if event["type"] in control.ROW_OF:
        row = control.slip_row(event, data, store.get_dossier(db, code) or {})
    fields = _intake_fields(event["type"], data) if intake else _processing_fields(event["type"], data)
    sequence_field = "intake_sequence" if intake else "processing_sequence"
    applied = store.apply_to_dossier(db, code, sequence_field, event["sequence"], fields, row)
    if applied is None and row is not None:
        store.add_slip_row(db, code, row)
    return applied


def unit_of(dossier: Document) -> str | None:
    """The unit handling the dossier now (processing's), else the one that received it."""
    unit = dossier.get("unit") or dossier.get("receiving_unit")
    return str(unit) if unit else None
