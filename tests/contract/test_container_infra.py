"""The `TEST_INFRA=containers` path (tests/container_infra.py): the images compose pins, set up as
the processes `make test` starts by default, behind the interface the fixtures and fault tests use.
Running the containers needs a Docker engine; these checks need none."""

from __future__ import annotations

import inspect

import pytest

from devstack.infra import Mailpit, ManagedProcess, StartError
from tests import container_infra

pytestmark = pytest.mark.contract


def test_the_containers_are_the_images_compose_pins():
    services = container_infra.compose_services()
    specs = [
        container_infra.kafka_spec(19092),
        container_infra.mongo_spec(27018),
        container_infra.mailpit_spec(1, 2),
    ]
    assert [s.image for s in specs] == [services[n]["image"] for n in ("kafka", "mongo", "mailpit")]
    for spec in specs:
        name, _, tag = spec.image.rpartition(":")
        assert name and tag != "latest" and (tag[0].isdigit() or tag.startswith("v")), spec.image


def test_kafka_advertises_the_host_port_and_keeps_compose_s_single_kraft_node():
    spec = container_infra.kafka_spec(19092)
    compose = container_infra.compose_services()["kafka"]["environment"]
    assert spec.ports == {9092: 19092}
    assert spec.env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://127.0.0.1:19092"
    assert spec.env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@localhost:9093"
    assert spec.env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "the workers create the registry's topics"
    changed = {k for k in compose if str(compose[k]) != spec.env[k]}
    assert changed == {"KAFKA_ADVERTISED_LISTENERS", "KAFKA_CONTROLLER_QUORUM_VOTERS"}


def test_mailpit_runs_with_the_flags_of_the_local_process(tmp_path):
    local = Mailpit("mailpit", tmp_path).command()
    spec = container_infra.mailpit_spec(2525, 8026)
    assert spec.ports == {1025: 2525, 8025: 8026}
    assert set(spec.command or []) <= set(local), "no behaviour the process tier lacks"
    assert {"--smtp-auth-accept-any", "--smtp-auth-allow-insecure"} <= set(spec.command or [])
    mongo = container_infra.MongoContainer(27018)
    assert mongo.url == "mongodb://127.0.0.1:27018/" and mongo.spec.ports == {27017: 27018}


def test_containers_offer_what_the_fixtures_and_fault_tests_call_on_a_process():
    used = ("start", "stop", "close", "pause", "resume", "wait_ready", "running", "paused", "log_tail")
    for name in used:
        assert hasattr(ManagedProcess, name) and hasattr(container_infra.Container, name), name
        if callable(getattr(ManagedProcess, name)):
            process_args = list(inspect.signature(getattr(ManagedProcess, name)).parameters)
            container_args = list(inspect.signature(getattr(container_infra.Container, name)).parameters)
            assert process_args == container_args, name
    kafka = container_infra.KafkaContainer(19092)
    mailpit = container_infra.MailpitContainer(2525, 8026)
    assert kafka.bootstrap == "127.0.0.1:19092" and not kafka.running and not kafka.paused
    assert (mailpit.smtp_url, mailpit.api_url) == ("smtp://127.0.0.1:2525", "http://127.0.0.1:8026")


def test_no_docker_engine_is_a_failure_that_says_so():
    def unreachable():
        raise ConnectionError("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")

    with pytest.raises(StartError, match="TEST_INFRA=containers needs a Docker engine: ConnectionError"):
        container_infra.check_docker(unreachable)
