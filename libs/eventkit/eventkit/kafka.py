"""Kafka clients with the platform's durable settings, and explicit topic creation."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAlreadyExistsError

from eventkit.topics import TopicSpec

log = logging.getLogger(__name__)

# A send waits this long for the broker before it fails, so the outbox keeps the entry
# and retries it later instead of the producer holding it in memory for minutes.
SEND_TIMEOUT_MS = 15_000


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    # acks=all and idempotence are set explicitly so a conflicting option fails at start.
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_block_ms=10_000,
        request_timeout_ms=10_000,
        delivery_timeout_ms=SEND_TIMEOUT_MS,
        bootstrap_timeout_ms=10_000,
        allow_auto_create_topics=False,
    )


def make_consumer(bootstrap: str, group: str, client_id: str, max_poll_records: int = 50) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        allow_auto_create_topics=False,
        bootstrap_timeout_ms=10_000,
        # A killed worker's partitions go to another member after 10 s, not kafka-python's 45 s.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )


def creation_requests(
    specs: Iterable[TopicSpec], replication_factor: int = 1, min_insync_replicas: int = 1
) -> dict[str, dict[str, object]]:
    """The admin client's create request for each topic: its partitions, copies and configs."""
    return {
        spec.name: {
            "num_partitions": spec.partitions,
            "replication_factor": replication_factor,
            # With acks=all a write then needs this many copies, so one lost broker loses nothing.
            "configs": {**spec.configs, "min.insync.replicas": str(min_insync_replicas)},
        }
        for spec in specs
    }


def ensure_topics(
    bootstrap: str, specs: Iterable[TopicSpec], replication_factor: int = 1, min_insync_replicas: int = 1
) -> list[str]:
    """Create the topics that do not exist yet and wait until all are usable; returns those created.

    Several workers start at once and create overlapping sets, so "already exists" is success.
    Existing topics keep their settings (change those with the admin tools).
    """
    wanted = {spec.name: spec for spec in specs}
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="eventkit-admin")
    try:
        existing = set(admin.list_topics())
        missing = creation_requests(
            (spec for name, spec in wanted.items() if name not in existing),
            replication_factor,
            min_insync_replicas,
        )
        created = []
        if missing:
            response = admin.create_topics(missing, raise_errors=False)
            for topic in response["topics"]:
                if topic["error_code"] == 0:
                    created.append(topic["name"])
                elif topic["error_code"] != TopicAlreadyExistsError.errno:
                    raise KafkaError(f"cannot create topic {topic['name']}: {topic['error_message']}")
            log.info("created topics", extra={"topics": sorted(created)})
        admin.wait_for_topics(sorted(wanted))
        return sorted(created)
    finally:
        admin.close()


def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """A cheap liveness probe of the first reachable bootstrap address (TCP connect)."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host or "localhost", int(port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False
