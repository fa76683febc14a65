"""Officers' work queues and search on the real store: filters, order, pages, units, query plans."""

# The workflow tests' fixtures (`db`, `client`, `as_`) are imported and taken by name.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventkit.auth import Staff
from processing import store
from processing.service import queues
from tests.integration.test_processing_workflow import (  # noqa: F401 (fixtures)
    FILED,
    OFFICE,
    PROCEDURE,
    UNIT,
    act,
    as_,
    client,
    db,
    deliver,
    intake_event,
    submitted,
)
from tests.integration.test_store_indexes import BETWEEN, EQUAL, explain, seeks_only

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

OTHER_PROCEDURE = "1.001193"
HOA = {"full_name": "Nguyễn Thị Hoa", "id_number": "027190001234", "phone": "0912345678"}
DUNG = {"full_name": "Đặng Văn Dũng", "id_number": "027085004321", "phone": "0912345679"}


def code_of(n: int, day: int = 27) -> str:
    return f"000.21.26.H06-2310{day:02d}-{n:04d}"


def file(
    db,
    n: int,
    *,
    channel: str = "counter",
    at: datetime = FILED,
    applicant: dict[str, Any] | None = None,
    day: int = 27,
) -> str:
    """Deliver intake's `submitted` of dossier `n` (counter filings arrive accepted, due in 5 days)."""
    code = code_of(n, day)
    deliver(db, submitted(channel, at=at, code=code, applicant=applicant or HOA))
    return code


def listing(client, headers: dict[str, str], **query: Any):
    return client.get("/api/v1/dossiers", query_string=query, headers=headers)


def codes(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["code"] for item in response.json["items"]]


def expected_order(db, selected: list[str]) -> list[str]:
    """The queue's order computed from the stored dossiers: due time (else filing time), then code."""
    stored = [store.get_dossier(db, code) for code in selected]
    return [d["code"] for d in sorted(stored, key=lambda d: (d["due_at"] or d["submitted_at"], d["code"]))]


@pytest.fixture
def desk(db, client, as_):
    """Dossiers of UNIT: counter filings accepted (one assigned, one due in the future), online
    filings waiting for the check, one refused, one transferred to OFFICE."""
    now = datetime.now(UTC)
    made = {
        "accepted": [file(db, n, at=FILED + timedelta(hours=n)) for n in (5, 3, 4)],
        "submitted": [file(db, n, channel="online", at=FILED + timedelta(minutes=n)) for n in (11, 12)],
        "future": [file(db, 20, at=now - timedelta(minutes=5), day=28)],
    }
    made["assigned"] = [made["accepted"].pop(0)]
    assert (
        act(client, "assign", as_("leader"), made["assigned"][0], assignee="specialist-1").status_code == 200
    )
    made["refused"] = [file(db, 30, channel="online")]
    assert (
        act(client, "refuse", as_("receptionist"), made["refused"][0], reasons=["Sai thẩm quyền"]).status_code
        == 200
    )
    made["transferred"] = [file(db, 40)]
    moved = act(
        client, "transfer", as_("receptionist"), made["transferred"][0], to_unit=OFFICE, note="Chuyển"
    )
    assert moved.status_code == 200
    return made


def open_of_unit(desk: dict[str, list[str]]) -> list[str]:
    return desk["accepted"] + desk["submitted"] + desk["future"] + desk["assigned"]


def test_the_queue_holds_the_units_open_dossiers_due_first(db, client, as_, desk):
    response = listing(client, as_("receptionist"))
    assert codes(response) == expected_order(db, open_of_unit(desk))
    assert response.json["next_cursor"] is None
    # Filed online and not yet accepted: no due time, so they sort by their filing time (first).
    assert codes(response)[:2] == desk["submitted"]
    assert codes(response)[-1] == desk["future"][0]

    by_code = {item["code"]: item for item in response.json["items"]}
    assigned = by_code[desk["assigned"][0]]
    stored = store.get_dossier(db, desk["assigned"][0])
    assert assigned["state"] == "in_progress" and assigned["assignee"] == "specialist-1"
    assert assigned["applicant_name"] == "Nguyễn Thị Hoa" and assigned["procedure_code"] == PROCEDURE
    assert assigned["procedure_name"] == stored["procedure_name"] and assigned["unit"] == UNIT
    assert datetime.fromisoformat(assigned["due_at"]) == stored["due_at"]
    assert datetime.fromisoformat(assigned["received_at"]) == stored["received_at"]
    assert assigned["overdue"] is True and assigned["working_hours_left"] < 0
    future = by_code[desk["future"][0]]
    assert future["overdue"] is False and 0 < future["working_hours_left"] <= 40
    waiting = by_code[desk["submitted"][0]]
    assert waiting["due_at"] is None and waiting["overdue"] is False and waiting["working_hours_left"] is None


def test_each_filter_alone_and_combined(db, client, as_, desk):
    officer = as_("specialist", UNIT, "specialist-1")
    everything = open_of_unit(desk)
    accepted = desk["accepted"] + desk["future"]

    assert codes(listing(client, officer, state="accepted")) == expected_order(db, accepted)
    both = listing(client, officer, state=["submitted", "in_progress"])
    assert codes(both) == expected_order(db, desk["submitted"] + desk["assigned"])
    assert codes(listing(client, officer, state="refused")) == desk["refused"]
    assert codes(listing(client, officer, procedure=PROCEDURE)) == expected_order(db, everything)
    assert codes(listing(client, officer, procedure=OTHER_PROCEDURE)) == []
    assert codes(listing(client, officer, assignee="me")) == desk["assigned"]
    assert codes(listing(client, officer, assignee="specialist-1")) == desk["assigned"]
    assert codes(listing(client, as_("leader"), assignee="me")) == []
    overdue = desk["accepted"] + desk["assigned"]
    assert codes(listing(client, officer, overdue="true")) == expected_order(db, overdue)
    assert codes(listing(client, officer, overdue="false")) == expected_order(
        db, desk["submitted"] + desk["future"]
    )
    early = store.get_dossier(db, desk["accepted"][0])["due_at"]  # n=3: the earliest due
    before = (early + timedelta(minutes=1)).isoformat()
    assert codes(listing(client, officer, due_before=before)) == [desk["accepted"][0]]
    assert codes(listing(client, officer, due_before=early.isoformat())) == []
    assert codes(listing(client, officer, unit=UNIT)) == expected_order(db, everything)

    combined = listing(
        client, officer, state=["in_progress", "accepted"], assignee="me", overdue="true", procedure=PROCEDURE
    )
    assert codes(combined) == desk["assigned"]
    assert codes(listing(client, officer, state="accepted", assignee="me")) == []
    assert codes(listing(client, officer, state="accepted", overdue="false")) == desk["future"]
    assert codes(listing(client, officer, state="submitted", due_before=before)) == []


def test_pages_follow_each_other_without_repeats_or_gaps_while_dossiers_arrive(db, client, as_):
    filed = [
        file(db, n, at=FILED + timedelta(minutes=7 * (n % 9)) + timedelta(hours=n // 9)) for n in range(1, 24)
    ]
    filed += [file(db, n, channel="online", at=FILED + timedelta(minutes=n)) for n in range(50, 54)]
    officer = as_("leader")
    seen: list[str] = []
    arrived_late: list[str] = []
    cursor = None
    for page_number in range(20):
        query: dict[str, Any] = {"limit": 5}
        if cursor:
            query["cursor"] = cursor
        response = listing(client, officer, **query)
        seen += codes(response)
        assert len(response.json["items"]) <= 5
        cursor = response.json["next_cursor"]
        if page_number == 1:
            # One arrives before the pages read so far (not shown: it is behind), one after.
            file(db, 90, channel="online", at=FILED - timedelta(days=1))
            arrived_late.append(file(db, 91, at=FILED + timedelta(days=3)))
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "no dossier twice"
    assert seen == expected_order(db, filed + arrived_late)
    assert code_of(90) not in seen


def test_search_by_code_id_number_and_name(db, client, as_):
    hoa_first = file(db, 1, applicant=HOA)
    dung = file(db, 2, applicant=DUNG, channel="online")
    hoa_second = file(db, 3, applicant=HOA, at=FILED + timedelta(days=1))
    assert act(client, "refuse", as_("receptionist"), dung, reasons=["Sai"]).status_code == 200
    officer = as_("receptionist")
    hoa = expected_order(db, [hoa_first, hoa_second])

    assert codes(listing(client, officer, q=hoa_first)) == [hoa_first]
    assert codes(listing(client, officer, q=hoa_first.lower())) == [hoa_first]
    assert codes(listing(client, officer, q="000.21.26.H06-231027-9999")) == []
    assert codes(listing(client, officer, q="027190001234")) == hoa
    assert codes(listing(client, officer, q="027 190 001 234")) == hoa
    assert codes(listing(client, officer, q="027190009999")) == []
    for name in ("Nguyễn Thị Hoa", "nguyen thi hoa", "NGUYỄN  THỊ   HOA", " Nguyen Thi Hoa "):
        assert codes(listing(client, officer, q=name)) == hoa, name
    assert codes(listing(client, officer, q="Nguyễn Thị")) == [], "the whole name, not a part of it"
    # A search finds a finished dossier too, unless a state is asked for.
    for name in ("Đặng Văn Dũng", "dang van dung", "027085004321"):
        assert codes(listing(client, officer, q=name)) == [dung], name
    assert codes(listing(client, officer, q="dang van dung", state="submitted")) == []
    assert codes(listing(client, officer, q=dung, state="accepted")) == []
    assert codes(listing(client, officer, q="nguyen thi hoa", limit=1)) == hoa[:1]
    page = listing(client, officer, q="nguyen thi hoa", limit=1).json
    assert codes(listing(client, officer, q="nguyen thi hoa", cursor=page["next_cursor"])) == hoa[1:]
    stored = store.get_dossier(db, hoa_first)
    assert (stored["applicant_key_id"], stored["applicant_key_name"]) == ("027190001234", "nguyen thi hoa")


def test_officers_see_only_the_units_they_serve(db, client, as_, desk):
    foreign = as_("leader", "09499", "leader-x")
    assert codes(listing(client, foreign)) == []
    assert codes(listing(client, foreign, q=desk["accepted"][0])) == []
    assert codes(listing(client, foreign, q="nguyen thi hoa")) == []
    refused = listing(client, foreign, unit=UNIT)
    assert refused.status_code == 403 and refused.json["message"]
    # The transferred dossier is in the queue of the unit handling it now, not of the one it left.
    assert desk["transferred"][0] not in codes(listing(client, as_("leader")))
    assert codes(listing(client, as_("leader", OFFICE, "leader-tp"))) == desk["transferred"]
    assert codes(listing(client, as_("leader"), q=desk["transferred"][0])) == []
    assert listing(client, as_("leader"), unit=OFFICE).status_code == 403
    assert client.get("/api/v1/dossiers").status_code == 401
    assert listing(client, as_("editor")).status_code == 403


@pytest.mark.parametrize(
    ("arg", "value"),
    [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "many"),
        ("state", "lost"),
        ("overdue", "maybe"),
        ("due_before", "2023-11-01T09:00:00"),
        ("due_before", "yesterday"),
        ("cursor", "not-a-cursor"),
        ("cursor", "WyJ4IiwgMV0"),  # base64 of ["x", 1]
        ("q", "   "),
        ("q", "x" * 201),
        ("unit", "no unit!"),
        ("procedure", "1.2"),
    ],
)
def test_a_bad_argument_is_a_422_naming_it(client, as_, arg, value):
    response = listing(client, as_("leader"), **{arg: value})
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["query"]) == [arg]


def seeks(db, index: str, filter: dict[str, Any], sort: dict[str, int] | None, conditions: str) -> bool:
    """Whether the store answers `filter` from indexes alone, `index` sought on `conditions`.

    Besides that seek, FerretDB looks for documents whose fields hold arrays with a seek of any
    index on the same leading field, which SQLite picks: those must be seeks too, not scans."""
    answer = explain(db, "dossiers", filter, sort)
    if "Plan" not in answer["queryPlanner"]:  # MongoDB
        return seeks_only(db, "dossiers", index, filter, sort)
    details = [line.split("detail=", 1)[1] for line in answer["queryPlanner"]["Plan"]]
    reads = [d for d in details if d.startswith(("SCAN ", "SEARCH "))]
    return (
        answer["filterPushdown"] is True
        and all(d.startswith("SEARCH ") for d in reads)
        and any(f"_{index} ({conditions})" in d for d in reads)
    )


def _staff(unit: str = UNIT, user_id: str = "specialist-1") -> Staff:
    return Staff(user_id, "", frozenset({"specialist"}), frozenset({unit}))


def closed_dossier(n: int) -> dict[str, Any]:
    """A returned dossier as the store keeps it (only the fields the queries read)."""
    at = FILED - timedelta(days=400) + timedelta(hours=n)
    return {
        "_id": f"000.21.26.H06-220101-{n:04d}",
        "unit": UNIT,
        "receiving_unit": UNIT,
        "state": "returned" if n % 2 else "refused",
        "procedure_code": PROCEDURE,
        "procedure_name": "",
        "channel": "counter",
        "applicant": HOA,
        "applicant_key_id": HOA["id_number"] if n % 50 else "027190009999",
        "applicant_key_name": "nguyen thi hoa",
        "assignee": "specialist-1",
        "submitted_at": at,
        "received_at": at,
        "due_at": at + timedelta(days=7) if n % 2 else None,
        "paused_at": None,
    }


def test_the_queue_is_read_from_its_indexes_not_the_table(db, client, as_):
    db.dossiers.insert_many([closed_dossier(n) for n in range(5_000)])
    open_ = [file(db, n, at=FILED + timedelta(hours=n)) for n in range(1, 15)]
    open_ += [file(db, n, channel="online", at=FILED + timedelta(minutes=n)) for n in range(15, 21)]
    for code in open_[:4]:
        assert act(client, "assign", as_("leader"), code, assignee="specialist-1").status_code == 200

    response = listing(client, as_("leader"), limit=100)
    assert codes(response) == expected_order(db, open_)
    assert codes(listing(client, as_("specialist", UNIT, "specialist-1"), assignee="me")) == expected_order(
        db, open_[:4]
    )

    now = datetime.now(UTC)
    cases = {
        "queue": {},
        "overdue": {"overdue": True},
        "assignee": {"assignee": "me"},
        "procedure": {"procedure": PROCEDURE},
        "due-before": {"due_before": now},
        "next-page": {"cursor": (FILED, open_[0])},
    }
    for name, query in cases.items():
        criteria = queues.criteria(_staff(), {"limit": 20, **query})
        planned = queues.plan(criteria, now)
        assert planned, name
        for seek in planned:
            filter = seek.filter(criteria.after)
            sort = {seek.field: 1, "_id": 1}
            # Every equality the store can push down, then the due (or filing) time as a range when
            # the index holds it next.
            equalities = [EQUAL for value in seek.equal.values() if value is not None]
            ranged = [BETWEEN] if seek.index.endswith(f"_{seek.field}_1") else []
            wanted = " AND ".join(equalities + ranged)
            assert seeks(db, seek.index, filter, sort, wanted), (
                name,
                seek,
                explain(db, "dossiers", filter, sort),
            )

    for key, value in (("applicant_key_id", "027190009999"), ("applicant_key_name", "nguyen thi hoa")):
        filter = {"unit": UNIT, key: value}
        index = store.index_name(("unit", key))
        assert seeks(db, index, filter, None, f"{EQUAL} AND {EQUAL}"), explain(db, "dossiers", filter, None)
    found = listing(client, as_("leader"), q="027190009999", limit=60)
    assert len(codes(found)) == 60 and found.json["next_cursor"], "the closed dossiers are searchable"
    rest = listing(client, as_("leader"), q="027190009999", limit=60, cursor=found.json["next_cursor"])
    assert len(set(codes(found) + codes(rest))) == 100 and rest.json["next_cursor"] is None
    # A filter the indexes do not serve is told apart: the check above can fail.
    assert not seeks_only(
        db, "dossiers", store.index_name(("unit", "state", "due_at")), {"state": "returned"}
    )


def test_a_dossier_waiting_for_a_supplement_is_judged_at_its_pause(db, client, as_):
    late = file(db, 1)  # due in 2023: the pause comes after its due time
    early = file(db, 2, at=datetime.now(UTC) - timedelta(minutes=5), day=28)
    for code in (late, early):
        asked = act(client, "request_supplement", as_("receptionist"), code, missing=["TP01"], reason="Thiếu")
        assert asked.status_code == 200 and asked.json["paused_at"], asked.json
    # Its stored due time may pass while the clock waits: the pause, not now, decides.
    now = datetime.now(UTC)
    waiting = {"due_at": now - timedelta(minutes=1), "paused_at": now - timedelta(days=3)}
    db.dossiers.update_one({"_id": early}, {"$set": waiting})
    officer = as_("leader")
    assert codes(listing(client, officer, overdue="true")) == [late]
    assert codes(listing(client, officer, overdue="false")) == [early]
    items = {i["code"]: i for i in listing(client, officer, state="supplement_requested").json["items"]}
    assert items[late]["paused"] and items[late]["overdue"] and items[late]["working_hours_left"] < 0
    assert items[early]["paused"] and not items[early]["overdue"] and items[early]["working_hours_left"] > 0
