"""Portal's real worker over Kafka: dossier and notify events delivered out of order and more than
once become the read models that delivery in order makes, and `portal.rebuild` (make
rebuild-portal) drops them and builds them again, equal, from the topics."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eventkit.envelope import Event, encode
from eventkit.kafka import ensure_topics
from eventkit.mongo import Db
from eventkit.secrets import hash_secret
from eventkit.topics import Topics, topic_specs_for
from portal import store
from portal.service import dossiers, ratings, statistics
from tests.integration.kafka_tools import write_raw
from tests.integration.portal_tools import Deliverer, snapshot
from tests.integration.workers import service_pythonpath, service_worker
from tests.portal_events import (
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

SECRET_HASH = hash_secret(SECRET)


@pytest.fixture
def worker(service_environ: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    with service_worker("portal", service_environ, tmp_path / "portal-worker.log") as log:
        yield log


@pytest.fixture
def reference_db(mongo_db: Db) -> Iterator[Db]:
    """A second database where the same events are delivered in order, through the handlers."""
    other = mongo_db.client[f"{mongo_db.name}_ref"]
    store.ensure_indexes(other)
    yield other
    mongo_db.client.drop_database(other.name)


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def mixed_stream(unit: str) -> tuple[list[Event], dict[str, list[Event]], set[str]]:
    """Three dossiers' events in their order, and the same as written to each topic: newer ones
    before older ones (a retry's late delivery), repeats, and a withdrawal on intake's topic long
    before processing's acceptance of it on the other."""
    returned, withdrawn, refused = new_code(), new_code(), new_code()
    life = history(returned, SECRET_HASH, unit=unit)
    filed_w = submitted(withdrawn, SECRET_HASH, channel="counter", unit=unit)
    taken_w = accepted(withdrawn, unit=unit, channel="counter")
    gone_w = intake_event(
        "withdrawn",
        withdrawn,
        2,
        reason="Không cần nữa",
        by="counter",
        withdrawn_at="2023-11-02T08:00:00+07:00",
    )
    filed_r = submitted(refused, SECRET_HASH, unit=unit)
    refusal = processing_event(
        "refused",
        refused,
        1,
        "refused",
        unit=unit,
        receiving_unit=unit,
        reasons=["x"],
        resolved_at="2023-10-28T08:00:00+07:00",
    )
    letters = [
        letter_event(f"L-{uuid.uuid4().hex[:8]}", returned, 1, "rendered"),
    ]
    letter_id = letters[0]["subject"]
    letters += [
        letter_event(letter_id, returned, 2, "signed", by_post=True),
        letter_event(letter_id, returned, 3, "batched", batch="2023-10-27", item_number="RR000000014VN"),
        letter_event(letter_id, returned, 4, "despatched"),
    ]
    note_id = str(uuid.uuid4())
    notes = [
        notification_event(note_id, returned, 1, "created"),
        notification_event(note_id, returned, 2, "delivered"),
    ]
    in_order = [*life, filed_w, taken_w, gone_w, filed_r, refusal, *letters, *notes]

    intake_life = [e for e in life if e["source"] == "/services/intake"]
    processing_life = [e for e in life if e["source"] == "/services/processing"]
    topics = {
        Topics.INTAKE_DOSSIERS.name: [
            gone_w,
            intake_life[1],  # the supplement before the filing
            intake_life[0],
            filed_w,
            filed_r,
            intake_life[0],
        ],
        Topics.PROCESSING_DOSSIERS.name: [
            *processing_life[3:],
            *processing_life[:3],  # accepted, supplement asked, assigned: overtaken
            processing_life[0],
            refusal,
            taken_w,
            processing_life[-1],
        ],
        Topics.NOTIFY_LETTERS.name: [letters[2], letters[0], letters[3], letters[1], letters[3]],
        Topics.NOTIFY_NOTIFICATIONS.name: [notes[1], notes[0], notes[1]],
    }
    return in_order, topics, {returned, withdrawn, refused}


def write(bootstrap: str, topics: dict[str, list[Event]]) -> None:
    for topic, events in topics.items():
        write_raw(bootstrap, topic, [(e["subject"].encode(), encode(e)) for e in events])


def test_the_worker_builds_from_a_mixed_stream_what_delivery_in_order_builds_and_a_rebuild_gives_it_back(
    platform: Any, worker: Path, mongo_db: Db, reference_db: Db, service_environ: dict[str, str]
) -> None:
    ensure_topics(platform.bootstrap, topic_specs_for("portal"))
    unit = f"t{uuid.uuid4().hex[:8]}"
    in_order, topics, codes = mixed_stream(unit)
    Deliverer(reference_db)(*in_order)
    expected = snapshot(reference_db, codes, {unit})
    assert len(expected["dossiers"]) == 3 and len(expected["counters"]) == 2
    assert len(expected["letters"]) == 1 and len(expected["notifications"]) == 1

    write(platform.bootstrap, topics)
    live_equal = wait_until(lambda: snapshot(mongo_db, codes, {unit}) == expected, timeout=120)
    assert live_equal, worker.read_text(errors="replace")[-4000:]
    live = snapshot(mongo_db, codes, {unit})
    november = statistics.period(mongo_db, 2023, 11, unit=unit)
    assert (november["resolved_late"], november["withdrawn"]) == (1, 1)
    [returned] = [c for c in codes if live["dossiers"][c].get("processing_state") == "returned"]
    view = dossiers.lookup(mongo_db, returned, SECRET)
    assert view is not None and view["state"] == "returned"
    assert [letter["status"] for letter in view["letters"]] == ["despatched"]
    # The citizen rates it: the portal's own record, counted into the statistics, not on a topic.
    levels = dict.fromkeys(ratings.CRITERIA, "satisfied")
    assert ratings.rate(mongo_db, mongo_db[store.DOSSIERS].find_one({"_id": returned}), levels).stored_now
    live = snapshot(mongo_db, codes, {unit})
    assert sum(counter.get("rated", 0) for counter in live["counters"].values()) == 1

    # Something the topics do not say: the rebuild drops it.
    mongo_db[store.DOSSIERS].insert_one({"_id": "stray", "intake_sequence": 9})
    env = {**service_environ, "PYTHONPATH": service_pythonpath("portal")}
    rebuilt = subprocess.run(
        [sys.executable, "-m", "portal.rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    for topic in topics:
        assert f"{topic}: copied" in rebuilt.stdout, rebuilt.stdout
    assert mongo_db[store.DOSSIERS].count_documents({"_id": "stray"}) == 0

    rebuilt_equal = wait_until(lambda: snapshot(mongo_db, codes, {unit}) == live, timeout=120)
    assert rebuilt_equal, worker.read_text(errors="replace")[-4000:]
    # Its indexes are back too.
    assert "year_unit" in mongo_db[store.STATS_COUNTERS].index_information()
