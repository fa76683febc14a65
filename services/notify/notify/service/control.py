"""The processing control slip (Mẫu 05) and the tracking register (Mẫu 06) of Circular 01/2018,
from notify's own copy of the dossier events.

Each dossier event that moves the dossier from one party to another (`ROW_OF`) leaves one row in
the copy's `control_slip`: when, from which unit (or the applicant) to which, the officers' names
the event carries (`by_name`, `assignee_name`, `received_by_name`), the outcome against the due
time (early / on time / late, Decision 766's rule: late after the due time, early on an earlier
local day) and a note naming the step. A row holds unit codes, not names: the names are read from
notify's catalogue copy when the form is printed, so a catalogue that arrives later still names
them. `None` for a unit stands for the applicant.

Both forms are internal control documents: they are neither numbered in the outgoing register
nor signed (the receipt, Mẫu 01, is the document the applicant holds; Mẫu 05 travels with the
dossier, Mẫu 06 is the unit's book).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventkit.auth import Staff
from eventkit.envelope import Event
from eventkit.errors import Conflict, Forbidden, InvalidData, NotFound
from eventkit.mongo import Db, Document
from notify import letters, store
from notify.events import ConsumedTypes
from notify.service import slips

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UNFILLED = "……"
TIMELINESS = ("early", "on_time", "late")
TIMELINESS_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
# Decision 45/2016: sent by post, the postal bill stands in for the hand-over's signatures.
POST_NOTE = "qua bưu chính công ích, ký nhận trên hóa đơn bưu chính"

APPLICANT, RECEIVING, UNIT = "applicant", "receiving", "unit"
# event type: (step, from, to, whether the step is judged against the due time, note)
ROW_OF: dict[str, tuple[str, str, str, bool, str]] = {
    ConsumedTypes.DOSSIER_ACCEPTED: ("accepted", APPLICANT, RECEIVING, False, "Tiếp nhận hồ sơ"),
    ConsumedTypes.SUPPLEMENT_REQUESTED: (
        "supplement_requested",
        UNIT,
        APPLICANT,
        False,
        "Yêu cầu bổ sung hồ sơ",
    ),
    ConsumedTypes.DOSSIER_SUPPLEMENTED: ("supplemented", APPLICANT, RECEIVING, False, "Nhận hồ sơ bổ sung"),
    ConsumedTypes.DOSSIER_REFUSED: ("refused", RECEIVING, APPLICANT, True, "Từ chối tiếp nhận"),
    ConsumedTypes.DOSSIER_ASSIGNED: ("assigned", UNIT, UNIT, True, "Phân công xử lý"),
    ConsumedTypes.DOSSIER_TRANSFERRED: ("transferred", "from_unit", "to_unit", True, "Chuyển xử lý"),
    ConsumedTypes.DOSSIER_EXTENDED: ("extended", UNIT, APPLICANT, False, "Xin lỗi, hẹn lại ngày trả"),
    ConsumedTypes.DOSSIER_APPROVED: ("approved", UNIT, RECEIVING, True, "Phê duyệt kết quả"),
    ConsumedTypes.DOSSIER_REJECTED: ("rejected", UNIT, RECEIVING, True, "Không giải quyết"),
    ConsumedTypes.DOSSIER_STOPPED: ("stopped", UNIT, RECEIVING, True, "Dừng giải quyết"),
    ConsumedTypes.RESULT_ISSUED: ("result_issued", UNIT, RECEIVING, True, "Ban hành kết quả"),
    ConsumedTypes.DOSSIER_RETURNED: ("returned", RECEIVING, APPLICANT, True, "Trả kết quả"),
    ConsumedTypes.DOSSIER_WITHDRAWN: ("withdrawn", APPLICANT, RECEIVING, False, "Rút hồ sơ"),
}
# What the register's note says of a dossier that ended.
ENDINGS = {
    "refused": "Từ chối tiếp nhận",
    "rejected": "Không giải quyết",
    "stopped": "Dừng giải quyết",
    "withdrawn": "Rút hồ sơ",
}


def instant(value: Any) -> datetime | None:
    """An ISO 8601 time (an event's) as an aware datetime; None when absent or not a time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)


def classify(at: datetime, due: datetime) -> str:
    """Decision 766's rule, as processing classifies: late after the due time, early on a day
    before the due day (local), else on time."""
    local_at, local_due = at.astimezone(TZ), due.astimezone(TZ)
    if local_at > local_due:
        return "late"
    return "early" if local_at.date() < local_due.date() else "on_time"


def _party(role: str, data: Document, dossier: Document) -> str | None:
    if role == APPLICANT:
        return None
    if role == RECEIVING:
        return str(data.get("receiving_unit") or dossier.get("receiving_unit") or data.get("unit") or "")
    if role == UNIT:
        return str(data.get("unit") or dossier.get("unit") or dossier.get("receiving_unit") or "")
    return str(data.get(role) or "")


def row_key(event: Event) -> str:
    """One row per event: its source and its place in that source's sequence."""
    source = "intake" if event["type"] in ConsumedTypes.INTAKE else "processing"
    return f"{source}:{int(event['sequence'])}"


def slip_row(event: Event, data: Document, dossier: Document) -> Document | None:
    """The control-slip row of `event` (None for an event that hands nothing over), judged against
    the due time the event carries, else the one the copy held before it."""
    spec = ROW_OF.get(event["type"])
    if spec is None:
        return None
    step, giver_role, taker_role, judged, note = spec
    at = (
        instant(data.get("at"))
        or instant(data.get("supplemented_at"))
        or instant(data.get("withdrawn_at"))
        or instant(event.get("time"))
        or datetime.now(UTC)
    )
    officer = str(data.get("by_name") or "")
    giver = officer if giver_role != APPLICANT else ""
    receiver = ""
    if step == "accepted":
        receiver = str(data.get("received_by_name") or officer)
    elif step == "assigned":
        receiver = str(data.get("assignee_name") or "")
    outcome = None
    if judged:
        timeliness = data.get("timeliness")
        due = instant(data.get("due_at")) or instant(dossier.get("due_at"))
        if timeliness in TIMELINESS:
            outcome = str(timeliness)
        elif due is not None:
            outcome = classify(at, due)
    if step == "extended" and instant(data.get("new_due_at")):
        new_due = instant(data.get("new_due_at"))
        assert new_due is not None
        note = f"{note}: {new_due.astimezone(TZ):%H:%M %d/%m/%Y}"
    post = step == "returned" and data.get("method") == "post"
    if post:
        note = f"{note} {POST_NOTE}"
    elif step == "returned" and data.get("method") == "online":
        note = f"{note} trực tuyến"
    elif step == "accepted" and (data.get("channel") or dossier.get("channel")) == "online":
        note = f"{note} nộp trực tuyến"
    return {
        "key": row_key(event),
        "step": step,
        "at": at.astimezone(UTC),
        "from_unit": _party(giver_role, data, dossier),
        "to_unit": _party(taker_role, data, dossier),
        "giver": giver,
        "receiver": receiver,
        "outcome": outcome,
        "post": post,
        "note": note,
    }


def ordered(rows: Iterable[Document]) -> list[Document]:
    """The rows in the order things happened (an event that arrived late takes its place)."""
    return sorted(rows, key=lambda row: (row["at"], row["key"].startswith("intake"), row["key"]))


# -- the forms' data -------------------------------------------------------------------------------

# A unit's name by code (notify's catalogue copy; the code itself when it is not there).
UnitName = Callable[[str], str]


def _local_iso(value: Any) -> str | None:
    moment = instant(value)
    return moment.astimezone(TZ).isoformat() if moment else None


def _applicant(dossier: Document) -> Document:
    applicant = dossier.get("applicant") or {}
    return {
        "full_name": applicant.get("full_name") or "",
        "phone": applicant.get("phone") or None,
        "address": applicant.get("address") or None,
    }


def procedure_name(dossier: Document, procedure: Document | None) -> str:
    code = dossier.get("procedure_code") or ""
    return str(dossier.get("procedure_name") or (procedure or {}).get("name") or f"Thủ tục {code}")


def handovers(dossier: Document, unit_name: UnitName) -> list[Document]:
    """The control slip's rows as the form prints them: names, not codes."""
    applicant = _applicant(dossier)["full_name"] or "Người nộp hồ sơ"

    def party(unit: str | None) -> str:
        return applicant if unit is None else unit_name(unit)

    out = []
    for row in ordered(dossier.get("control_slip") or []):
        giver = row.get("giver") or (applicant if row.get("from_unit") is None else "")
        receiver = row.get("receiver") or ("" if row.get("post") or row.get("to_unit") else applicant)
        item: Document = {
            "from": party(row.get("from_unit")),
            "to": party(row.get("to_unit")),
            "at": row["at"].astimezone(TZ).isoformat(),
            "giver": giver or None,
            "receiver": receiver or None,
            "note": row.get("note") or None,
        }
        if row.get("outcome"):
            item["result"] = row["outcome"]
        out.append(item)
    return out


def slip_data(
    dossier: Document,
    heading: Document,
    unit_name: UnitName,
    procedure: Document | None,
    receipt_number: str | None,
    portal_url: str,
    place: str,
) -> Document:
    """The data of Mẫu 05 for `dossier` (received: its `received_at` is known). `heading` is the
    receiving unit's `{parent_name, name}`; `receipt_number` the number printed on its Mẫu 01."""
    code = dossier["_id"]
    received = instant(dossier.get("received_at"))
    assert received is not None
    applicant = _applicant(dossier)
    return {
        "unit": heading,
        "place": place,
        "date": received.astimezone(TZ).date().isoformat(),
        "lookup_url": f"{portal_url}/tra-cuu-ho-so?ma={code}",
        "dossier_code": code,
        "receipt_number": receipt_number or UNFILLED,
        "applicant": {"full_name": applicant["full_name"], "phone": applicant["phone"]},
        "procedure_name": procedure_name(dossier, procedure),
        "received_at": received.astimezone(TZ).isoformat(),
        "due_at": _local_iso(dossier.get("due_at")),
        "lead_body": unit_name(str(dossier.get("unit") or dossier.get("receiving_unit") or "")),
        "handovers": handovers(dossier, unit_name),
    }


def _first(rows: list[Document], *steps: str) -> str | None:
    for step in steps:
        for row in rows:
            if row["step"] == step:
                return str(row["at"].astimezone(TZ).isoformat())
    return None


def register_entry(
    dossier: Document, unit_name: UnitName, procedure: Document | None, number: int | None = None
) -> Document:
    """One row of Mẫu 06: the dossier's filing and its way through the units; `number` its entry
    in the register, as its receipt (Mẫu 01) printed it."""
    rows = ordered(dossier.get("control_slip") or [])
    applicant = _applicant(dossier)
    contact = ", ".join(part for part in (applicant["address"], applicant["phone"]) if part)
    returned = next((row for row in rows if row["step"] == "returned"), None)
    ended = next((row for row in rows if row["step"] in ENDINGS), None)
    note = None
    if returned is not None:
        note = TIMELINESS_LABELS.get(returned.get("outcome") or "")
        if returned.get("post"):
            note = "; ".join(part for part in (note, "Trả qua bưu chính") if part)
    elif ended is not None:
        note = ENDINGS[ended["step"]]
    entry: Document = {
        "entry": number,
        "code": dossier["_id"],
        "procedure_name": procedure_name(dossier, procedure),
        "sets": 1,
        "applicant_name": applicant["full_name"] or UNFILLED,
        "applicant_contact": contact or None,
        "lead_body": unit_name(str(dossier.get("unit") or dossier.get("receiving_unit") or "")),
        "received_at": _local_iso(dossier.get("received_time") or dossier.get("received_at")),
        "due_at": _local_iso(dossier.get("due_at")),
        "transferred_at": _first(rows, "transferred", "assigned"),
        "result_received_at": _first(rows, "result_issued", "approved", "rejected", "stopped"),
        "returned_at": None if returned is None else returned["at"].astimezone(TZ).isoformat(),
        "note": note,
    }
    return {key: value for key, value in entry.items() if value is not None}


def period_text(first: date, last: date) -> str:
    return f"Từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"


def book_of(first: date, last: date) -> str:
    """The register's book: one a year (Mẫu 01 prints "Quyển số 01/<year>")."""
    return f"01/{first.year}" if first.year == last.year else f"01/{first.year} - 01/{last.year}"


# -- the forms, from the store ---------------------------------------------------------------------

# The longest period a register is printed for, and the most dossiers one print holds.
MAX_PERIOD_DAYS = 366
MAX_REGISTER_ROWS = 1000


def _names(db: Db) -> UnitName:
    known: dict[str, str] = {}

    def unit_name(code: str) -> str:
        if code not in known:
            known[code] = str((store.get_unit(db, code) or {}).get("name") or code)
        return known[code]

    return unit_name


def _heading(db: Db, code: str) -> Document:
    unit = slips._unit(lambda _kind, unit_code: store.get_unit(db, unit_code), code)
    return {"parent_name": unit["parent_name"], "name": unit["name"]}


def _receipt_number(db: Db, code: str) -> str | None:
    for letter in store.letters_of_dossier(db, code, 200):
        if letter["template_id"] == "mau-01" and letter.get("number_text"):
            return str(letter["number_text"])
    return None


def control_slip(db: Db, code: str, staff: Staff, settings: slips.SlipSettings) -> bytes:
    """Mẫu 05 of dossier `code` as PDF, for staff of its current or receiving unit."""
    dossier = store.get_dossier(db, code)
    if dossier is None or not (dossier.get("unit") or dossier.get("receiving_unit")):
        raise NotFound(f"Không tìm thấy hồ sơ {code}.")
    units = {u for u in (dossier.get("unit"), dossier.get("receiving_unit")) if u}
    if not units & staff.units:
        raise Forbidden("Tài khoản không thuộc đơn vị xử lý hồ sơ này.")
    if instant(dossier.get("received_at")) is None:
        raise Conflict(f"Hồ sơ {code} chưa được tiếp nhận: chưa có phiếu kiểm soát quá trình giải quyết.")
    procedure = store.get_procedure(db, str(dossier.get("procedure_code") or ""))
    data = slip_data(
        dossier,
        _heading(db, str(dossier.get("receiving_unit") or dossier["unit"])),
        _names(db),
        procedure,
        _receipt_number(db, code),
        settings.portal_url,
        settings.place,
    )
    return letters.render_letter("mau-05", letters.DEFAULT_VERSION, data)


def _day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidData({name: ["Ngày không hợp lệ (dạng YYYY-MM-DD)."]}, location="query") from None


def period(first_text: str, last_text: str) -> tuple[date, date]:
    """The register's period, both days included; 422 naming `from` or `to` otherwise."""
    first, last = _day("from", first_text), _day("to", last_text)
    if last < first:
        message = "Ngày kết thúc (to) phải từ ngày bắt đầu (from) trở đi."
        raise InvalidData({"to": [message]}, location="query")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        message = (
            f"Khoảng thời gian từ ngày bắt đầu (from) đến ngày kết thúc (to) tối đa {MAX_PERIOD_DAYS} ngày."
        )
        raise InvalidData({"from": [message], "to": [message]}, location="query")
    return first, last


def register(
    db: Db,
    unit: str,
    first_text: str,
    last_text: str,
    staff: Staff,
    settings: slips.SlipSettings,
    today: date,
) -> bytes:
    """Mẫu 06 of `unit` as PDF: the dossiers it received from `first` to `last` (local days), in
    the order received; staff of that unit only."""
    if not staff.serves(unit):
        raise Forbidden("Tài khoản không thuộc đơn vị này.")
    first, last = period(first_text, last_text)
    since = datetime.combine(first, time(0), tzinfo=TZ).astimezone(UTC)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=TZ).astimezone(UTC)
    found = store.dossiers_received(db, unit, since, until, MAX_REGISTER_ROWS + 1)
    if len(found) > MAX_REGISTER_ROWS:
        message = (
            f"Khoảng thời gian này có hơn {MAX_REGISTER_ROWS} hồ sơ; "
            "hãy chọn khoảng ngắn hơn (from, to) và in từng phần."
        )
        raise InvalidData({"from": [message], "to": [message]}, location="query")
    found.sort(key=lambda dossier: (dossier["received_time"], dossier["_id"]))
    unit_name = _names(db)
    procedures: dict[str, Document | None] = {}

    def procedure_of(dossier: Document) -> Document | None:
        code = str(dossier.get("procedure_code") or "")
        if code not in procedures:
            procedures[code] = store.get_procedure(db, code)
        return procedures[code]

    data = {
        "unit": _heading(db, unit),
        "place": settings.place,
        "date": today.isoformat(),
        "lookup_url": f"{settings.portal_url}/tra-cuu-ho-so",
        "register": {"book": book_of(first, last), "period": period_text(first, last)},
        "entries": [
            register_entry(
                dossier, unit_name, procedure_of(dossier), store.tracking_number_of(db, dossier["_id"])
            )
            for dossier in found
        ],
    }
    return letters.render_letter("mau-06", letters.DEFAULT_VERSION, data)
