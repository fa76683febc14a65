"""Dossier and notify events as intake, processing and notify send them, for the portal's tests:
one dossier's whole history, with personal data in every field that can carry it."""

from __future__ import annotations

import uuid
from typing import Any

from eventkit.envelope import Event, jsonable, new_event
from tests.factories import intake_event
from tests.factories import new_code as new_code  # the tests take it from here too

PROCEDURE = "1.004884"
UNIT = "09496"
OFFICE = "264.TP"
# What the events carry of the applicant; none of it but the masked name may reach the portal.
APPLICANT = {
    "full_name": "Nguyễn Văn An",
    "id_number": "027190001234",
    "date_of_birth": "1990-05-12",
    "phone": "0912345678",
    "email": "an.nguyen@example.vn",
    "address": "Số 7 phố Hàng Bạc, Thị trấn Thứa, Lương Tài, Bắc Ninh",
}
DELIVERY = {"method": "post", "address": "Thôn Phú Thọ, Xã Phú Hòa, Lương Tài, Bắc Ninh"}
FORM = {"person_full_name": "Nguyễn Văn Bình", "person_birth_date": "2015-03-01"}
OFFICER_NAME = "Trần Thị Mai"
SECRET = "ABCD-EFGH-JK23"


def submitted(
    code: str,
    secret_hash: str,
    channel: str = "online",
    unit: str = UNIT,
    at: str = "2023-10-27T09:32:00+07:00",
) -> Event:
    return intake_event(
        "submitted",
        code,
        1,
        procedure_code=PROCEDURE,
        procedure_version=1,
        unit=unit,
        channel=channel,
        received_by="receptionist-1" if channel == "counter" else None,
        delivery=DELIVERY,
        documents=[
            {"type": "TP01", "upload_id": "up-1", "sha256": "ab" * 32, "content_type": "pdf", "size": 10}
        ],
        applicant=APPLICANT,
        form=FORM,
        submitted_at=at,
        lookup_secret_hash=secret_hash,
    )


def processing_event(
    verb: str, code: str, sequence: int, state: str, unit: str = UNIT, receiving_unit: str = UNIT, **data: Any
) -> Event:
    return new_event(
        type=f"vn.motcua.processing.dossier.{verb}.v1",
        source="/services/processing",
        subject=code,
        data=jsonable(
            {
                "code": code,
                "unit": unit,
                "receiving_unit": receiving_unit,
                "procedure_code": PROCEDURE,
                "channel": data.pop("channel", "online"),
                "state": state,
                "by": "officer-1",
                "by_name": OFFICER_NAME,
                "at": data.pop("at", "2023-10-30T10:00:00+07:00"),
                "sequence": sequence,
                **data,
            }
        ),
        sequence=sequence,
    )


def accepted(code: str, sequence: int = 1, unit: str = UNIT, **data: Any) -> Event:
    return processing_event(
        "accepted",
        code,
        sequence,
        "accepted",
        unit=unit,
        receiving_unit=unit,
        at=data.pop("at", "2023-10-27T09:40:00+07:00"),
        received_at=data.pop("received_at", "2023-10-27T09:40:00+07:00"),
        due_at=data.pop("due_at", "2023-11-03T09:40:00+07:00"),
        procedure_name="Đăng ký lại việc khai sinh",
        applicant=APPLICANT,
        delivery=DELIVERY,
        documents=[],
        received_by="receptionist-1",
        received_by_name=OFFICER_NAME,
        **data,
    )


def history(code: str, secret_hash: str, unit: str = UNIT) -> list[Event]:
    """An online dossier's life: filed, accepted, a supplement asked and brought, assigned,
    transferred, extended, approved, a result issued and returned late; with a deadline warning."""
    return [
        submitted(code, secret_hash, unit=unit),
        accepted(code, 1, unit=unit),
        processing_event(
            "supplement_requested",
            code,
            2,
            "supplement_requested",
            unit=unit,
            receiving_unit=unit,
            at="2023-10-30T08:00:00+07:00",
            missing=[{"document": "TP01", "reason": "Bản chụp mờ"}],
            reason="Thiếu giấy tờ",
            paused_at="2023-10-30T08:00:00+07:00",
        ),
        intake_event(
            "supplemented",
            code,
            2,
            documents=[],
            note=f"Gửi lại, liên hệ {APPLICANT['phone']}",
            by="citizen",
            supplemented_at="2023-10-31T14:00:00+07:00",
        ),
        processing_event(
            "assigned",
            code,
            3,
            "in_progress",
            unit=unit,
            receiving_unit=unit,
            at="2023-11-01T08:00:00+07:00",
            assignee="specialist-1",
            assignee_name="Lê Văn Cường",
        ),
        processing_event(
            "transferred",
            code,
            4,
            "in_progress",
            unit=OFFICE,
            receiving_unit=unit,
            at="2023-11-01T09:00:00+07:00",
            from_unit=unit,
            to_unit=OFFICE,
            note="Chuyển phòng Tư pháp",
            on_time=True,
        ),
        processing_event(
            "due_soon",
            code,
            5,
            "in_progress",
            unit=OFFICE,
            receiving_unit=unit,
            at="2023-11-06T09:00:00+07:00",
            due_at="2023-11-07T09:40:00+07:00",
            assignee="specialist-1",
            leaders=["leader-1"],
            recipients=[
                {"user_id": "leader-1", "name": "Phạm Văn Dũng", "email": "dung@example.vn", "as": "leader"}
            ],
        ),
        processing_event(
            "extended",
            code,
            6,
            "in_progress",
            unit=OFFICE,
            receiving_unit=unit,
            at="2023-11-06T10:00:00+07:00",
            old_due_at="2023-11-07T09:40:00+07:00",
            new_due_at="2023-11-10T09:40:00+07:00",
            reason="Cần xác minh",
        ),
        processing_event(
            "approved", code, 7, "approved", unit=OFFICE, receiving_unit=unit, at="2023-11-10T08:00:00+07:00"
        ),
        processing_event(
            "result_issued",
            code,
            8,
            "result_ready",
            unit=OFFICE,
            receiving_unit=unit,
            at="2023-11-10T09:00:00+07:00",
            result={
                "file_id": "f-1",
                "sha256": "cd" * 32,
                "size": 100,
                "signed": True,
                "signed_by_unit": OFFICE,
            },
        ),
        processing_event(
            "returned",
            code,
            9,
            "returned",
            unit=OFFICE,
            receiving_unit=unit,
            at="2023-11-10T10:00:00+07:00",
            method="post",
            resolved_at="2023-11-10T10:00:00+07:00",
            due_at="2023-11-10T09:40:00+07:00",
            timeliness="late",
        ),
    ]


def letter_event(letter_id: str, code: str, sequence: int, status: str, **data: Any) -> Event:
    return new_event(
        type=f"vn.motcua.notify.letter.{status}.v1",
        source="/services/notify",
        subject=letter_id,
        data=jsonable(
            {
                "letter_id": letter_id,
                "dossier_code": code,
                "unit": UNIT,
                "template_id": "mau-01",
                "status": status,
                "at": data.pop("at", f"2023-10-27T10:0{sequence}:00+07:00"),
                **data,
            }
        ),
        sequence=sequence,
    )


def notification_event(
    notification_id: str, code: str, sequence: int, status: str, kind: str = "citizen"
) -> Event:
    return new_event(
        type=f"vn.motcua.notify.notification.{status}.v1",
        source="/services/notify",
        subject=notification_id,
        data={
            "id": notification_id,
            "channel": "email",
            "template": "accepted",
            "template_version": "1",
            "dossier": code,
            "unit": UNIT,
            "event_id": str(uuid.uuid4()),
            "recipient": {"kind": kind, "user_id": None if kind == "citizen" else "leader-1"},
            "status": status.replace("_", "-"),
            "attempts": 1,
            "reason": "Hồ sơ đã được tiếp nhận",
        },
        sequence=sequence,
    )
