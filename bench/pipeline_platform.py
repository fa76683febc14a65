"""The whole platform for the pipeline benchmark: a throwaway Kafka, FerretDB and Mailpit (keeping
every message), and each Procfile process on its own (`devstack.processes`), so that workers can
be stopped, started and run in several copies. CPU and resident memory are read per process group
from /proc."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from bench_intake import group_cpu_seconds
from bench_notify import Sink

from devstack.certificates import ensure_unit_certificates
from devstack.infra import FerretDB, Kafka, ManagedProcess, StartError, free_ports, wait_until
from devstack.processes import PlatformProcesses
from devstack.run import DEFAULT_PORTS, Endpoints, api_url, seed_demo_data, service_env, wait_services_ready
from devstack.tokens import ensure_keypair, issue_token
from tests.factories import UNIT, online_filing, pdf_bytes

WORKERS = ("intake-worker", "processing-worker", "notify-worker", "portal-worker")
APIS = ("intake-api", "processing-api", "notify-api", "portal-api")


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of the live processes of process group `pgid` (gunicorn's master and its
    workers, or one worker), summed."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            total += int((stat.parent / "statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
    return total


@dataclass
class Platform:
    processes: PlatformProcesses
    infra: dict[str, ManagedProcess]
    sink: Sink
    bootstrap: str
    officer: dict[str, str]
    public_key: Path
    copies: dict[str, list[str]] = field(default_factory=dict)  # worker → names of its running copies
    health: dict[str, int] = field(default_factory=dict)  # a worker copy → its health port

    def url(self, service: str) -> str:
        return api_url(service, self.processes.ports)

    def groups(self) -> dict[str, int]:
        """Every running process (and the infrastructure) → its process group."""
        running = {
            name: self.processes.pid(name) for name in self.processes.procs if self.processes.running(name)
        }
        return running | {
            name: p.proc.pid for name, p in self.infra.items() if p.proc and p.proc.poll() is None
        }

    def cpu_seconds(self) -> dict[str, float]:
        return {name: group_cpu_seconds(pgid) for name, pgid in self.groups().items()}

    def rss_bytes(self) -> dict[str, int]:
        return {name: group_rss_bytes(pgid) for name, pgid in self.groups().items()}

    def store_commands(self) -> dict[str, int]:
        """Commands FerretDB has answered so far, by command (its Prometheus counter)."""
        ferretdb = self.infra["ferretdb"]
        assert isinstance(ferretdb, FerretDB)
        text = requests.get(f"http://127.0.0.1:{ferretdb.debug_port}/debug/metrics", timeout=10).text
        counts: dict[str, int] = {}
        for line in text.splitlines():
            if line.startswith("ferretdb_client_requests_total{"):
                labels, _, value = line.rpartition(" ")
                command = labels.split('command="', 1)[1].split('"', 1)[0]
                counts[command] = counts.get(command, 0) + int(float(value))
        return counts

    def stop_workers(self) -> None:
        for worker in WORKERS:
            for name in self.copies.pop(worker, []):
                self.processes.stop(name)

    def start_workers(self, copies: int = 1, workers: tuple[str, ...] = WORKERS) -> None:
        """`copies` processes of each of `workers` (each copy its own health port), until each says
        its consumers and relay run."""
        for worker in workers:
            names = self.copies.setdefault(worker, [])
            while len(names) < copies:
                name = worker if not names else f"{worker}-{len(names) + 1}"
                # The Procfile sets HEALTH_PORT from <SERVICE>_WORKER_PORT: a copy gets its own.
                setting = f"{worker.split('-')[0].upper()}_WORKER_PORT"
                health = self.processes.ports[setting] if not names else free_ports(1)[0]
                self.processes.start(name, worker, **{setting: str(health)})
                self.health[name] = health
                names.append(name)
        for worker in workers:
            for name in self.copies[worker]:
                self.processes.wait_worker_running(worker.split("-")[0], name=name, port=self.health[name])

    def file_probe(self, session: requests.Session, email: str) -> requests.Response:
        """One online filing (a 100 KiB PDF, then the dossier) naming `email`."""
        uploaded = session.post(
            f"{self.url('intake')}/api/v1/uploads",
            files={"file": ("to-khai.pdf", pdf_bytes(100 * 1024), "application/pdf")},
            timeout=30,
        )
        if uploaded.status_code != 201:
            return uploaded
        body = online_filing(uploaded.json()["id"])
        body["applicant"] = {**body["applicant"], "email": email}
        return session.post(f"{self.url('intake')}/api/v1/dossiers", json=body, timeout=30)


@contextmanager
def running_platform(workdir: Path) -> Iterator[Platform]:
    """Infrastructure, seed, every API and one copy of each worker, ready to file (intake has the
    catalogue); everything stopped on exit."""
    names = [name for name in DEFAULT_PORTS if name.endswith("_PORT")]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    kafka = Kafka(
        "kafka", workdir / "kafka", port=ports["KAFKA_PORT"], controller_port=ports["KAFKA_CONTROLLER_PORT"]
    )
    # Its metrics count the commands it answers: the store operations a filing costs.
    ferretdb = FerretDB(
        "ferretdb", workdir / "ferretdb", port=ports["MONGO_PORT"], debug_port=free_ports(1)[0]
    )
    sink = Sink("mailpit", workdir / "mailpit", smtp_port=ports["SMTP_PORT"], http_port=ports["MAILPIT_PORT"])
    infra: dict[str, ManagedProcess] = {"kafka": kafka, "ferretdb": ferretdb, "mailpit": sink}
    processes: PlatformProcesses | None = None
    try:
        for process in infra.values():
            process.start()
        for process in infra.values():
            process.wait_ready()
        private_key, public_key = ensure_keypair(workdir / "keys")
        certs = ensure_unit_certificates(workdir / "signing")
        endpoints = Endpoints(ferretdb.url, kafka.bootstrap, sink.smtp_url, sink.api_url)
        env = service_env(endpoints, ports, public_key, workdir / "data", certs)
        # Every benchmark client files from this one address.
        env["UPLOAD_RATE_LIMIT"] = "1000000/minute"
        seed_demo_data(env)
        (workdir / "logs").mkdir()
        processes = PlatformProcesses(env, ports, workdir / "logs")
        for name in APIS:
            processes.start(name)
        token = issue_token(["receptionist"], [UNIT], user_id=f"tn.{UNIT}", private_key=private_key)
        platform = Platform(
            processes, infra, sink, kafka.bootstrap, {"Authorization": f"Bearer {token}"}, public_key
        )
        platform.start_workers()
        not_ready = wait_services_ready(ports, timeout=120)
        if not_ready:
            raise StartError(f"not ready: {not_ready}")
        with requests.Session() as session:
            # The catalogue reaches intake through Kafka: filings are refused until it has.
            if not wait_until(
                lambda: platform.file_probe(session, "thu@bench.example.vn").status_code == 201, 120, 1
            ):
                raise StartError("intake never took a filing (its catalogue did not arrive)")
        yield platform
    finally:
        if processes is not None:
            processes.stop_all()
        for process in reversed(list(infra.values())):
            process.stop()
