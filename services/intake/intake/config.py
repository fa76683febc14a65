"""Intake settings from the environment (see eventkit.config for the shared ones)."""

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from eventkit.config import ConfigError, ServiceConfig

SERVICE = "intake"
API_PORT = 8001
WORKER_HEALTH_PORT = 9001
MIB = 1024 * 1024


@dataclass(frozen=True)
class IntakeConfig(ServiceConfig):
    upload_max_bytes: int = 20 * MIB
    # An upload not attached to a dossier within this time is removed by the worker.
    upload_ttl_hours: int = 24


def load_config(worker: bool = False, environ: Mapping[str, str] | None = None) -> IntakeConfig:
    env = os.environ if environ is None else environ
    base = ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT, environ=env)
    try:
        return IntakeConfig(
            **asdict(base),
            upload_max_bytes=int(env.get("UPLOAD_MAX_BYTES", 20 * MIB)),
            upload_ttl_hours=int(env.get("UPLOAD_TTL_HOURS", 24)),
        )
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: {exc}") from exc
