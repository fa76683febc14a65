"""Filing, supplementing and withdrawing dossiers.

A filing is checked completely before it takes a number, so a refused request leaves no gap; the
one exception is a file another dossier holds, which only its claim (after the number) tells.
The dossier, its first answer and its `dossier.submitted` event are one single-document write.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventkit.auth import Roles, Staff
from eventkit.envelope import jsonable, new_event
from eventkit.logs import continue_trace, correlation_id
from eventkit.mongo import Db, Document
from eventkit.outbox import outbox_entry
from eventkit.secrets import hash_secret, new_lookup_secret, verify_secret
from eventkit.topics import Topics
from intake import store, validation
from intake.events import EventTypes
from intake.service import Conflict, Forbidden, InvalidData, NotFound, Unauthenticated
from intake.service.catalogue import offered_procedure

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SOURCE = "/services/intake"
# How long a retried request with the same Idempotency-Key gets the first answer back.
RESPONSE_KEPT = timedelta(hours=24)
# A key taken by a request that never filed is free again after this.
ABANDONED_AFTER = timedelta(minutes=2)
FINISHED = ("refused", "rejected", "returned", "stopped", "withdrawn")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def request_hash(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _event(event_type: str, code: str, sequence: int, data: Document) -> list[dict[str, Any]]:
    """The `sequence`-th event of dossier `code` (the dossier document keeps the last number given)."""
    event = new_event(
        type=event_type,
        source=SOURCE,
        subject=code,
        data=jsonable(data),
        sequence=sequence,
        correlationid=correlation_id.get(),
    )
    return [outbox_entry(Topics.INTAKE_DOSSIERS.name, event)]


def _next_sequence(dossier: Document) -> int:
    return int(dossier.get("sequence") or 0) + 1


def key_owner(staff: Staff | None) -> str:
    """Whose an Idempotency-Key is: the counter officer who sent it, or the public (online), whose
    keys are bound to the request's body alone."""
    return f"staff:{staff.user_id}" if staff is not None else "online"


def _replay(db: Db, key: str, owner: str, body_hash: str, wait: float = 5.0) -> Answer | None:
    """The first answer to a request made with `key`, waiting briefly for one still being filed.

    None when the key is free again (its request failed, died long ago without a dossier, or the
    key expired). Every lookup is by `_id`: the key names the code its dossier gets.
    """
    deadline = time.monotonic() + wait
    while True:
        held = store.get_idempotency_key(db, key)
        if held is None:
            return None
        now = datetime.now(UTC)
        if now - held["at"] > RESPONSE_KEPT:
            # Expired: its answer (with the plain lookup secret) goes with it, and the key is new.
            store.forget_idempotency_key(db, held)
            return None
        # Another caller's key is never answered with its dossier, whatever the body.
        if held.get("owner", "online") != owner or held["request_hash"] != body_hash:
            raise Conflict("Idempotency-Key này đã được dùng cho một yêu cầu khác.")
        code = held.get("dossier") or held.get("code")
        dossier = store.get_dossier(db, code) if code else None
        if dossier is not None:
            if held["dossier"] is None:
                # Its request died, or met a store error, after the dossier was written.
                store.complete_idempotency_key(db, key, code)
            if "response" not in dossier:
                raise Conflict("Idempotency-Key này đã hết hạn dùng lại; hồ sơ đã được tiếp nhận trước đó.")
            return Answer(201, dossier["response"])
        if held["dossier"] is not None:
            raise Conflict("Idempotency-Key này đã hết hạn dùng lại; hồ sơ đã được tiếp nhận trước đó.")
        if now - held["at"] > ABANDONED_AFTER:
            # Its request died before its dossier was written: its claims and the key are free again.
            if code:
                store.release_uploads(db, held.get("uploads", []), code)
            store.drop_idempotency_key(db, key, taken_at=held["at"])
            return None
        if time.monotonic() >= deadline:
            raise Conflict("Yêu cầu với Idempotency-Key này đang được xử lý; vui lòng thử lại sau.")
        time.sleep(0.05)


def _receiving_unit(db: Db, procedure: Document, requested: str | None, today: date) -> Document:
    receiving = procedure.get("receiving_units", [])
    if requested is None:
        if len(receiving) != 1:
            raise InvalidData({"unit": ["Thủ tục có nhiều nơi tiếp nhận: hãy chọn đơn vị."]})
        requested = receiving[0]
    if requested not in receiving:
        raise InvalidData({"unit": ["Đơn vị này không tiếp nhận thủ tục."]})
    unit = store.get_published(db, store.UNITS, requested)
    if unit is None:
        raise InvalidData({"unit": ["Không có đơn vị này."]})
    if unit.get("valid_to") and unit["valid_to"] < today.isoformat():
        raise InvalidData({"unit": ["Đơn vị không còn hoạt động."]})
    return unit


def _documents(
    db: Db, document_types: list[Document], documents: list[Document], *, claims: bool = True
) -> dict[str, Document]:
    """The uploads the filing names, after checking them against the procedure; errors raised.
    With `claims=False`, an upload another dossier holds is not found here (see `_check`)."""
    uploads = store.get_uploads(db, [d["upload_id"] for d in documents], claims=claims)
    info = {
        upload_id: ({"content_type": u["content_type"], "attached_to": u.get("attached_to")} if u else None)
        for upload_id, u in ((d["upload_id"], uploads.get(d["upload_id"])) for d in documents)
    }
    errors = validation.check_documents(document_types, documents, info)
    if errors:
        raise InvalidData(errors)
    return uploads


def _document_records(documents: list[Document], uploads: dict[str, Document]) -> list[Document]:
    return [
        {
            "type": d["type"],
            "upload_id": d["upload_id"],
            "sha256": uploads[d["upload_id"]]["sha256"],
            "content_type": uploads[d["upload_id"]]["content_type"],
            "size": uploads[d["upload_id"]]["size"],
        }
        for d in documents
    ]


def file(
    db: Db,
    data: Document,
    *,
    body_hash: str,
    idempotency_key: str | None,
    staff: Staff | None,
    now: datetime | None = None,
) -> Answer:
    now = now or datetime.now(UTC)
    if idempotency_key:
        owner = key_owner(staff)
        # The key is held before anything is checked: a racing copy of this request waits for
        # this one's answer instead of finding its uploads taken.
        if (replayed := _replay(db, idempotency_key, owner, body_hash)) is not None:
            return replayed
        try:
            store.take_idempotency_key(db, idempotency_key, body_hash, owner)
        except store.KeyTaken:
            replayed = _replay(db, idempotency_key, owner, body_hash)
            if replayed is None:
                raise Conflict("Yêu cầu với Idempotency-Key này vừa thất bại; vui lòng gửi lại.") from None
            return replayed
    try:
        procedure, unit, uploads = _check(db, data, staff, now)
    except BaseException:
        # Nothing of this filing is stored yet.
        _give_back(db, idempotency_key, [], None)
        raise
    return _file_checked(db, data, procedure, unit, uploads, body_hash, idempotency_key, staff, now)


def _give_back(db: Db, key: str | None, upload_ids: list[str], code: str | None) -> None:
    """Undo a filing whose dossier is known not to be stored: its upload claims, then its key."""
    try:
        if code:
            store.release_uploads(db, upload_ids, code)
        if key:
            store.drop_idempotency_key(db, key)
    except Exception:
        # The store failed again: the key's recovery (after ABANDONED_AFTER) and housekeeping
        # release them later.
        log.warning("could not give back a failed filing's key and claims", exc_info=True)


def _stored(db: Db, code: str) -> bool | None:
    """Whether dossier `code` is stored, after a write whose outcome is unknown; None if the
    store cannot tell now."""
    try:
        return store.dossier_exists(db, code)
    except Exception:
        return None


def _check(
    db: Db, data: Document, staff: Staff | None, now: datetime
) -> tuple[Document, Document, dict[str, Document]]:
    """The procedure, unit and uploads of a filing, after checking all of it; errors raised."""
    today = now.astimezone(TZ).date()
    procedure = offered_procedure(db, data["procedure_code"], data["channel"], today)
    unit = _receiving_unit(db, procedure, data.get("unit"), today)
    if data["channel"] == "counter":
        if staff is None or Roles.RECEPTIONIST not in staff.roles:
            raise Forbidden("Hồ sơ nộp tại quầy phải do cán bộ tiếp nhận nộp.")
        if not staff.serves(unit["_id"]):
            raise Forbidden("Tài khoản không thuộc đơn vị tiếp nhận này.")
    errors = validation.merge_errors(
        {"applicant": e} if (e := validation.check_applicant(data["applicant"], today)) else {},
        {"form": e}
        if (e := validation.check_form(procedure.get("form_fields", []), data["form"], today))
        else {},
        {"delivery": {"address": ["Cần địa chỉ nhận kết quả qua bưu điện."]}}
        if data["delivery"]["method"] == "post" and not data["delivery"].get("address")
        else {},
    )
    uploads: dict[str, Document] = {}
    document_types = procedure.get("documents", [])
    try:
        # The uploads' claims are read only for a filing refused anyway, so that its answer names
        # every fault: a valid filing learns of a used file from its claim insert (one read less).
        uploads = _documents(db, document_types, data["documents"], claims=bool(errors))
    except InvalidData as refused:
        found = refused.errors
        if not errors:
            # Refused for its documents alone: read the claims too, so a used file is named as well.
            try:
                _documents(db, document_types, data["documents"])
            except InvalidData as with_claims:
                found = with_claims.errors
        errors = validation.merge_errors(errors, found)
    if errors:
        raise InvalidData(errors)
    return procedure, unit, uploads


def _claim_refused(db: Db, data: Document, procedure: Document) -> InvalidData:
    """Why a checked filing could not claim its uploads, file by file: another dossier holds one, or
    housekeeping took an expired one. The number taken stays a gap."""
    try:
        _documents(db, procedure.get("documents", []), data["documents"])
    except InvalidData as exc:
        return exc
    # Both claims were released again meanwhile (a racing filing failed): the citizen retries.
    return InvalidData({"documents": [validation.UPLOAD_TAKEN]})


def _file_checked(
    db: Db,
    data: Document,
    procedure: Document,
    unit: Document,
    uploads: dict[str, Document],
    body_hash: str,
    idempotency_key: str | None,
    staff: Staff | None,
    now: datetime,
) -> Answer:
    day = now.astimezone(TZ).strftime("%y%m%d")
    upload_ids = [d["upload_id"] for d in data["documents"]]
    try:
        code = f"{unit['electronic_id']}-{day}-{store.next_number(db, unit['_id'], day):04d}"
    except BaseException:
        _give_back(db, idempotency_key, [], None)
        raise
    try:
        if idempotency_key:
            # Before the dossier is written: a retry then finds it by `_id`, whatever happens next.
            store.note_idempotency_code(db, idempotency_key, code, upload_ids)
        # The unique claim insert is the check that a file is free: one another dossier holds, or
        # housekeeping is removing, is refused here (and the number becomes a gap).
        claimed = store.claim_uploads(db, upload_ids, code)
    except BaseException:
        _give_back(db, idempotency_key, upload_ids, code)
        raise
    if not claimed:
        _give_back(db, idempotency_key, [], None)
        raise _claim_refused(db, data, procedure)

    secret = new_lookup_secret()
    secret_hash = hash_secret(secret)
    applicant = {**data["applicant"], "phone": validation.normalise_phone(data["applicant"]["phone"])}
    documents = _document_records(data["documents"], uploads)
    answer = {"code": code, "lookup_secret": secret, "status": "submitted", "submitted_at": jsonable(now)}
    dossier = {
        "_id": code,
        "procedure_code": procedure["_id"],
        "procedure_version": procedure["version"],
        "unit": unit["_id"],
        "resolving_units": procedure.get("resolving_units", []),
        "handling_units": [],  # where processing places it (uploads.handling_units)
        "channel": data["channel"],
        "received_by": staff.user_id if staff else None,
        "applicant": jsonable(applicant),
        "delivery": data["delivery"],
        "form": jsonable(data["form"]),
        "documents": documents,
        "status": "submitted",
        "supplement_open": False,
        # The last number given to this dossier's own events, and the newest processing event applied.
        "sequence": 1,
        "processing_sequence": 0,
        "submitted_at": now,
        "updated_at": now,
        "lookup_secret_hash": secret_hash,
        # Every later event of the dossier carries the filing's correlation id (continue_trace).
        "correlationid": correlation_id.get(),
        "idempotency_key": idempotency_key,
        "request_hash": body_hash,
        "response": answer,
        "response_until": now + RESPONSE_KEPT,
    }
    submitted = {
        "code": code,
        "procedure_code": procedure["_id"],
        "procedure_version": procedure["version"],
        "unit": unit["_id"],
        "channel": data["channel"],
        # The counter officer who took a counter filing: processing's acceptance names them.
        "received_by": staff.user_id if staff else None,
        "delivery": data["delivery"],
        "documents": documents,
        "applicant": applicant,
        "form": data["form"],
        "submitted_at": now,
        "lookup_secret_hash": secret_hash,
    }
    try:
        store.insert_dossier(db, dossier, _event(EventTypes.DOSSIER_SUBMITTED, code, 1, submitted))
    except Exception as exc:
        # With retryWrites off, an error after the write leaves its outcome unknown: ask the
        # store before giving anything back.
        stored = _stored(db, code)
        if stored is False:
            _give_back(db, idempotency_key, upload_ids, code)
        if not stored:
            # Not stored (given back above), or unknown: then the key (naming the code) and the
            # claims stay; a retry with the key, or housekeeping an hour later, settles it.
            raise
        # Stored, its event with it (one write): the citizen has their dossier.
        log.warning("dossier stored despite a store error", extra={"error_type": type(exc).__name__})
    if idempotency_key:
        try:
            store.complete_idempotency_key(db, idempotency_key, code)
        except Exception:
            # The key names the code already: a retry finds the dossier by `_id`.
            log.warning("could not note a stored dossier on its key", exc_info=True)
    return Answer(201, answer)


def _authorised(dossier: Document, staff: Staff | None, secret: str | None) -> str:
    """Who acts on the dossier: `counter` (a receptionist of its unit) or `citizen` (the secret)."""
    if staff is not None:
        if Roles.RECEPTIONIST not in staff.roles or not staff.serves(dossier["unit"]):
            raise Forbidden("Tài khoản không thuộc đơn vị tiếp nhận hồ sơ này.")
        return "counter"
    if not secret:
        raise Unauthenticated("Cần mã tra cứu của hồ sơ hoặc đăng nhập cán bộ.")
    if not verify_secret(secret, dossier["lookup_secret_hash"]):
        raise Forbidden("Mã tra cứu không đúng.")
    return "citizen"


def _dossier(db: Db, code: str) -> Document:
    dossier = store.get_dossier(db, code)
    if dossier is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.")
    return dossier


def _state(db: Db, code: str) -> Document:
    dossier = _dossier(db, code)
    return {k: dossier[k] for k in ("status", "supplement_open", "updated_at")} | {"code": code}


def supplement(
    db: Db, code: str, data: Document, *, staff: Staff | None, now: datetime | None = None
) -> Document:
    now = now or datetime.now(UTC)
    dossier = _dossier(db, code)
    by = _authorised(dossier, staff, data.get("lookup_secret"))
    continue_trace(dossier.get("correlationid"))
    if not dossier.get("supplement_open"):
        raise Conflict("Hồ sơ không ở trạng thái chờ bổ sung.")
    procedure = store.get_published(db, store.PROCEDURES, dossier["procedure_code"]) or {}
    # The required types were given at filing; a supplement may bring any type of the procedure.
    optional = [{**t, "mandatory": False} for t in procedure.get("documents", [])]
    uploads = _documents(db, optional, data["documents"])
    upload_ids = [d["upload_id"] for d in data["documents"]]
    if not store.claim_uploads(db, upload_ids, code):
        raise InvalidData({"documents": ["Tệp đã được dùng cho hồ sơ khác."]})
    documents = _document_records(data["documents"], uploads)
    event = {
        "code": code,
        "documents": documents,
        "note": data.get("note", ""),
        "by": by,
        "supplemented_at": now,
    }
    sequence = _next_sequence(dossier)
    if not store.update_dossier(
        db,
        code,
        {"supplement_open": True, "sequence": dossier.get("sequence")},
        {
            "$set": {
                "supplement_open": False,
                "status": "supplemented",
                "updated_at": now,
                "sequence": sequence,
            },
            "$push": {"documents": {"$each": documents}},
        },
        _event(EventTypes.DOSSIER_SUPPLEMENTED, code, sequence, event),
    ):
        store.release_uploads(db, upload_ids, code)
        raise Conflict("Hồ sơ vừa được bổ sung hoặc đã đổi trạng thái.")
    return _state(db, code)


def withdraw(
    db: Db, code: str, data: Document, *, staff: Staff | None, now: datetime | None = None
) -> Document:
    now = now or datetime.now(UTC)
    dossier = _dossier(db, code)
    by = _authorised(dossier, staff, data.get("lookup_secret"))
    continue_trace(dossier.get("correlationid"))
    event = {"code": code, "reason": data.get("reason", ""), "by": by, "withdrawn_at": now}
    sequence = _next_sequence(dossier)
    if not store.update_dossier(
        db,
        code,
        {"status": {"$nin": list(FINISHED)}, "sequence": dossier.get("sequence")},
        {"$set": {"status": "withdrawn", "supplement_open": False, "updated_at": now, "sequence": sequence}},
        _event(EventTypes.DOSSIER_WITHDRAWN, code, sequence, event),
    ):
        raise Conflict("Hồ sơ đã kết thúc, không thể rút.")
    return _state(db, code)


# What intake learns from processing's events about a dossier it filed.
STATUS_AFTER = {
    "accepted": "accepted",
    "refused": "refused",
    "supplement_requested": "supplement_requested",
    "assigned": "in_progress",
    "approved": "result_ready",
    "rejected": "rejected",
    "stopped": "stopped",
    "result_issued": "result_ready",
    "returned": "returned",
}


def apply_processing_event(db: Db, event: Document) -> bool:
    """Follow processing's status of the dossier; an event older than the one applied changes nothing
    (a late `assigned` never moves a returned dossier back), and neither does a second delivery.

    The unit each event names (where the dossier is: a transfer moves it) joins the dossier's
    `handling_units`, whose staff may read its files; a set, so any order of delivery gives it."""
    unit = (event.get("data") or {}).get("unit")
    if isinstance(unit, str) and unit:
        store.add_handling_unit(db, event["subject"], unit)
    verb = event["type"].split(".")[4]
    if verb not in STATUS_AFTER:
        return False
    changes: Document = {"status": STATUS_AFTER[verb], "updated_at": datetime.now(UTC)}
    changes["supplement_open"] = verb == "supplement_requested"
    return store.apply_processing_event(db, event["subject"], changes, event["sequence"])
