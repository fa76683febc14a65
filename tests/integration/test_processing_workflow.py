"""The dossier workflow on the real store: intake's events arriving, officers' actions over HTTP."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventkit.envelope import decode, jsonable, new_event
from eventkit.errors import TransientError
from eventkit.topics import Groups
from processing import deadlines, store
from processing.handlers import build_handlers
from processing.importer import SEED_DIR
from processing.schemas import ProcedureSchema, UnitSchema
from processing.service import catalogue, dossiers
from processing.service.calendar import calendar_for, legal_time
from processing.store import get_dossier_outbox

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

PROCEDURE = "1.004884"  # re-registration of a birth: 5 working days
UNIT = "09496"
OFFICE = "264.TP"
CODE = "000.21.26.H06-231027-0001"
TZ = deadlines.TZ
# Friday 27/10/2023 09:32: five working days later is Friday 03/11/2023 09:32 (domain.md §4.3).
FILED = datetime(2023, 10, 27, 9, 32, tzinfo=TZ)


def _seed_item(kind: str, code: str) -> dict[str, Any]:
    items = json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    return next(item for item in items if item["code"] == code)


@pytest.fixture
def db(processing_app):
    db = processing_app.extensions["db"]
    for code in ("27", "264", OFFICE, UNIT):
        catalogue.create(db, catalogue.UNITS, UnitSchema().load(_seed_item("units", code)), "seed")
    procedure = {**_seed_item("procedures", PROCEDURE), "receiving_units": [UNIT], "resolving_units": [UNIT]}
    catalogue.create(db, catalogue.PROCEDURES, ProcedureSchema().load(procedure), "seed")
    return db


@pytest.fixture
def client(processing_client, db):
    return processing_client


@pytest.fixture
def as_(staff_headers):
    """`as_("leader")`: headers of an officer of UNIT; `as_("leader", OFFICE, "l-2")` of another."""

    def headers(role: str, unit: str = UNIT, user_id: str | None = None) -> dict[str, str]:
        return staff_headers(role, unit, user_id=user_id or f"{role}-1")

    return headers


def intake_event(kind: str, sequence: int, data: dict[str, Any], code: str = CODE) -> dict[str, Any]:
    return new_event(
        type=f"vn.motcua.intake.dossier.{kind}.v1",
        source="/services/intake",
        subject=code,
        data=jsonable({"code": code, **data}),
        sequence=sequence,
    )


def deliver(db, event: dict[str, Any]) -> None:
    """Through the consumer group's own handler, as the worker would."""
    handler = build_handlers(db)[Groups.PROCESSING_INTAKE_DOSSIERS][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


HOA = {"full_name": "Nguyễn Thị Hoa", "phone": "0912345678", "email": "hoa@example.vn"}


def submitted(
    channel: str = "online", at: datetime = FILED, code: str = CODE, applicant: dict[str, Any] | None = None
) -> dict[str, Any]:
    return intake_event(
        "submitted",
        1,
        {
            "procedure_code": PROCEDURE,
            "procedure_version": 1,
            "unit": UNIT,
            "channel": channel,
            "received_by": "receptionist-1" if channel == "counter" else None,
            "delivery": {"method": "counter", "address": None},
            "documents": [{"type": "TP01", "upload_id": "up-1", "sha256": "0" * 64}],
            "applicant": applicant or HOA,
            "form": {"person_full_name": "Nguyễn Văn Bình"},
            "submitted_at": at,
            "lookup_secret_hash": "x",
        },
        code=code,
    )


def act(client, action: str, headers: dict[str, str], code: str = CODE, **body: Any):
    return client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body, headers=headers)


def events(db, code: str = CODE) -> list[dict[str, Any]]:
    return [decode(entry["value"].encode()) for entry in get_dossier_outbox(db, code)]


def verbs(db, code: str = CODE) -> list[str]:
    return [event["type"].split(".")[4] for event in events(db, code)]


def engine_due(db, received_at: datetime) -> datetime:
    procedure = catalogue.get(db, catalogue.PROCEDURES, PROCEDURE)
    year = received_at.astimezone(TZ).year
    return deadlines.due_at(calendar_for(db, year, year + 2), received_at, legal_time(procedure))


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_an_online_dossier_goes_from_submitted_to_returned(db, client, as_):
    from tests.factories import pdf_bytes

    deliver(db, submitted())
    result_file = client.post(
        "/api/v1/result-files",
        data={"file": (io.BytesIO(pdf_bytes(1000)), "ket-qua.pdf", "application/pdf")},
        content_type="multipart/form-data",
        headers=as_("specialist"),
    ).json["id"]
    assert client.get(f"/api/v1/dossiers/{CODE}", headers=as_("receptionist")).json["state"] == "submitted"
    assert events(db) == [], "an online filing waits for the counter's check"

    accepted = act(client, "accept", as_("receptionist"), note="Đủ thành phần")
    assert accepted.status_code == 200, accepted.json
    body = accepted.json
    received_at = parse(body["received_at"])
    assert parse(body["due_at"]) == engine_due(db, received_at)
    assert body["received_by"] == "receptionist-1" and body["state"] == "accepted"

    steps = [
        ("assign", as_("leader"), {"assignee": "specialist-1"}, "in_progress"),
        (
            "propose",
            as_("specialist"),
            {"note": "Đề nghị cấp", "draft_upload_id": "draft-1"},
            "awaiting_approval",
        ),
        ("approve", as_("leader"), {"note": "Đồng ý"}, "approved"),
        ("issue_result", as_("leader"), {"upload_id": result_file}, "result_ready"),
        ("return_result", as_("receptionist"), {"method": "counter"}, "returned"),
    ]
    for action, headers, fields, state in steps:
        response = act(client, action, headers, **fields)
        assert response.status_code == 200, (action, response.json)
        assert response.json["state"] == state

    dossier = client.get(f"/api/v1/dossiers/{CODE}", headers=as_("receptionist")).json
    issued = {k: v for k, v in dossier["result"].items() if k not in ("issued_by", "issued_at")}
    assert issued["file_id"] == result_file and issued["signed"] is True
    assert dossier["timeliness"] == "early" and parse(dossier["resolved_at"]) >= received_at
    assert [row["action"] for row in dossier["control_slip"]] == [
        "accept",
        "assign",
        "propose",
        "approve",
        "return_result",
    ]
    assert all(row["on_time"] for row in dossier["control_slip"])
    assert dossier["control_slip"][1]["to_user"] == "specialist-1"
    history = dossier["history"]
    assert [h["action"] for h in history] == [
        "submitted",
        "accept",
        "assign",
        "propose",
        "approve",
        "issue_result",
        "return_result",
    ]
    assert history[1]["who"] == "receptionist-1" and history[1]["role"] == "receptionist"
    assert history[1]["before"]["state"] == "submitted" and history[1]["after"]["state"] == "accepted"
    assert history[1]["after"]["due_at"] == body["due_at"] and history[1]["note"] == "Đủ thành phần"

    published = events(db)
    assert verbs(db) == ["accepted", "assigned", "approved", "result_issued", "returned"]
    assert [e["sequence"] for e in published] == [1, 2, 3, 4, 5]
    assert all(e["data"]["sequence"] == e["sequence"] and e["subject"] == CODE for e in published)
    first, last = published[0]["data"], published[-1]["data"]
    assert first["due_at"] == body["due_at"] and first["applicant"]["full_name"] == "Nguyễn Thị Hoa"
    assert first["procedure_name"] and first["received_by"] == "receptionist-1"
    assert first["received_by_name"] == first["by_name"] == "Cán bộ receptionist-1"
    assert published[1]["data"]["by_name"] == "Cán bộ leader-1", "who acted, by name"
    assert {first["unit"], first["receiving_unit"], first["channel"]} == {UNIT, "online"}
    assert last["method"] == "counter" and last["timeliness"] == "early" and last["resolved_at"]
    assert published[1]["data"]["assignee"] == "specialist-1"
    assert published[3]["data"]["result"] == issued


def test_a_counter_filing_arrives_accepted_with_its_due_time(db, client, as_):
    event = submitted("counter")
    deliver(db, event)
    dossier = client.get(f"/api/v1/dossiers/{CODE}", headers=as_("leader")).json
    assert dossier["state"] == "accepted" and dossier["received_by"] == "receptionist-1"
    assert parse(dossier["due_at"]) == datetime(2023, 11, 3, 9, 32, tzinfo=TZ) == engine_due(db, FILED)
    [accepted] = events(db)
    assert accepted["type"] == "vn.motcua.processing.dossier.accepted.v1" and accepted["sequence"] == 1
    assert accepted["causationid"] == event["id"] and accepted["correlationid"] == event["correlationid"]
    assert [row["action"] for row in dossier["control_slip"]] == ["accept"]


def test_an_officer_s_action_carries_on_the_filing_s_correlation_id(db, client, as_):
    """One id follows the dossier: the action's request, log lines and event take the filing's."""
    event = submitted("online")
    deliver(db, event)
    answer = client.post(
        f"/api/v1/dossiers/{CODE}/actions/accept",
        json={},
        headers={**as_("receptionist"), "X-Correlation-ID": "yeu-cau-cua-can-bo"},
    )
    assert answer.status_code == 200, answer.json
    assert answer.headers["X-Correlation-ID"] == event["correlationid"] != "yeu-cau-cua-can-bo"
    [accepted] = events(db)
    assert accepted["correlationid"] == event["correlationid"]


def test_the_detail_links_each_uploaded_document_to_its_download_at_intake(db, processing_app, client, as_):
    event = submitted("counter")
    event["data"]["documents"].append({"type": "TP02", "upload_id": None})
    deliver(db, event)
    processing_app.extensions["service_config"] = replace(
        processing_app.extensions["service_config"], intake_url="https://motcua.example/intake"
    )
    documents = client.get(f"/api/v1/dossiers/{CODE}", headers=as_("leader")).json["documents"]
    assert documents[0]["download_url"] == "https://motcua.example/intake/api/v1/uploads/up-1"
    assert "download_url" not in documents[1], "a document without a file has no link"
    assert "download_url" not in store.get_dossier(db, CODE)["documents"][0], "the link is not stored"


def test_a_supplement_pauses_the_clock_and_moves_the_due_time_by_the_wait(db, as_):
    deliver(db, submitted("counter"))
    officer = _staff("receptionist")
    asked = datetime(2023, 10, 30, 9, 32, tzinfo=TZ)  # Monday
    dossiers.perform(
        db,
        CODE,
        "request_supplement",
        {"missing": ["Giấy chứng sinh"], "reason": "Thiếu"},
        officer,
        now=asked,
    )
    dossier = dossiers.get(db, CODE, officer)
    assert dossier["state"] == "supplement_requested" and dossier["paused_at"] == asked
    requested = events(db)[-1]
    assert requested["data"]["missing"] == [{"document": "Giấy chứng sinh", "reason": ""}]
    assert parse(requested["data"]["paused_at"]) == asked

    back = datetime(2023, 10, 31, 9, 32, tzinfo=TZ)  # a working day later
    deliver(
        db,
        intake_event(
            "supplemented", 2, {"documents": [{"type": "TP01"}], "by": "citizen", "supplemented_at": back}
        ),
    )
    dossier = dossiers.get(db, CODE, officer)
    assert dossier["state"] == "accepted" and dossier["paused_at"] is None
    calendar = calendar_for(db, 2023, 2025)
    expected = deadlines.shift_by_pause(calendar, datetime(2023, 11, 3, 9, 32, tzinfo=TZ), asked, back)
    assert dossier["due_at"] == expected == datetime(2023, 11, 6, 9, 32, tzinfo=TZ)
    assert len(dossier["documents"]) == 2 and dossier["history"][-1]["action"] == "supplemented"


def test_an_online_dossier_is_refused_with_its_reasons(db, client, as_):
    deliver(db, submitted())
    missing = act(client, "refuse", as_("receptionist"))
    assert missing.status_code == 422 and "reasons" in missing.json["errors"]["json"]
    refused = act(client, "refuse", as_("receptionist"), reasons=["Không thuộc thẩm quyền"])
    assert refused.status_code == 200 and refused.json["state"] == "refused"
    assert refused.json["resolved_at"] and refused.json["due_at"] is None
    [event] = events(db)
    assert event["type"].endswith(".refused.v1") and event["data"]["reasons"] == ["Không thuộc thẩm quyền"]
    assert event["data"]["resolved_at"]


def test_a_leader_extends_once_to_a_later_time(db, client, as_):
    deliver(db, submitted("counter"))
    later = "2023-11-10T17:00:00+07:00"
    assert act(client, "extend", as_("receptionist"), reason="Xác minh", new_due_at=later).status_code == 403
    earlier = act(client, "extend", as_("leader"), reason="Xác minh", new_due_at="2023-11-01T09:00:00+07:00")
    assert earlier.status_code == 422 and "new_due_at" in earlier.json["errors"]["json"]
    no_reason = act(client, "extend", as_("leader"), new_due_at=later)
    assert no_reason.status_code == 422 and list(no_reason.json["errors"]["json"]) == ["reason"]
    extended = act(client, "extend", as_("leader"), reason="Cần xác minh", new_due_at=later)
    assert extended.status_code == 200 and extended.json["extended"] is True
    assert parse(extended.json["due_at"]) == parse(later) and extended.json["state"] == "accepted"
    again = act(client, "extend", as_("leader"), reason="Lần nữa", new_due_at="2023-11-20T17:00:00+07:00")
    assert again.status_code == 409 and again.json["state"] == "accepted"
    assert "extend" not in again.json["allowed"] and "assign" in again.json["allowed"]
    event = events(db)[-1]
    assert event["type"].endswith(".extended.v1") and event["sequence"] == 2
    assert parse(event["data"]["old_due_at"]) == datetime(2023, 11, 3, 9, 32, tzinfo=TZ)
    assert parse(event["data"]["new_due_at"]) == parse(later) and event["data"]["reason"] == "Cần xác minh"


def test_a_leader_rejects_a_dossier_in_progress(db, client, as_):
    deliver(db, submitted("counter"))
    assert act(client, "assign", as_("receptionist"), assignee="specialist-1").status_code == 200
    assert act(client, "reject", as_("specialist"), reason="x").status_code == 403
    rejected = act(client, "reject", as_("leader"), reason="Không đủ điều kiện")
    assert rejected.status_code == 200 and rejected.json["state"] == "rejected"
    assert rejected.json["timeliness"] == "late", "decided now, long after the 2023 due time"
    event = events(db)[-1]
    assert event["type"].endswith(".rejected.v1") and event["data"]["reason"] == "Không đủ điều kiện"
    assert event["data"]["timeliness"] == "late" and event["data"]["due_at"] and event["data"]["resolved_at"]


def test_a_withdrawn_dossier_takes_no_more_actions(db, client, as_):
    deliver(db, submitted("counter"))
    deliver(
        db,
        intake_event(
            "withdrawn",
            2,
            {"by": "citizen", "reason": "Không cần nữa", "withdrawn_at": FILED + timedelta(hours=1)},
        ),
    )
    dossier = client.get(f"/api/v1/dossiers/{CODE}", headers=as_("leader")).json
    assert dossier["state"] == "withdrawn" and dossier["timeliness"] == "early"
    refused = act(client, "assign", as_("leader"), assignee="specialist-1")
    assert (
        refused.status_code == 409 and refused.json["state"] == "withdrawn" and refused.json["allowed"] == []
    )
    assert verbs(db) == ["accepted"], "a withdrawal is intake's event, not processing's"


def test_a_transferred_dossier_is_handled_by_the_receiving_unit_only(db, client, as_):
    deliver(db, submitted("counter"))
    no_unit = act(client, "transfer", as_("receptionist"), to_unit="264.XX", note="Chuyển")
    assert no_unit.status_code == 422 and "to_unit" in no_unit.json["errors"]["json"]
    moved = act(client, "transfer", as_("receptionist"), to_unit=OFFICE, note="Chuyển phòng Tư pháp")
    assert moved.status_code == 200 and moved.json["unit"] == OFFICE and moved.json["state"] == "accepted"
    assert act(client, "assign", as_("leader"), assignee="specialist-1").status_code == 403
    assigned = act(client, "assign", as_("leader", OFFICE, "leader-tp"), assignee="specialist-tp")
    assert assigned.status_code == 200 and assigned.json["assignee"] == "specialist-tp"
    # The one-stop unit that received it still follows it.
    assert client.get(f"/api/v1/dossiers/{CODE}", headers=as_("receptionist")).status_code == 200
    assert client.get(f"/api/v1/dossiers/{CODE}", headers=as_("leader", "09499")).status_code == 403
    transferred = events(db)[1]
    assert transferred["type"].endswith(".transferred.v1")
    assert transferred["data"]["from_unit"] == UNIT and transferred["data"]["to_unit"] == OFFICE
    assert transferred["data"]["unit"] == OFFICE and transferred["data"]["receiving_unit"] == UNIT
    assert transferred["data"]["on_time"] is False, "handed over after the 2023 due time"
    assert transferred["data"]["note"] == "Chuyển phòng Tư pháp"
    slip = assigned.json["control_slip"]
    assert [(r["action"], r["from_unit"], r["to_unit"]) for r in slip] == [
        ("accept", None, UNIT),
        ("transfer", UNIT, OFFICE),
        ("assign", OFFICE, OFFICE),
    ]


def test_a_result_issued_at_the_office_goes_back_to_the_receiving_counter_which_returns_it(db, client, as_):
    from tests.factories import pdf_bytes

    deliver(db, submitted("counter"))
    act(client, "transfer", as_("receptionist"), to_unit=OFFICE, note="Chuyển phòng Tư pháp")
    act(client, "assign", as_("leader", OFFICE, "leader-tp"), assignee="specialist-tp")
    act(client, "propose", as_("specialist", OFFICE, "specialist-tp"), note="Đề nghị cấp")
    act(client, "approve", as_("leader", OFFICE, "leader-tp"))
    result_file = client.post(
        "/api/v1/result-files",
        data={"file": (io.BytesIO(pdf_bytes(1000)), "ket-qua.pdf", "application/pdf")},
        content_type="multipart/form-data",
        headers=as_("specialist", OFFICE, "specialist-tp"),
    ).json["id"]
    issued = act(client, "issue_result", as_("leader", OFFICE, "leader-tp"), upload_id=result_file)
    assert issued.status_code == 200, issued.json
    assert (issued.json["state"], issued.json["unit"]) == ("result_ready", UNIT)
    assert issued.json["result"]["signed"] is True
    assert [(r["from_unit"], r["to_unit"]) for r in issued.json["control_slip"]][-1] == (OFFICE, UNIT)
    assert events(db)[-1]["data"]["unit"] == UNIT, "intake and the portal see it back at the counter"
    assert (
        act(client, "return_result", as_("receptionist", OFFICE, "tn-tp"), method="counter").status_code
        == 403
    )
    returned = act(client, "return_result", as_("receptionist"), method="counter")
    assert returned.status_code == 200 and returned.json["state"] == "returned"


def test_a_leader_stops_a_dossier_waiting_for_a_supplement(db, client, as_):
    deliver(db, submitted("counter"))
    asked = act(
        client,
        "request_supplement",
        as_("receptionist"),
        missing=[{"document": "TP01", "reason": "Mờ"}],
        reason="Bản chụp mờ",
    )
    assert asked.status_code == 200 and asked.json["paused_at"]
    assert act(client, "stop", as_("leader")).status_code == 422
    stopped = act(client, "stop", as_("leader"), reason="Quá hạn bổ sung")
    assert stopped.status_code == 200 and stopped.json["state"] == "stopped"
    assert stopped.json["paused_at"] is None and stopped.json["resolved_at"]
    event = events(db)[-1]
    assert event["type"].endswith(".stopped.v1") and event["data"]["reason"] == "Quá hạn bổ sung"
    assert event["data"]["state"] == "stopped" and "timeliness" in event["data"]


def test_wrong_role_foreign_unit_and_no_token_are_refused(db, client, as_):
    deliver(db, submitted())
    assert act(client, "accept", as_("specialist")).status_code == 403
    assert act(client, "accept", as_("receptionist", "09499")).status_code == 403
    assert client.post(f"/api/v1/dossiers/{CODE}/actions/accept", json={}).status_code == 401
    assert client.get(f"/api/v1/dossiers/{CODE}").status_code == 401
    assert act(client, "sign", as_("leader")).status_code == 404
    assert act(client, "accept", as_("receptionist"), code="000.21.26.H06-231027-9999").status_code == 404
    not_now = act(client, "approve", as_("leader"))
    assert not_now.status_code == 409
    assert not_now.json["state"] == "submitted" and not_now.json["allowed"] == [] and not_now.json["message"]
    mine = client.get(f"/api/v1/dossiers/{CODE}/actions", headers=as_("receptionist")).json
    assert mine["allowed"] == ["accept", "request_supplement", "refuse"]
    assert {a["action"]: a["required"] for a in mine["actions"]}["refuse"] == ["reasons"]
    assert client.get(f"/api/v1/dossiers/{CODE}/actions", headers=as_("leader")).json["allowed"] == []
    assert act(client, "accept", as_("receptionist"), unexpected=1).status_code == 422
    assert events(db) == []


def test_of_two_officers_accepting_at_once_exactly_one_wins(db, processing_app, as_):
    deliver(db, submitted())
    barrier = threading.Barrier(2)
    answers: list[tuple[int, Any]] = []

    def accept(user: str) -> None:
        client = processing_app.test_client()
        headers = as_("receptionist", UNIT, user)
        barrier.wait()
        response = act(client, "accept", headers)
        answers.append((response.status_code, response.json))

    threads = [threading.Thread(target=accept, args=(user,)) for user in ("r-1", "r-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200, 409]
    [(_, conflict)] = [a for a in answers if a[0] == 409]
    assert conflict["state"] == "accepted"
    assert verbs(db) == ["accepted"] and events(db)[0]["sequence"] == 1
    assert [h["action"] for h in dossiers.get(db, CODE, _staff("receptionist"))["history"]] == [
        "submitted",
        "accept",
    ]


def test_repeated_and_out_of_order_intake_events_change_nothing(db, as_):
    officer = _staff("receptionist")
    first = submitted("counter")
    deliver(db, first)
    deliver(db, submitted("counter"))  # the same filing delivered again (a new event id)
    assert verbs(db) == ["accepted"]
    dossiers.perform(db, CODE, "request_supplement", {"missing": ["TP01"], "reason": "Thiếu"}, officer)
    supplement = intake_event("supplemented", 2, {"documents": [{"type": "TP01"}], "by": "citizen"})
    deliver(db, supplement)
    after_supplement = store.get_dossier(db, CODE)
    assert after_supplement["state"] == "accepted" and after_supplement["intake_sequence"] == 2
    deliver(db, supplement)
    assert store.get_dossier(db, CODE) == after_supplement
    deliver(db, intake_event("withdrawn", 4, {"by": "citizen"}))
    withdrawn = dossiers.get(db, CODE, officer)
    assert withdrawn["state"] == "withdrawn" and withdrawn["intake_sequence"] == 4
    # An older supplement (sequence 3, sent before the withdrawal) arrives late: nothing moves.
    deliver(db, intake_event("supplemented", 3, {"documents": [{"type": "TP02"}], "by": "citizen"}))
    assert dossiers.get(db, CODE, officer) == withdrawn


def _staff(role: str, unit: str = UNIT, user_id: str | None = None):
    from eventkit.auth import Staff

    return Staff(user_id or f"{role}-1", "", frozenset({role}), frozenset({unit}))


def test_a_write_on_what_was_read_before_another_change_matches_nothing(db):
    deliver(db, submitted("counter"))
    leader = _staff("leader")
    stale = store.get_dossier(db, CODE)
    dossiers.perform(db, CODE, "assign", {"assignee": "specialist-1"}, leader)
    dossiers.perform(db, CODE, "assign", {"assignee": "specialist-2"}, leader)
    current = store.get_dossier(db, CODE)
    assert (current["sequence"], current["revision"], current["assignee"]) == (3, 3, "specialist-2")
    expected = {k: stale[k] for k in ("state", "sequence", "revision")}
    assert not store.update_dossier(db, CODE, expected, {"$set": {"assignee": "x"}}, [])
    assert store.get_dossier(db, CODE)["assignee"] == "specialist-2"
    assert [e["sequence"] for e in events(db)] == [1, 2, 3]
    assert current["updated_at"] <= datetime.now(UTC)


@pytest.fixture
def processing_db_apart(platform):
    """A processing database beside intake's (the test apps share one), with the catalogue seeded."""
    import uuid

    from eventkit.mongo import connect

    name = f"test_{uuid.uuid4().hex[:12]}"
    db = connect(platform.mongo_url, name, "processing")
    store.ensure_indexes(db)
    for code in ("27", "264", OFFICE, UNIT):
        catalogue.create(db, catalogue.UNITS, UnitSchema().load(_seed_item("units", code)), "seed")
    procedure = {**_seed_item("procedures", PROCEDURE), "receiving_units": [UNIT], "resolving_units": [UNIT]}
    catalogue.create(db, catalogue.PROCEDURES, ProcedureSchema().load(procedure), "seed")
    yield db
    db.client.drop_database(name)


def test_intakes_own_counter_filing_arrives_accepted_and_a_stop_finishes_it_in_intake(
    processing_db_apart, intake_app, intake_client, intake_catalogue, staff_headers
):
    import io

    from intake import handlers as intake_handlers
    from intake import store as intake_store
    from tests.factories import online_filing, pdf_bytes

    db = processing_db_apart
    pdf = intake_client.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(pdf_bytes(1000)), "to-khai.pdf", "application/pdf")},
        content_type="multipart/form-data",
    ).json["id"]
    counter = staff_headers("receptionist", UNIT, user_id="rc-1")
    filed = intake_client.post(
        "/api/v1/dossiers", json=online_filing(pdf, channel="counter"), headers=counter
    )
    assert filed.status_code == 201, filed.json
    code = filed.json["code"]
    intake_db = intake_app.extensions["db"]
    [submitted_event] = [
        decode(e["value"].encode()) for e in intake_db.dossiers.find_one({"_id": code})["outbox"]
    ]

    deliver(db, submitted_event)
    dossier = store.get_dossier(db, code)
    assert dossier["state"] == "accepted" and dossier["received_by"] == "rc-1"
    filed_at = parse(submitted_event["data"]["submitted_at"])
    assert timedelta(0) <= filed_at - dossier["received_at"] < timedelta(milliseconds=1), "kept to the ms"
    assert dossier["due_at"] == engine_due(db, dossier["received_at"])

    dossiers.perform(db, code, "stop", {"reason": "Người nộp không bổ sung"}, _staff("leader"))
    stopped = events(db, code)[-1]
    assert stopped["type"].endswith(".stopped.v1") and stopped["sequence"] == 2
    handler = intake_handlers.build_handlers(intake_db)[Groups.INTAKE_PROCESSING_DOSSIERS][stopped["type"]]
    handler.handle(stopped, handler.schema.load(stopped["data"]))
    assert intake_store.get_dossier(intake_db, code)["status"] == "stopped"
    withdrawal = intake_client.post(
        f"/api/v1/dossiers/{code}/withdraw", json={"reason": "x"}, headers=counter
    )
    assert withdrawal.status_code == 409, "a stopped dossier is finished"


def letter_returned(letter_id: str, reason: str = "Không có người nhận", code: str = CODE) -> dict[str, Any]:
    return new_event(
        type="vn.motcua.notify.letter.returned.v1",
        source="/services/notify",
        subject=letter_id,
        data={
            "letter_id": letter_id,
            "dossier_code": code,
            "unit": UNIT,
            "template_id": "mau-01",
            "status": "returned",
            "at": "2023-10-30T10:00:00+07:00",
            "reason": reason,
        },
        sequence=5,
    )


def test_a_letter_the_post_returned_is_flagged_once_on_its_dossier(db, client, as_):
    deliver(db, submitted("counter"))
    handler = build_handlers(db)[Groups.PROCESSING_NOTIFY_LETTERS]["vn.motcua.notify.letter.returned.v1"]
    unknown = letter_returned("l-0", code="000.21.26.H06-991231-9999")
    with pytest.raises(TransientError):  # retried until its dossier is here
        handler.handle(unknown, handler.schema.load(unknown["data"]))
    revision = store.get_dossier(db, CODE)["revision"]
    first = letter_returned("l-1")
    for event in (first, first, letter_returned("l-2", "Sai địa chỉ")):
        handler.handle(event, handler.schema.load(event["data"]))
    shown = client.get(f"/api/v1/dossiers/{CODE}", headers=as_("receptionist")).json
    assert [(r["letter_id"], r["reason"]) for r in shown["returned_letters"]] == [
        ("l-1", "Không có người nhận"),
        ("l-2", "Sai địa chỉ"),
    ]
    assert shown["returned_letters"][0]["returned_at"] == "2023-10-30T10:00:00+07:00"
    assert store.get_dossier(db, CODE)["revision"] == revision, "an officer's open page stays current"
    assert events(db)[-1]["type"].endswith("accepted.v1"), "nothing is published for it"
