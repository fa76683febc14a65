"""The legal slips a dossier event owes the citizen, as letters (Circular 01/2018): Mẫu 01 receipt
and appointment (`accepted`), 02 supplement request, 03 refusal, 04 apology with the new date;
and the written reasons owed when the office decides not to resolve a dossier (`rejected`,
Decree 61/2018 Art. 16) or stops resolving it (`stopped`): notices of the resolving unit, forms
of notify's own (`nd61.1`), since the circular's six have none for them.

Pure: the form's data comes from the event, notify's copy of the dossier and its copy of the
units and procedures (`lookup`). Each slip is one letter per event (its id derived from both). The
letter is attached to the citizen's email and goes by post when the result is to be delivered by
post, or when the citizen gave no email address (then the letter is the only notice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventkit.envelope import Event
from eventkit.mongo import Document
from notify import letters
from notify.events import ConsumedTypes
from notify.service.letters import LetterRequest, slip_letter_id

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The slip of each event, by its name in a notification's `attachments`, and its form.
SLIP_OF_EVENT = {
    ConsumedTypes.DOSSIER_ACCEPTED: ("receipt_slip", "mau-01"),
    ConsumedTypes.SUPPLEMENT_REQUESTED: ("supplement_request", "mau-02"),
    ConsumedTypes.DOSSIER_REFUSED: ("refusal", "mau-03"),
    ConsumedTypes.DOSSIER_EXTENDED: ("apology", "mau-04"),
    ConsumedTypes.DOSSIER_REJECTED: ("rejection_notice", "tb-khong-giai-quyet"),
    ConsumedTypes.DOSSIER_STOPPED: ("stop_notice", "tb-dung-giai-quyet"),
}
# The notices issued by the unit that decided (numbered in its register, signed with its key),
# in their own form set; the slips are the one-stop unit's, in the circular's.
NOTICES = {"tb-khong-giai-quyet", "tb-dung-giai-quyet"}
NOTICE_VERSION = "nd61.1"
SLIP_TITLES = {
    "mau-01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "mau-02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "mau-03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "mau-04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "tb-khong-giai-quyet": "Thông báo về việc không giải quyết hồ sơ",
    "tb-dung-giai-quyet": "Thông báo dừng giải quyết hồ sơ",
}
# What the register number is followed by on each form ("12/TB-MC").
NUMBER_SUFFIX = {
    "mau-01": "GTN",
    "mau-02": "PBS",
    "mau-03": "PTC",
    "mau-04": "PXL",
    "tb-khong-giai-quyet": "TB",
    "tb-dung-giai-quyet": "TB",
}
TIME_UNITS = {"working_days": "ngày làm việc", "working_hours": "giờ làm việc", "calendar_days": "ngày"}
NO_PHONE = "liên hệ trực tiếp Bộ phận Tiếp nhận và Trả kết quả"

# A unit or procedure of notify's catalogue copy, by code (None when not there).
Lookup = Callable[[str, str], Document | None]


@dataclass(frozen=True)
class SlipSettings:
    portal_url: str
    place: str = "Lương Tài"


def _local(value: Any) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(TZ).isoformat()


def _unit(lookup: Lookup, code: str) -> Document:
    unit = lookup("units", code) or {}
    parent = lookup("units", unit["parent"]) if unit.get("parent") else None
    return {
        "parent_name": (parent or {}).get("name") or unit.get("name") or code,
        "name": unit.get("name") or code,
        "phone": unit.get("phone") or (parent or {}).get("phone") or NO_PHONE,
    }


def _processing_time(procedure: Document) -> str:
    time_ = procedure.get("processing_time") or {}
    amount = time_.get("amount")
    if amount is None:
        return "theo quy định của thủ tục"
    amount_text = f"{int(amount):02d}" if float(amount).is_integer() else str(amount)
    return f"{amount_text} {TIME_UNITS.get(time_.get('unit', ''), '')}".strip()


def _documents(procedure: Document, received: list[Any]) -> list[Document]:
    """Each document received, with the counts the procedure asks for (originals, copies)."""
    wanted = {d.get("code"): d for d in procedure.get("documents") or []}
    rows = []
    for item in received:
        if not isinstance(item, dict):
            continue
        spec = wanted.get(item.get("type")) or {}
        rows.append(
            {
                "name": spec.get("name") or str(item.get("type") or "Giấy tờ"),
                "originals": int(spec.get("originals") or 0),
                "certified_copies": int(spec.get("copies") or 0),
                "photocopies": 0,
            }
        )
    return rows or [
        {"name": "Theo thành phần hồ sơ của thủ tục", "originals": 0, "certified_copies": 0, "photocopies": 0}
    ]


def slip_letter(
    event: Event,
    data: Document,
    dossier: Document,
    lookup: Lookup,
    settings: SlipSettings,
    register_entry: Callable[[], int],
) -> LetterRequest | None:
    """The letter `event` owes the citizen, or None. `register_entry` numbers the dossier in the
    unit's tracking register (Mẫu 01 prints it)."""
    slip = SLIP_OF_EVENT.get(event["type"])
    if slip is None:
        return None
    name, form = slip
    code = event["subject"]
    counter_code = str(data.get("receiving_unit") or dossier.get("receiving_unit") or data.get("unit") or "")
    unit_code = (
        str(data.get("unit") or dossier.get("unit") or counter_code) if form in NOTICES else counter_code
    )
    unit = _unit(lookup, unit_code)
    procedure_code = str(data.get("procedure_code") or dossier.get("procedure_code") or "")
    procedure = lookup("procedures", procedure_code) or {}
    applicant = dict(dossier.get("applicant") or data.get("applicant") or {})
    delivery = dict(dossier.get("delivery") or data.get("delivery") or {})
    officer = str(data.get("by_name") or data.get("received_by_name") or "")
    common: Document = {
        "unit": {"parent_name": unit["parent_name"], "name": unit["name"]},
        "place": settings.place,
        "lookup_url": f"{settings.portal_url}/tra-cuu-ho-so?ma={code}",
        "dossier_code": code,
        "applicant": {
            "full_name": applicant.get("full_name") or "",
            "address": applicant.get("address") or "",
            "phone": applicant.get("phone"),
            "email": applicant.get("email"),
        },
        # The code stands for the name when notify's catalogue copy lacks the procedure.
        "procedure_name": dossier.get("procedure_name")
        or data.get("procedure_name")
        or procedure.get("name")
        or f"Thủ tục {procedure_code}",
    }
    if form == "mau-01":
        now = datetime.fromisoformat(str(data.get("received_at") or event.get("time")).replace("Z", "+00:00"))
        form_data = {
            **common,
            "copy": "2",
            "documents": _documents(procedure, list(data.get("documents") or dossier.get("documents") or [])),
            "sets": 1,
            "processing_time": _processing_time(procedure),
            "received_at": _local(data.get("received_at")),
            "due_at": _local(data.get("due_at")),
            "delivery": {"method": delivery.get("method") or "counter", "address": delivery.get("address")},
            "register": {"book": f"01/{now.astimezone(TZ).year}", "entry": register_entry()},
            "received_by_name": str(data.get("received_by_name") or officer or "Cán bộ tiếp nhận"),
        }
    elif form == "mau-02":
        form_data = {
            **common,
            "missing": [
                {
                    "document": str(m.get("document") or ""),
                    **({"reason": m["reason"]} if m.get("reason") else {}),
                }
                for m in data.get("missing") or []
                if isinstance(m, dict)
            ],
            "reason": str(data.get("reason") or ""),
            "procedure_url": f"{settings.portal_url}/thu-tuc/{procedure_code}",
            "guide": {"name": officer or "Cán bộ tiếp nhận", "phone": unit["phone"]},
        }
    elif form == "mau-03":
        form_data = {
            **common,
            "reasons": [str(r) for r in data.get("reasons") or []],
            "contact": {"name": officer or "Cán bộ tiếp nhận", "phone": unit["phone"]},
            "received_by_name": officer or "Cán bộ tiếp nhận",
        }
    elif form in NOTICES:
        counter = _unit(lookup, counter_code)
        form_data = {
            **common,
            "reason": str(data.get("reason") or ""),
            "counter": {"name": counter["name"]},
            "contact": {"phone": unit["phone"] if unit["phone"] != NO_PHONE else counter["phone"]},
            "signer": {"title": f"Lãnh đạo {unit['name']}", "name": officer or "Lãnh đạo đơn vị"},
        }
    else:
        form_data = {
            **common,
            "received_at": _local(dossier.get("received_at") or data.get("received_at")),
            "old_due_at": _local(data.get("old_due_at")),
            "new_due_at": _local(data.get("new_due_at")),
            "reason": str(data.get("reason") or ""),
            "signer": {"title": f"Lãnh đạo {unit['name']}", "name": officer or "Lãnh đạo đơn vị"},
        }
    has_email = bool(applicant.get("email"))
    by_post = bool(common["applicant"]["address"]) and (delivery.get("method") == "post" or not has_email)
    return LetterRequest(
        letter_id=slip_letter_id(event["id"], name),
        dossier_code=code,
        unit=unit_code,
        template_id=form,
        data=form_data,
        recipient=common["applicant"]["full_name"],
        address=common["applicant"]["address"] or "",
        by_post=by_post,
        number_suffix=NUMBER_SUFFIX[form],
        version=NOTICE_VERSION if form in NOTICES else letters.DEFAULT_VERSION,
        reason=f"{SLIP_TITLES[form]} của hồ sơ {code}",
    )
