"""Official letters: numbered in the unit's outgoing register, rendered from the versioned form,
signed with the unit's certificate, kept, and sent by post in a daily print batch (Decision
45/2016) whose progress the postal operator reports.

A letter's life: `created` → `rendered` → `signed` (or `technical_failure` with the reason: data
the form lacks, no certificate; rendering and signing are one step, recorded as two statuses in
one write) → for the post: `batched` → `despatched` → `delivered` or `returned` (flagged for
staff), or `cancelled` before its batch closes. Each step is one conditional write of the letter
carrying its status event, so a step taken twice, or by two workers, happens once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader, PdfWriter

from eventkit import signing
from eventkit.auth import Staff
from eventkit.blobs import BlobMissing, BlobStore
from eventkit.envelope import jsonable, new_event
from eventkit.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound, TransientError

__all__ = ["Conflict", "InvalidData", "NotFound"]
from eventkit.logs import continue_trace, correlation_id
from eventkit.mongo import Db, Document
from eventkit.outbox import outbox_entry
from eventkit.topics import Topics
from notify import letters, postal, store
from notify.mailer import Attachment
from notify.service import results

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SOURCE = "/services/notify"
CREATED, RENDERED, SIGNED, TECHNICAL_FAILURE = "created", "rendered", "signed", "technical_failure"
BATCHED, CANCELLED = "batched", "cancelled"
DESPATCHED, DELIVERED, RETURNED = "despatched", "delivered", "returned"
# What the postal operator may report, and from which statuses (a late report of an earlier step
# is recorded in the history but does not move the letter back).
POSTAL_STEPS: dict[str, frozenset[str]] = {
    DESPATCHED: frozenset({BATCHED}),
    DELIVERED: frozenset({BATCHED, DESPATCHED}),
    RETURNED: frozenset({BATCHED, DESPATCHED}),
}
# The lower bound of the batch's seek: a range bounded on both sides is answered from the index.
FAR_PAST = datetime(2002, 1, 1, tzinfo=UTC)
BATCH_PAGE = 500


class Unauthenticated(DomainError):
    status = 401


@dataclass(frozen=True)
class LetterRequest:
    """What a letter needs: who it is for, which form with which data, and whether it goes by post."""

    letter_id: str
    dossier_code: str
    unit: str  # the issuing unit: its register numbers the letter, its certificate signs it
    template_id: str
    data: Document  # the form's fields (letters.schema), without `number`, `date`
    recipient: str
    address: str
    by_post: bool
    number_suffix: str = ""  # e.g. "TB-BPMC": the number printed is "<n>/<suffix>"
    version: str = letters.DEFAULT_VERSION
    reason: str = ""  # why the letter is sent, kept with it


def _event(letter: Document, status: str, at: datetime, **extra: Any) -> list[dict[str, Any]]:
    sequence = len(letter.get("history", [])) + 1
    event = new_event(
        type=f"vn.motcua.notify.letter.{status}.v1",
        source=SOURCE,
        subject=letter["_id"],
        data=jsonable(
            {
                "letter_id": letter["_id"],
                "dossier_code": letter["dossier_code"],
                "unit": letter["unit"],
                "template_id": letter["template_id"],
                "status": status,
                "at": at,
                **extra,
            }
        ),
        sequence=sequence,
        correlationid=correlation_id.get(),
    )
    return [outbox_entry(Topics.NOTIFY_LETTERS.name, event)]


def _moved(status: str, at: datetime, fields: Document | None = None, **note: Any) -> Document:
    return {
        "$set": {"status": status, "updated_at": at, **(fields or {})},
        "$push": {"history": {"status": status, "at": at, **note}},
    }


def create(db: Db, request: LetterRequest, now: datetime) -> bool:
    """Record the letter `request` asks for, to be issued (`issue_pending`); False if it exists."""
    return store.insert_letter(
        db,
        {
            "_id": request.letter_id,
            "dossier_code": request.dossier_code,
            "unit": request.unit,
            "template_id": request.template_id,
            "version": request.version,
            "form_data": request.data,
            "number_suffix": request.number_suffix,
            "recipient": request.recipient,
            "address": request.address,
            "by_post": request.by_post,
            "reason": request.reason,
            "status": CREATED,
            "created_at": now,
            "updated_at": now,
            "history": [{"status": CREATED, "at": now}],
            # The dossier's correlation id (the event that asked for the letter carries it): the
            # letter's own events, the postal operator's reports' included, carry it on.
            "correlationid": correlation_id.get(),
        },
    )


def issue(db: Db, blobs: BlobStore, certs_dir: str | None, request: LetterRequest, now: datetime) -> Document:
    """The letter of `request`, numbered, rendered, signed and kept (once, however often asked)."""
    create(db, request, now)
    return issue_one(db, blobs, certs_dir, _letter(db, request.letter_id), now)


def issue_pending(db: Db, blobs: BlobStore, certs_dir: str | None, now: datetime, limit: int = 50) -> int:
    """Issue the letters recorded and not issued yet, oldest first; how many were looked at."""
    pending = store.letters_created(db, FAR_PAST, now, limit)
    for letter in pending:
        issue_one(db, blobs, certs_dir, letter, now)
    return len(pending)


def issue_one(db: Db, blobs: BlobStore, certs_dir: str | None, current: Document, now: datetime) -> Document:
    """Number, render, sign and keep the recorded letter `current` (nothing if issued already)."""
    if current["status"] != CREATED:
        return current
    letter_id, unit, template_id = current["_id"], current["unit"], current["template_id"]
    version, suffix = current["version"], current.get("number_suffix") or ""
    local = now.astimezone(TZ)
    number = store.take_register_number(db, unit, local.year, letter_id, now)
    number_text = f"{number}/{suffix}" if suffix else str(number)
    form_data = current.get("form_data") or {}
    data = {**form_data, "number": number_text, "date": local.date().isoformat()}
    errors = (
        letters.LetterDataError,
        letters.UnknownTemplate,
        signing.SigningUnavailable,
        signing.SigningError,
    )
    rendered: letters.Rendered | None = None
    try:
        rendered = letters.render_letter_full(template_id, version, data)
        signed = letters.sign_letter(
            rendered.pdf,
            unit,
            certs_dir,
            reason=letters.letter_reason(template_id, version, current["dossier_code"]),
            location=form_data.get("place", ""),
            signed_at=now,
        )
    except errors as exc:
        reason = str(exc)
        failed = _moved(TECHNICAL_FAILURE, now, {"failure": reason, "register_number": number}, reason=reason)
        steps = [(TECHNICAL_FAILURE, {"reason": reason}, {"reason": reason})]
        if rendered is not None:  # rendered, then the signing failed: both in the history
            steps.insert(0, _rendered_step(rendered))
        store.update_letter(db, letter_id, {"status": CREATED}, *_steps(current, failed, steps, now))
        return _letter(db, letter_id)
    store.save_letter_pdf(blobs, letter_id, signed)
    fields: Document = {
        "register_number": number,
        "register_year": local.year,
        "number_text": number_text,
        "template_version": rendered.version,
        "sha256": hashlib.sha256(signed).hexdigest(),
        "size": len(signed),
        "pages": rendered.pages,
        "signed_at": now,
    }
    if current["by_post"]:
        fields["post"] = "waiting"
    # Rendered and signed: both statuses, with their events, in the one write of the letter.
    signed_step = (SIGNED, {}, {"register_number": number_text, "by_post": current["by_post"]})
    store.update_letter(
        db,
        letter_id,
        {"status": CREATED},
        *_steps(current, _moved(SIGNED, now, fields), [_rendered_step(rendered), signed_step], now),
    )
    return _letter(db, letter_id)


StatusStep = tuple[str, Document, Document]  # a status entered, its history note, its event's extra fields


def _rendered_step(rendered: letters.Rendered) -> StatusStep:
    what = {"template_version": rendered.version, "pages": rendered.pages}
    return (RENDERED, what, what)


def _steps(
    letter: Document, update: Document, steps: list[StatusStep], at: datetime
) -> tuple[Document, list[dict[str, Any]]]:
    """`update` recording several statuses entered at once: each in the history, each with its
    event, numbered one after the other; the letter's `status` is the last one's."""
    history = list(letter.get("history", []))
    entries: list[dict[str, Any]] = []
    for status, note, extra in steps:
        entries += _event({**letter, "history": history}, status, at, **extra)
        history.append({"status": status, "at": at, **note})
    merged = {**update, "$push": {"history": {"$each": history[len(letter.get("history", [])) :]}}}
    return merged, entries


def _letter(db: Db, letter_id: str) -> Document:
    letter = store.get_letter(db, letter_id)
    if letter is None:
        raise NotFound(f"Không có văn bản {letter_id}.")
    return letter


def get(db: Db, letter_id: str) -> Document:
    return _letter(db, letter_id)


def of_dossier(db: Db, code: str, serves: Callable[[str], bool]) -> list[Document]:
    """A dossier's letters, for staff who serve the unit that issued them."""
    found = store.letters_of_dossier(db, code, 200)
    if not found:
        raise NotFound(f"Không có văn bản nào của hồ sơ {code}.")
    if not any(serves(letter["unit"]) for letter in found):
        raise Forbidden("Tài khoản không thuộc đơn vị phát hành văn bản của hồ sơ này.")
    return found


def pdf(db: Db, blobs: BlobStore, letter_id: str) -> bytes:
    letter = _letter(db, letter_id)
    if letter["status"] in (CREATED, TECHNICAL_FAILURE):
        raise NotFound(f"Văn bản {letter_id} chưa được ký phát hành.")
    try:
        return store.letter_pdf(blobs, letter_id)
    except BlobMissing:
        raise NotFound(f"Không tìm thấy tệp của văn bản {letter_id}.") from None


class NotIssuedYet(Conflict):
    """The letter asked for is not signed yet: it is on its way (`retry`) or could not be made."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


RECEIPT_FORM = "mau-01"


def receipt_pdf(db: Db, blobs: BlobStore, code: str, staff: Staff) -> bytes:
    """The signed receipt and appointment slip (Mẫu 01) of dossier `code`, for staff of the unit
    that issued it (the receiving unit). Its letter is recorded when notify applies processing's
    `accepted` and signed by the worker's next pass, seconds after a counter filing: until then
    NotIssuedYet (retry)."""
    found = [
        letter for letter in store.letters_of_dossier(db, code, 200) if letter["template_id"] == RECEIPT_FORM
    ]
    if not found:
        copy = store.get_dossier(db, code)
        units = {(copy or {}).get("receiving_unit"), (copy or {}).get("unit")} - {None}
        if units and not any(staff.serves(str(unit)) for unit in units):
            raise Forbidden("Tài khoản không thuộc đơn vị tiếp nhận hồ sơ này.")
        raise NotIssuedYet(
            f"Giấy tiếp nhận của hồ sơ {code} chưa được phát hành; vui lòng thử lại sau vài giây.", retry=True
        )
    letter = found[-1]  # a dossier is accepted once; the newest should another acceptance follow
    if not staff.serves(letter["unit"]):
        raise Forbidden("Tài khoản không thuộc đơn vị phát hành văn bản này.")
    if letter["status"] == TECHNICAL_FAILURE:
        raise NotIssuedYet(
            f"Không tạo được giấy tiếp nhận của hồ sơ {code} (lỗi kỹ thuật); hãy báo quản trị viên.",
            retry=False,
        )
    if letter["status"] == CREATED:
        raise NotIssuedYet(
            f"Giấy tiếp nhận của hồ sơ {code} đang được ký phát hành; vui lòng thử lại sau vài giây.",
            retry=True,
        )
    return pdf(db, blobs, str(letter["_id"]))


def cancel(db: Db, letter_id: str, reason: str, by: str, now: datetime) -> Document:
    """Stop a letter from going by post: only while it waits for its batch."""
    letter = _letter(db, letter_id)
    if not reason.strip():
        raise InvalidData({"reason": ["Cần nêu lý do hủy gửi."]})
    written = letter.get("post") == "waiting" and store.update_letter(
        db,
        letter_id,
        {"post": "waiting", "status": SIGNED},
        _moved(CANCELLED, now, {"post": CANCELLED}, by=by, reason=reason),
        _event(letter, CANCELLED, now, reason=reason),
    )
    if not written:
        current = _letter(db, letter_id)
        raise Conflict(
            f"Văn bản {letter_id} không còn chờ gửi bưu chính (trạng thái: {current['status']}); "
            "chỉ hủy được trước khi lô in trong ngày được chốt."
        )
    return _letter(db, letter_id)


def cutoff_of(day: date, cutoff: time) -> datetime:
    return datetime.combine(day, cutoff, tzinfo=TZ).astimezone(UTC)


def close_batch(db: Db, blobs: BlobStore, day: date, cutoff: time, now: datetime) -> Document:
    """Close the print batch of `day`: every letter still waiting for the post and signed before
    the day's cut-off gets its postal item number and goes in, oldest first; then the batch's PDF
    (the letters one after the other) and manifest are written. Run again after a crash, it takes
    what is left and writes the files again from the letters the batch holds."""
    key = day.isoformat()
    store.open_batch(db, key, now)
    until = cutoff_of(day, cutoff)
    while True:
        waiting = store.letters_waiting_for_post(db, FAR_PAST, until, BATCH_PAGE)
        for letter in waiting:
            serial = store.take_item_number(db, letter["_id"], now)
            item = postal.item_number(serial)
            # A letter cancelled meanwhile is not batched: the write expects it still waiting.
            store.update_letter(
                db,
                letter["_id"],
                {"post": "waiting", "status": SIGNED},
                _moved(
                    BATCHED, now, {"post": BATCHED, "batch": key, "item_number": item, "item_serial": serial}
                ),
                _event(letter, BATCHED, now, batch=key, item_number=item),
            )
        if len(waiting) < BATCH_PAGE:
            break
    held = store.batch_letters(db, key)
    writer = PdfWriter()
    rows = []
    for letter in held:
        for page in PdfReader(BytesIO(store.letter_pdf(blobs, letter["_id"]))).pages:
            writer.add_page(page)
        rows.append(
            postal.ManifestRow(
                letter["item_number"],
                letter["number_text"],
                letter["recipient"],
                letter["address"],
                letter["_id"],
                letter["template_id"],
            )
        )
    out = BytesIO()
    writer.write(out)
    store.save_batch_files(blobs, key, out.getvalue(), postal.manifest_csv(rows))
    store.close_batch(db, key, {"closed_at": now, "letters": len(held), "cutoff": until})
    batch = store.get_batch(db, key)
    assert batch is not None
    return batch


def batch(db: Db, day: str) -> Document:
    found = store.get_batch(db, day)
    if found is None:
        raise NotFound(f"Không có lô thư ngày {day}.")
    return {**found, "items": store.batch_letters(db, day)}


def batch_file(db: Db, blobs: BlobStore, day: str, kind: str) -> bytes:
    found = batch(db, day)
    if found["status"] != "closed":
        raise Conflict(f"Lô thư ngày {day} chưa chốt.")
    return store.batch_file(blobs, day, kind)


def check_signature(header: str | None, body: bytes, key: bytes, now: datetime) -> None:
    """Refuse (401) a postal report not signed with the shared `key` within the tolerance."""
    try:
        postal.verify_report(header, body, key, int(now.timestamp()))
    except postal.BadSignature as exc:
        raise Unauthenticated(str(exc)) from exc


def report(db: Db, letter_id: str, report_: Document, now: datetime) -> Document:
    """Apply the postal operator's report (its signature checked) on a letter, once per report id."""
    letter = _letter(db, letter_id)
    continue_trace(letter.get("correlationid"))
    if not store.record_postal_report(db, report_["id"], letter_id, now):
        raise Unauthenticated("Báo cáo này đã được nhận trước đó.")
    status, at = report_["status"], report_["at"]
    why = {"reason": report_["reason"]} if report_.get("reason") else {}
    note = {"report": report_["id"], "reported_at": at, **why}
    if letter["status"] not in POSTAL_STEPS[status]:
        if letter["status"] in (CREATED, SIGNED, TECHNICAL_FAILURE, CANCELLED):
            raise Conflict(f"Văn bản {letter_id} chưa được gửi bưu chính (trạng thái: {letter['status']}).")
        # A report that arrives after a later step: kept for the record, the status stays.
        db_update = {"$push": {"history": {"status": status, "at": now, "late": True, **note}}}
        store.update_letter(db, letter_id, {}, db_update, [])
        return _letter(db, letter_id)
    fields: Document = {}
    if status == RETURNED:
        fields = {"needs_attention": True, "returned_reason": report_.get("reason", "")}
    written = store.update_letter(
        db,
        letter_id,
        {"status": letter["status"]},
        _moved(status, now, fields, **note),
        _event(letter, status, now, reported_at=at, **why),
    )
    if not written:
        raise Conflict(f"Văn bản {letter_id} vừa thay đổi; hãy gửi lại báo cáo.")
    return _letter(db, letter_id)


def due_batch_day(now: datetime, cutoff: time) -> date | None:
    """The day whose batch should be closed at `now`: today once its cut-off has passed."""
    local = now.astimezone(TZ)
    return local.date() if local.time() >= cutoff else None


SLIP_NAMESPACE = uuid.UUID("0b7d4c1e-2f6a-4a8e-9c0d-5e3b1a7f9d21")


def slip_letter_id(event_id: str, slip: str) -> str:
    """The letter of slip `slip` (`receipt_slip`, ...) owed for event `event_id`: one per event."""
    return str(uuid.uuid5(SLIP_NAMESPACE, f"{event_id}|{slip}"))


# The file name of each slip attached to an email.
SLIP_FILES = {
    "mau-01": "giay-tiep-nhan",
    "mau-02": "phieu-yeu-cau-bo-sung",
    "mau-03": "phieu-tu-choi",
    "mau-04": "phieu-xin-loi",
    "tb-khong-giai-quyet": "thong-bao-khong-giai-quyet",
    "tb-dung-giai-quyet": "thong-bao-dung-giai-quyet",
}


def slip_attachments(
    db: Db, blobs: BlobStore, certs_dir: str | None = None
) -> Callable[[Document], list[Attachment]]:
    """The sender's hook: the signed slips a notification names (`attachments`), from the letters
    its event made, and the dossier's signed result (`result`, service/results.py). A slip recorded
    but not issued yet is issued at once when `certs_dir` is given (the worker's sender: the
    letter's event may have come after the pass's issuing); without it, or a result not arrived
    yet: a transient error (the email waits for it). A slip that could not be made
    is left out: the citizen still gets the email, and the letter's `technical_failure` (with its
    reason, and its event) tells the staff to issue the slip by hand."""

    def attachments_for(notification: Document) -> list[Attachment]:
        files = []
        for name in notification.get("attachments") or []:
            if name == results.RESULT:
                # The signed result processing sent; the email waits until it has arrived.
                files.append(results.result_attachment(blobs, notification))
                continue
            letter = store.get_letter(db, slip_letter_id(notification["event_id"], name))
            if letter is None:
                continue  # an event that owed no letter (made before letters were kept)
            if letter["status"] == CREATED and certs_dir is not None:
                letter = issue_one(db, blobs, certs_dir, letter, datetime.now(UTC))
            if letter["status"] == CREATED:
                raise TransientError(f"the slip {name} is not issued yet")
            if letter["status"] == TECHNICAL_FAILURE:
                continue
            filename = f"{SLIP_FILES.get(letter['template_id'], 'van-ban')}-{letter['dossier_code']}.pdf"
            files.append(Attachment(filename, store.letter_pdf(blobs, letter["_id"])))
        return files

    return attachments_for
