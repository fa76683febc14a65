"""How dossier events map onto the public status: fields, steps, state, timeliness, and the
statistics' facts, whatever the order in which the two sources' events arrive."""

from __future__ import annotations

import json
import random
from datetime import datetime

import pytest

from eventkit.envelope import Event
from portal.events import ConsumedTypes
from portal.service import dossiers, statistics
from tests.portal_events import (
    APPLICANT,
    DELIVERY,
    FORM,
    OFFICE,
    OFFICER_NAME,
    UNIT,
    accepted,
    history,
    intake_event,
    new_code,
    processing_event,
    submitted,
)

CODE = "000.21.26.H06-231027-0361"
NOW = datetime.fromisoformat("2023-11-20T08:00:00+07:00")


def fold(events: list[Event]) -> dict:
    """The status the store would hold after these events, in this order (pure: the same rules
    as dossiers.apply, with a dictionary for the document)."""
    doc: dict = {
        "_id": events[0]["subject"],
        "intake_sequence": 0,
        "processing_sequence": 0,
        "due_sequence": 0,
        "steps": {},
    }
    for event in events:
        intake = event["type"] in ConsumedTypes.INTAKE
        seq_field = "intake_sequence" if intake else "processing_sequence"
        step = dossiers.step_of(event, event["data"])
        if step is not None:
            doc["steps"][step[0]] = step[1]
        change = (dossiers.intake_change if intake else dossiers.processing_change)(
            event["type"], event["data"]
        )
        if event["sequence"] > doc[seq_field]:
            doc.update(change.latest, **{seq_field: event["sequence"]})
        if change.due_at is not None and event["sequence"] > doc["due_sequence"]:
            doc.update(due_at=change.due_at, due_sequence=event["sequence"])
        doc.update(change.once)
        for name, value in change.newest.items():
            doc[name] = max(doc.get(name, value), value)
    return doc


def test_a_whole_history_reads_as_returned_late_with_its_public_steps_in_order():
    doc = fold(history(CODE, "pbkdf2_sha256$1$a$b"))
    view = dossiers.public_view(doc, NOW)
    assert view["state"] == "returned" and view["state_label"] == "Đã trả kết quả"
    assert view["timeliness"] == "late" and view["timeliness_label"] == "Trễ hạn"
    assert view["applicant_name"] == "Nguyễn V*** A***"
    assert view["receiving_unit"] == UNIT and view["current_unit"] == OFFICE
    assert view["procedure_name"] == "Đăng ký lại việc khai sinh"
    assert view["channel"] == "online" and view["extended"] is True
    assert view["due_at"] == datetime.fromisoformat("2023-11-10T09:40:00+07:00")
    assert view["return_method"] == "post"
    assert [s["step"] for s in view["steps"]] == [
        "submitted",
        "accepted",
        "supplement_requested",
        "supplemented",
        "in_progress",  # assigned
        "in_progress",  # transferred
        "extended",
        "result_issued",
        "returned",
    ]
    labels = [s["label"] for s in view["steps"]]
    assert labels[0] == "Nộp hồ sơ" and labels[4] == "Đang xử lý" and labels[-1] == "Trả kết quả"
    assert view["steps"][1]["due_at"] == datetime.fromisoformat("2023-11-03T09:40:00+07:00")
    assert view["steps"][6]["due_at"] == datetime.fromisoformat("2023-11-10T09:40:00+07:00")
    assert view["steps"][5]["unit"] == OFFICE
    assert "lookup_secret_hash" not in view


def test_no_personal_value_of_the_events_is_in_the_status():
    doc = fold(history(CODE, "pbkdf2_sha256$1$a$b"))
    stored = json.dumps(doc, default=str, ensure_ascii=False)
    personal = [
        *APPLICANT.values(),
        *(v for v in DELIVERY.values() if v != "post"),
        *FORM.values(),
        OFFICER_NAME,
        "Lê Văn Cường",
        "Phạm Văn Dũng",
        "dung@example.vn",
        "up-1",
    ]
    for value in personal:
        assert value not in stored, value
    assert "Nguyễn V*** A***" in stored


def test_each_public_step_comes_from_its_event_and_internal_events_make_none():
    for verb in ("approved", "due_soon", "overdue"):
        assert dossiers.step_of(processing_event(verb, CODE, 4, "approved"), {}) is None
    key, step = dossiers.step_of(processing_event("assigned", CODE, 3, "in_progress"), {"unit": UNIT})
    assert key == "processing-3" and step["step"] == "in_progress"
    refused = processing_event("refused", CODE, 1, "refused", resolved_at="2023-10-27T10:00:00+07:00")
    assert dossiers.step_of(refused, refused["data"])[1]["at"] == datetime.fromisoformat(
        "2023-10-27T10:00:00+07:00"
    )
    withdrawn = intake_event(
        "withdrawn", CODE, 2, reason="x", by="citizen", withdrawn_at="2023-10-28T08:00:00+07:00"
    )
    assert dossiers.step_of(withdrawn, withdrawn["data"]) == (
        "intake-2",
        {"step": "withdrawn", "at": datetime.fromisoformat("2023-10-28T08:00:00+07:00")},
    )


@pytest.mark.parametrize(
    ("events", "state"),
    [
        (lambda: [submitted(CODE, "h")], "submitted"),
        (lambda: [submitted(CODE, "h"), accepted(CODE)], "accepted"),
        (
            lambda: [
                accepted(CODE),
                processing_event("supplement_requested", CODE, 2, "supplement_requested"),
            ],
            "supplement_requested",
        ),
        (
            lambda: [
                accepted(CODE),
                processing_event("supplement_requested", CODE, 2, "supplement_requested"),
                intake_event("supplemented", CODE, 2, supplemented_at="2023-10-31T08:00:00+07:00"),
            ],
            "supplemented",
        ),
        (
            lambda: [
                submitted(CODE, "h"),
                accepted(CODE),
                intake_event("withdrawn", CODE, 2, withdrawn_at="2023-10-31T08:00:00+07:00"),
            ],
            "withdrawn",
        ),
        (lambda: [submitted(CODE, "h"), processing_event("refused", CODE, 1, "refused")], "refused"),
        (lambda: [accepted(CODE), processing_event("stopped", CODE, 2, "stopped")], "stopped"),
    ],
)
def test_the_public_state_follows_both_sources(events, state):
    assert dossiers.public_state(fold(events())) == state


def test_a_decided_dossier_without_a_timeliness_is_classified_as_processing_does():
    due = "2023-11-03T09:40:00+07:00"
    for resolved, expected in (
        ("2023-11-02T16:00:00+07:00", "early"),
        ("2023-11-03T08:00:00+07:00", "on_time"),
        ("2023-11-03T09:40:00+07:00", "on_time"),
        ("2023-11-03T09:41:00+07:00", "late"),
        # 23:30 UTC on the 2nd is the 3rd in Vietnam: the same local day as the due time.
        ("2023-11-02T23:30:00+00:00", "on_time"),
    ):
        doc = fold(
            [
                accepted(CODE, due_at=due),
                processing_event("rejected", CODE, 2, "rejected", resolved_at=resolved, due_at=due),
            ]
        )
        assert dossiers.timeliness(doc, NOW) == expected, resolved
        [(_, _, increments)] = [statistics.facts(doc)["resolved"]]
        assert increments == {f"resolved_{expected}": 1}


def test_an_open_dossier_is_in_time_or_overdue_and_the_clock_stops_for_a_supplement():
    doc = fold([accepted(CODE, due_at="2023-11-03T09:40:00+07:00")])
    assert dossiers.timeliness(doc, datetime.fromisoformat("2023-11-03T09:00:00+07:00")) == "in_time"
    assert dossiers.timeliness(doc, datetime.fromisoformat("2023-11-03T10:00:00+07:00")) == "overdue"
    paused = fold(
        [
            accepted(CODE, due_at="2023-11-03T09:40:00+07:00"),
            processing_event(
                "supplement_requested", CODE, 2, "supplement_requested", at="2023-11-01T08:00:00+07:00"
            ),
        ]
    )
    assert dossiers.timeliness(paused, datetime.fromisoformat("2023-11-20T10:00:00+07:00")) == "in_time"
    assert dossiers.timeliness(fold([submitted(CODE, "h")]), NOW) is None


def test_an_extension_moves_the_due_time_and_a_warning_brings_the_current_one():
    doc = fold(history(CODE, "h")[:7])  # up to the due_soon warning
    assert doc["due_at"] == datetime.fromisoformat("2023-11-07T09:40:00+07:00")
    doc = fold(history(CODE, "h")[:8])
    assert doc["due_at"] == datetime.fromisoformat("2023-11-10T09:40:00+07:00")


def test_facts_of_a_whole_history_are_one_receipt_and_one_late_resolution_at_the_receiving_unit():
    found = statistics.facts(fold(history(CODE, "h")))
    assert found == {
        "received": (UNIT, datetime.fromisoformat("2023-10-27T09:40:00+07:00"), {"received_online": 1}),
        "resolved": (UNIT, datetime.fromisoformat("2023-11-10T10:00:00+07:00"), {"resolved_late": 1}),
    }


def test_a_counter_filing_is_received_on_its_filing_and_a_withdrawal_counts_only_once_received():
    counter = submitted(CODE, "h", channel="counter")
    assert statistics.facts(fold([counter]))["received"][2] == {"received_counter": 1}
    online_withdrawn = [
        submitted(CODE, "h"),
        intake_event("withdrawn", CODE, 2, withdrawn_at="2023-10-28T08:00:00+07:00"),
    ]
    assert statistics.facts(fold(online_withdrawn)) == {}
    assert set(statistics.facts(fold([*online_withdrawn, accepted(CODE)]))) == {"received", "withdrawn"}


def test_a_second_supplement_request_after_the_first_was_answered_is_open_again():
    doc = fold(counter_filing_withdrawn(CODE)[:5])
    assert dossiers.public_state(doc) == "supplement_requested"
    assert dossiers.public_state(fold(counter_filing_withdrawn(CODE)[:4])) == "supplemented"
    assert set(statistics.facts(fold(counter_filing_withdrawn(CODE)))) == {"received", "withdrawn"}


def test_a_refusal_counts_as_refused_and_never_as_received():
    found = statistics.facts(
        fold(
            [
                submitted(CODE, "h"),
                processing_event("refused", CODE, 1, "refused", resolved_at="2023-10-27T10:00:00+07:00"),
            ]
        )
    )
    assert set(found) == {"refused"}


def test_the_month_is_local_time():
    late_evening = datetime.fromisoformat("2023-10-31T18:30:00+00:00")  # 01:30 on 1 November in Hà Nội
    assert statistics.month_of(late_evening) == "2023-11"


def mixed_deliveries(events: list[Event], rng: random.Random) -> list[Event]:
    """The events shuffled, each source's kept in order but with some repeated and some overtaken
    (a retry delivered after newer ones), interleaved at random between the two sources."""
    delivered = list(events) + rng.sample(events, k=len(events) // 2)
    rng.shuffle(delivered)
    return delivered


def counter_filing_withdrawn(code: str) -> list[Event]:
    return [
        submitted(code, "h", channel="counter"),
        accepted(code, channel="counter"),
        processing_event(
            "supplement_requested",
            code,
            2,
            "supplement_requested",
            channel="counter",
            at="2023-10-30T08:00:00+07:00",
        ),
        intake_event("supplemented", code, 2, supplemented_at="2023-10-31T08:00:00+07:00"),
        processing_event(
            "supplement_requested",
            code,
            3,
            "supplement_requested",
            channel="counter",
            at="2023-11-01T08:00:00+07:00",
        ),
        intake_event("withdrawn", code, 3, withdrawn_at="2023-11-02T08:00:00+07:00"),
    ]


@pytest.mark.parametrize("life", [lambda code: history(code, "h"), counter_filing_withdrawn])
def test_any_order_of_delivery_with_repeats_gives_the_status_and_facts_of_the_history_in_order(life):
    events = life(new_code())
    expected = fold(events)
    rng = random.Random(11)
    for _ in range(200):
        doc = fold(mixed_deliveries(events, rng))
        assert doc == expected
        assert statistics.facts(doc) == statistics.facts(expected)
        assert dossiers.public_state(doc) == dossiers.public_state(expected)
