"""Live statistics on the real store: dossiers driven through the workflow, their real events counted
by the `processing.stats` handlers exactly once, the report and the register (Mẫu 06) read back."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from openpyxl import load_workbook

from eventkit.envelope import jsonable, new_event
from eventkit.errors import TransientError
from eventkit.topics import Groups, skipped_by
from processing import stats, store
from processing.events import EventTypes
from processing.handlers import build_handlers
from processing.service import dossiers, results, statistics
from processing.service.results import ResultSigning
from tests.factories import pdf_bytes
from tests.integration import test_processing_workflow as workflow
from tests.integration.test_processing_workflow import (
    OFFICE,
    TZ,
    UNIT,
    _staff,
    deliver,
    events,
    intake_event,
    submitted,
)
from tests.integration.test_store_indexes import plan, uses_index

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

# The workflow's fixtures: the catalogue seeded, a test client, officers' headers.
db, client, as_ = workflow.db, workflow.client, workflow.as_

EARLY, LATE, REFUSED, WITHDRAWN, OVERDUE, NOVEMBER = (f"000.21.26.H06-231027-{n:04d}" for n in range(1, 7))
RETURN_STEPS = (
    ("assign", "leader", {"assignee": "specialist-1"}),
    ("propose", "specialist", {"note": "Đề nghị cấp"}),
    ("approve", "leader", {"note": "Đồng ý"}),
    ("issue_result", "leader", {}),
    ("return_result", "receptionist", {"method": "counter"}),
)


def at(day: int, hour: int = 9, month: int = 10) -> datetime:
    return datetime(2023, month, day, hour, 0, tzinfo=TZ)


def act(
    db, code: str, action: str, role: str, when: datetime, unit: str = UNIT, signing=None, **body: Any
) -> None:
    dossiers.perform(db, code, action, body, _staff(role, unit), now=when, results=signing)


def returned(db, code: str, when: datetime, signing: ResultSigning) -> None:
    draft = results.save(db, signing.blobs, pdf_bytes(2000), 10**6, _staff("leader", UNIT))
    for n, (action, role, body) in enumerate(RETURN_STEPS):
        if action == "issue_result":
            body = {"upload_id": draft["id"]}
        act(db, code, action, role, when + timedelta(minutes=n), signing=signing, **body)


def overdue_event(db, code: str, when: datetime) -> dict[str, Any]:
    """What the deadline watcher publishes, numbered after the dossier's last event."""
    dossier = store.get_dossier(db, code)
    sequence = int(dossier["sequence"]) + 1
    data = {
        "code": code,
        "unit": dossier["unit"],
        "receiving_unit": dossier["receiving_unit"],
        "procedure_code": dossier["procedure_code"],
        "channel": dossier["channel"],
        "state": dossier["state"],
        "by": "system",
        "at": when,
        "sequence": sequence,
        "due_at": dossier["due_at"],
        "assignee": dossier.get("assignee"),
        "leaders": [],
    }
    return new_event(
        type=EventTypes.DOSSIER_OVERDUE,
        source="/services/processing",
        subject=code,
        data=jsonable(data),
        sequence=sequence,
    )


@pytest.fixture
def histories(db, result_signing) -> dict[str, list[dict[str, Any]]]:
    signing = result_signing
    """Six dossiers of UNIT, each with its events (intake's and processing's) in their order."""
    intake: dict[str, list[dict[str, Any]]] = {}

    def filed(code: str, channel: str) -> None:
        event = submitted(channel, code=code)
        deliver(db, event)
        intake[code] = [event]

    for code in (EARLY, LATE, WITHDRAWN, OVERDUE):
        filed(code, "counter")  # received 27/10/2023 09:32, due 03/11/2023 09:32
    returned(db, EARLY, at(30), signing)
    returned(db, LATE, at(10, month=11), signing)

    filed(REFUSED, "online")
    act(db, REFUSED, "refuse", "receptionist", at(27, 10), reasons=["Không thuộc thẩm quyền"])

    withdrawal = intake_event(
        "withdrawn", 2, {"by": "citizen", "reason": "Không cần nữa", "withdrawn_at": at(28)}, code=WITHDRAWN
    )
    deliver(db, withdrawal)

    act(db, OVERDUE, "transfer", "receptionist", at(30), to_unit=OFFICE, note="Chuyển phòng chuyên môn")
    late_notice = overdue_event(db, OVERDUE, at(4, month=11))

    november = submitted("online", at=at(2, month=11), code=NOVEMBER)
    deliver(db, november)
    intake[NOVEMBER] = [november]
    act(db, NOVEMBER, "accept", "receptionist", at(2, 10, month=11))

    result = {code: [*intake.get(code, []), *events(db, code)] for code in intake}
    result[WITHDRAWN].append(withdrawal)
    result[OVERDUE].append(late_notice)
    return result


def count(db, event: dict[str, Any]) -> None:
    """Through the statistics group's own handler, as the worker would; skipped types are skipped."""
    if event["type"] in skipped_by(Groups.PROCESSING_STATS):
        return
    handler = build_handlers(db)[Groups.PROCESSING_STATS][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))


def live(db) -> dict[str, dict[str, int]]:
    return {
        doc["_id"]: {f: doc[f] for f in stats.STORED_FIELDS if f in doc} for doc in db.stats_counters.find({})
    }


def rebuilt(histories: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, int]]:
    in_order = [event for history in histories.values() for event in history]
    return {
        doc["_id"]: {f: doc[f] for f in stats.STORED_FIELDS if f in doc}
        for doc in stats.counter_docs(stats.rebuild(in_order))
    }


def interleaved(histories: dict[str, list[dict[str, Any]]], seed: int) -> list[dict[str, Any]]:
    """Every dossier's events in its order, the dossiers mixed at random."""
    queues = {code: list(history) for code, history in histories.items()}
    chooser = random.Random(seed)
    mixed = []
    while queues:
        code = chooser.choice(sorted(queues))
        mixed.append(queues[code].pop(0))
        if not queues[code]:
            del queues[code]
    return mixed


@pytest.fixture
def counted(db, histories):
    for event in interleaved(histories, seed=7):
        count(db, event)
    return histories


def test_live_counters_equal_a_rebuild_of_the_same_events(db, counted):
    expected = rebuilt(counted)
    assert live(db) == expected
    october = expected[f"{UNIT}|1.004884|counter|2023-10"]
    assert october["received_new_counter"] == 4 and october["resolved_early"] == 1
    assert (october["returned"], october["withdrawn"], october["in_progress_on_time"]) == (1, 1, 2)
    assert expected[f"{UNIT}|1.004884|online|2023-10"] == {"refused": 1}
    november = expected[f"{UNIT}|1.004884|counter|2023-11"]
    assert (november["resolved_late"], november["in_progress_overdue"]) == (1, 1)
    assert expected[f"{UNIT}|1.004884|online|2023-11"]["received_new_online"] == 1


def _stock(doc: dict[str, Any]) -> dict[str, int]:
    return {f: doc[f] for f in stats.STOCK_FIELDS if doc.get(f)}


def test_the_live_totals_of_each_series_equal_the_sum_of_its_months(db, counted):
    live_totals = {doc["_id"]: _stock(doc) for doc in db.stats_totals.find({})}
    expected = {
        doc["_id"]: _stock(doc)
        for doc in stats.stock_totals(stats.rebuild(e for h in counted.values() for e in h))
    }
    assert {k: v for k, v in live_totals.items() if v} == {k: v for k, v in expected.items() if v}
    assert any(live_totals.values()), "the open dossiers are in the totals"
    assert not [doc for doc in db.stats_totals.find({}) if doc.get("applied")], "no guard kept once counted"
    assert sorted(store.get_stats_unit(db, UNIT)["total_keys"]) == sorted(live_totals)


def test_a_report_far_from_the_first_month_reads_its_period_and_the_totals_only(
    db, client, as_, counted, monkeypatch
):
    # A dossier received in January and still open: carried into every later month.
    january = submitted("counter", at=datetime(2023, 1, 5, 9, 0, tzinfo=TZ), code="000.21.26.H06-230105-0001")
    deliver(db, january)
    for event in [january, *events(db, january["subject"])]:
        count(db, event)
    history = [e for h in counted.values() for e in h] + [january, *events(db, january["subject"])]
    months_read: list[str] = []
    real = store.get_stats_month_keys
    monkeypatch.setattr(
        store,
        "get_stats_month_keys",
        lambda db, unit, month: months_read.append(month) or real(db, unit, month),
    )
    for group_by in stats.GROUP_BY:
        months_read.clear()
        body = _stats(
            client, as_("leader"), unit=UNIT, **{"from": "2023-11", "to": "2023-11"}, group_by=group_by
        ).json
        assert sorted(set(months_read)) == ["2023-11"], "the period only: no month of the history before it"
        expected = stats.summarise(
            stats.counter_docs(stats.rebuild(history)), group_by, first_month="2023-11", last_month="2023-11"
        )
        assert body["rows"] == jsonable(expected)
    [row] = _stats(client, as_("leader"), unit=UNIT, **{"from": "2023-11", "to": "2023-11"}).json["rows"]
    assert row["carried_over"] == 3, "October's two and January's one"
    # Near the first month, the report reads forward and gives the same rows as the rebuild.
    months_read.clear()
    body = _stats(client, as_("leader"), unit=UNIT, **{"from": "2023-02", "to": "2023-03"}).json
    assert sorted(set(months_read)) == ["2023-01", "2023-02", "2023-03"]
    assert body["rows"] == jsonable(
        stats.summarise(
            stats.counter_docs(stats.rebuild(history)), "unit", first_month="2023-02", last_month="2023-03"
        )
    )


def test_events_delivered_twice_and_out_of_order_between_dossiers_change_nothing(db, counted):
    expected = rebuilt(counted)
    again = interleaved(counted, seed=11)
    for event in again:  # each a second and a third time, the dossiers in another order
        count(db, event)
        count(db, event)
    for event in reversed(again):  # and every older event after a newer one
        count(db, event)
    assert live(db) == expected
    assert store.get_stats_standing(db, LATE)["seq"] == {"intake": 1, "processing": 5}


def test_a_withdrawal_waits_for_the_dossiers_earlier_processing_events(db, histories):
    submitted_event, accepted, withdrawal = histories[WITHDRAWN]
    with pytest.raises(TransientError):
        count(db, withdrawal)
    assert live(db) == {}
    for event in (accepted, withdrawal, submitted_event):
        count(db, event)
    counters = live(db)[f"{UNIT}|1.004884|counter|2023-10"]
    assert counters == {
        "received_new_counter": 1,
        "in_progress_on_time": 0,
        "withdrawn": 1,
    }, "received once (the counter filing and its acceptance), then withdrawn"


def test_a_crash_between_the_standing_and_the_counter_counts_once(db, histories, monkeypatch):
    real = store.add_stats_counts
    calls = {"n": 0}

    def crash_once(*args: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("store went away")
        return real(*args)

    monkeypatch.setattr(store, "add_stats_counts", crash_once)
    first = histories[EARLY][0]
    with pytest.raises(ConnectionError):
        count(db, first)
    assert store.get_stats_standing(db, EARLY)["pending"], "the counts owed are kept with the standing"
    count(db, first)  # the redelivery adds what is owed, and no more
    count(db, first)
    for event in histories[EARLY]:
        count(db, event)
    assert live(db) == rebuilt({EARLY: histories[EARLY]})
    assert not store.get_stats_standing(db, EARLY)["pending"]


def test_a_counter_document_adds_an_event_once_whatever_the_standing_says(db, histories):
    key = stats.CounterKey(UNIT, "1.004884", "counter", "2023-10")
    labels = key._asdict()
    field = statistics.applied_field("processing", EARLY)
    assert field == "applied.processing:000_21_26_H06-231027-0001"
    assert store.add_stats_counts(db, key.id, labels, field, 3, {"returned": 1})
    assert not store.add_stats_counts(db, key.id, labels, field, 3, {"returned": 1})
    assert not store.add_stats_counts(db, key.id, labels, field, 2, {"returned": 1})
    assert store.add_stats_counts(db, key.id, labels, field, 4, {"returned": 1})
    assert live(db)[key.id] == {"returned": 2}
    assert store.get_stats_month_keys(db, UNIT, "2023-10") == [key.id]
    unit = store.get_stats_unit(db, UNIT)
    assert (unit["first_month"], unit["last_month"], unit["totals"]) == ("2023-10", "2023-10", True)


def _stats(client, headers, **query: str):
    return client.get("/api/v1/stats", query_string=query, headers=headers)


@pytest.mark.parametrize("group_by", stats.GROUP_BY)
def test_the_report_reads_the_live_counters_per_grouping(db, client, as_, counted, group_by):
    response = _stats(
        client, as_("leader"), unit=UNIT, **{"from": "2023-10", "to": "2023-11"}, group_by=group_by
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["units"], body["from"], body["to"], body["group_by"]) == (
        [UNIT],
        "2023-10",
        "2023-11",
        group_by,
    )
    expected = stats.summarise(
        stats.counter_docs(stats.rebuild(e for h in counted.values() for e in h)),
        group_by,
        first_month="2023-10",
        last_month="2023-11",
    )
    assert body["rows"] and body["rows"] == jsonable(expected)
    for row in body["rows"]:
        assert row["on_time_rate"] == round(100 - row["late_rate"], 2)


def test_the_report_carries_over_from_earlier_months_and_counts_per_month(db, client, as_, counted):
    november = _stats(client, as_("leader"), **{"from": "2023-11", "to": "2023-11"}).json
    [row] = november["rows"]
    assert november["units"] == [UNIT]
    assert (row["unit"], row["carried_over"], row["received_new"]) == (UNIT, 2, 1)
    assert (row["resolved_late"], row["in_progress_overdue"], row["in_progress_on_time"]) == (1, 1, 1)
    assert (
        row["carried_over"] + row["received_new"] == row["resolved"] + row["withdrawn"] + row["in_progress"]
    )
    # late = (1 resolved late + 1 overdue) / (2 carried over + 1 received): 66.67 %.
    assert (row["late_rate"], row["on_time_rate"]) == (66.67, 33.33)
    months = _stats(client, as_("leader"), **{"from": "2023-09", "to": "2023-12"}, group_by="month").json
    assert [r["month"] for r in months["rows"]] == ["2023-10", "2023-11", "2023-12"]
    assert months["rows"][-1]["carried_over"] == 2 and months["rows"][-1]["received_new"] == 0


def test_the_report_is_for_the_callers_units_only(db, client, as_, counted):
    other = as_("leader", OFFICE, "l-2")
    refused = _stats(client, other, unit=UNIT, **{"from": "2023-10", "to": "2023-11"})
    assert refused.status_code == 403
    assert _stats(client, other, **{"from": "2023-10", "to": "2023-11"}).json["rows"] == []
    assert _stats(client, {}, **{"from": "2023-10", "to": "2023-11"}).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2023-13", "to": "2023-11"}, "from"),
        ({"to": "2023-11"}, "from"),
        ({"from": "2023-10", "to": "2023-11", "group_by": "week"}, "group_by"),
        ({"from": "2023-11", "to": "2023-10"}, "from"),
        ({"from": "2020-01", "to": "2023-01"}, "to"),
        ({"from": "2023-10", "to": "2023-11", "unit": "x y"}, "unit"),
    ],
)
def test_bad_report_arguments_are_named(db, client, as_, query, field):
    response = _stats(client, as_("leader"), **query)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["query"], "query arguments are named as such"


def test_the_register_query_is_answered_from_its_index(db):
    start, end = at(27), at(1, month=11)
    query = {"receiving_unit": UNIT, "received_at": {"$gte": start, "$lt": end}}
    assert uses_index(db, "dossiers", query), plan(db, "dossiers", query)


def _register(client, headers, fmt: str, first: str = "2023-10-27", last: str = "2023-10-31"):
    query = {"unit": UNIT, "from": first, "to": last, "format": fmt}
    return client.get("/api/v1/register", query_string=query, headers=headers)


def test_the_register_lists_the_dossiers_received_in_the_period_as_csv(db, client, as_, histories):
    response = _register(client, as_("receptionist"), "csv")
    assert response.status_code == 200, response.data[:500]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    by_code = {row["Mã hồ sơ"]: row for row in rows}
    assert set(by_code) == {EARLY, LATE, WITHDRAWN, OVERDUE}, "refused: never received; one in November"
    assert [row["STT"] for row in rows] == ["1", "2", "3", "4"]
    early = by_code[EARLY]
    assert early["Ngày, giờ nhận hồ sơ"] == "27/10/2023 09:32"
    assert early["Ngày, giờ hẹn trả kết quả"] == "03/11/2023 09:32"
    assert early["Ngày nhận kết quả"] == "30/10/2023 09:03"
    assert early["Ngày trả kết quả"] == "30/10/2023 09:04"
    assert early["Hình thức trả kết quả"] == "Tại bộ phận một cửa"
    assert early["Kết quả giải quyết"] == "Trước hạn" and early["Tên người nộp hồ sơ"] == "Nguyễn Thị Hoa"
    assert by_code[LATE]["Kết quả giải quyết"] == "Quá hạn"
    assert by_code[WITHDRAWN]["Kết quả giải quyết"] == "Công dân rút hồ sơ"
    moved = by_code[OVERDUE]
    assert moved["Ngày chuyển hồ sơ"] == "30/10/2023 09:00"
    assert moved["Cơ quan giải quyết"] != early["Cơ quan giải quyết"]
    assert moved["Kết quả giải quyết"] == "Đang giải quyết, quá hạn"
    november = _register(client, as_("receptionist"), "csv", "2023-11-01", "2023-11-30")
    assert [r["Mã hồ sơ"] for r in csv.DictReader(io.StringIO(november.data.decode("utf-8-sig")))] == [
        NOVEMBER
    ]


def test_the_register_reads_back_as_a_workbook(db, client, as_, histories):
    response = _register(client, as_("receptionist"), "xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[1] == "Mã hồ sơ" and header[7] == "Ngày, giờ nhận hồ sơ"
    assert sorted(row[1] for row in rows) == sorted([EARLY, LATE, WITHDRAWN, OVERDUE])
    assert all(row[7] == datetime(2023, 10, 27, 9, 32) for row in rows)


def test_the_register_is_for_the_callers_unit_and_names_bad_days(db, client, as_, histories):
    assert _register(client, as_("receptionist", OFFICE, "r-2"), "csv").status_code == 403
    bad = _register(client, as_("receptionist"), "csv", first="27/10/2023")
    assert bad.status_code == 422 and "from" in bad.json["errors"]["query"]
    backwards = _register(client, as_("receptionist"), "csv", first="2023-11-01")
    assert backwards.status_code == 422 and "from" in backwards.json["errors"]["query"]
    wrong = _register(client, as_("receptionist"), "pdf")
    assert wrong.status_code == 422 and "format" in wrong.json["errors"]["query"]


def test_the_consumer_group_counts_the_events_from_the_broker_once(db, histories, platform, new_topic):
    """Both topics through the real broker and runner, every event twice, intake's sent first (so a
    withdrawal arrives before the acceptance it follows, and waits for it)."""
    from eventkit.consumer import ConsumerRunner, RetryPolicy
    from eventkit.envelope import encode
    from eventkit.kafka import ensure_topics, make_producer
    from eventkit.topics import TopicSpec, dead_letter_topic, retry_topic
    from tests.integration.kafka_tools import run_until, write_raw
    from tests.integration.test_consumer_runner import committed

    intake_topic, processing_topic = new_topic("intake-dossiers"), new_topic("processing-dossiers")
    group = f"test.stats.{uuid4().hex[:8]}"
    ensure_topics(
        platform.bootstrap,
        [
            TopicSpec(name, 3)
            for topic in (intake_topic, processing_topic)
            for name in (retry_topic(topic, group), dead_letter_topic(topic, group))
        ],
    )
    written = {}
    for topic, source in ((intake_topic, "intake"), (processing_topic, "processing")):
        records = [
            (event["subject"].encode(), encode(event))
            for history in histories.values()
            for event in history
            if event["type"].split(".")[2] == source
        ]
        write_raw(platform.bootstrap, topic, records + records)
        written[topic] = 2 * len(records)
    runner = ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=[intake_topic, processing_topic],
        handlers=build_handlers(db)[Groups.PROCESSING_STATS],
        producer=make_producer(platform.bootstrap, "test"),
        policy=RetryPolicy(attempts=2, backoff_initial=0.1, backoff_max=0.2, delays=(1.0, 2.0, 4.0)),
        skipped=skipped_by(Groups.PROCESSING_STATS),
    )
    expected = rebuilt(histories)

    def all_committed() -> bool:
        # Counted, and every record (the repeats too) committed past.
        if live(db) != expected:
            return False
        return all(committed(platform.bootstrap, group, t) == n for t, n in written.items())

    assert run_until(runner, all_committed, timeout=120), live(db)
    assert live(db) == expected


def test_two_consumers_receiving_one_counter_filing_at_once_count_it_once(db, histories):
    """Intake's `submitted` and processing's `accepted` both receive a counter filing; handled at
    the same moment (two partitions, two consumers), the standing lets one of them count."""
    import threading

    submitted_event, accepted = histories[EARLY][:2]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def handle(event: dict[str, Any]) -> None:
        start.wait()
        try:
            count(db, event)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=handle, args=(e,)) for e in (submitted_event, accepted)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    assert live(db) == {
        f"{UNIT}|1.004884|counter|2023-10": {"received_new_counter": 1, "in_progress_on_time": 1}
    }
    assert store.get_stats_standing(db, EARLY)["seq"] == {"intake": 1, "processing": 1}
