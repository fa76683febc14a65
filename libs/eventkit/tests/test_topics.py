import pytest

from eventkit.config import ConfigError, ServiceConfig
from eventkit.kafka import creation_requests
from eventkit.topics import (
    REGISTRY,
    Groups,
    Services,
    Topic,
    TopicSpec,
    all_topic_specs,
    dead_letter_topic,
    groups_of,
    published_on,
    retry_topic,
    skipped_by,
    topic_specs_for,
)


def test_each_consumer_group_gets_its_own_retry_and_dead_letter_topic():
    assert (
        retry_topic("intake.dossiers.v1", "notify.intake-dossiers")
        == "intake.dossiers.v1.notify.intake-dossiers.retry"
    )
    assert (
        dead_letter_topic("intake.dossiers.v1", "notify.intake-dossiers")
        == "intake.dossiers.v1.notify.intake-dossiers.dlt"
    )


def test_groups_of_a_service_list_the_topics_each_reads():
    assert groups_of(Services.INTAKE) == {
        Groups.INTAKE_PROCESSING_DOSSIERS: ["processing.dossiers.v1"],
        Groups.INTAKE_CATALOGUE: ["processing.procedures.v1", "processing.units.v1"],
    }


def test_a_worker_creates_what_it_owns_reads_and_its_failure_topics_only():
    names = {spec.name for spec in topic_specs_for(Services.NOTIFY)}
    assert "notify.notifications.v1" in names
    assert "intake.dossiers.v1.notify.intake-dossiers.dlt" in names
    assert "intake.dossiers.v1.portal.intake-dossiers.dlt" not in names
    assert "processing.units.v1.notify.catalogue.dlt" in names
    assert "processing.units.v1.intake.catalogue.dlt" not in names
    assert not {spec.name for spec in topic_specs_for(Services.PROCESSING)} & {
        "intake.dossiers.v1.notify.intake-dossiers.retry",
        "processing.units.v1.portal.catalogue.dlt",
    }


def test_compacted_and_personal_data_topics_get_their_configs():
    specs = {spec.name: spec for spec in all_topic_specs()}
    assert specs["processing.procedures.v1"].configs == {"cleanup.policy": "compact"}
    assert "retention.ms" in specs["intake.dossiers.v1"].configs
    assert "retention.ms" in specs["intake.dossiers.v1.portal.intake-dossiers.dlt"].configs
    # A retry topic of a compacted topic must not compact away retries of the same key.
    assert specs["processing.units.v1.portal.catalogue.retry"].configs == {}


def test_topic_names_follow_the_convention():
    for topic in REGISTRY:
        service, _entity, version = topic.name.split(".")
        assert service == topic.owner and version == "v1"


def test_registry_helpers_take_another_registry():
    registry = (Topic("a.things.v1", owner="a", consumers=("b.things",)),)
    assert groups_of("b", registry) == {"b.things": ["a.things.v1"]}
    assert {s.name for s in topic_specs_for("a", registry)} == {"a.things.v1"}


def test_skipped_types_are_listed_per_group_and_cover_only_the_topics_it_reads():
    assert skipped_by(Groups.INTAKE_PROCESSING_DOSSIERS) == {
        "vn.motcua.processing.dossier.extended.v1",
        "vn.motcua.processing.dossier.due_soon.v1",
        "vn.motcua.processing.dossier.overdue.v1",
    }
    assert skipped_by(Groups.PROCESSING_INTAKE_DOSSIERS) == frozenset()
    assert published_on(Groups.INTAKE_CATALOGUE) == {
        "vn.motcua.processing.procedure.published.v1",
        "vn.motcua.processing.unit.published.v1",
    }


ENV = {"MONGO_URL": "mongodb://x/", "KAFKA_BOOTSTRAP_SERVERS": "k:9092", "JWT_PUBLIC_KEY": "k"}


def test_replication_settings_come_from_the_environment_with_one_broker_by_default():
    local = ServiceConfig.from_env("intake", worker=True, environ=ENV)
    assert (local.kafka_replication_factor, local.kafka_min_insync_replicas) == (1, 1)
    cluster = ServiceConfig.from_env(
        "intake",
        worker=True,
        environ={**ENV, "KAFKA_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "2"},
    )
    assert (cluster.kafka_replication_factor, cluster.kafka_min_insync_replicas) == (3, 2)


@pytest.mark.parametrize(
    ("factor", "min_isr"), [("1", "2"), ("3", "0"), ("three", "2")], ids=["above", "zero", "not-int"]
)
def test_replication_settings_that_would_refuse_every_write_stop_the_start(factor, min_isr):
    env = {**ENV, "KAFKA_REPLICATION_FACTOR": factor, "KAFKA_MIN_INSYNC_REPLICAS": min_isr}
    with pytest.raises(ConfigError):
        ServiceConfig.from_env("intake", worker=True, environ=env)


def test_topics_are_created_with_the_replication_factor_and_min_insync_replicas():
    specs = [TopicSpec("a.things.v1", 3, {"cleanup.policy": "compact"}), TopicSpec("a.things.v1.b.dlt", 6)]
    assert creation_requests(specs, replication_factor=3, min_insync_replicas=2) == {
        "a.things.v1": {
            "num_partitions": 3,
            "replication_factor": 3,
            "configs": {"cleanup.policy": "compact", "min.insync.replicas": "2"},
        },
        "a.things.v1.b.dlt": {
            "num_partitions": 6,
            "replication_factor": 3,
            "configs": {"min.insync.replicas": "2"},
        },
    }
    assert creation_requests(specs)["a.things.v1.b.dlt"]["replication_factor"] == 1


def test_only_the_results_topic_and_its_failure_topics_take_records_of_megabytes():
    from eventkit.topics import FILE_MESSAGE_MAX_BYTES, Topics

    large = {
        spec.name: spec.configs.get("max.message.bytes")
        for spec in all_topic_specs()
        if spec.name.startswith(Topics.PROCESSING_RESULTS.name)
    }
    assert large == {
        "processing.results.v1": str(FILE_MESSAGE_MAX_BYTES),
        "processing.results.v1.notify.results.retry": str(FILE_MESSAGE_MAX_BYTES),
        "processing.results.v1.notify.results.dlt": str(FILE_MESSAGE_MAX_BYTES),
    }
    others = [s.name for s in all_topic_specs() if s.name not in large and "max.message.bytes" in s.configs]
    assert others == []
    assert Topics.PROCESSING_RESULTS.personal_data and Topics.PROCESSING_RESULTS.configs()["retention.ms"]
