"""The deadline watch on the real store: due-soon and overdue warnings raised once each, in the
dossier's event sequence, and nothing for a clock that is paused or a dossier that is finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventkit.auth import Staff
from processing import deadlines, store
from processing.service import deadlines_watch, dossiers, results
from processing.service import staff as directory
from processing.service.calendar import calendar_for
from tests.factories import pdf_bytes
from tests.integration import test_processing_workflow as workflow
from tests.integration.conftest import DIRECTORY
from tests.integration.test_store_indexes import BETWEEN, EQUAL, explain, seeks_only

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

# The workflow tests' dossier, catalogue and helpers.
db = workflow.db
CODE, UNIT, TZ = workflow.CODE, workflow.UNIT, deadlines.TZ
events, verbs, deliver, submitted = workflow.events, workflow.verbs, workflow.deliver, workflow.submitted
RECEPTIONIST, LEADER, SPECIALIST = (workflow._staff(r) for r in ("receptionist", "leader", "specialist"))
MS = timedelta(milliseconds=1)

# Monday 30/11/2026 09:00: five working days later is Monday 07/12/2026 09:00, and one working day
# before that is Friday 04/12/2026 09:00.
ACCEPTED = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
DUE = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
SOON = datetime(2026, 12, 4, 9, 0, tzinfo=TZ)


def accept(db, at: datetime = ACCEPTED) -> None:
    deliver(db, submitted())
    dossiers.perform(db, CODE, "accept", {}, RECEPTIONIST, now=at)


def contact(user_id: str) -> dict[str, Any]:
    """What a warning tells of a person of the tests' directory: their name and email."""
    account = next(a for a in DIRECTORY if a["user_id"] == user_id)
    return {k: account[k] for k in ("user_id", "name", "email")}


def raise_due(db, now: datetime) -> dict[str, int]:
    return deadlines_watch.raise_due(db, now)


def nothing(db, *instants: datetime) -> bool:
    """No warning raised at any of `instants`."""
    return all(raise_due(db, now) == {"due_soon": 0, "overdue": 0} for now in instants)


def test_the_marks_follow_the_engine(db):
    accept(db)
    dossier = store.get_dossier(db, CODE)
    calendar = calendar_for(db, 2026, 2028)
    assert dossier["due_at"] == DUE == workflow.engine_due(db, ACCEPTED)
    assert dossier["due_soon_at"] == SOON == deadlines_watch.due_soon_at(calendar, DUE)
    assert deadlines.time_left(calendar, SOON, DUE) == timedelta(hours=8)
    assert dossier["watch"] == "due_soon"


def test_due_soon_then_overdue_are_raised_once_each_in_sequence(db):
    accept(db)
    dossiers.perform(db, CODE, "assign", {"assignee": "specialist-1"}, LEADER, now=ACCEPTED + MS)
    assert nothing(db, ACCEPTED, SOON - MS)
    assert verbs(db) == ["accepted", "assigned"]

    assert raise_due(db, SOON) == {"due_soon": 1, "overdue": 0}
    assert nothing(db, SOON, SOON + timedelta(hours=1), DUE), "raised once; at the due time it is not late"
    assert store.get_dossier(db, CODE)["watch"] == "overdue"

    assert raise_due(db, DUE + MS) == {"due_soon": 0, "overdue": 1}
    assert nothing(db, DUE + MS, DUE + timedelta(days=30))

    published = events(db)
    assert verbs(db) == ["accepted", "assigned", "due_soon", "overdue"]
    assert [e["sequence"] for e in published] == [1, 2, 3, 4]
    soon, late = published[2], published[3]
    assert soon["type"] == "vn.motcua.processing.dossier.due_soon.v1" and soon["subject"] == CODE
    for event, at in ((soon, SOON), (late, DUE + MS)):
        data = event["data"]
        assert data["sequence"] == event["sequence"] and data["state"] == "in_progress"
        assert datetime.fromisoformat(data["due_at"]) == DUE and datetime.fromisoformat(data["at"]) == at
        assert (data["unit"], data["receiving_unit"], data["code"]) == (UNIT, UNIT, CODE)
        assert data["assignee"] == "specialist-1" and data["leaders"] == ["leader-1"]
        assert data["recipients"] == [
            {**contact("specialist-1"), "as": "assignee"},
            {**contact("leader-1"), "as": "leader"},
        ]
        assert data["by"] == deadlines_watch.SYSTEM
    dossier = store.get_dossier(db, CODE)
    assert dossier["watch"] == "done" and dossier["sequence"] == 4
    assert [h["action"] for h in dossier["history"]][-2:] == ["assign", "overdue"]
    assert dossier["history"][-1]["who"] == "hệ thống" and dossier["history"][-1]["when"] == DUE + MS
    # An officer's action after the warnings continues the sequence.
    dossiers.perform(db, CODE, "propose", {"note": "Đề nghị cấp"}, SPECIALIST, now=DUE + 2 * MS)
    dossiers.perform(db, CODE, "approve", {}, LEADER, now=DUE + 3 * MS)
    assert [e["sequence"] for e in events(db)] == [1, 2, 3, 4, 5]


def test_a_run_after_the_due_time_raises_only_overdue(db):
    accept(db)
    assert raise_due(db, DUE + timedelta(days=2)) == {"due_soon": 0, "overdue": 1}
    assert verbs(db) == ["accepted", "overdue"] and nothing(db, DUE + timedelta(days=3))


def test_a_paused_clock_raises_nothing_and_a_supplement_moves_the_warnings(db):
    accept(db)
    asked = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)  # Tuesday
    dossiers.perform(
        db, CODE, "request_supplement", {"missing": ["TP01"], "reason": "Thiếu"}, RECEPTIONIST, now=asked
    )
    paused = store.get_dossier(db, CODE)
    assert paused["watch"] is None and paused["due_soon_at"] is None
    assert nothing(db, SOON, DUE + MS, DUE + timedelta(days=30))
    assert verbs(db) == ["accepted", "supplement_requested"]

    back = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)  # a working day later: due moves to Tuesday 8/12
    supplemented = workflow.intake_event("supplemented", 2, {"documents": [], "by": "citizen"})
    dossiers.apply_intake_event(db, supplemented, {"supplemented_at": back}, now=back)
    resumed = store.get_dossier(db, CODE)
    moved = datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    assert resumed["state"] == "accepted" and resumed["due_at"] == moved
    assert resumed["watch"] == "due_soon" and resumed["due_soon_at"] == DUE
    assert nothing(db, SOON, DUE - MS)
    assert raise_due(db, DUE) == {"due_soon": 1, "overdue": 0}
    assert raise_due(db, moved + MS) == {"due_soon": 0, "overdue": 1}
    assert [e["sequence"] for e in events(db)] == [1, 2, 3, 4]


def test_an_extension_after_due_soon_gives_a_fresh_warning(db):
    accept(db)
    assert raise_due(db, SOON)["due_soon"] == 1
    later = datetime(2026, 12, 14, 17, 0, tzinfo=TZ)  # Monday 14/12 closing
    body = {"reason": "Cần xác minh", "new_due_at": later}
    dossiers.perform(db, CODE, "extend", body, LEADER, now=SOON + timedelta(hours=1))
    extended = store.get_dossier(db, CODE)
    assert extended["watch"] == "due_soon" and extended["due_soon_at"] == datetime(
        2026, 12, 11, 17, 0, tzinfo=TZ
    )
    assert nothing(db, DUE + MS, datetime(2026, 12, 11, 16, 59, tzinfo=TZ))
    assert raise_due(db, datetime(2026, 12, 11, 17, 0, tzinfo=TZ)) == {"due_soon": 1, "overdue": 0}
    assert raise_due(db, later + MS) == {"due_soon": 0, "overdue": 1}
    assert verbs(db) == ["accepted", "due_soon", "extended", "due_soon", "overdue"]
    assert [e["sequence"] for e in events(db)] == [1, 2, 3, 4, 5]
    assert datetime.fromisoformat(events(db)[-1]["data"]["due_at"]) == later


def test_an_extension_of_an_overdue_dossier_watches_the_new_due_time(db):
    accept(db)
    assert raise_due(db, DUE + MS)["overdue"] == 1
    later = datetime(2026, 12, 21, 17, 0, tzinfo=TZ)
    body = {"reason": "Cần xác minh", "new_due_at": later}
    dossiers.perform(db, CODE, "extend", body, LEADER, now=DUE + timedelta(hours=1))
    assert store.get_dossier(db, CODE)["watch"] == "due_soon"
    assert raise_due(db, later + MS) == {"due_soon": 0, "overdue": 1}
    assert verbs(db) == ["accepted", "overdue", "extended", "overdue"]


def test_a_returned_dossier_raises_nothing(db, result_signing):
    accept(db)
    draft = results.save(db, result_signing.blobs, pdf_bytes(2000), 10**6, LEADER)
    steps: list[tuple[str, dict[str, Any], Any]] = [
        ("assign", {"assignee": "specialist-1"}, LEADER),
        ("propose", {"note": "Đề nghị cấp"}, SPECIALIST),
        ("approve", {}, LEADER),
        ("issue_result", {"upload_id": draft["id"]}, LEADER),
        ("return_result", {"method": "counter"}, RECEPTIONIST),
    ]
    for n, (action, body, staff) in enumerate(steps, start=1):
        now = ACCEPTED + n * timedelta(hours=1)
        dossiers.perform(db, CODE, action, body, staff, now=now, results=result_signing)
    returned = store.get_dossier(db, CODE)
    assert returned["state"] == "returned" and returned["watch"] is None
    assert nothing(db, SOON, DUE + MS, DUE + timedelta(days=30))
    assert verbs(db) == ["accepted", "assigned", "approved", "result_issued", "returned"]


def test_a_withdrawn_dossier_raises_nothing(db):
    accept(db)
    withdrawn = workflow.intake_event("withdrawn", 2, {"by": "citizen", "withdrawn_at": ACCEPTED + MS})
    dossiers.apply_intake_event(
        db, withdrawn, {"by": "citizen", "withdrawn_at": ACCEPTED + MS}, now=ACCEPTED + MS
    )
    dossier = store.get_dossier(db, CODE)
    assert dossier["state"] == "withdrawn" and dossier["watch"] is None and dossier["due_soon_at"] is None
    assert nothing(db, SOON, DUE + MS)
    assert verbs(db) == ["accepted"]


def test_a_counter_filing_long_past_its_due_time_is_overdue_at_once(db):
    deliver(db, submitted("counter"))  # filed in 2023, arriving now
    assert store.get_dossier(db, CODE)["watch"] == "overdue"
    now = datetime.now(UTC)
    assert raise_due(db, now) == {"due_soon": 0, "overdue": 1}
    assert verbs(db) == ["accepted", "overdue"] and nothing(db, now + timedelta(minutes=1))


WATCH_INDEXES = ("watch_due_soon_at", "watch_due_at")


def seeks_the_watch_index(db, index: str, filter: dict[str, Any], sort: dict[str, int]) -> bool:
    """The store answers `filter` by seeking `index` on the equality and the range, without reading
    the table. SQLite seeks the separate range of documents holding arrays (see
    test_store_indexes) in either index led by `watch`."""
    answer = explain(db, "dossiers", filter, sort)
    planner = answer["queryPlanner"]
    if "Plan" not in planner:  # MongoDB
        return seeks_only(db, "dossiers", index, filter, sort)
    details = [line.split("detail=", 1)[1] for line in planner["Plan"]]
    reads = [d for d in details if d.startswith(("SCAN ", "SEARCH "))]
    return (
        answer["filterPushdown"] is True
        and all(d.startswith("SEARCH ") and any(f"_{i} " in d for i in WATCH_INDEXES) for d in reads)
        and any(f"_{index} " in d and d.endswith(f"({EQUAL} AND {BETWEEN})") for d in reads)
    )


def test_the_watch_seeks_its_index_among_many_closed_dossiers(db):
    accept(db)
    closed = [
        {
            "_id": f"000.21.26.H06-231027-{n:04d}",
            "state": "returned",
            "unit": UNIT,
            "due_at": ACCEPTED - timedelta(hours=n),
            "watch": None if n % 2 else "done",
            "due_soon_at": None,
        }
        for n in range(2, 3_002)
    ]
    db.dossiers.insert_many(closed)
    for mark, field, included in (("due_soon", "due_soon_at", True), ("overdue", "due_at", False)):
        filter = store.watch_filter(mark, field, deadlines_watch.FAR_PAST, DUE + MS, included)
        sort = {field: 1}
        assert seeks_the_watch_index(db, f"watch_{field}", filter, sort), explain(
            db, "dossiers", filter, sort
        )
    # The check tells a scan apart: the same filter on a field without an index is not a seek.
    unindexed = {"watch": "due_soon", "received_at": {"$gte": deadlines_watch.FAR_PAST, "$lte": DUE}}
    assert not seeks_the_watch_index(db, "watch_due_soon_at", unindexed, {"received_at": 1})
    assert raise_due(db, DUE + MS) == {"due_soon": 0, "overdue": 1}
    assert verbs(db) == ["accepted", "overdue"]


def test_the_workers_duty_raises_what_is_due_and_counts_it(db):
    import threading
    import time

    from prometheus_client import REGISTRY

    from processing.config import load_config
    from processing.worker import deadline_watch

    def counted() -> float:
        return REGISTRY.get_sample_value("deadline_warnings_raised_total", {"kind": "overdue"}) or 0.0

    deliver(db, submitted("counter"))  # long past its due time
    before = counted()
    config = load_config(
        auth=False, environ={"MONGO_URL": "mongodb://127.0.0.1:1/", "DEADLINE_WATCH_SECONDS": "30"}
    )
    stop = threading.Event()
    duty = threading.Thread(target=deadline_watch(db, config), args=(stop,))
    duty.start()
    try:
        deadline = time.monotonic() + 20
        while verbs(db) != ["accepted", "overdue"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        duty.join(10)
    assert not duty.is_alive(), "the duty stops when asked"
    assert verbs(db) == ["accepted", "overdue"]
    assert counted() == before + 1


def test_a_warning_concerns_the_leaders_the_directory_has_when_it_is_raised(db):
    accept(db)
    admin = Staff("quantri-1", "", frozenset({"admin"}), frozenset({UNIT, "09499", "264", "264.TP"}))
    retired = directory.get(db, "leader-1")
    change = {**{k: retired[k] for k in ("name", "email", "roles")}, "units": [UNIT]}
    directory.update(db, "leader-1", {**change, "active": False, "reason": "Nghỉ hưu"}, 1, admin)
    new = {"user_id": "leader-2", "name": "Vũ Văn Mới", "email": None, "roles": ["leader"], "units": [UNIT]}
    directory.create(db, {**new, "active": True, "reason": "Bổ nhiệm"}, admin)
    # A leader elsewhere, and a specialist here, are not the unit's leaders.
    directory.create(
        db, {**new, "user_id": "leader-x", "units": ["264"], "active": True, "reason": ""}, admin
    )

    assert raise_due(db, DUE + MS) == {"due_soon": 0, "overdue": 1}
    data = events(db)[-1]["data"]
    assert data["assignee"] is None and data["leaders"] == ["leader-2"]
    assert data["recipients"] == [
        {"user_id": "leader-2", "name": "Vũ Văn Mới", "email": None, "as": "leader"}
    ]
    # The unit's active leaders are a seek on the directory's (unit, role, active) index.
    leaders = {"unit": UNIT, "role": "leader", "active": True}
    three = f"{EQUAL} AND {EQUAL} AND {EQUAL}"
    assert seeks_only(db, "staff_roles", "unit_role_active", leaders, seek=three), explain(
        db, "staff_roles", leaders, None
    )
