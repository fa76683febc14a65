"""Kafka, FerretDB and Mailpit as child processes, each with a readiness check.

Used by `make run` (fixed ports, data kept under .local/data) and by the test fixtures
(free ports, throwaway data), so both start the infrastructure the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.paths import BIN, KAFKA_LIBS


class StartError(RuntimeError):
    """A process did not become ready in time; the message carries the tail of its log."""


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: all sockets stay bound until every port is chosen, so the
    system cannot hand out the same port twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


@dataclass
class ManagedProcess:
    """One long-running child process with its own log file and process group."""

    name: str
    data_dir: Path
    ready_timeout: float = 60.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _paused: bool = field(default=False, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        raise NotImplementedError

    def prepare(self) -> None:
        """One-time set-up before the first start (e.g. formatting storage)."""

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise StartError(f"{self.name} exited with {self.proc.returncode}\n{self.log_tail()}")
            return self.is_ready()

        if not wait_until(ready, self.ready_timeout):
            raise StartError(f"{self.name} not ready after {self.ready_timeout:.0f} s\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            self._paused = False
            return
        self.resume()  # a stopped process cannot act on SIGTERM
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """The end of the session: stop for good (as `stop`; a container is removed too)."""
        self.stop()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Freeze the whole process group (SIGSTOP): it keeps its sockets but answers nothing,
        like a hung host."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} is not running")
        os.killpg(self.proc.pid, signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Let a paused process group run again (SIGCONT); a no-op if it is not paused."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)
        self._paused = False

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Kafka(ManagedProcess):
    """Single-node KRaft broker from the Maven jars; storage is formatted once per data dir."""

    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"
    ready_timeout: float = 90.0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    def _java(self, *args: str) -> list[str]:
        return ["java", f"-Xmx{self.heap}", "-cp", f"{KAFKA_LIBS}/*", *args]

    def prepare(self) -> None:
        logs = self.data_dir / "logs"
        self.properties_path.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={logs}",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=6",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    # Topics are created explicitly from the registry; a typo must fail, not create.
                    "auto.create.topics.enable=false",
                    "",
                ]
            )
        )
        if (logs / "meta.properties").exists():
            return
        cluster_id = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(self.properties_path),
            ),
            check=True,
            capture_output=True,
        )

    def command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self.properties_path))

    def is_ready(self) -> bool:
        if not port_open(self.port):
            return False
        return "Kafka Server started" in self.log_path.read_text(errors="replace")[-200_000:]


@dataclass
class FerretDB(ManagedProcess):
    """MongoDB wire protocol on a SQLite directory; its Prometheus metrics on `debug_port` if set."""

    port: int = 27017
    debug_port: int | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def command(self) -> list[str]:
        sqlite = self.data_dir / "sqlite"
        sqlite.mkdir(parents=True, exist_ok=True)
        return [
            str(BIN / "ferretdb"),
            "--handler=sqlite",
            # WAL synced at checkpoints, not at each commit: a commit survives the store's crash
            # (not the machine's), as MongoDB's default journal (flushed every 100 ms) does.
            f"--sqlite-url=file:{sqlite}/?_pragma=synchronous(normal)",
            f"--listen-addr=127.0.0.1:{self.port}",
            f"--state-dir={self.data_dir}",
            f"--debug-addr=127.0.0.1:{self.debug_port}" if self.debug_port else "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]

    def is_ready(self) -> bool:
        return port_open(self.port)


@dataclass
class Mailpit(ManagedProcess):
    """SMTP sink with a REST API that tests read delivered mail from."""

    smtp_port: int = 1025
    http_port: int = 8025

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def command(self) -> list[str]:
        return [
            str(BIN / "mailpit"),
            f"--smtp=127.0.0.1:{self.smtp_port}",
            f"--listen=127.0.0.1:{self.http_port}",
            f"--database={self.data_dir / 'mailpit.db'}",
            "--smtp-auth-accept-any",
            "--smtp-auth-allow-insecure",
            "--disable-version-check",
            "--quiet",
        ]

    def is_ready(self) -> bool:
        return port_open(self.smtp_port) and port_open(self.http_port)


def check_installed() -> None:
    missing = [p for p in (BIN / "ferretdb", BIN / "mailpit") if not p.exists()]
    if not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        missing.append(KAFKA_LIBS)
    if shutil.which("java") is None:
        missing.append(Path("java"))
    if missing:
        names = ", ".join(str(m) for m in missing)
        raise StartError(f"not installed: {names}; run deploy/local/install.sh (make install)")
