"""The test infrastructure as Docker containers (`TEST_INFRA=containers`): Kafka, MongoDB and
Mailpit from the images deploy/compose.yaml pins, started with testcontainers.

Each container has the interface of devstack.infra's processes (`start`, `stop`, `pause`,
`resume`, `wait_ready`, `running`, `close`), so the fixtures and the fault tests run unchanged on
either. Host ports are fixed when a container is created, so a container stopped and started again
by a fault test answers where it did (Kafka advertises that port). Needs a Docker engine that can
pull the images; without one the session fails, it does not skip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from devstack.infra import StartError, port_open, wait_until
from devstack.paths import ROOT

COMPOSE = ROOT / "deploy" / "compose.yaml"


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return services


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    ports: dict[int, int]  # container port -> host port
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None


def kafka_spec(port: int) -> ContainerSpec:
    """Compose's single KRaft node, advertising the host port the tests connect to."""
    kafka = compose_services()["kafka"]
    env = {name: str(value) for name, value in kafka["environment"].items()}
    env["KAFKA_ADVERTISED_LISTENERS"] = f"PLAINTEXT://127.0.0.1:{port}"
    env["KAFKA_CONTROLLER_QUORUM_VOTERS"] = "1@localhost:9093"
    return ContainerSpec("kafka", kafka["image"], {9092: port}, env)


def mongo_spec(port: int) -> ContainerSpec:
    # A standalone server: the services use single-document writes only (as on FerretDB).
    image = compose_services()["mongo"]["image"]
    return ContainerSpec("mongo", image, {27017: port}, command=["--bind_ip_all"])


def mailpit_spec(smtp_port: int, http_port: int) -> ContainerSpec:
    # As devstack.infra.Mailpit runs it: any SMTP credentials accepted, also without TLS.
    image = compose_services()["mailpit"]["image"]
    flags = ["--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check"]
    return ContainerSpec("mailpit", image, {1025: smtp_port, 8025: http_port}, command=flags)


class Container:
    """One spec run as a container with the interface of devstack.infra.ManagedProcess."""

    def __init__(self, spec: ContainerSpec, ready_timeout: float = 180.0) -> None:
        self.spec = spec
        self.name = spec.name
        self.ready_timeout = ready_timeout
        self._container: Any = None
        self._paused = False

    def is_ready(self) -> bool:
        return all(port_open(host) for host in self.spec.ports.values())

    def _wrapped(self) -> Any:
        return self._container.get_wrapped_container() if self._container is not None else None

    def start(self) -> None:
        if self._container is None:
            from testcontainers.core.container import DockerContainer

            container = DockerContainer(self.spec.image)
            for name, value in self.spec.env.items():
                container = container.with_env(name, value)
            for inside, host in self.spec.ports.items():
                container = container.with_bind_ports(inside, host)
            if self.spec.command:
                container = container.with_command(self.spec.command)
            self._container = container.start()
        elif not self.running:
            self._wrapped().start()

    @property
    def running(self) -> bool:
        wrapped = self._wrapped()
        if wrapped is None:
            return False
        wrapped.reload()
        return bool(wrapped.status in ("running", "paused"))

    def wait_ready(self) -> None:
        if not wait_until(self.is_ready, self.ready_timeout, interval=0.5):
            raise StartError(f"{self.name} not ready after {self.ready_timeout:.0f} s\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the container, keeping it (and its ports and data) for `start`."""
        if self.running:
            self.resume()
            self._wrapped().stop(timeout=int(timeout))
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Freeze every process of the container (the cgroup freezer), like a hung host."""
        if not self.running:
            raise RuntimeError(f"{self.name} is not running")
        self._wrapped().pause()
        self._paused = True

    def resume(self) -> None:
        if self._paused and self._wrapped() is not None:
            self._wrapped().unpause()
        self._paused = False

    def close(self) -> None:
        """Remove the container for good (the end of the session)."""
        if self._container is not None:
            self.resume()
            self._container.stop()
            self._container = None

    def log_tail(self, lines: int = 30) -> str:
        wrapped = self._wrapped()
        if wrapped is None:
            return ""
        return "\n".join(wrapped.logs(tail=lines).decode(errors="replace").splitlines())


class KafkaContainer(Container):
    def __init__(self, port: int) -> None:
        super().__init__(kafka_spec(port))
        self.port = port

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        return port_open(self.port) and "Kafka Server started" in self.log_tail(400)


class MongoContainer(Container):
    def __init__(self, port: int) -> None:
        super().__init__(mongo_spec(port))
        self.port = port

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"


class MailpitContainer(Container):
    def __init__(self, smtp_port: int, http_port: int) -> None:
        super().__init__(mailpit_spec(smtp_port, http_port))
        self.smtp_port, self.http_port = smtp_port, http_port

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def check_docker(connect: Callable[[], Any] | None = None) -> None:
    """Fail (StartError) with the reason when no Docker engine answers."""
    try:
        if connect is None:
            import docker

            connect = docker.from_env
        connect().ping()
    except Exception as exc:
        raise StartError(f"TEST_INFRA=containers needs a Docker engine: {type(exc).__name__}: {exc}") from exc
