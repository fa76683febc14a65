"""The catalogue travels from processing's outbox over the compacted topics into intake's and the
portal's projections; a consumer started from scratch rebuilds all of it."""

from __future__ import annotations

import uuid

import pytest
from pymongo import MongoClient

from eventkit.consumer import ConsumerRunner
from eventkit.kafka import ensure_topics, make_producer
from eventkit.outbox import OutboxRelay
from eventkit.topics import Groups, Topics, TopicSpec, dead_letter_topic, retry_topic, topic_specs_for
from intake import handlers as intake_handlers
from intake import store as intake_store
from portal import handlers as portal_handlers
from portal import store as portal_store
from processing import store as processing_store
from processing.service import catalogue
from tests.integration.kafka_tools import run_until
from tests.integration.test_processing_catalogue import BIRTH, COMMUNE, DISTRICT

pytestmark = pytest.mark.integration


@pytest.fixture
def databases(platform):
    client = MongoClient(platform.mongo_url, retryWrites=False, tz_aware=True)
    names = {svc: f"test_{svc}_{uuid.uuid4().hex[:8]}" for svc in ("processing", "intake", "portal")}
    yield {svc: client[name] for svc, name in names.items()}
    for name in names.values():
        client.drop_database(name)
    client.close()


def publish_all(platform, db):
    relay = OutboxRelay(
        [db[name] for name in processing_store.OUTBOX_COLLECTIONS],
        make_producer(platform.bootstrap, "relay"),
        db["leases"],
        "relay",
    )
    while relay.relay_once():
        pass


def fresh_runner(platform, module, db, registered_group):
    """The registered group's handlers under a new group id: a consumer that has never run."""
    group = f"test.{uuid.uuid4().hex[:8]}"
    topics = [Topics.PROCESSING_PROCEDURES.name, Topics.PROCESSING_UNITS.name]
    ensure_topics(
        platform.bootstrap,
        [TopicSpec(name(t, group), 3) for t in topics for name in (retry_topic, dead_letter_topic)],
    )
    return ConsumerRunner(
        bootstrap=platform.bootstrap,
        group=group,
        topics=topics,
        handlers=module.build_handlers(db)[registered_group],
        producer=make_producer(platform.bootstrap, "test"),
    )


def test_projections_rebuild_from_the_compacted_topics_and_keep_the_newest_version(platform, databases):
    ensure_topics(
        platform.bootstrap,
        topic_specs_for("processing") + topic_specs_for("intake") + topic_specs_for("portal"),
    )
    processing = databases["processing"]
    processing_store.ensure_indexes(processing)
    catalogue.create(processing, catalogue.UNITS, DISTRICT | {"parent": None}, "t")
    catalogue.create(processing, catalogue.UNITS, COMMUNE, "t")
    marker = uuid.uuid4().hex[:6]
    codes = [f"1.{n:06d}" for n in range(900000, 900012)]
    for code in codes:
        catalogue.create(
            processing, catalogue.PROCEDURES, {**BIRTH, "code": code, "name": f"Thủ tục {marker}"}, "t"
        )
    catalogue.update(
        processing, catalogue.PROCEDURES, {**BIRTH, "code": codes[0], "name": f"Mới {marker}"}, 1, "t"
    )
    publish_all(platform, processing)

    # A group that has never run (a new deployment or a rebuilt read model) starts from the beginning.
    intake_db = databases["intake"]
    runner = fresh_runner(platform, intake_handlers, intake_db, Groups.INTAKE_CATALOGUE)
    assert run_until(
        runner,
        lambda: (
            intake_db[intake_store.PROCEDURES].count_documents(
                {"name": {"$in": [f"Thủ tục {marker}", f"Mới {marker}"]}}
            )
            == len(codes)
            and intake_store.get_published(intake_db, intake_store.PROCEDURES, codes[0])["version"] == 2
            # Units come on their own topic, consumed beside the procedures.
            and intake_store.get_published(intake_db, intake_store.UNITS, "09499") is not None
        ),
        timeout=60,
    )
    first = intake_store.get_published(intake_db, intake_store.PROCEDURES, codes[0])
    assert first["name"] == f"Mới {marker}" and first["receiving_units"] == ["09499"]
    assert intake_store.get_published(intake_db, intake_store.UNITS, "09499")["name"] == COMMUNE["name"]

    portal_db = databases["portal"]
    portal_runner = fresh_runner(platform, portal_handlers, portal_db, Groups.PORTAL_CATALOGUE)
    assert run_until(
        portal_runner,
        lambda: (
            (portal_store.get_published(portal_db, portal_store.PROCEDURES, codes[-1]) or {}).get("name")
            == f"Thủ tục {marker}"
        ),
        timeout=60,
    )


def test_an_older_version_arriving_late_does_not_overwrite_a_newer_one(databases):
    handler = intake_handlers.build_handlers(databases["intake"])[Groups.INTAKE_CATALOGUE][
        "vn.motcua.processing.procedure.published.v1"
    ]
    newer = handler.schema.load({"code": "1.001193", "version": 3, "name": "v3"})
    older = handler.schema.load({"code": "1.001193", "version": 2, "name": "v2"})
    handler.handle({}, newer)
    handler.handle({}, older)
    handler.handle({}, newer)
    stored = intake_store.get_published(databases["intake"], intake_store.PROCEDURES, "1.001193")
    assert (stored["version"], stored["name"]) == (3, "v3")
