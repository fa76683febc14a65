"""Each dossier's public status, fed by intake's and processing's dossier events.

It keeps what the public lookup shows and nothing else of the applicant: the masked name
(service/names.py) and the lookup secret's hash. No ID number, date of birth, phone, email or
address, no form values or documents, and no officer's name.

Each source's events are applied once each and in order: the write is conditional on the
source's sequence held (`intake_sequence`, `processing_sequence`, `eventkit.inbox.apply_newer_document`), so
a repeated or overtaken event changes no field. The two sources set different fields (intake the
filing, supplements and withdrawal; processing the workflow), so their events may arrive in any
order relative to each other; the public state is derived from both when read. Every event that
is a step the citizen sees is kept under its own key (`steps.<source>-<sequence>`), also when an
overtaken event arrives late: the steps do not depend on the order of arrival either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventkit.envelope import Event
from eventkit.mongo import Db, Document
from eventkit.secrets import ITERATIONS, hash_secret, new_lookup_secret, verify_secret
from portal import store
from portal.events import ConsumedTypes, verb_of
from portal.service import letters
from portal.service.names import mask_name

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Processing's final states: nothing follows them.
DECIDED = ("returned", "rejected", "stopped")
FINAL = (*DECIDED, "refused", "withdrawn")

STATE_LABELS = {
    "submitted": "Đã nộp, chờ tiếp nhận",
    "accepted": "Đã tiếp nhận",
    "supplement_requested": "Cần bổ sung hồ sơ",
    "supplemented": "Đã bổ sung hồ sơ, đang xử lý",
    "in_progress": "Đang xử lý",
    "awaiting_approval": "Đang xử lý",
    "approved": "Đang xử lý",
    "result_ready": "Đã có kết quả, chờ trả",
    "returned": "Đã trả kết quả",
    "refused": "Từ chối tiếp nhận",
    "rejected": "Không giải quyết",
    "stopped": "Dừng giải quyết",
    "withdrawn": "Đã rút hồ sơ",
}

STEP_LABELS = {
    "submitted": "Nộp hồ sơ",
    "accepted": "Tiếp nhận hồ sơ",
    "supplement_requested": "Yêu cầu bổ sung hồ sơ",
    "supplemented": "Bổ sung hồ sơ",
    "in_progress": "Đang xử lý",
    "extended": "Gia hạn, hẹn lại ngày trả kết quả",
    "result_issued": "Có kết quả giải quyết",
    "returned": "Trả kết quả",
    "refused": "Từ chối tiếp nhận",
    "rejected": "Không giải quyết",
    "stopped": "Dừng giải quyết",
    "withdrawn": "Rút hồ sơ",
}

TIMELINESS_LABELS = {
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "in_time": "Trong hạn",
    "overdue": "Quá hạn",
}

# The public step each processing verb is; approved, due_soon and overdue are none (the first
# stays inside the office, the warnings are for its staff).
STEP_OF_VERB = {
    "accepted": "accepted",
    "supplement_requested": "supplement_requested",
    "refused": "refused",
    "assigned": "in_progress",
    "transferred": "in_progress",
    "extended": "extended",
    "result_issued": "result_issued",
    "returned": "returned",
    "rejected": "rejected",
    "stopped": "stopped",
}

STEP_OF_INTAKE = {
    ConsumedTypes.DOSSIER_SUBMITTED: ("submitted", "submitted_at"),
    ConsumedTypes.DOSSIER_SUPPLEMENTED: ("supplemented", "supplemented_at"),
    ConsumedTypes.DOSSIER_WITHDRAWN: ("withdrawn", "withdrawn_at"),
}


def instant(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset as an aware datetime; None when missing or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _event_time(event: Event, data: Document, *names: str) -> datetime | None:
    for name in (*names, "at"):
        moment = instant(data.get(name))
        if moment is not None:
            return moment
    return instant(event.get("time"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class Change:
    """What one event sets on the status, by how it may be applied.

    `latest`: fields that follow the source's newest event (state, current unit), set only by an
    event newer than the one applied. `once`: what only this event says (when it was
    received, resolved, the filing's details), set whatever the order, so an event overtaken by a
    newer one still leaves them; each is set by one event of the dossier, with one value. `newest`:
    times kept at their latest (`$max`: supplements asked and brought, which may repeat).
    """

    latest: Document = field(default_factory=dict)
    once: Document = field(default_factory=dict)
    newest: Document = field(default_factory=dict)
    # The due time, which only some events carry: it follows the newest event that carries one
    # (`due_sequence`), so an overtaken event that does still sets it over an older one.
    due_at: datetime | None = None


def _present(fields: Document) -> Document:
    return {name: value for name, value in fields.items() if value is not None}


def intake_change(event_type: str, data: Document) -> Change:
    """What an intake event sets (its payload's personal data reduced to the masked name)."""
    if event_type == ConsumedTypes.DOSSIER_SUBMITTED:
        applicant = data.get("applicant")
        applicant = applicant if isinstance(applicant, dict) else {}
        once = {
            "procedure_code": _text(data.get("procedure_code")),
            "receiving_unit": _text(data.get("unit")),
            "channel": _text(data.get("channel")),
            "submitted_at": instant(data.get("submitted_at")),
            "applicant_name": mask_name(applicant.get("full_name")),
            "lookup_secret_hash": _text(data.get("lookup_secret_hash")),
        }
        return Change(once=_present(once))
    if event_type == ConsumedTypes.DOSSIER_WITHDRAWN:
        # A withdrawal ends the filing for good: a mark that no other event of intake takes back.
        return Change(once=_present({"withdrawn": True, "withdrawn_at": instant(data.get("withdrawn_at"))}))
    return Change(newest=_present({"supplemented_at": instant(data.get("supplemented_at"))}))


def processing_change(event_type: str, data: Document) -> Change:
    """What a processing event sets: the workflow's state, units and times."""
    verb = verb_of(event_type)
    change = Change(latest=_present({"processing_state": _text(data.get("state"))}))
    if _text(data.get("unit")):
        change.latest["current_unit"] = data["unit"]
    for name in ("receiving_unit", "procedure_code", "channel"):
        if _text(data.get(name)):
            change.once[name] = data[name]
    if verb == "accepted":
        change.once["received_at"] = instant(data.get("received_at")) or instant(data.get("at"))
        if _text(data.get("procedure_name")):
            change.once["procedure_name"] = data["procedure_name"]
    elif verb == "supplement_requested":
        change.newest = _present({"supplement_requested_at": instant(data.get("at"))})
    elif verb == "extended":
        change.once["extended"] = True
    elif verb in (*DECIDED, "refused"):
        change.once["resolved_at"] = instant(data.get("resolved_at")) or instant(data.get("at"))
        if data.get("timeliness") in ("early", "on_time", "late"):
            change.once["timeliness"] = data["timeliness"]
        if verb == "returned" and _text(data.get("method")):
            change.once["return_method"] = data["method"]
    change.due_at = instant(data.get("new_due_at") if verb == "extended" else data.get("due_at"))
    change.once = _present(change.once)
    return change


def step_of(event: Event, data: Document) -> tuple[str, Document] | None:
    """The event's public step as (key, step), or None when it is no step the citizen sees."""
    event_type = event["type"]
    if event_type in STEP_OF_INTAKE:
        intake_kind, time_field = STEP_OF_INTAKE[event_type]
        return f"intake-{event['sequence']}", {
            "step": intake_kind,
            "at": _event_time(event, data, time_field),
        }
    kind = STEP_OF_VERB.get(verb_of(event_type))
    if kind is None:
        return None
    time_names = {"accepted": ("received_at",), "refused": ("resolved_at",)}.get(kind, ())
    if kind in DECIDED:
        time_names = ("resolved_at",)
    step: Document = {"step": kind, "at": _event_time(event, data, *time_names)}
    if kind in ("accepted", "in_progress") and _text(data.get("unit")):
        step["unit"] = data["unit"]
    if kind == "accepted" and instant(data.get("due_at")):
        step["due_at"] = instant(data["due_at"])
    if kind == "extended" and instant(data.get("new_due_at")):
        step["due_at"] = instant(data["new_due_at"])
    if kind == "returned" and _text(data.get("method")):
        step["method"] = data["method"]
    return f"processing-{event['sequence']}", step


def apply(db: Db, event: Event, data: Document) -> bool:
    """Apply one dossier event to its public status; False when it is not newer than its source's
    applied event (a repeat, or overtaken): then only what it alone says is set, and its step."""
    code = event["subject"]
    intake = event["type"] in ConsumedTypes.INTAKE
    change = intake_change(event["type"], data) if intake else processing_change(event["type"], data)
    step = step_of(event, data)
    if step is not None:
        change.once[f"steps.{step[0]}"] = step[1]
    sequence_field = "intake_sequence" if intake else "processing_sequence"
    sequence = event["sequence"]
    fields = {**change.latest, **change.once}
    if change.due_at is not None:
        # Newer than every event of its source applied, so newer than the due time held too.
        fields.update(due_at=change.due_at, due_sequence=sequence)
    if store.apply_to_dossier(db, code, sequence_field, sequence, _update(fields, change.newest)):
        return True
    if change.once or change.newest:
        store.update_dossier(db, code, _update(change.once, change.newest))
    if change.due_at is not None:
        store.apply_to_dossier(db, code, "due_sequence", sequence, {"$set": {"due_at": change.due_at}})
    return False


def _update(fields: Document, newest: Document) -> Document:
    update: Document = {}
    if fields:
        update["$set"] = fields
    if newest:
        update["$max"] = newest
    return update


# -- reading ---------------------------------------------------------------------------------------


def public_state(doc: Document) -> str:
    """The state the citizen sees, from both sources' fields."""
    processing = doc.get("processing_state")
    if processing in FINAL:
        return str(processing)
    if doc.get("withdrawn"):
        return "withdrawn"
    if processing == "supplement_requested":
        # Processing publishes nothing when the supplement arrives: intake's event says it did.
        asked, brought = instant(doc.get("supplement_requested_at")), instant(doc.get("supplemented_at"))
        if asked is not None and brought is not None and brought >= asked:
            return "supplemented"
    return str(processing or "submitted")


def timeliness(doc: Document, now: datetime) -> str | None:
    """`early` / `on_time` / `late` for a decided dossier (as processing gave it, else by
    `deadlines.classify`'s rule); `in_time` / `overdue` for an open one with a due time."""
    due = instant(doc.get("due_at"))
    state = public_state(doc)
    if state in DECIDED:
        if doc.get("timeliness"):
            return str(doc["timeliness"])
        resolved = instant(doc.get("resolved_at"))
        if due is None or resolved is None:
            return None
        return classify(due, resolved)
    if state in FINAL or due is None:
        return None
    if state == "supplement_requested":
        # The clock stops while the applicant is asked: overdue only if it was before the request.
        asked = instant(doc.get("supplement_requested_at"))
        now = asked if asked is not None and asked < now else now
    return "overdue" if now > due else "in_time"


def classify(due: datetime, resolved: datetime) -> str:
    """Processing's `deadlines.classify`: late after the due time, early on an earlier local day."""
    due_local, resolved_local = due.astimezone(TZ), resolved.astimezone(TZ)
    if resolved_local > due_local:
        return "late"
    return "early" if resolved_local.date() < due_local.date() else "on_time"


def steps(doc: Document) -> list[Document]:
    """The steps in the order they happened (then in each source's order)."""
    kept = doc.get("steps") or {}

    def order(item: tuple[str, Document]) -> tuple[datetime, int, int]:
        source, _, sequence = item[0].partition("-")
        at = instant(item[1].get("at")) or datetime.min.replace(tzinfo=TZ)
        return at, 0 if source == "intake" else 1, int(sequence) if sequence.isdigit() else 0

    return [
        {**step, "label": STEP_LABELS.get(str(step.get("step")), str(step.get("step")))}
        for _, step in sorted(kept.items(), key=order)
    ]


def public_view(doc: Document, now: datetime, procedure_name: str | None = None) -> Document:
    """What the lookup shows of a dossier (never the secret's hash)."""
    state = public_state(doc)
    kept_timeliness = timeliness(doc, now)
    return {
        "code": doc["_id"],
        "procedure_code": doc.get("procedure_code"),
        "procedure_name": doc.get("procedure_name") or procedure_name,
        "receiving_unit": doc.get("receiving_unit"),
        "current_unit": doc.get("current_unit") or doc.get("receiving_unit"),
        "channel": doc.get("channel"),
        "applicant_name": doc.get("applicant_name") or "",
        "state": state,
        "state_label": STATE_LABELS.get(state, state),
        "submitted_at": instant(doc.get("submitted_at")),
        "received_at": instant(doc.get("received_at")),
        "due_at": instant(doc.get("due_at")),
        "extended": bool(doc.get("extended")),
        "resolved_at": instant(doc.get("resolved_at")) or instant(doc.get("withdrawn_at")),
        "return_method": doc.get("return_method"),
        "timeliness": kept_timeliness,
        "timeliness_label": TIMELINESS_LABELS.get(kept_timeliness) if kept_timeliness else None,
        "steps": steps(doc),
    }


# A hash of the current iteration count that no secret is known for: an unknown code is checked
# against it, so it costs what a wrong secret costs.
_DUMMY_HASH = hash_secret(new_lookup_secret(), ITERATIONS)


def verified_dossier(db: Db, code: str, secret: str) -> Document | None:
    """The dossier if `secret` is its lookup secret; None for a wrong secret and an unknown code
    alike, after the same work (one read by `_id`, one hash check)."""
    typed = secret if isinstance(secret, str) else ""
    doc = store.get_dossier(db, code) if isinstance(code, str) and code else None
    hashed = doc.get("lookup_secret_hash") if doc else None
    if not isinstance(hashed, str) or not hashed:
        verify_secret(typed, _DUMMY_HASH)
        return None
    return doc if verify_secret(typed, hashed) else None


def lookup(db: Db, code: str, secret: str, now: datetime | None = None) -> Document | None:
    """The public status of dossier `code` if `secret` is its lookup secret, else None."""
    doc = verified_dossier(db, code, secret)
    if doc is None:
        return None
    now = now or datetime.now(TZ)
    procedure = None
    if not doc.get("procedure_name") and doc.get("procedure_code"):
        procedure = store.get_published(db, store.PROCEDURES, str(doc["procedure_code"]))
    view = public_view(doc, now, procedure_name=(procedure or {}).get("name"))
    view["letters"] = letters.letters_of(db, doc["_id"])
    view["notifications"] = letters.notifications_of(db, doc["_id"])
    return view
