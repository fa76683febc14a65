"""Which notifications a dossier event causes (pure): the template, the recipient, and why.

Citizens are written to about their own dossier (the contact data of notify's copy); staff about
deadlines, each person the event's `recipients` names. The `reason` is said in the message and kept
with the notification. A channel is chosen per notification: `email` when the recipient has an
address; letters (by post) will take the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventkit.envelope import Event
from eventkit.mongo import Document
from notify.events import ConsumedTypes


class Templates:
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    REFUSED = "refused"
    EXTENDED = "extended"
    RESULT_ISSUED = "result_issued"
    RETURNED = "returned"
    REJECTED = "rejected"
    STOPPED = "stopped"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class Channels:
    EMAIL = "email"
    LETTER = "letter"


CITIZEN = "citizen"
STAFF = "staff"

# The citizen's template for each processing event that concerns them.
CITIZEN_TEMPLATE_OF = {
    ConsumedTypes.DOSSIER_ACCEPTED: Templates.ACCEPTED,
    ConsumedTypes.SUPPLEMENT_REQUESTED: Templates.SUPPLEMENT_REQUESTED,
    ConsumedTypes.DOSSIER_REFUSED: Templates.REFUSED,
    ConsumedTypes.DOSSIER_EXTENDED: Templates.EXTENDED,
    ConsumedTypes.RESULT_ISSUED: Templates.RESULT_ISSUED,
    ConsumedTypes.DOSSIER_RETURNED: Templates.RETURNED,
    ConsumedTypes.DOSSIER_REJECTED: Templates.REJECTED,
    ConsumedTypes.DOSSIER_STOPPED: Templates.STOPPED,
}
STAFF_TEMPLATE_OF = {
    ConsumedTypes.DOSSIER_DUE_SOON: Templates.DUE_SOON,
    ConsumedTypes.DOSSIER_OVERDUE: Templates.OVERDUE,
}

# The slip each citizen's email carries (Circular 01/2018: Mẫu 01 receipt and appointment, 02
# supplement request, 03 refusal, 04 apology and new appointment), once letters render them.
SLIPS = {
    Templates.ACCEPTED: ("receipt_slip",),
    Templates.SUPPLEMENT_REQUESTED: ("supplement_request",),
    Templates.REFUSED: ("refusal",),
    Templates.EXTENDED: ("apology",),
    # The written reasons a decision not to resolve, or to stop, owes the citizen (service/slips.py).
    Templates.REJECTED: ("rejection_notice",),
    Templates.STOPPED: ("stop_notice",),
}
# The signed result, attached to the `result_issued` email of a dossier delivered online.
RESULT_ATTACHMENT = "result"

# Why each notification was sent, told to its reader.
REASONS = {
    Templates.RECEIVED: "Bạn nhận được thư này vì đã nộp trực tuyến hồ sơ {code} và khai địa chỉ email này.",
    Templates.ACCEPTED: "Bạn nhận được thư này vì hồ sơ {code} của bạn đã được tiếp nhận.",
    Templates.SUPPLEMENT_REQUESTED: "Bạn nhận được thư này vì hồ sơ {code} của bạn cần bổ sung, hoàn thiện.",
    Templates.REFUSED: "Bạn nhận được thư này vì hồ sơ {code} của bạn không được tiếp nhận.",
    Templates.EXTENDED: "Bạn nhận được thư này vì hồ sơ {code} của bạn được hẹn lại ngày trả kết quả.",
    Templates.RESULT_ISSUED: "Bạn nhận được thư này vì hồ sơ {code} của bạn đã có kết quả.",
    Templates.RETURNED: "Bạn nhận được thư này vì kết quả hồ sơ {code} của bạn đã được trả.",
    Templates.REJECTED: "Bạn nhận được thư này vì hồ sơ {code} của bạn không được giải quyết.",
    Templates.STOPPED: "Bạn nhận được thư này vì việc giải quyết hồ sơ {code} của bạn đã dừng.",
    Templates.DUE_SOON: "Bạn nhận được thư này vì {role_text} hồ sơ {code}, còn một ngày làm việc đến hạn.",
    Templates.OVERDUE: "Bạn nhận được thư này vì {role_text} hồ sơ {code}, hồ sơ đã quá hạn.",
}
ROLE_TEXT = {"assignee": "bạn là người được giao xử lý", "leader": "bạn là lãnh đạo đơn vị giải quyết"}


@dataclass(frozen=True)
class Intent:
    """A notification to make: to whom (`recipient`), with which template and data, and why."""

    template: str
    recipient: Document
    reason: str
    personalisation: Document = field(default_factory=dict)
    # The legal slips to attach, by name; the sender's `attachments_for` hook provides the files.
    attachments: tuple[str, ...] = ()

    @property
    def recipient_key(self) -> str:
        # The recipient's identity in the notification id: the applicant, or a staff user id.
        return str(self.recipient.get("user_id") or self.recipient["kind"])


def _citizen(dossier: Document) -> Document:
    applicant = dossier.get("applicant") or {}
    return {"kind": CITIZEN, "name": applicant.get("full_name") or "", "email": applicant.get("email")}


def _base(event: Event, data: Document, dossier: Document) -> Document:
    return {
        "code": event["subject"],
        "procedure_code": data.get("procedure_code") or dossier.get("procedure_code") or "",
        "procedure_name": dossier.get("procedure_name") or "",
        "applicant_name": (dossier.get("applicant") or {}).get("full_name") or "",
    }


def _counter(unit: Document | None) -> Document:
    """Where the result is collected: the receiving unit as notify's catalogue copy has it."""
    unit = unit or {}
    return {
        "counter_name": unit.get("name") or "đơn vị đã tiếp nhận hồ sơ",
        "counter_address": unit.get("address") or "",
        "counter_phone": unit.get("phone") or "",
    }


def result_attached(data: Document, dossier: Document) -> bool:
    """Whether the `result_issued` email carries the signed file: the dossier is delivered online
    and processing sent the file (`result.file_sent`; not when it is too large for an email)."""
    method = (dossier.get("delivery") or {}).get("method")
    return method == "online" and bool((data.get("result") or {}).get("file_sent"))


def _citizen_details(template: str, data: Document, dossier: Document, unit: Document | None) -> Document:
    delivery = dossier.get("delivery") or {}
    if template == Templates.RECEIVED:
        return {"submitted_at": data.get("submitted_at")}
    if template == Templates.ACCEPTED:
        return {"received_at": data.get("received_at"), "due_at": data.get("due_at")}
    if template == Templates.SUPPLEMENT_REQUESTED:
        missing = [
            {"document": str(item.get("document") or ""), "reason": str(item.get("reason") or "")}
            for item in data.get("missing") or []
            if isinstance(item, dict)
        ]
        return {"missing": missing, "reason": data.get("reason") or ""}
    if template == Templates.REFUSED:
        return {"reasons": [str(reason) for reason in data.get("reasons") or []]}
    if template == Templates.EXTENDED:
        return {
            "old_due_at": data.get("old_due_at"),
            "new_due_at": data.get("new_due_at"),
            "reason": data.get("reason") or "",
        }
    if template == Templates.RESULT_ISSUED:
        return {
            "delivery_method": delivery.get("method") or "counter",
            "delivery_address": delivery.get("address"),
            "result_sha256": (data.get("result") or {}).get("sha256"),
            "result_attached": result_attached(data, dossier),
            **_counter(unit),
        }
    if template == Templates.RETURNED:
        return {
            "method": data.get("method") or delivery.get("method") or "counter",
            "resolved_at": data.get("resolved_at"),
        }
    # rejected, stopped: the reason, and how the written notice (service/slips.py) reaches them
    return {"reason": data.get("reason") or "", "delivery_method": delivery.get("method") or "counter"}


def intents_for(
    event: Event, data: Document, dossier: Document, unit: Document | None = None
) -> list[Intent]:
    """The notifications `event` causes, given notify's copy of its dossier after it (and of the
    receiving unit, where a result is collected)."""
    event_type, code = event["type"], event["subject"]
    template: str | None = None
    if event_type == ConsumedTypes.DOSSIER_SUBMITTED and data.get("channel") == "online":
        template = Templates.RECEIVED
    else:
        template = CITIZEN_TEMPLATE_OF.get(event_type)
    if template is not None:
        details = {**_base(event, data, dossier), **_citizen_details(template, data, dossier, unit)}
        reason = REASONS[template].format(code=code)
        attachments = SLIPS.get(template, ())
        if template == Templates.RESULT_ISSUED and details["result_attached"]:
            attachments = (RESULT_ATTACHMENT,)
        return [Intent(template, _citizen(dossier), reason, details, attachments)]
    staff_template = STAFF_TEMPLATE_OF.get(event_type)
    if staff_template is None:
        return []
    intents = []
    for person in data.get("recipients") or []:
        role = str(person.get("as") or "")
        recipient = {
            "kind": STAFF,
            "user_id": str(person.get("user_id") or ""),
            "name": str(person.get("name") or ""),
            "email": (person.get("email") or "").strip() or None,
        }
        reason = REASONS[staff_template].format(code=code, role_text=ROLE_TEXT.get(role, "bạn theo dõi"))
        staff_details: dict[str, Any] = {
            **_base(event, data, dossier),
            "staff_name": recipient["name"],
            "as": role,
            "due_at": data.get("due_at"),
            "unit": data.get("unit") or "",
        }
        intents.append(Intent(staff_template, recipient, reason, staff_details))
    return intents


def needs_contact(event: Event) -> bool:
    """Whether the event's notifications need the applicant's contact from the copy."""
    return event["type"] in CITIZEN_TEMPLATE_OF
