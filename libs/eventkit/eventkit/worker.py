"""The worker process every service runs beside its API: outbox relay, consumer groups, probes.

Only the worker talks to Kafka. On start it waits for its store and the broker, creates the topics
it needs, then runs the relay and one consumer runner per group that has handlers, in threads,
until SIGTERM or SIGINT, when it finishes the record at hand, commits and exits. A registered group
without handlers runs no consumer: it commits nothing, so its handlers later find every event.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType

from werkzeug.serving import make_server

from eventkit.config import ServiceConfig
from eventkit.consumer import ConsumerRunner, Handler, RetryPolicy
from eventkit.kafka import ResilientProducer, broker_reachable, ensure_topics, make_resilient_producer
from eventkit.logs import configure_logging
from eventkit.mongo import Db, ping
from eventkit.outbox import OutboxRelay, Producer
from eventkit.topics import REGISTRY, Topic, groups_of, skipped_by, topic_specs_for
from eventkit.web import create_probe_app

log = logging.getLogger(__name__)

# A background duty beside the relay and consumers (e.g. pruning expired uploads).
Duty = Callable[[threading.Event], None]


@dataclass
class WorkerSpec:
    """What a service's worker runs."""

    service: str
    outbox_collections: list[str]
    # Only the groups the service runs, each with its handlers by event type.
    handlers: Mapping[str, Mapping[str, Handler]]
    # Run once the store answers, before anything else (e.g. creating indexes).
    prepare: Callable[[], None] = lambda: None
    duties: list[Duty] = field(default_factory=list)
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    registry: tuple[Topic, ...] = REGISTRY


def wait_for(check: Callable[[], bool], what: str, stop: threading.Event, max_delay: float = 10.0) -> bool:
    delay = 0.5
    while not stop.is_set():
        if check():
            return True
        log.warning("waiting for %s", what)
        stop.wait(delay)
        delay = min(max_delay, delay * 2)
    return False


class Worker:
    def __init__(self, spec: WorkerSpec, config: ServiceConfig, db: Db) -> None:
        if config.kafka_bootstrap is None:
            raise ValueError("the worker needs KAFKA_BOOTSTRAP_SERVERS")
        declared = set(groups_of(spec.service, spec.registry))
        unknown = set(spec.handlers) - declared
        if unknown:
            raise ValueError(
                f"handlers for {sorted(unknown)} but the registry declares only {sorted(declared)}"
            )
        for group, table in spec.handlers.items():
            both = set(table) & skipped_by(group, spec.registry)
            if both:
                raise ValueError(f"{group} handles {sorted(both)}, which the registry lists as skipped")
        self.spec = spec
        self.config = config
        self.bootstrap: str = config.kafka_bootstrap
        self.db = db
        self.stop = threading.Event()
        # Set once the topics exist and the relay and consumers run.
        self.running = threading.Event()
        self.threads: list[threading.Thread] = []
        self.producer: ResilientProducer | None = None
        self.relay: OutboxRelay | None = None

    def _serve_probes(self) -> None:
        readiness = {
            "store": lambda: ping(self.db),
            "kafka": lambda: broker_reachable(self.bootstrap),
            "running": self.running.is_set,
            # Fails while pending outbox entries have waited too long without any being published.
            "relay": lambda: self.relay is None or self.relay.healthy(),
        }
        app = create_probe_app(self.spec.service, readiness)
        server = make_server("0.0.0.0", self.config.health_port, app, threaded=True)
        log.info("worker probes listening", extra={"port": server.server_port})
        thread = threading.Thread(target=server.serve_forever, name="probes", daemon=True)
        thread.start()

    def _start(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _connect_kafka(self) -> bool:
        def try_connect() -> bool:
            try:
                ensure_topics(
                    self.bootstrap,
                    topic_specs_for(self.spec.service, self.spec.registry),
                    replication_factor=self.config.kafka_replication_factor,
                    min_insync_replicas=self.config.kafka_min_insync_replicas,
                )
                # One producer for the relay and the runners' retry and dead-letter sends; it
                # replaces itself when it stops delivering (a broker that hung or restarted).
                producer = make_resilient_producer(self.bootstrap, f"{self.spec.service}-worker")
                producer.connect()
                self.producer = producer
                return True
            except Exception as exc:
                log.warning("kafka not ready", extra={"error_type": type(exc).__name__})
                return False

        return wait_for(try_connect, "kafka", self.stop)

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        if self.config.health_port >= 0:
            self._serve_probes()
        if not wait_for(lambda: ping(self.db), "the store", self.stop):
            return
        self.spec.prepare()
        if not self._connect_kafka():
            return
        assert self.producer is not None
        owner = f"{socket.gethostname()}:{os.getpid()}"
        self.relay = OutboxRelay(
            [self.db[name] for name in self.spec.outbox_collections],
            self.producer,
            leases=self.db["leases"],
            owner=owner,
        )
        self._start("outbox-relay", self.relay.run)
        runners = self.consumer_runners(self.producer, owner)
        for runner in runners:
            self._start(f"consumer:{runner.group}", runner.run)
        for duty in self.spec.duties:
            self._start(getattr(duty, "__name__", "duty"), duty)
        self.running.set()
        log.info("worker started", extra={"groups": [runner.group for runner in runners]})
        self.stop.wait()
        self.shutdown()

    def consumer_runners(self, producer: Producer, owner: str) -> list[ConsumerRunner]:
        """One runner per group with handlers; a group with an empty table must not commit anything."""
        topics_of = groups_of(self.spec.service, self.spec.registry)
        return [
            ConsumerRunner(
                bootstrap=self.bootstrap,
                group=group,
                topics=topics_of[group],
                handlers=handlers,
                producer=producer,
                policy=self.spec.retry_policy,
                client_id=f"{group}-{owner}",
                skipped=skipped_by(group, self.spec.registry),
            )
            for group, handlers in sorted(self.spec.handlers.items())
            if handlers
        ]

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("stopping worker", extra={"signal": signum})
        self.stop.set()

    def shutdown(self, timeout: float = 20.0) -> None:
        self.stop.set()
        self.running.clear()
        for thread in self.threads:
            thread.join(timeout)
        if self.producer is not None:
            try:
                self.producer.flush(timeout=5)
            except Exception as exc:
                log.warning("producer flush failed", extra={"error_type": type(exc).__name__})
            self.producer.close(timeout=5)
        log.info("worker stopped")


def run_service_worker(
    config: ServiceConfig,
    *,
    connect: Callable[[ServiceConfig], Db],
    outbox_collections: list[str],
    build_handlers: Callable[[Db], Mapping[str, Mapping[str, Handler]]],
    ensure_indexes: Callable[[Db], None],
    duties: Callable[[Db], list[Duty]] = lambda _db: [],
) -> None:
    """The body of every `python -m <service>.worker`: JSON logs, the store, then `Worker.run`."""
    configure_logging(f"{config.service}-worker", config.log_level)
    db = connect(config)
    spec = WorkerSpec(
        service=config.service,
        outbox_collections=outbox_collections,
        handlers=build_handlers(db),
        prepare=lambda: ensure_indexes(db),
        duties=duties(db),
    )
    Worker(spec, config, db).run()
