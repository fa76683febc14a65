"""Statistics: the deltas of each event, a lifecycle read as reports, rebuild, the register exports."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from processing.stats import (
    GROUP_BY,
    REGISTER_COLUMNS,
    CounterKey,
    Delta,
    Standing,
    add_deltas,
    counter_docs,
    deltas,
    opening_docs,
    rates,
    rebuild,
    register_csv,
    register_rows,
    register_xlsx,
    step,
    stock_totals,
    summarise,
)

UNIT, OTHER_UNIT = "264", "09496"
PROC, OTHER_PROC = "1.001193", "2.000001"


def event(verb: str, code: str, at: str, service: str = "processing", **data: Any) -> dict[str, Any]:
    """An envelope as the consumer sees it; processing's events carry the dossier's key fields."""
    if service == "processing":
        data = {"code": code, "at": at, **data}
    else:
        data = {"code": code, **data}
    return {"type": f"vn.motcua.{service}.dossier.{verb}.v1", "subject": code, "time": at, "data": data}


def keyed(code: str, channel: str = "online", unit: str = UNIT, procedure: str = PROC) -> dict[str, str]:
    return {"unit": unit, "receiving_unit": unit, "procedure_code": procedure, "channel": channel}


def accepted(code: str, at: str, **key: str) -> dict[str, Any]:
    return event(
        "accepted", code, at, received_at=at, due_at="2030-01-01T10:00:00+07:00", **keyed(code, **key)
    )


def final(verb: str, code: str, at: str, timeliness: str | None = None, **fields: str) -> dict[str, Any]:
    key = {name: fields.pop(name) for name in ("channel", "unit", "procedure") if name in fields}
    extra = {"timeliness": timeliness} if timeliness else {}
    return event(verb, code, at, resolved_at=at, **keyed(code, **key), **extra, **fields)


def k(month: str, channel: str = "online", unit: str = UNIT, procedure: str = PROC) -> CounterKey:
    return CounterKey(unit, procedure, channel, month)


OPEN = Standing(UNIT, PROC, "online", "in_progress_on_time")
OVERDUE = Standing(UNIT, PROC, "online", "in_progress_overdue")


# --- one event's deltas -----------------------------------------------------------------------


def test_acceptance_counts_a_receipt_in_the_local_month_of_receipt() -> None:
    # 31/10 18:30 UTC is 1/11 01:30 in Vietnam.
    result = step(accepted("D1", "2026-10-31T18:30:00Z"), None)
    assert list(result.deltas) == [
        Delta(k("2026-11"), "received_new_online", 1),
        Delta(k("2026-11"), "in_progress_on_time", 1),
    ]
    assert result.standing == OPEN


def test_a_second_receiving_event_changes_nothing() -> None:
    assert deltas(accepted("D1", "2026-11-02T09:00:00+07:00"), OPEN) == []


def test_counter_filing_is_received_on_arrival_and_its_acceptance_counts_nothing_more() -> None:
    submitted = event(
        "submitted",
        "D1",
        "2026-11-02T09:00:00+07:00",
        service="intake",
        unit=UNIT,
        procedure_code=PROC,
        channel="counter",
        submitted_at="2026-11-02T09:00:00+07:00",
    )
    result = step(submitted, None)
    assert list(result.deltas) == [
        Delta(k("2026-11", "counter"), "received_new_counter", 1),
        Delta(k("2026-11", "counter"), "in_progress_on_time", 1),
    ]
    assert deltas(accepted("D1", "2026-11-02T09:00:00+07:00", channel="counter"), result.standing) == []


def test_online_filing_is_not_received_until_accepted() -> None:
    submitted = event(
        "submitted",
        "D1",
        "2026-11-02T09:00:00+07:00",
        service="intake",
        unit=UNIT,
        procedure_code=PROC,
        channel="online",
    )
    assert step(submitted, None) == ((), None)


def test_post_is_counted_from_the_filing_channel_not_the_delivery() -> None:
    post = accepted("D1", "2026-11-02T09:00:00+07:00", channel="post")
    assert Delta(k("2026-11", "post"), "received_new_post", 1) in deltas(post)
    by_post_delivery = accepted("D2", "2026-11-02T09:00:00+07:00")
    by_post_delivery["data"]["delivery"] = {"method": "post", "address": "Thứa"}
    assert Delta(k("2026-11"), "received_new_online", 1) in deltas(by_post_delivery)


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="channel"):
        deltas(accepted("D1", "2026-11-02T09:00:00+07:00", channel="fax"))


def test_refusal_at_the_check_is_counted_outside_the_received() -> None:
    result = step(
        event("refused", "D1", "2026-11-03T10:00:00+07:00", reasons=["Sai thẩm quyền"], **keyed("D1")), None
    )
    assert list(result.deltas) == [Delta(k("2026-11"), "refused", 1)]
    assert result.standing is not None and result.standing.bucket == "closed"
    withdrawn = event("withdrawn", "D1", "x", service="intake", withdrawn_at="2026-11-04T08:00:00+07:00")
    assert step(withdrawn, result.standing) == ((), result.standing)


def test_overdue_moves_the_dossier_to_the_overdue_stock_once() -> None:
    overdue = event(
        "overdue", "D1", "2026-12-01T07:05:00+07:00", due_at="2026-11-30T17:00:00+07:00", **keyed("D1")
    )
    result = step(overdue, OPEN)
    assert list(result.deltas) == [
        Delta(k("2026-12"), "in_progress_on_time", -1),
        Delta(k("2026-12"), "in_progress_overdue", 1),
    ]
    assert result.standing == OVERDUE
    assert deltas(overdue, OVERDUE) == []


def test_extension_to_a_later_due_brings_an_overdue_dossier_back_within_time() -> None:
    at = "2026-12-02T09:00:00+07:00"
    later = event("extended", "D1", at, new_due_at="2026-12-10T17:00:00+07:00", **keyed("D1"))
    assert deltas(later, OVERDUE) == [
        Delta(k("2026-12"), "in_progress_overdue", -1),
        Delta(k("2026-12"), "in_progress_on_time", 1),
    ]
    still_past = event("extended", "D1", at, new_due_at="2026-12-01T17:00:00+07:00", **keyed("D1"))
    assert deltas(still_past, OVERDUE) == []
    assert deltas(later, OPEN) == []


@pytest.mark.parametrize(
    ("standing", "timeliness", "left"),
    [
        (OPEN, "early", "in_progress_on_time"),
        (OVERDUE, "late", "in_progress_overdue"),
        (OPEN, "late", "in_progress_on_time"),
    ],
)
def test_return_leaves_the_stock_the_dossier_is_in_and_counts_its_timeliness(
    standing: Standing, timeliness: str, left: str
) -> None:
    result = step(
        final("returned", "D1", "2026-12-01T08:00:00+07:00", timeliness, method="counter"), standing
    )
    assert list(result.deltas) == [
        Delta(k("2026-12"), left, -1),
        Delta(k("2026-12"), "returned", 1),
        Delta(k("2026-12"), f"resolved_{timeliness}", 1),
    ]
    assert result.standing == standing.moved("closed")


@pytest.mark.parametrize("verb", ["rejected", "stopped"])
def test_rejection_and_stop_are_resolutions(verb: str) -> None:
    assert deltas(
        final(verb, "D1", "2026-12-01T08:00:00+07:00", "on_time", reason="Không đủ điều kiện"), OPEN
    ) == [
        Delta(k("2026-12"), "in_progress_on_time", -1),
        Delta(k("2026-12"), verb, 1),
        Delta(k("2026-12"), "resolved_on_time", 1),
    ]


def test_missing_timeliness_is_classified_from_the_due_time() -> None:
    late = final("returned", "D1", "2026-12-01T17:01:00+07:00")
    late["data"]["due_at"] = "2026-12-01T17:00:00+07:00"
    assert Delta(k("2026-12"), "resolved_late", 1) in deltas(late, OPEN)
    late["data"]["due_at"] = "2026-12-02T10:00:00+07:00"
    assert Delta(k("2026-12"), "resolved_early", 1) in deltas(late, OPEN)
    del late["data"]["due_at"]
    with pytest.raises(ValueError, match="timeliness"):
        deltas(late, OPEN)


def test_withdrawal_uses_the_standing_for_its_key_and_is_no_resolution() -> None:
    # Intake's withdrawn event carries only the code.
    withdrawn = event(
        "withdrawn", "D1", "x", service="intake", withdrawn_at="2026-12-01T01:00:00Z", by="citizen"
    )
    assert deltas(withdrawn, OVERDUE) == [
        Delta(k("2026-12"), "in_progress_overdue", -1),
        Delta(k("2026-12"), "withdrawn", 1),
    ]
    assert deltas(withdrawn, None) == []


def test_a_closed_dossier_counts_nothing_more() -> None:
    closed = OPEN.moved("closed")
    assert deltas(final("returned", "D1", "2026-12-01T08:00:00+07:00", "late"), closed) == []
    assert deltas(event("overdue", "D1", "2026-12-01T08:00:00+07:00", **keyed("D1")), closed) == []


@pytest.mark.parametrize(
    "verb",
    ["assigned", "transferred", "approved", "result_issued", "due_soon", "supplement_requested", "sent_back"],
)
def test_events_without_counters(verb: str) -> None:
    assert step(event(verb, "D1", "2026-12-01T08:00:00+07:00", **keyed("D1")), OPEN) == ((), OPEN)


def test_other_events_count_nothing() -> None:
    supplemented = event(
        "supplemented", "D1", "x", service="intake", supplemented_at="2026-12-01T08:00:00+07:00"
    )
    assert step(supplemented, OPEN) == ((), OPEN)
    assert step({"type": "vn.motcua.processing.procedure.published.v1", "data": {}}, None) == ((), None)


def test_deltas_are_pure_and_deterministic() -> None:
    returned = final("returned", "D1", "2026-12-01T08:00:00+07:00", "late")
    before = repr(returned)
    assert deltas(returned, OVERDUE) == deltas(returned, OVERDUE)
    assert repr(returned) == before
    assert OVERDUE == Standing(UNIT, PROC, "online", "in_progress_overdue")


def test_standing_round_trips_as_a_document() -> None:
    assert Standing.from_doc(OVERDUE.as_doc()) == OVERDUE
    assert Standing.from_doc(None) is None


# --- a lifecycle of several dossiers ----------------------------------------------------------


def t(day: str, hour: int = 9) -> str:
    """A local time in 2026: ``t("10-02")``."""
    return f"2026-{day}T{hour:02d}:00:00+07:00"


def counter_submitted(code: str, at: str, procedure: str = PROC) -> dict[str, Any]:
    return event(
        "submitted",
        code,
        at,
        service="intake",
        unit=UNIT,
        procedure_code=procedure,
        channel="counter",
        submitted_at=at,
    )


def overdue(code: str, at: str, **key: str) -> dict[str, Any]:
    return event("overdue", code, at, due_at=at, **keyed(code, **key))


def lifecycle() -> dict[str, list[dict[str, Any]]]:
    """Each dossier's events in order (October and November 2026)."""
    d_key = {"unit": OTHER_UNIT}
    g_key = {"unit": OTHER_UNIT, "channel": "post", "procedure": OTHER_PROC}
    i_key = {"channel": "counter", "procedure": OTHER_PROC}
    return {
        # A: online, returned early.
        "A": [
            event(
                "submitted",
                "A",
                t("10-01"),
                service="intake",
                unit=UNIT,
                procedure_code=PROC,
                channel="online",
            ),
            accepted("A", t("10-02")),
            event("assigned", "A", t("10-02", 10), assignee="u1", **keyed("A")),
            final("returned", "A", t("10-05"), "early", method="counter"),
        ],
        # B: counter, returned on time.
        "B": [
            counter_submitted("B", t("10-03")),
            accepted("B", t("10-03"), channel="counter"),
            final("returned", "B", t("10-10"), "on_time", channel="counter"),
        ],
        # C: counter, overdue in October, returned late in November.
        "C": [
            counter_submitted("C", t("10-20")),
            overdue("C", t("10-28"), channel="counter"),
            final("returned", "C", t("11-03"), "late", channel="counter"),
        ],
        # D: online, another unit, overdue in November and still open.
        "D": [accepted("D", t("10-25"), **d_key), overdue("D", t("11-05"), **d_key)],
        # E: online, withdrawn in November.
        "E": [
            accepted("E", t("10-26")),
            event("withdrawn", "E", t("11-02"), service="intake", withdrawn_at=t("11-02"), by="citizen"),
        ],
        # F: online, refused at the check.
        "F": [
            event(
                "submitted",
                "F",
                t("10-27"),
                service="intake",
                unit=UNIT,
                procedure_code=PROC,
                channel="online",
            ),
            event("refused", "F", t("10-28"), reasons=["Không thuộc thẩm quyền"], **keyed("F")),
        ],
        # G: post, another unit and procedure, open within time.
        "G": [accepted("G", t("11-04"), **g_key)],
        # H: online, stopped on time in November.
        "H": [accepted("H", t("10-30")), final("stopped", "H", t("11-10"), "on_time", reason="Theo đề nghị")],
        # I: counter, another procedure, rejected late before any overdue event arrived.
        "I": [
            counter_submitted("I", t("11-06"), OTHER_PROC),
            final("rejected", "I", t("11-20"), "late", **i_key),
        ],
        # J: counter, overdue, extended, returned within the new due time.
        "J": [
            counter_submitted("J", t("10-15")),
            overdue("J", t("10-25"), channel="counter"),
            event(
                "extended",
                "J",
                t("10-26"),
                new_due_at=t("11-05"),
                old_due_at=t("10-24"),
                **keyed("J", "counter"),
            ),
            final("returned", "J", t("11-02"), "on_time", channel="counter"),
        ],
    }


def in_time_order(histories: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    events = [e for history in histories.values() for e in history]
    return sorted(events, key=lambda e: e["time"])  # stable: a dossier's same-time events keep order


def live_fold(events: list[dict[str, Any]]) -> dict[CounterKey, dict[str, int]]:
    """What the workflow does: the standing on the dossier, ``$inc`` on the counters, event by event."""
    standings: dict[str, Standing | None] = {}
    counters: dict[CounterKey, dict[str, int]] = {}
    for e in events:
        code = e["subject"]
        stored = standings.get(code)
        result = step(e, Standing.from_doc(stored.as_doc() if stored else None))
        standings[code] = result.standing
        add_deltas(counters, result.deltas)
    return counters


COUNTERS = (
    "carried_over",
    "received_new_online",
    "received_new_counter",
    "received_new_post",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "in_progress_on_time",
    "in_progress_overdue",
    "returned",
    "rejected",
    "stopped",
    "withdrawn",
    "refused",
)


def pick(row: dict[str, Any], names: tuple[str, ...] = COUNTERS) -> tuple[Any, ...]:
    return tuple(row[n] for n in names)


def docs() -> list[dict[str, Any]]:
    return counter_docs(live_fold(in_time_order(lifecycle())))


def test_lifecycle_by_month() -> None:
    october, november = summarise(docs(), "month")
    assert (october["month"], november["month"]) == ("2026-10", "2026-11")
    # carried, online, counter, post, early, on_time, late, in_ok, in_late, ret, rej, stop, wd, ref
    assert pick(october) == (0, 4, 3, 0, 1, 1, 0, 4, 1, 2, 0, 0, 0, 1)
    assert pick(november) == (5, 0, 1, 1, 0, 2, 2, 1, 1, 2, 1, 1, 1, 0)
    assert (november["received_new"], november["resolved"], november["in_progress"]) == (2, 4, 2)
    assert november["to_process"] == 6
    assert rates(october) == {
        "late_rate": 14.29,
        "on_time_rate": 85.71,
        "resolved_in_time_rate": 100.0,
        "resolved_early_rate": 50.0,
    }
    assert (november["late_rate"], november["on_time_rate"], november["resolved_in_time_rate"]) == (
        50.0,
        50.0,
        50.0,
    )


def test_lifecycle_by_unit_procedure_and_channel_over_the_period() -> None:
    (unit,) = (r for r in summarise(docs(), "unit") if r["unit"] == UNIT)
    (other,) = (r for r in summarise(docs(), "unit") if r["unit"] == OTHER_UNIT)
    assert pick(unit) == (0, 3, 4, 0, 1, 3, 2, 0, 0, 4, 1, 1, 1, 1)
    assert pick(other) == (0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0)
    assert (other["from_month"], other["to_month"]) == ("2026-10", "2026-11")
    by_procedure = {r["procedure"]: r for r in summarise(docs(), "procedure")}
    assert pick(by_procedure[OTHER_PROC]) == (0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0)
    by_channel = {r["channel"]: r for r in summarise(docs(), "channel")}
    assert sorted(by_channel) == ["counter", "online", "post"]
    assert pick(by_channel["online"]) == (0, 4, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1)
    total = {f: sum(r[f] for r in by_channel.values()) for f in COUNTERS}
    assert (total["received_new_online"] + total["received_new_counter"] + total["received_new_post"]) == 9
    # Whole period: 8 to process (9 received, 1 withdrawn), 2 resolved late + 1 overdue.
    (everything,) = summarise([{**d, "unit": "all"} for d in docs()], "unit")
    assert (everything["to_process"], everything["late_rate"], everything["on_time_rate"]) == (8, 37.5, 62.5)
    assert (everything["resolved_in_time_rate"], everything["resolved_early_rate"]) == (66.67, 16.67)


def test_carried_over_is_read_from_earlier_months_and_quiet_months_still_show_the_stock() -> None:
    rows = summarise(docs(), "unit", first_month="2026-11", last_month="2026-12")
    other = next(r for r in rows if r["unit"] == OTHER_UNIT)
    assert (other["carried_over"], other["received_new"], other["in_progress"]) == (1, 1, 2)
    december = summarise(docs(), "month", last_month="2026-12")[-1]
    assert december["month"] == "2026-12"
    assert pick(december) == (2, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0)
    assert summarise(docs(), "month", first_month="2027-01", last_month="2027-01")[0]["carried_over"] == 2


def test_summarise_refuses_an_unknown_grouping_and_reads_nothing_from_nothing() -> None:
    with pytest.raises(ValueError, match="group_by"):
        summarise(docs(), "assignee")
    assert summarise([], "month") == []
    with pytest.raises(ValueError, match="first_month"):
        summarise(docs(), "unit", first_month="2026-12", last_month="2026-11")
    with pytest.raises(ValueError, match="last_month"):
        summarise(docs(), "unit", last_month="2026-1")


def test_rates_without_dossiers_are_none() -> None:
    assert rates({}) == dict.fromkeys(
        ("late_rate", "on_time_rate", "resolved_in_time_rate", "resolved_early_rate")
    )


# --- rebuild ----------------------------------------------------------------------------------


def interleave(histories: dict[str, list[dict[str, Any]]], rng: random.Random) -> list[dict[str, Any]]:
    """A random merge of the histories: each dossier's events stay in order."""
    queues = [list(h) for h in histories.values()]
    merged = []
    while queues:
        queue = rng.choice(queues)
        merged.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return merged


def random_histories(rng: random.Random, count: int = 30) -> dict[str, list[dict[str, Any]]]:
    histories = {}
    for n in range(count):
        code = f"R{n}"
        channel = rng.choice(["online", "counter", "post"])
        key = {"channel": channel, "unit": rng.choice([UNIT, OTHER_UNIT])}
        day = rng.randint(1, 300)
        offsets = [day]
        for _ in range(5):
            day += rng.randint(0, 20)
            offsets.append(day)
        at = [datetime.fromordinal(datetime(2026, 1, 1).toordinal() + offset) for offset in offsets]
        iso = [a.replace(hour=9, tzinfo=UTC).isoformat() for a in at]
        history = [accepted(code, iso[0], **key)]
        if rng.random() < 0.5:
            history.append(overdue(code, iso[1], **key))
            if rng.random() < 0.3:
                history.append(event("extended", code, iso[2], new_due_at=iso[4], **keyed(code, **key)))
        ending = rng.choice(["returned", "rejected", "stopped", "withdrawn", None])
        if ending == "withdrawn":
            history.append(event("withdrawn", code, iso[3], service="intake", withdrawn_at=iso[3]))
        elif ending:
            history.append(final(ending, code, iso[3], rng.choice(["early", "on_time", "late"]), **key))
        histories[code] = history
    return histories


@pytest.mark.parametrize("seed", range(12))
def test_rebuild_of_a_shuffled_history_equals_the_live_counters(seed: int) -> None:
    rng = random.Random(seed)
    histories = random_histories(rng) | lifecycle()
    live = live_fold(in_time_order(histories))
    assert rebuild(interleave(histories, rng)) == live
    for row in summarise(counter_docs(live), "month"):
        assert (
            row["carried_over"] + row["received_new"]
            == row["resolved"] + row["withdrawn"] + row["in_progress"]
        )
        assert row["in_progress_on_time"] >= 0 and row["in_progress_overdue"] >= 0
    months = summarise(counter_docs(live), "month")
    for before, after in zip(months, months[1:], strict=False):
        assert after["carried_over"] == before["in_progress"]


@pytest.mark.parametrize("seed", range(6))
def test_a_period_read_from_the_totals_and_its_later_months_reads_as_from_the_whole_history(
    seed: int,
) -> None:
    rng = random.Random(seed)
    live = live_fold(in_time_order(random_histories(rng, count=60) | lifecycle()))
    docs = counter_docs(live)
    totals = stock_totals(live)
    months = sorted({doc["month"] for doc in docs})
    for _ in range(5):
        first, last = sorted(rng.sample(months, 2))
        later = [doc for doc in docs if doc["month"] >= first]
        for group_by in GROUP_BY:
            expected = summarise(docs, group_by, first_month=first, last_month=last)
            read = summarise(
                [*opening_docs(totals, later, first), *later], group_by, first_month=first, last_month=last
            )
            assert read == expected, (first, last, group_by)
    assert any(row["carried_over"] for row in summarise(docs, "month")), "the histories carry stock over"


def test_an_event_repeated_with_the_standing_it_gave_changes_nothing() -> None:
    # Delivering once is the caller's job; this is what makes a redelivery harmless when the
    # standing was written and the increments were too.
    for history in lifecycle().values():
        standing = None
        for e in history:
            result = step(e, standing)
            assert step(e, result.standing) == ((), result.standing)
            standing = result.standing


def test_rebuild_sees_a_lost_event() -> None:
    histories = lifecycle()
    live = live_fold(in_time_order(histories))
    histories["C"] = histories["C"][:-1]
    assert rebuild(interleave(histories, random.Random(1))) != live


# --- Mẫu 06 -----------------------------------------------------------------------------------


def dossier(code: str, received_at: Any, **fields: Any) -> dict[str, Any]:
    return {
        "_id": code,
        "procedure_code": PROC,
        "procedure_name": "Đăng ký khai sinh",
        "applicant": {
            "full_name": "Nguyễn Thị Hằng",
            "address": "Thôn Ngọc Khám, xã Phú Hòa",
            "phone": "0912345678",
        },
        "received_at": received_at,
        "unit": "264.TP",
        "receiving_unit": UNIT,
        "received_by": "Trần Văn Tú",
        "state": "in_progress",
        **fields,
    }


DOSSIERS = [
    dossier(
        "000.00.26.H06-261102-0002",
        "2026-11-02T03:15:00Z",
        due_at="2026-11-06T10:15:00+07:00",
        transfers=[{"at": "2026-11-02T08:00:00Z", "from_unit": UNIT, "to_unit": "264.TP"}],
        result_issued_at="2026-11-05T09:00:00+07:00",
        returned_at="2026-11-05T14:30:00+07:00",
        return_method="post",
        state="returned",
        timeliness="early",
        extended=True,
        notes="Trả qua bưu điện",
    ),
    # A store hands back naive UTC datetimes.
    dossier("000.00.26.H06-261102-0001", datetime(2026, 11, 2, 1, 0), due_at=datetime(2026, 11, 3, 3, 0)),
    dossier(
        "000.00.26.H06-261103-0001",
        None,
        state="refused",
        applicant={"name": '=HYPERLINK("http://x")', "phone": "+84912"},
    ),
]


def test_register_rows_follow_the_order_of_receipt_in_local_time() -> None:
    rows = register_rows(
        DOSSIERS, unit_names={"264.TP": "Phòng Tư pháp"}, now=datetime(2026, 11, 4, tzinfo=UTC)
    )
    assert [r["code"] for r in rows] == [
        "000.00.26.H06-261102-0001",
        "000.00.26.H06-261102-0002",
        "000.00.26.H06-261103-0001",
    ]
    assert [r["no"] for r in rows] == [1, 2, 3]
    first, second, refused = rows
    assert list(first) == [key for key, _ in REGISTER_COLUMNS]
    assert (first["received_at"], first["due_at"]) == (
        datetime(2026, 11, 2, 8, 0),
        datetime(2026, 11, 3, 10, 0),
    )
    assert first["outcome"] == "Đang giải quyết, quá hạn"
    assert first["resolving_unit"] == "Phòng Tư pháp" and first["receiving_unit"] == UNIT
    assert second["received_at"] == datetime(2026, 11, 2, 10, 15)
    assert second["transferred_at"] == datetime(2026, 11, 2, 15, 0)
    assert (second["result_at"], second["returned_at"]) == (
        datetime(2026, 11, 5, 9, 0),
        datetime(2026, 11, 5, 14, 30),
    )
    assert (second["return_method"], second["outcome"]) == ("Qua dịch vụ bưu chính", "Trước hạn")
    assert second["notes"] == "Đã gia hạn, hẹn lại ngày trả kết quả; Trả qua bưu điện"
    assert (second["applicant"], second["sets"]) == ("Nguyễn Thị Hằng", 1)
    assert (refused["received_at"], refused["outcome"]) == (None, "Từ chối tiếp nhận")
    assert register_rows([dossier("X", None)])[0]["outcome"] == "Đang giải quyết"


def test_register_csv_has_a_bom_and_vietnamese_headers() -> None:
    rows = register_rows(DOSSIERS)
    data = register_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert read[0] == [header for _, header in REGISTER_COLUMNS]
    assert read[0][:3] == ["STT", "Mã hồ sơ", "Tên thủ tục hành chính"]
    assert "Ngày, giờ hẹn trả kết quả" in read[0]
    assert len(read) == 4
    first = dict(zip(read[0], read[1], strict=True))
    assert first["Ngày, giờ nhận hồ sơ"] == "02/11/2026 08:00"
    assert first["Tên người nộp hồ sơ"] == "Nguyễn Thị Hằng"
    assert first["Ngày trả kết quả"] == ""
    last = dict(zip(read[0], read[3], strict=True))
    assert last["Tên người nộp hồ sơ"] == '\'=HYPERLINK("http://x")'
    assert last["Số điện thoại"] == "'+84912"
    assert register_csv(rows, delimiter=";").decode("utf-8-sig").startswith("STT;Mã hồ sơ;")


def test_register_xlsx_reads_back_the_same_rows() -> None:
    rows = register_rows(DOSSIERS)
    workbook = load_workbook(io.BytesIO(register_xlsx(rows)))
    sheet = workbook.active
    assert sheet is not None and sheet.title == "Sổ theo dõi hồ sơ"
    read = list(sheet.iter_rows(values_only=True))
    assert read[0] == tuple(header for _, header in REGISTER_COLUMNS)
    empty_as_none = [tuple(None if v == "" else v for v in row.values()) for row in rows]
    assert read[1:] == empty_as_none
    assert sheet["E4"].data_type == "s"  # the name that looks like a formula stays text
    assert sheet.freeze_panes == "A2"
