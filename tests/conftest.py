"""Infrastructure for the integration and end-to-end tiers: real Kafka, FerretDB and Mailpit.

`make test` starts throwaway instances on free ports with fresh data for the whole session:
processes installed by `make install`, or with `TEST_INFRA=containers` the images
deploy/compose.yaml pins (Kafka, MongoDB, Mailpit) through testcontainers, where a Docker engine
is (tests/container_infra.py). Nothing is skipped: an instance that cannot start fails every test
that needs it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from devstack.certificates import ensure_unit_certificates
from devstack.infra import FerretDB, Kafka, Mailpit, StartError, check_installed, free_ports
from devstack.tokens import ensure_keypair, issue_token
from eventkit.kafka import ensure_topics
from eventkit.mongo import Db
from eventkit.topics import TopicSpec


@dataclass
class Infra:
    # Processes (devstack.infra) or containers (tests/container_infra.py), with one interface;
    # `ferretdb` is the Mongo-protocol store either way.
    kafka: Any
    ferretdb: Any
    mailpit: Any
    root: Path

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def mongo_url(self) -> str:
        return self.ferretdb.url

    def ensure_running(self) -> None:
        """Resume or restart whatever a fault test paused or stopped, so the next test starts from a
        whole platform."""
        for process in (self.kafka, self.ferretdb, self.mailpit):
            if process.paused:
                process.resume()
                process.wait_ready()
            if not process.running:
                process.start()
                process.wait_ready()


def _processes(root: Path) -> Infra:
    check_installed()
    kafka, controller, mongo, smtp, http = free_ports(5)
    return Infra(
        kafka=Kafka("kafka", root / "kafka", port=kafka, controller_port=controller),
        ferretdb=FerretDB("ferretdb", root / "ferretdb", port=mongo),
        mailpit=Mailpit("mailpit", root / "mailpit", smtp_port=smtp, http_port=http),
        root=root,
    )


def _containers(root: Path) -> Infra:
    from tests import container_infra

    container_infra.check_docker()
    kafka, mongo, smtp, http = free_ports(4)
    return Infra(
        kafka=container_infra.KafkaContainer(kafka),
        ferretdb=container_infra.MongoContainer(mongo),
        mailpit=container_infra.MailpitContainer(smtp, http),
        root=root,
    )


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    root = tmp_path_factory.mktemp("infra")
    kind = os.environ.get("TEST_INFRA", "processes")
    if kind not in ("processes", "containers"):
        pytest.fail(f"TEST_INFRA is {kind!r}: processes (the default) or containers")
    try:
        platform = _containers(root) if kind == "containers" else _processes(root)
    except StartError as exc:
        pytest.fail(f"test infrastructure is missing: {exc}")
    processes = (platform.kafka, platform.ferretdb, platform.mailpit)
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        yield platform
    except StartError as exc:
        pytest.fail(f"test infrastructure did not start: {exc}")
    finally:
        for process in processes:
            process.close()


@pytest.fixture
def platform(infra: Infra) -> Iterator[Infra]:
    """The session's infrastructure, brought back up after a test that stopped part of it."""
    infra.ensure_running()
    yield infra
    infra.ensure_running()


@pytest.fixture
def mongo_db(platform: Infra) -> Iterator[Db]:
    client: MongoClient[dict[str, object]] = MongoClient(
        platform.mongo_url, serverSelectionTimeoutMS=3000, retryWrites=False, tz_aware=True
    )
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield client[name]
    try:
        platform.ensure_running()
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture
def new_topic(platform: Infra) -> Iterator[object]:
    """Create uniquely named topics: `new_topic("orders", partitions=3)` returns the name."""

    def create(prefix: str = "t", partitions: int = 3) -> str:
        name = f"test.{prefix}.{uuid.uuid4().hex[:10]}"
        ensure_topics(platform.bootstrap, [TopicSpec(name, partitions)])
        return name

    yield create


@pytest.fixture(scope="session")
def jwt_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def signing_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development CA and a signing certificate for each unit that resolves dossiers."""
    return ensure_unit_certificates(tmp_path_factory.mktemp("signing"))


@pytest.fixture
def service_environ(
    platform: Infra, jwt_keys: tuple[Path, Path], signing_certs: Path, mongo_db: Db, tmp_path: Path
) -> dict[str, str]:
    """Environment for a service under test: the session's infrastructure, a fresh database, a
    fresh blob store and the units' signing certificates."""
    return {
        **os.environ,
        "MONGO_URL": platform.mongo_url,
        "MONGO_DB": mongo_db.name,
        "KAFKA_BOOTSTRAP_SERVERS": platform.bootstrap,
        "SMTP_URL": platform.mailpit.smtp_url,
        "JWT_PUBLIC_KEY_FILE": str(jwt_keys[1]),
        "BLOB_URL": (tmp_path / "blobs").as_uri(),
        "SIGNING_CERTS_DIR": str(signing_certs),
        "STAFF_KEYS_SECRET": "test secret of the staff token keys",
    }


@pytest.fixture
def staff_headers(jwt_keys: tuple[Path, Path]) -> object:
    """`staff_headers("admin", "264")`: an Authorization header for an officer of that role and unit."""

    def headers(role: str, unit: str, user_id: str = "u-1") -> dict[str, str]:
        token = issue_token(
            [role], [unit], user_id=user_id, name=f"Cán bộ {user_id}", private_key=jwt_keys[0]
        )
        return {"Authorization": f"Bearer {token}"}

    return headers
