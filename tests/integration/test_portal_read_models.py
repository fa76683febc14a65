"""Portal's read models through its real handlers on the real store: the dossier's public status
(no personal data, lookup without enumeration), statistics counted once each whatever the order
and repetition of deliveries or a crash between two writes, and letter statuses."""

from __future__ import annotations

import json
import random
import statistics as stats_math
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from eventkit.mongo import Db
from eventkit.secrets import ITERATIONS, hash_secret
from portal import store
from portal.service import dossiers, statistics
from tests.integration.portal_tools import Deliverer, snapshot
from tests.integration.test_store_indexes import plan, uses_index
from tests.portal_events import (
    APPLICANT,
    DELIVERY,
    FORM,
    OFFICER_NAME,
    SECRET,
    accepted,
    history,
    intake_event,
    letter_event,
    new_code,
    notification_event,
    processing_event,
    submitted,
)

pytestmark = pytest.mark.integration

NOW = datetime.fromisoformat("2023-11-20T08:00:00+07:00")
SECRET_HASH = hash_secret(SECRET)


@pytest.fixture
def db(mongo_db: Db) -> Db:
    store.ensure_indexes(mongo_db)
    return mongo_db


@pytest.fixture
def other_db(mongo_db: Db) -> Iterator[Db]:
    other = mongo_db.client[f"{mongo_db.name}_b"]
    store.ensure_indexes(other)
    yield other
    mongo_db.client.drop_database(other.name)


def new_unit() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def test_a_whole_history_is_stored_without_personal_data_and_looked_up_with_its_secret(db):
    code = new_code()
    deliver = Deliverer(db)
    deliver(*history(code, SECRET_HASH))
    stored = json.dumps(store.get_dossier(db, code), default=str, ensure_ascii=False)
    personal = [
        *APPLICANT.values(),
        DELIVERY["address"],
        *FORM.values(),
        OFFICER_NAME,
        "Lê Văn Cường",  # the assignee
        "Phạm Văn Dũng",  # a leader warned
        "dung@example.vn",
        "up-1",  # an upload id opens the citizen's document with the secret
        SECRET,
    ]
    for value in personal:
        assert value not in stored, value
    assert "Nguyễn V*** A***" in stored

    view = dossiers.lookup(db, code, SECRET.lower().replace("-", " "), now=NOW)
    assert view is not None
    assert view["state"] == "returned" and view["timeliness"] == "late"
    assert view["applicant_name"] == "Nguyễn V*** A***"
    assert [s["step"] for s in view["steps"]][:2] == ["submitted", "accepted"]
    assert "lookup_secret_hash" not in json.dumps(view, default=str)


def test_a_wrong_secret_and_an_unknown_code_get_the_same_answer_after_the_same_work(db, monkeypatch):
    code = new_code()
    Deliverer(db)(submitted(code, SECRET_HASH))
    checked: list[str] = []
    real_verify = dossiers.verify_secret

    def counting_verify(secret: str, hashed: str) -> bool:
        checked.append(hashed.split("$")[1])
        return real_verify(secret, hashed)

    monkeypatch.setattr(dossiers, "verify_secret", counting_verify)
    assert dossiers.lookup(db, code, "WRONG-SECRET") is None
    assert dossiers.lookup(db, new_code(), SECRET) is None
    assert dossiers.lookup(db, "", SECRET) is None
    # One hash check each, of the same number of rounds.
    assert checked == [str(ITERATIONS)] * 3
    assert dossiers.lookup(db, code, SECRET) is not None
    monkeypatch.undo()

    # Timed alternately (the machine's load changes both alike), the fastest of many runs each.
    unknown_code = new_code()
    wrong, unknown = [], []
    for _ in range(40):
        for runs, lookup_code, secret in ((wrong, code, "WRONG-SECRET"), (unknown, unknown_code, SECRET)):
            start = time.perf_counter()
            dossiers.lookup(db, lookup_code, secret)
            runs.append(time.perf_counter() - start)
    ratio = stats_math.median(sorted(wrong)[:10]) / stats_math.median(sorted(unknown)[:10])
    # The same work is proved by the checks counted above (a PBKDF2 check here costs less than the
    # read); the times show that nothing else on either path costs noticeably more.
    assert 0.5 < ratio < 2.0, (wrong, unknown)


def test_a_dossier_filed_before_the_portal_saw_its_secret_is_not_found(db):
    code = new_code()
    Deliverer(db)(accepted(code))  # processing's event carries no secret hash
    assert store.get_dossier(db, code) is not None
    assert dossiers.lookup(db, code, SECRET) is None
    # A filing whose event carries no hash is counted all the same, and found by no lookup.
    unit = new_unit()
    counter = submitted(new_code(), SECRET_HASH, channel="counter", unit=unit)
    del counter["data"]["lookup_secret_hash"]
    Deliverer(db)(counter)
    assert statistics.period(db, 2023, 10, unit=unit)["received_counter"] == 1
    assert dossiers.lookup(db, counter["subject"], SECRET) is None


def test_statistics_count_each_fact_once_in_its_unit_and_local_month(db):
    unit = new_unit()
    deliver = Deliverer(db)
    online, counter, withdrawn, refused = new_code(), new_code(), new_code(), new_code()
    deliver(*history(online, SECRET_HASH, unit=unit))
    # A counter filing received at 00:30 local time on 1 November (still October in UTC), returned early.
    deliver(
        submitted(counter, SECRET_HASH, channel="counter", unit=unit, at="2023-10-31T17:30:00+00:00"),
        accepted(
            counter,
            unit=unit,
            channel="counter",
            received_at="2023-10-31T17:30:00+00:00",
            due_at="2023-11-07T09:40:00+07:00",
        ),
        processing_event(
            "returned",
            counter,
            2,
            "returned",
            unit=unit,
            receiving_unit=unit,
            channel="counter",
            method="counter",
            resolved_at="2023-11-02T10:00:00+07:00",
            due_at="2023-11-07T09:40:00+07:00",
            timeliness="early",
        ),
    )
    # Withdrawn after acceptance; and one refused at the check.
    deliver(
        submitted(withdrawn, SECRET_HASH, unit=unit),
        intake_event(
            "withdrawn",
            withdrawn,
            2,
            reason="Không cần nữa",
            by="citizen",
            withdrawn_at="2023-11-05T08:00:00+07:00",
        ),
        accepted(withdrawn, unit=unit),
        submitted(refused, SECRET_HASH, unit=unit),
        processing_event(
            "refused",
            refused,
            1,
            "refused",
            unit=unit,
            receiving_unit=unit,
            reasons=["x"],
            resolved_at="2023-10-28T08:00:00+07:00",
        ),
    )
    october = statistics.period(db, 2023, 10, unit=unit)
    november = statistics.period(db, 2023, 11, unit=unit)
    assert (october["received_online"], october["received_counter"], october["refused"]) == (2, 0, 1)
    assert (november["received_counter"], november["resolved_early"], november["resolved_late"]) == (1, 1, 1)
    assert november["withdrawn"] == 1 and november["resolved"] == 2 and november["on_time_rate"] == 50.0
    year = statistics.period(db, 2023, unit=unit)
    assert (year["received"], year["resolved"], year["withdrawn"], year["refused"]) == (3, 2, 1, 1)
    assert year["online_share"] == round(100 * 2 / 3, 1)
    assert statistics.by_unit(db, 2023, 11)[unit] == november
    assert statistics.period(db, 2023, 11)["received"] >= 1  # all units: the month index

    # Delivered again, every one: nothing changes.
    before = snapshot(db, units={unit})["counters"]
    deliver(*history(online, SECRET_HASH, unit=unit))
    assert snapshot(db, units={unit})["counters"] == before


def test_a_crash_between_the_status_and_its_counts_loses_and_doubles_nothing(db):
    unit = new_unit()
    code = new_code()
    deliver = Deliverer(db)
    taken = accepted(code, unit=unit)
    # The status was written, then the process died before counting: the redelivery counts.
    dossiers.apply(db, taken, taken["data"])
    assert statistics.period(db, 2023, 10, unit=unit)["received"] == 0
    deliver(taken)
    assert statistics.period(db, 2023, 10, unit=unit)["received"] == 1
    # The counter was written, then the process died before the mark: the redelivery adds nothing.
    code2 = new_code()
    taken2 = accepted(code2, unit=unit)
    dossiers.apply(db, taken2, taken2["data"])
    [(fact, (fact_unit, when, increments))] = statistics.facts(store.get_dossier(db, code2)).items()
    month = statistics.month_of(when)
    counter_id = statistics.counter_id(fact_unit, month)
    identity = {"unit": fact_unit, "month": month, "year": 2023}
    assert store.add_to_counter(db, counter_id, identity, increments, f"{code2}:{fact}")
    deliver(taken2)
    deliver(taken2)
    assert statistics.period(db, 2023, 10, unit=unit)["received"] == 2
    assert store.get_dossier(db, code2)["counted"] == {"received": True}


def test_any_order_of_delivery_with_repeats_builds_the_models_that_delivery_in_order_builds(db, other_db):
    unit = new_unit()
    codes = [new_code() for _ in range(3)]
    events = [
        *history(codes[0], SECRET_HASH, unit=unit),
        submitted(codes[1], SECRET_HASH, channel="counter", unit=unit),
        accepted(codes[1], unit=unit, channel="counter"),
        intake_event("withdrawn", codes[1], 2, withdrawn_at="2023-11-01T08:00:00+07:00"),
        submitted(codes[2], SECRET_HASH, unit=unit),
        processing_event(
            "refused",
            codes[2],
            1,
            "refused",
            unit=unit,
            receiving_unit=unit,
            resolved_at="2023-10-28T08:00:00+07:00",
        ),
        letter_event("L-1", codes[0], 1, "rendered"),
        letter_event("L-1", codes[0], 2, "signed", register_number="12/TB-MC", by_post=True),
        letter_event("L-1", codes[0], 3, "batched", batch="2023-10-27", item_number="RR000000014VN"),
        letter_event("L-1", codes[0], 4, "despatched", reported_at="2023-10-28T08:00:00+07:00"),
        notification_event("N-1", codes[0], 1, "created"),
        notification_event("N-1", codes[0], 2, "delivered"),
    ]
    Deliverer(other_db)(*events)
    expected = snapshot(other_db, set(codes), {unit})
    assert len(expected["counters"]) == 2  # October and November

    rng = random.Random(7)
    delivered = events + rng.sample(events, k=len(events) // 2)
    rng.shuffle(delivered)
    Deliverer(db)(*delivered)
    assert snapshot(db, set(codes), {unit}) == expected


def test_each_letter_and_citizen_notification_keeps_its_latest_status(db):
    code = new_code()
    deliver = Deliverer(db)
    deliver(submitted(code, SECRET_HASH))
    deliver(
        letter_event("L-2", code, 3, "batched", batch="2023-10-27", item_number="RR000000021VN"),
        letter_event("L-2", code, 1, "rendered"),
        letter_event("L-2", code, 2, "signed", by_post=True),
        letter_event("L-2", code, 4, "despatched"),
        letter_event("L-2", code, 4, "despatched"),
        notification_event("N-2", code, 2, "delivered"),
        notification_event("N-2", code, 1, "created"),
        notification_event("N-3", code, 1, "created", kind="staff"),
    )
    view = dossiers.lookup(db, code, SECRET, now=NOW)
    assert view is not None
    [letter] = view["letters"]
    assert (letter["letter_id"], letter["status"], letter["status_label"]) == (
        "L-2",
        "despatched",
        "Đã gửi thư",
    )
    assert letter["name"] == "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    assert [n["status"] for n in view["notifications"]] == ["delivered"]  # the staff's is not kept
    assert db[store.NOTIFICATION_STATUSES].count_documents({"_id": "N-3"}) == 0


@pytest.mark.parametrize(
    ("collection", "query"),
    [
        (store.DOSSIERS, {"_id": "000.21.26.H06-231027-0001"}),
        (store.DOSSIERS, {"_id": "000.21.26.H06-231027-0001", "processing_sequence": {"$lt": 3}}),
        (store.STATS_COUNTERS, {"_id": "09496|2023-10"}),
        (store.STATS_COUNTERS, {"month": "2023-10"}),
        (store.STATS_COUNTERS, {"year": 2023}),
        (store.STATS_COUNTERS, {"year": 2023, "unit": "09496"}),
        (store.LETTER_STATUSES, {"dossier_code": "000.21.26.H06-231027-0001"}),
        (store.NOTIFICATION_STATUSES, {"dossier": "000.21.26.H06-231027-0001"}),
    ],
    ids=["lookup", "apply-newer", "counter", "month", "year", "year-unit", "letters", "notifications"],
)
def test_every_read_model_query_is_served_by_an_index(db, collection, query):
    unit = new_unit()
    Deliverer(db)(*history(new_code(), SECRET_HASH, unit=unit))
    Deliverer(db)(
        letter_event("L-9", new_code(), 1, "rendered"), notification_event("N-9", new_code(), 1, "created")
    )
    assert uses_index(db, collection, query), plan(db, collection, query)
