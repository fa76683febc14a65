"""Every topic has one producer and its consumers, and every worker runs what the registry says.

A running consumer group handles or skips on purpose every event type published on its topics, so
it never commits past an event it will need; a group without handlers runs no consumer at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pytest

from eventkit.config import ServiceConfig
from eventkit.consumer import Handler
from eventkit.mongo import connect
from eventkit.topics import (
    REGISTRY,
    Groups,
    Services,
    Topic,
    groups_of,
    published_on,
    service_of_group,
    skipped_by,
)
from eventkit.worker import Worker, WorkerSpec

pytestmark = pytest.mark.contract

PRODUCERS = (Services.INTAKE, Services.PROCESSING, Services.NOTIFY, Services.PORTAL)
# Topics published for readers outside the services, with no consumer group of ours yet.
UNCONSUMED = {"portal.content.v1"}


def unconnected_db():
    # Building the handler tables needs a database object, not a server: nothing is contacted.
    return connect("mongodb://127.0.0.1:1/", "contract", "contract")


def handler_tables(service: str) -> Mapping[str, Mapping[str, Handler]]:
    tables: Mapping[str, Mapping[str, Handler]] = importlib.import_module(
        f"{service}.handlers"
    ).build_handlers(unconnected_db())
    return tables


def declared_types(service: str) -> set[str]:
    events = importlib.import_module(f"{service}.events")
    return {v for k, v in vars(events.EventTypes).items() if k.isupper()}


def contract_violations(
    service: str, tables: Mapping[str, Mapping[str, Any]], registry: tuple[Topic, ...] = REGISTRY
) -> list[str]:
    """What breaks the rule "a running group handles or skips each type of its topics, not both"."""
    problems: list[str] = []
    registered = groups_of(service, registry)
    for group, table in tables.items():
        if group not in registered:
            problems.append(f"{group}: not a group of {service} in the registry")
            continue
        if not table:
            problems.append(f"{group}: returned without handlers (it must not be returned at all)")
        handled, skipped, published = set(table), skipped_by(group, registry), published_on(group, registry)
        for event_type in sorted(handled & skipped):
            problems.append(f"{group}: handles {event_type}, still listed as skipped in the registry")
        for event_type in sorted(published - handled - skipped):
            problems.append(f"{group}: neither handles nor skips {event_type}")
        for event_type in sorted(handled - published):
            problems.append(f"{group}: handles {event_type}, which its topics do not carry")
    for group in registered:
        if skipped_by(group, registry) and not tables.get(group):
            problems.append(f"{group}: runs no consumer but the registry lists types it skips")
    return problems


# Groups that read back their own service's topic on purpose: live statistics count processing's
# decisions from the published events, so they are counted once however often they are delivered.
READ_BACK_BY_OWNER = {Groups.PROCESSING_STATS}


def test_every_topic_has_one_producing_service_and_consumers_from_other_services():
    names = [topic.name for topic in REGISTRY]
    assert len(names) == len(set(names))
    for topic in REGISTRY:
        assert topic.owner in Services.ALL, topic.name
        assert topic.consumers or topic.name in UNCONSUMED, f"{topic.name} has no consumer"
        for group in topic.consumers:
            assert service_of_group(group) in Services.ALL, group
            assert service_of_group(group) != topic.owner or group in READ_BACK_BY_OWNER, (
                f"{topic.name} is read back by its own producer"
            )


@pytest.mark.parametrize("service", PRODUCERS)
def test_the_registry_carries_exactly_the_types_each_producer_declares_each_on_one_topic(service):
    on_topics = [t for topic in REGISTRY if topic.owner == service for t in topic.event_types]
    assert len(on_topics) == len(set(on_topics)), "a type is published on one topic only"
    assert set(on_topics) == declared_types(service)
    assert all(not topic.event_types for topic in REGISTRY if topic.owner not in PRODUCERS)


def test_skipped_types_are_types_of_the_topic_for_groups_that_read_it():
    for topic in REGISTRY:
        for group, types in topic.skipped.items():
            assert group in topic.consumers, f"{group} skips on {topic.name}, which it does not read"
            assert types <= set(topic.event_types), f"{group} skips unknown types on {topic.name}"


@pytest.mark.parametrize("service", Services.ALL)
def test_every_running_group_handles_or_skips_each_type_of_its_topics_and_never_both(service):
    assert contract_violations(service, handler_tables(service)) == []


def test_the_contract_fails_when_a_handled_type_is_still_skipped_or_a_type_is_unaccounted_for():
    topic = Topic(
        "a.things.v1",
        owner="a",
        consumers=("b.things",),
        event_types=("vn.motcua.a.thing.made.v1", "vn.motcua.a.thing.gone.v1"),
        skipped={"b.things": frozenset({"vn.motcua.a.thing.gone.v1"})},
    )
    handler = object()
    assert contract_violations("b", {"b.things": {"vn.motcua.a.thing.made.v1": handler}}, (topic,)) == []
    both = {"vn.motcua.a.thing.made.v1": handler, "vn.motcua.a.thing.gone.v1": handler}
    assert contract_violations("b", {"b.things": both}, (topic,)) == [
        "b.things: handles vn.motcua.a.thing.gone.v1, still listed as skipped in the registry"
    ]
    unskipped = Topic(topic.name, owner="a", consumers=topic.consumers, event_types=topic.event_types)
    assert contract_violations("b", {"b.things": {"vn.motcua.a.thing.made.v1": handler}}, (unskipped,)) == [
        "b.things: neither handles nor skips vn.motcua.a.thing.gone.v1"
    ]
    assert contract_violations("b", {"b.things": {}}, (unskipped,))[0].startswith(
        "b.things: returned without"
    )


class NoProducer:
    def send(self, *_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("building runners sends nothing")


def worker_config(service: str) -> ServiceConfig:
    return ServiceConfig(
        service=service,
        mongo_url="mongodb://127.0.0.1:1/",
        mongo_db="contract",
        kafka_bootstrap="127.0.0.1:1",
        jwt_public_key=None,
        jwt_jwks_url=None,
        jwt_issuer=None,
        jwt_audience=None,
    )


@pytest.mark.parametrize("service", Services.ALL)
def test_a_worker_runs_a_consumer_for_exactly_the_groups_with_handlers(service):
    tables = handler_tables(service)
    spec = WorkerSpec(service=service, outbox_collections=[], handlers=tables)
    runners = Worker(spec, worker_config(service), unconnected_db()).consumer_runners(NoProducer(), "me")
    assert sorted(r.group for r in runners) == sorted(g for g, table in tables.items() if table)
    for runner in runners:
        assert runner.topics == groups_of(service)[runner.group]
        assert runner.skipped == skipped_by(runner.group)
    # An empty table, were one returned anyway, still starts no consumer.
    empty = {group: {} for group in groups_of(service)}
    spec = WorkerSpec(service=service, outbox_collections=[], handlers=empty)
    assert Worker(spec, worker_config(service), unconnected_db()).consumer_runners(NoProducer(), "me") == []


def test_services_whose_handlers_have_not_shipped_run_no_consumer_group():
    assert set(handler_tables(Services.PROCESSING)) == {
        "processing.intake-dossiers",
        "processing.stats",
        "processing.notify-letters",
    }
    assert set(handler_tables(Services.NOTIFY)) == {
        "notify.intake-dossiers",
        "notify.processing-dossiers",
        "notify.catalogue",
        "notify.results",
    }
    assert set(handler_tables(Services.PORTAL)) == {
        "portal.catalogue",
        "portal.intake-dossiers",
        "portal.processing-dossiers",
        "portal.notifications",
    }


def test_a_worker_refuses_a_group_the_registry_does_not_declare_or_a_handled_skipped_type():
    spec = WorkerSpec(service="intake", outbox_collections=[], handlers={"intake.unknown": {"t": None}})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="intake.unknown"):
        Worker(spec, worker_config("intake"), unconnected_db())
    skipped = sorted(skipped_by("intake.processing-dossiers"))[0]
    spec = WorkerSpec(
        service="intake",
        outbox_collections=[],
        handlers={"intake.processing-dossiers": {skipped: None}},  # type: ignore[dict-item]
    )
    with pytest.raises(ValueError, match="skipped"):
        Worker(spec, worker_config("intake"), unconnected_db())


def published_types() -> set[str]:
    types: set[str] = set()
    for service in PRODUCERS:
        types |= declared_types(service)
    return types


@pytest.mark.parametrize("service", PRODUCERS)
def test_event_types_are_named_after_the_service_that_publishes_them(service):
    types = declared_types(service)
    assert types and all(t.startswith(f"vn.motcua.{service}.") and t.endswith(".v1") for t in types)
    assert any(topic.owner == service for topic in REGISTRY), f"{service} publishes but owns no topic"


@pytest.mark.parametrize("service", [Services.INTAKE, Services.PROCESSING, Services.NOTIFY, Services.PORTAL])
def test_every_event_type_a_service_consumes_is_published_by_its_owner(service):
    consumed = importlib.import_module(f"{service}.events").ConsumedTypes
    types = {v for k, v in vars(consumed).items() if k.isupper() and isinstance(v, str)}
    assert types and types <= published_types()
    handled = {event_type for table in handler_tables(service).values() for event_type in table}
    # Its own types, read back by a group of READ_BACK_BY_OWNER, are declared by its EventTypes.
    own = declared_types(service) if service in PRODUCERS else set()
    assert handled - own == types, "each consumed type has a handler and each handler a declared type"
