"""The dossier workflow's use cases: intake's events arriving, and officers' actions.

Every change of a dossier is one single-document conditional write holding the new state, an
audit-trail entry (`history`), the control-slip row of a hand-over (Mẫu 05), and the event it
publishes (in its outbox, numbered by the dossier's `sequence`). The write is conditional on the
`state`, `sequence` and `revision` read: of two officers acting at once, one wins and the other is
told the state the dossier is in now. Intake's events are applied once each and in order
(`intake_sequence` holds the newest applied).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from eventkit.auth import Roles, Staff
from eventkit.envelope import Event, caused_by, jsonable, new_event
from eventkit.errors import Forbidden, TransientError
from eventkit.logs import continue_trace, correlation_id
from eventkit.mongo import Db, Document
from eventkit.outbox import outbox_entry
from eventkit.signing import SigningUnavailable
from eventkit.topics import Topics
from processing import deadlines, store, workflow
from processing.events import ConsumedTypes, EventTypes
from processing.service import InvalidData, NotFound
from processing.service import staff as staff_directory
from processing.service.calendar import FIRST_YEAR, LAST_YEAR, YEARS_AHEAD, calendar_for, legal_time
from processing.service.catalogue import PROCEDURES, UNITS
from processing.service.queues import search_keys
from processing.workflow import Actions, NotAllowed, States

if TYPE_CHECKING:
    from processing.service.results import ResultSigning

SOURCE = "/services/processing"
TZ = deadlines.TZ
CITIZEN = "citizen"

# What each action publishes; a proposal and a sending back stay inside the office.
EVENT_OF = {
    Actions.ACCEPT: EventTypes.DOSSIER_ACCEPTED,
    Actions.REQUEST_SUPPLEMENT: EventTypes.SUPPLEMENT_REQUESTED,
    Actions.REFUSE: EventTypes.DOSSIER_REFUSED,
    Actions.ASSIGN: EventTypes.DOSSIER_ASSIGNED,
    Actions.TRANSFER: EventTypes.DOSSIER_TRANSFERRED,
    Actions.APPROVE: EventTypes.DOSSIER_APPROVED,
    Actions.REJECT: EventTypes.DOSSIER_REJECTED,
    Actions.EXTEND: EventTypes.DOSSIER_EXTENDED,
    Actions.ISSUE_RESULT: EventTypes.RESULT_ISSUED,
    Actions.RETURN_RESULT: EventTypes.DOSSIER_RETURNED,
    Actions.STOP: EventTypes.DOSSIER_STOPPED,
}
CONCURRENT_CHANGE = "Hồ sơ vừa được người khác cập nhật; hãy tải lại rồi thao tác."
# Intake's events change a dossier that a racing write may change too: read again and retry.
INTAKE_ATTEMPTS = 5
# A dossier in these states has no running due time for the deadline watch.
CLOCK_STOPPED = (States.SUPPLEMENT_REQUESTED, *States.FINAL)


# -- reading ------------------------------------------------------------------------------------


def _dossier(db: Db, code: str) -> Document:
    dossier = store.get_dossier(db, code)
    if dossier is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.")
    return dossier


def _read_for(db: Db, code: str, staff: Staff) -> Document:
    """Dossier `code` for an officer who may read it; the request carries on the dossier's trace."""
    dossier = _dossier(db, code)
    _check_reader(dossier, staff)
    continue_trace(dossier.get("correlationid"))
    return dossier


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(TZ) if value is not None else None


def _calendar(db: Db, *instants: datetime | None) -> deadlines.Calendar:
    years = [i.astimezone(TZ).year for i in instants if i is not None]
    return calendar_for(db, max(FIRST_YEAR, min(years)), min(LAST_YEAR, max(years) + YEARS_AHEAD))


def _procedure(db: Db, code: str, version: int | None) -> Document:
    """The procedure as it was in the version the dossier was filed under."""
    current = store.get_reference(db, PROCEDURES.collection, code)
    if current is not None and (version is None or current["version"] == version):
        return current
    kept = store.get_procedure_version(db, code, version) if version is not None else None
    if kept is not None:
        return kept
    if current is None:
        raise NotFound(f"Thủ tục {code} không tồn tại.")
    return current


def _due_from(db: Db, dossier: Document, received_at: datetime) -> datetime:
    procedure = _procedure(db, dossier["procedure_code"], dossier.get("procedure_version"))
    return deadlines.due_at(_calendar(db, received_at), received_at, legal_time(procedure))


def _effective_due(db: Db, dossier: Document, now: datetime) -> datetime | None:
    """The due time as of `now`: a paused clock (supplement awaited) moves it by the wait so far."""
    due, paused = dossier.get("due_at"), dossier.get("paused_at")
    if due is None or paused is None:
        return due
    return deadlines.shift_by_pause(_calendar(db, due, paused, now), due, paused, now)


def _deadline_watch(db: Db, due: datetime | None, now: datetime) -> Document:
    """The deadline watch's marks (`watch`, `due_soon_at`) for a due time that runs from `now`,
    written with each change that sets or moves it; cleared (None) when the clock stops."""
    from processing.service import deadlines_watch  # it builds its events with this module

    if due is None:
        return dict(deadlines_watch.CLEARED)
    # A working day before the due time may fall in the year before it.
    return deadlines_watch.marks(_calendar(db, due - timedelta(days=31), due), due, now)


def _each_time(value: Any, change: Callable[[datetime], datetime]) -> Any:
    """`value` with `change` applied to every datetime in it, however deep."""
    if isinstance(value, datetime):
        return change(value)
    if isinstance(value, dict):
        return {k: _each_time(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_time(v, change) for v in value]
    return value


def _to_ms(value: Any) -> Any:
    """Times cut to the millisecond, as the store keeps them: the event then says what is stored."""
    return _each_time(value, lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


def _localised(value: Any) -> Any:
    return _each_time(value, lambda t: t.astimezone(TZ))


def view(dossier: Document) -> Document:
    """A dossier as the API shows it (times in Vietnam's time zone)."""
    shown: Document = _localised({k: v for k, v in dossier.items() if k != "revision"})
    return shown


def _check_reader(dossier: Document, staff: Staff) -> None:
    # The one-stop unit that received the dossier follows it wherever it is handled.
    if not (staff.serves(dossier["unit"]) or staff.serves(dossier["receiving_unit"])):
        raise Forbidden("Tài khoản không thuộc đơn vị xử lý hồ sơ này.")


def with_download_links(documents: Any, intake_url: str) -> list[Document]:
    """Each received document with the link to its file at intake (read with the officer's token)."""
    return [
        {
            **document,
            "download_url": f"{intake_url}/api/v1/uploads/{quote(str(document['upload_id']), safe='')}",
        }
        if isinstance(document, dict) and document.get("upload_id")
        else document
        for document in documents or []
    ]


def get(db: Db, code: str, staff: Staff, intake_url: str = "") -> Document:
    dossier = _read_for(db, code, staff)
    shown = view(dossier)
    shown["documents"] = with_download_links(shown.get("documents"), intake_url)
    return shown


def get_with_revision(db: Db, code: str, staff: Staff) -> tuple[Document, int]:
    """A dossier as `get` shows it and the revision it was read at (a page sends it back with an
    action, so a change made meanwhile is caught)."""
    dossier = _read_for(db, code, staff)
    return view(dossier), int(dossier.get("revision") or 0)


def actions_for(db: Db, code: str, staff: Staff) -> Document:
    """What the officer may do with the dossier now, and the fields each action needs."""
    dossier = _read_for(db, code, staff)
    allowed = workflow.allowed_actions(dossier, staff)
    return {
        "code": code,
        "state": dossier["state"],
        "allowed": allowed,
        "actions": [
            {
                "action": action,
                "required": list(workflow.rule_of(action).required),
                "optional": list(workflow.rule_of(action).optional),
            }
            for action in allowed
        ],
    }


# -- writing ------------------------------------------------------------------------------------


def _snapshot(dossier: Document) -> Document:
    return {k: dossier.get(k) for k in ("state", "due_at", "unit", "assignee")}


def _history_entry(
    *, who: str, role: str, when: datetime, action: str, before: Document, after: Document, body: Document
) -> Document:
    entry = {"who": who, "role": role, "when": when, "action": action, "before": before, "after": after}
    for name in ("reason", "note"):
        if body.get(name):
            entry[name] = body[name]
    if body.get("reasons"):
        entry["reason"] = "; ".join(body["reasons"])
    return entry


def _event_data(dossier: Document, after: Document, by: str, now: datetime, sequence: int) -> Document:
    return {
        "code": dossier["code"],
        "unit": after["unit"],
        "receiving_unit": dossier["receiving_unit"],
        "procedure_code": dossier["procedure_code"],
        "channel": dossier["channel"],
        "state": after["state"],
        "by": by,
        "at": _local(now),
        "sequence": sequence,
    }


def _entries(
    event_type: str,
    code: str,
    data: Document,
    sequence: int,
    cause: Event | None,
    topic: str = Topics.PROCESSING_DOSSIERS.name,
) -> list[Any]:
    payload = jsonable({k: _local(v) if isinstance(v, datetime) else v for k, v in data.items()})
    if cause is not None:
        event = caused_by(
            cause, type=event_type, source=SOURCE, subject=code, data=payload, sequence=sequence
        )
    else:
        event = new_event(
            type=event_type,
            source=SOURCE,
            subject=code,
            data=payload,
            sequence=sequence,
            correlationid=correlation_id.get(),
        )
    return [outbox_entry(topic, event)]


def _slip_row(
    *,
    at: datetime,
    action: str,
    from_unit: str | None,
    from_user: str | None,
    to_unit: str | None,
    to_user: str | None,
    due: datetime | None,
    note: str | None = None,
) -> Document:
    """One hand-over of the processing control slip (Mẫu 05): on time when made by the due time."""
    return {
        "at": at,
        "action": action,
        "from_unit": from_unit,
        "from_user": from_user,
        "to_unit": to_unit,
        "to_user": to_user,
        "on_time": due is None or at <= due,
        "note": note or "",
    }


def _timeliness(db: Db, dossier: Document, now: datetime) -> Document:
    """What a final state records: when it was resolved and, with a due time, how timely."""
    due = _effective_due(db, dossier, now)
    fields: Document = {"resolved_at": now, "paused_at": None}
    if due is not None:
        fields["due_at"] = due
        fields["timeliness"] = deadlines.classify(_calendar(db, due, now), due, now)
    return fields


@dataclass
class Step:
    """An action being taken: what it reads, and what it changes, publishes and hands over."""

    db: Db
    dossier: Document
    body: Document
    staff: Staff
    role: str
    now: datetime
    fields: Document = field(default_factory=dict)
    event: Document = field(default_factory=dict)
    slip: Document | None = None
    results: ResultSigning | None = None
    # Other events of the same write, each (topic, type, data), numbered like the dossier's event.
    also: list[tuple[str, str, Document]] = field(default_factory=list)

    def hand_over(
        self, *, from_unit: str | None, from_user: str | None, to_unit: str | None, to_user: str | None
    ) -> None:
        self.slip = _slip_row(
            at=self.now,
            action="",
            from_unit=from_unit,
            from_user=from_user,
            to_unit=to_unit,
            to_user=to_user,
            due=_effective_due(self.db, {**self.dossier, **self.fields}, self.now),
            note=self.body.get("note") or self.body.get("reason"),
        )


def _accept(step: Step) -> None:
    dossier, now = step.dossier, step.now
    due = _due_from(step.db, dossier, now)
    step.fields.update(
        received_at=now,
        received_by=step.staff.user_id,
        received_by_name=step.staff.name,
        due_at=due,
        **_deadline_watch(step.db, due, now),
    )
    step.event.update(_accepted_data({**dossier, **step.fields}))
    step.hand_over(from_unit=None, from_user=CITIZEN, to_unit=dossier["unit"], to_user=step.staff.user_id)


def _accepted_data(dossier: Document) -> Document:
    return {
        "received_at": dossier["received_at"],
        "due_at": dossier["due_at"],
        "procedure_name": dossier.get("procedure_name", ""),
        "applicant": dossier.get("applicant", {}),
        "delivery": dossier.get("delivery", {}),
        "documents": dossier.get("documents", []),
        "received_by": dossier["received_by"],
        "received_by_name": dossier.get("received_by_name") or "",
    }


def _missing_items(items: Any) -> list[Document]:
    if not isinstance(items, list):
        raise InvalidData({"missing": ["Phải là danh sách giấy tờ cần bổ sung."]})
    missing: list[Document] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            missing.append({"document": item.strip(), "reason": ""})
        elif isinstance(item, dict) and str(item.get("document") or "").strip():
            missing.append(
                {"document": str(item["document"]).strip(), "reason": str(item.get("reason") or "")}
            )
        else:
            raise InvalidData({"missing": ["Mỗi mục cần nêu giấy tờ cần bổ sung."]})
    return missing


def _request_supplement(step: Step) -> None:
    dossier, now = step.dossier, step.now
    missing = _missing_items(step.body["missing"])
    # The clock runs once the dossier is accepted; a request before that pauses nothing.
    paused_at = now if dossier.get("due_at") is not None else None
    step.fields.update(
        paused_at=paused_at,
        supplement={
            "missing": missing,
            "reason": step.body["reason"],
            "requested_at": now,
            "requested_by": step.staff.user_id,
            "from_state": dossier["state"],
        },
    )
    step.event.update(missing=missing, reason=step.body["reason"])
    if paused_at is not None:
        step.event["paused_at"] = paused_at


def _refuse(step: Step) -> None:
    reasons = [str(r).strip() for r in step.body["reasons"] if str(r).strip()]
    if not reasons:
        raise InvalidData({"reasons": ["Cần ít nhất một lý do từ chối."]})
    step.fields.update(refusal={"reasons": reasons}, **_timeliness(step.db, step.dossier, step.now))
    step.event.update(reasons=reasons, resolved_at=step.now)


def _assign(step: Step) -> None:
    assignee = str(step.body["assignee"]).strip()
    unit = step.dossier["unit"]
    account = staff_directory.check_assignee(step.db, assignee, unit)
    step.fields["assignee"] = assignee
    step.event.update(assignee=assignee, assignee_name=account["name"])
    step.hand_over(from_unit=unit, from_user=step.staff.user_id, to_unit=unit, to_user=assignee)


def _transfer(step: Step) -> None:
    dossier = step.dossier
    to_unit = str(step.body["to_unit"]).strip()
    if to_unit == dossier["unit"]:
        raise InvalidData({"to_unit": ["Hồ sơ đang ở đơn vị này."]})
    if store.get_reference(step.db, UNITS.collection, to_unit) is None:
        raise InvalidData({"to_unit": [f"Đơn vị không tồn tại: {to_unit}."]})
    # The receiving office assigns its own specialist.
    step.fields.update(unit=to_unit, assignee=None)
    step.hand_over(from_unit=dossier["unit"], from_user=step.staff.user_id, to_unit=to_unit, to_user=None)
    assert step.slip is not None
    step.event.update(
        from_unit=dossier["unit"], to_unit=to_unit, note=step.body["note"], on_time=step.slip["on_time"]
    )


def _propose(step: Step) -> None:
    step.fields["proposal"] = {
        "note": step.body["note"],
        "draft_upload_id": step.body.get("draft_upload_id"),
        "by": step.staff.user_id,
        "at": step.now,
    }
    unit = step.dossier["unit"]
    step.hand_over(from_unit=unit, from_user=step.staff.user_id, to_unit=unit, to_user=None)


def _send_back(step: Step) -> None:
    step.fields["sent_back"] = {"reason": step.body["reason"], "by": step.staff.user_id, "at": step.now}


def _approve(step: Step) -> None:
    note = step.body.get("note") or ""
    step.fields["approval"] = {"note": note, "by": step.staff.user_id, "at": step.now}
    step.event["note"] = note
    dossier = step.dossier
    step.hand_over(
        from_unit=dossier["unit"],
        from_user=step.staff.user_id,
        to_unit=dossier["receiving_unit"],
        to_user=None,
    )


def _final(step: Step, key: str) -> None:
    fields = _timeliness(step.db, step.dossier, step.now)
    step.fields.update({key: {"reason": step.body["reason"], "by": step.staff.user_id}, **fields})
    step.event.update(reason=step.body["reason"], **fields)
    step.event.pop("paused_at", None)


def _reject(step: Step) -> None:
    _final(step, "rejection")


def _stop(step: Step) -> None:
    _final(step, "stop")


def _extend(step: Step) -> None:
    old, new = step.dossier.get("due_at"), step.body["new_due_at"]
    if not isinstance(new, datetime):
        raise InvalidData({"new_due_at": ["Thời điểm không hợp lệ."]})
    if old is not None and new <= old:
        raise InvalidData({"new_due_at": ["Hạn mới phải sau hạn hiện tại."]})
    step.fields.update(
        due_at=new,
        **_deadline_watch(step.db, new, step.now),
        extended=True,
        extension={
            "old_due_at": old,
            "new_due_at": new,
            "reason": step.body["reason"],
            "by": step.staff.user_id,
        },
    )
    step.event.update(old_due_at=old, new_due_at=new, reason=step.body["reason"])


def _issue_result(step: Step) -> None:
    # The draft is signed by the dossier's unit and the signed file stored before the write.
    if step.results is None:
        raise SigningUnavailable("Chưa cấu hình nơi lưu và ký kết quả giải quyết.")
    result, signed = step.results.sign_file(
        step.db, step.dossier, str(step.body["upload_id"]), step.staff, step.now
    )
    # A dossier delivered online gets its signed result by email: the file goes to notify on its
    # own topic, in this same write, unless it is too large for an email (then it is downloaded).
    online = (step.dossier.get("delivery") or {}).get("method") == "online"
    result["file_sent"] = online and len(signed) <= step.results.attach_max_bytes
    step.fields["result"] = {**result, "issued_by": step.staff.user_id, "issued_at": step.now}
    step.event["result"] = result
    dossier = step.dossier
    if dossier["unit"] != dossier["receiving_unit"]:
        # Resolved at an office it was transferred to: the result goes back to the one-stop unit
        # that received the dossier, whose counter returns it (Decree 61, art. 20).
        step.fields["unit"] = dossier["receiving_unit"]
        step.hand_over(
            from_unit=dossier["unit"],
            from_user=step.staff.user_id,
            to_unit=dossier["receiving_unit"],
            to_user=None,
        )
    if result["file_sent"]:
        from processing.service.results import file_event_data  # results reads dossiers

        data = file_event_data(step.dossier["code"], result, signed)
        step.also.append((Topics.PROCESSING_RESULTS.name, EventTypes.RESULT_FILE, data))


def _return_result(step: Step) -> None:
    method = step.body["method"]
    if method not in workflow.RESULT_METHODS:
        raise InvalidData({"method": ["Phải là một trong: " + ", ".join(workflow.RESULT_METHODS) + "."]})
    fields = _timeliness(step.db, step.dossier, step.now)
    step.fields.update(returned={"method": method, "by": step.staff.user_id, "at": step.now}, **fields)
    step.event.update(method=method, **fields)
    step.event.pop("paused_at", None)
    dossier = step.dossier
    step.hand_over(
        from_unit=dossier["receiving_unit"], from_user=step.staff.user_id, to_unit=None, to_user=CITIZEN
    )


STEPS: dict[str, Callable[[Step], None]] = {
    Actions.ACCEPT: _accept,
    Actions.REQUEST_SUPPLEMENT: _request_supplement,
    Actions.REFUSE: _refuse,
    Actions.ASSIGN: _assign,
    Actions.TRANSFER: _transfer,
    Actions.PROPOSE: _propose,
    Actions.SEND_BACK: _send_back,
    Actions.APPROVE: _approve,
    Actions.REJECT: _reject,
    Actions.EXTEND: _extend,
    Actions.ISSUE_RESULT: _issue_result,
    Actions.RETURN_RESULT: _return_result,
    Actions.STOP: _stop,
}


def _write(
    db: Db,
    dossier: Document,
    *,
    action: str,
    fields: Document,
    who: str,
    role: str,
    now: datetime,
    body: Document,
    event_type: str | None,
    event: Document,
    slip: Document | None,
    expected: Document,
    cause: Event | None = None,
    also: list[tuple[str, str, Document]] | None = None,
) -> bool:
    """The one conditional write of a change: state, audit entry, control-slip row and event (and
    `also`, events of other topics the change publishes, with the same sequence)."""
    fields, event, slip = _to_ms(fields), _to_ms(event), _to_ms(slip)
    if fields.get("state") in CLOCK_STOPPED:
        fields = {**fields, **_deadline_watch(db, None, now)}
    after_doc = {**dossier, **fields}
    entries: list[Any] = []
    sequence = int(dossier.get("sequence") or 0)
    if event_type is not None:
        sequence += 1
        data = {**_event_data(dossier, after_doc, who, now, sequence), **event}
        entries = _entries(event_type, dossier["code"], data, sequence, cause)
        for topic, other_type, other in also or []:
            entries += _entries(other_type, dossier["code"], other, sequence, cause, topic)
    entry = _history_entry(
        who=who,
        role=role,
        when=now,
        action=action,
        before=_snapshot(dossier),
        after=_snapshot(after_doc),
        body=body,
    )
    push: Document = {"history": entry}
    if slip is not None:
        push["control_slip"] = {**slip, "action": action}
    update = {
        "$set": {
            **fields,
            "sequence": sequence,
            "revision": int(dossier.get("revision") or 0) + 1,
            "updated_at": now,
        },
        "$push": push,
    }
    written = store.update_dossier(db, dossier["code"], expected, update, entries)
    if written:
        count_move(db, dossier, after_doc)
    return written


def count_move(db: Db, before: Document | None, after: Document) -> None:
    """Keep the per-unit, per-state counts (`queue_counts`) with a dossier that was just written:
    called only after the dossier's own write succeeded, so a lost race counts nothing. A crash
    between the two writes leaves a count one off until `store.recount_dossiers` repairs it."""
    moves: dict[tuple[str, str], int] = {}
    if before is not None:
        key = (before["unit"], before["state"])
        moves[key] = moves.get(key, 0) - 1
    key = (after["unit"], after["state"])
    moves[key] = moves.get(key, 0) + 1
    store.count_dossier_moves(db, moves)


def count_missing_units(db: Db) -> list[str]:
    """Count the dossiers of each unit that has no `queue_counts` yet (a store that held dossiers
    before the counts were kept): one indexed count per state, once. Run by the importer's seed,
    before the services start, so no dossier moves meanwhile. Returns the units counted."""
    counted = []
    for unit in store.reference_codes(db, "units"):
        if not store.has_dossier_counts(db, unit):
            store.recount_dossiers(db, unit, States.ALL)
            counted.append(unit)
    return counted


def perform(
    db: Db,
    code: str,
    action: str,
    body: Document,
    staff: Staff,
    now: datetime | None = None,
    results: ResultSigning | None = None,
    expected_revision: int | None = None,
) -> Document:
    """Take `action` on dossier `code` as `staff`; the dossier as it is after it (`results` signs
    and keeps an issued result). With `expected_revision` (the revision a page showed), a dossier
    changed since is refused like a lost race.

    Refusals: NotFound (no such dossier or action), Forbidden (not the unit's, or not a role that
    may), NotAllowed (not from this state, or the dossier changed meanwhile), InvalidData (a
    field missing or wrong).
    """
    now = _to_ms(now or datetime.now(UTC))
    body = _to_ms(body)
    if action not in workflow.RULES:
        raise NotFound(f"Không có thao tác {action}.")
    dossier = _dossier(db, code)
    if not staff.serves(dossier["unit"]):
        raise Forbidden("Tài khoản không thuộc đơn vị đang xử lý hồ sơ này.")
    continue_trace(dossier.get("correlationid"))
    if expected_revision is not None and dossier.get("revision") != expected_revision:
        raise NotAllowed(
            action, dossier["state"], workflow.allowed_actions(dossier, staff), message=CONCURRENT_CHANGE
        )
    after_state = workflow.next_state(dossier, action, staff)
    try:
        role = workflow.acting_role(dossier, action, staff)
    except workflow.WrongRole as exc:
        raise Forbidden(str(exc)) from exc
    if errors := workflow.missing_fields(action, body):
        raise InvalidData(errors)
    step = Step(db=db, dossier=dossier, body=body, staff=staff, role=role, now=now, results=results)
    STEPS[action](step)
    # Who acted, by name: the slips and letters that follow from the event print it.
    step.event.setdefault("by_name", staff.name)
    step.fields["state"] = after_state
    written = _write(
        db,
        dossier,
        action=action,
        fields=step.fields,
        who=staff.user_id,
        role=role,
        now=now,
        body=body,
        event_type=EVENT_OF.get(action),
        event=step.event,
        slip=step.slip,
        also=step.also,
        expected={
            "state": dossier["state"],
            "sequence": dossier.get("sequence"),
            "revision": dossier.get("revision"),
        },
    )
    if not written:
        current = _dossier(db, code)
        raise NotAllowed(
            action, current["state"], workflow.allowed_actions(current, staff), message=CONCURRENT_CHANGE
        )
    return view(_dossier(db, code))


# -- intake's events ----------------------------------------------------------------------------


def _instant(value: Any, fallback: datetime) -> datetime:
    parsed = value
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(parsed, datetime):
        return fallback
    result: datetime = _to_ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    return result


def _by(data: Document) -> tuple[str, str]:
    """Who acted in intake, and in which role: the citizen, or the counter."""
    by = str(data.get("by") or CITIZEN)
    return by, (CITIZEN if by == CITIZEN else Roles.RECEPTIONIST)


def apply_intake_event(db: Db, event: Event, data: Document, now: datetime | None = None) -> bool:
    """Apply one of intake's dossier events; False when it changes nothing (a repeat, or older than
    the newest applied)."""
    now = _to_ms(now or datetime.now(UTC))
    if event["type"] == ConsumedTypes.DOSSIER_SUBMITTED:
        return _arrive(db, event, data, now)
    change = _supplemented if event["type"] == ConsumedTypes.DOSSIER_SUPPLEMENTED else _withdrawn
    for _ in range(INTAKE_ATTEMPTS):
        dossier = store.get_dossier(db, event["subject"])
        if dossier is None:
            # Its `submitted` has not been applied yet (it is being retried): this waits for it.
            raise TransientError("the dossier has not arrived yet")
        if int(dossier.get("intake_sequence") or 0) >= event["sequence"]:
            return False
        if change(db, dossier, event, data, now):
            return True
    raise TransientError("the dossier kept changing while an intake event was applied")


def _arrive(db: Db, event: Event, data: Document, now: datetime) -> bool:
    code = event["subject"]
    if store.get_dossier(db, code) is not None:
        return False  # delivered again: the insert would fail the same way, after more reads
    submitted_at = _instant(data.get("submitted_at"), now)
    procedure = _procedure(db, data["procedure_code"], data.get("procedure_version"))
    dossier: Document = {
        "code": code,
        "procedure_code": data["procedure_code"],
        "procedure_version": data.get("procedure_version", procedure["version"]),
        "procedure_name": procedure.get("name", ""),
        "receiving_unit": data["unit"],
        "unit": data["unit"],
        "channel": data["channel"],
        "applicant": data.get("applicant") or {},
        # Searched by officers: kept normalised, top-level, beside the unit (service/queues.py).
        **search_keys(data.get("applicant") or {}),
        "delivery": data.get("delivery") or {},
        "documents": data.get("documents") or [],
        "form": data.get("form") or {},
        "submitted_at": submitted_at,
        "received_at": None,
        "received_by": None,
        "state": States.SUBMITTED,
        "assignee": None,
        "due_at": None,
        "paused_at": None,
        "extended": False,
        "resolved_at": None,
        "timeliness": None,
        "result": None,
        "sequence": 0,
        "intake_sequence": event["sequence"],
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "control_slip": [],
        # The filing's correlation id: the officers' actions carry it on (continue_trace).
        "correlationid": event.get("correlationid"),
    }
    by, role = (data.get("received_by") or "counter", Roles.RECEPTIONIST)
    if data["channel"] != "counter":
        by, role = CITIZEN, CITIZEN
    entries: list[Any] = []
    if data["channel"] == "counter":
        # Checked at the counter already: accepted on arrival, the clock running from the filing.
        due = _to_ms(_due_from(db, dossier, submitted_at))
        officer = store.get_staff(db, by)
        dossier.update(
            state=States.ACCEPTED,
            received_at=submitted_at,
            received_by=by,
            received_by_name=officer["name"] if officer else "",
            due_at=due,
            sequence=1,
            **_deadline_watch(db, due, now),
        )
        data_out = {**_event_data(dossier, dossier, by, submitted_at, 1), **_accepted_data(dossier)}
        entries = _entries(EventTypes.DOSSIER_ACCEPTED, code, data_out, 1, event)
        dossier["control_slip"] = [
            {
                **_slip_row(
                    at=submitted_at,
                    action=Actions.ACCEPT,
                    from_unit=None,
                    from_user=CITIZEN,
                    to_unit=dossier["unit"],
                    to_user=by,
                    due=due,
                ),
                "action": Actions.ACCEPT,
            }
        ]
    dossier["history"] = [
        _history_entry(
            who=by,
            role=role,
            when=submitted_at,
            action="submitted",
            before={"state": None, "due_at": None, "unit": None, "assignee": None},
            after=_snapshot(dossier),
            body={},
        )
    ]
    inserted = store.insert_dossier(db, dossier, entries)
    if inserted:
        count_move(db, None, dossier)
    return inserted


def _intake_write(
    db: Db, dossier: Document, event: Event, data: Document, now: datetime, action: str, fields: Document
) -> bool:
    by, role = _by(data)
    fields = _to_ms(fields)
    if fields.get("state") in CLOCK_STOPPED:
        fields = {**fields, **_deadline_watch(db, None, now)}
    entry = _history_entry(
        who=by,
        role=role,
        when=now,
        action=action,
        before=_snapshot(dossier),
        after=_snapshot({**dossier, **fields}),
        body={"note": data.get("note"), "reason": data.get("reason")},
    )
    update: Document = {
        "$set": {
            **fields,
            "intake_sequence": event["sequence"],
            "revision": int(dossier.get("revision") or 0) + 1,
            "updated_at": now,
        },
        "$push": {"history": entry},
    }
    written = store.update_dossier(
        db,
        dossier["code"],
        {"revision": dossier.get("revision"), "intake_sequence": dossier.get("intake_sequence")},
        update,
        [],
    )
    if written:
        count_move(db, dossier, {**dossier, **fields})
    return written


def _supplemented(db: Db, dossier: Document, event: Event, data: Document, now: datetime) -> bool:
    fields: Document = {}
    if dossier["state"] == States.SUPPLEMENT_REQUESTED:
        at = _instant(data.get("supplemented_at"), now)
        supplement = dossier.get("supplement") or {}
        fields["state"] = supplement.get("from_state") or States.SUBMITTED
        # The wait for the applicant does not count against the office: the due time moves by it.
        if dossier.get("paused_at") is not None and dossier.get("due_at") is not None:
            fields["due_at"] = _effective_due(db, dossier, at)
            fields.update(_deadline_watch(db, fields["due_at"], now))
        fields["paused_at"] = None
        fields["supplement"] = {**supplement, "supplemented_at": at}
        fields["documents"] = [*(dossier.get("documents") or []), *(data.get("documents") or [])]
    return _intake_write(db, dossier, event, data, now, "supplemented", fields)


def note_returned_letter(db: Db, data: Document, now: datetime | None = None) -> bool:
    """Flag a letter the post brought back on its dossier, once per letter, for the staff to act on
    (check the address, call the applicant); False when it was flagged already. Nothing moves in
    the workflow and the revision stays: an officer's open page is not made stale by it."""
    code, letter_id = data["dossier_code"], data["letter_id"]
    if store.get_dossier(db, code) is None:
        raise TransientError("the dossier of a returned letter is not here yet")
    entry = {
        "letter_id": letter_id,
        "template_id": data.get("template_id") or "",
        "reason": data.get("reason") or "",
        "returned_at": _instant(data.get("at"), now or datetime.now(UTC)),
    }
    update = {"$push": {"returned_letters": entry}}
    return store.update_dossier(db, code, {"returned_letters.letter_id": {"$ne": letter_id}}, update, [])


def _withdrawn(db: Db, dossier: Document, event: Event, data: Document, now: datetime) -> bool:
    fields: Document = {}
    if dossier["state"] in States.OPEN:
        at = _instant(data.get("withdrawn_at"), now)
        fields = {"state": States.WITHDRAWN, **_timeliness(db, dossier, at)}
        if dossier.get("due_at") is None:
            fields.pop("due_at", None)
    return _intake_write(db, dossier, event, data, now, "withdrawn", fields)
