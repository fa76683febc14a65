from eventkit.topics import (
    REGISTRY,
    Groups,
    Services,
    Topic,
    all_topic_specs,
    dead_letter_topic,
    groups_of,
    retry_topic,
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
    assert "processing.units.v1" not in names


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
