"""The seeded platform with each Procfile process on its own (`devstack.processes`), for tests
that kill and restart them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devstack.processes import PlatformProcesses
from devstack.run import seed_demo_data, wait_services_ready
from tests.running_services import services_environment

__all__ = ["PlatformProcesses", "platform_processes"]


@contextmanager
def platform_processes(
    infra: Any,
    jwt_public_key: Path,
    signing_certs: Path,
    tmp_path_factory: pytest.TempPathFactory,
    **settings: str,
) -> Iterator[PlatformProcesses]:
    """The seeded platform on the test infrastructure with `settings` (as `running_services`), each
    Procfile process on its own; stopped on exit."""
    ports, env = services_environment(infra, jwt_public_key, signing_certs, tmp_path_factory, **settings)
    seed_demo_data(env)
    processes = PlatformProcesses(env, ports, tmp_path_factory.mktemp("processes"))
    try:
        processes.start_all()
        not_ready = wait_services_ready(ports, timeout=120)
        assert not not_ready, f"not ready: {not_ready}\n" + "\n".join(
            processes.log_tail(name, 1500) for name in processes.commands
        )
        yield processes
    finally:
        processes.stop_all()
