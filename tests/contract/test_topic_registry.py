"""Every topic has one producer and at least one consumer, and every worker runs what the registry says."""

import importlib

import pytest
from pymongo import MongoClient

from eventkit.topics import REGISTRY, Services, groups_of, service_of_group

pytestmark = pytest.mark.contract


def unconnected_db():
    # Building the handler tables needs a database object, not a server.
    return MongoClient("mongodb://127.0.0.1:1/", connect=False)["contract"]


def test_every_topic_has_one_producing_service_and_consumers_from_other_services():
    names = [topic.name for topic in REGISTRY]
    assert len(names) == len(set(names))
    for topic in REGISTRY:
        assert topic.owner in Services.ALL, topic.name
        assert topic.consumers, f"{topic.name} has no consumer"
        for group in topic.consumers:
            assert service_of_group(group) in Services.ALL, group
            assert service_of_group(group) != topic.owner, f"{topic.name} is read back by its own producer"


@pytest.mark.parametrize("service", Services.ALL)
def test_each_worker_has_a_handler_table_for_exactly_its_registered_groups(service):
    handlers = importlib.import_module(f"{service}.handlers")
    assert set(handlers.build_handlers(unconnected_db())) == set(groups_of(service))


@pytest.mark.parametrize("service", [Services.INTAKE, Services.PROCESSING, Services.NOTIFY])
def test_event_types_are_named_after_the_service_that_publishes_them(service):
    events = importlib.import_module(f"{service}.events")
    types = [v for k, v in vars(events.EventTypes).items() if k.isupper()]
    assert types and all(t.startswith(f"vn.motcua.{service}.") and t.endswith(".v1") for t in types)
    assert any(topic.owner == service for topic in REGISTRY), f"{service} publishes but owns no topic"


def published_types() -> set[str]:
    types: set[str] = set()
    for service in (Services.INTAKE, Services.PROCESSING, Services.NOTIFY):
        events = importlib.import_module(f"{service}.events")
        types |= {v for k, v in vars(events.EventTypes).items() if k.isupper()}
    return types


@pytest.mark.parametrize("service", [Services.INTAKE, Services.PORTAL])
def test_every_event_type_a_service_consumes_is_published_by_its_owner(service):
    consumed = importlib.import_module(f"{service}.events").ConsumedTypes
    types = {v for k, v in vars(consumed).items() if k.isupper() and isinstance(v, str)}
    assert types and types <= published_types()
    tables = importlib.import_module(f"{service}.handlers").build_handlers(unconnected_db())
    handled = {event_type for table in tables.values() for event_type in table}
    assert handled == types, "each consumed type has a handler and each handler a declared type"
