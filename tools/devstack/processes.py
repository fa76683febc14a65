"""Every Procfile process (each service's API and worker) as its own child process, so that a
test or a benchmark can kill one of them, start it again or start a second copy while the others
keep running. Under honcho (`make run`) one process ending stops all of them; here each process has
its own process group and log file.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from devstack.infra import StartError, wait_until
from devstack.paths import ROOT
from devstack.run import worker_url

PROCFILE = ROOT / "Procfile"


def procfile_entries(path: Path = PROCFILE) -> dict[str, str]:
    """The Procfile's processes: name → shell command."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        entries[name.strip()] = command.strip()
    return entries


class PlatformProcesses:
    """The Procfile's processes with one environment; each started, killed or stopped by name."""

    def __init__(self, env: Mapping[str, str], ports: Mapping[str, int], log_dir: Path) -> None:
        self.env = dict(env)
        self.ports = dict(ports)
        self.log_dir = log_dir
        self.commands = procfile_entries()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, entry: str | None = None, **env: str) -> None:
        """Start the Procfile's `entry` (default `name`) as `name`, with `env` over the platform's:
        a second copy of a worker is `start("notify-worker-2", "notify-worker", HEALTH_PORT=…)`."""
        if self.running(name):
            raise RuntimeError(f"{name} is running already")
        with self.log_path(name).open("ab") as log:
            # `exec`: the process group's leader is the command itself (gunicorn's master, or the
            # worker's Python through `env`), not a shell waiting for it.
            self.procs[name] = subprocess.Popen(
                ["bash", "-c", f"exec {self.commands[entry or name]}"],
                env={**self.env, **env},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def pid(self, name: str) -> int:
        """The process's pid, which is also its process group's (each runs in its own session)."""
        return self.procs[name].pid

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL to the process and its children: no shutdown hook runs, nothing is flushed."""
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def stop(self, name: str, timeout: float = 30.0) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    def worker_checks(self, service: str, port: int | None = None) -> dict[str, Any]:
        """The worker's readiness checks (empty while it does not answer), on its Procfile port or
        on `port` (a copy started with a health port of its own)."""
        base = f"http://127.0.0.1:{port}" if port else worker_url(service, self.ports)
        try:
            answer = requests.get(f"{base}/readyz", timeout=2)
            return dict(answer.json()["checks"])
        except (requests.RequestException, ValueError, KeyError):
            return {}

    def wait_worker_running(
        self, service: str, timeout: float = 90.0, name: str | None = None, port: int | None = None
    ) -> None:
        """Until the worker `name` (default the service's one) says its consumers and relay run."""
        name = name or f"{service}-worker"
        if not wait_until(lambda: self.worker_checks(service, port).get("running") is True, timeout, 0.5):
            raise StartError(f"{name} is not running\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""
