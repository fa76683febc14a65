"""A service's real worker (`python -m <service>.worker`) as a process, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.infra import free_ports

ROOT = Path(__file__).resolve().parents[2]


def service_pythonpath(service: str) -> str:
    """What a service's processes import from: the shared libraries, the service, the root."""
    paths = [ROOT / "libs" / "eventkit", ROOT / "libs" / "webui", ROOT / "services" / service, ROOT]
    return os.pathsep.join(str(p) for p in paths)


@contextmanager
def service_worker(
    service: str, service_environ: dict[str, str], log: Path, **settings: str
) -> Iterator[Path]:
    """The worker with the platform's environment and `settings`; its log file. Stopped on exit."""
    [port] = free_ports(1)
    env = {
        **service_environ,
        "HEALTH_PORT": str(port),
        "PYTHONPATH": service_pythonpath(service),
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    with log.open("ab") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"{service}.worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield log
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
