"""Every service's API and worker as real processes, as `make run` starts them (honcho)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devstack.infra import free_ports
from devstack.run import (
    DEFAULT_PORTS,
    Endpoints,
    seed_demo_data,
    service_env,
    start_services,
    stop_services,
    wait_services_ready,
)


def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one folder of files (blob stores) of every platform a session starts: they share the
    session's databases too, so a later platform finds the files an earlier one's records name
    (notify's print batch takes every letter still waiting, whoever signed it)."""
    folder = tmp_path_factory.getbasetemp() / "platform-data"
    folder.mkdir(exist_ok=True)
    return folder


def services_environment(
    infra: Any,
    jwt_public_key: Path,
    signing_certs: Path,
    tmp_path_factory: pytest.TempPathFactory,
    data_dir: Path | None = None,
    **settings: str,
) -> tuple[dict[str, int], dict[str, str]]:
    """Free ports for every API and worker, and the services' environment on the test
    infrastructure with `settings`; files under `data_dir` (default: the session's one folder)."""
    names = [name for name in DEFAULT_PORTS if name.endswith("_PORT")]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    endpoints = Endpoints(infra.mongo_url, infra.bootstrap, infra.mailpit.smtp_url, infra.mailpit.api_url)
    env = service_env(
        endpoints, ports, jwt_public_key, data_dir or shared_data_dir(tmp_path_factory), signing_certs
    )
    env.update(settings)
    return ports, env


@contextmanager
def running_services(
    infra: Any,
    jwt_public_key: Path,
    signing_certs: Path,
    tmp_path_factory: pytest.TempPathFactory,
    data_dir: Path | None = None,
    **settings: str,
) -> Iterator[dict[str, int]]:
    """The seeded platform on the test infrastructure with `settings`; the ports by name. The
    services keep their files under `data_dir` (default: the session's one folder)."""
    ports, env = services_environment(
        infra, jwt_public_key, signing_certs, tmp_path_factory, data_dir, **settings
    )
    log = tmp_path_factory.mktemp("services") / "honcho.log"
    seed_demo_data(env)
    honcho = start_services(env, log_path=log)
    try:
        not_ready = wait_services_ready(ports, timeout=120)
        assert not not_ready, f"not ready: {not_ready}\n{log.read_text()[-4000:]}"
        yield ports
    finally:
        stop_services(honcho)
