"""Intake settings from the environment (see eventkit.config for the shared ones)."""

import os
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


def load_config(worker: bool = False) -> IntakeConfig:
    base = ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT)
    try:
        return IntakeConfig(
            **asdict(base),
            upload_max_bytes=int(os.environ.get("UPLOAD_MAX_BYTES", 20 * MIB)),
            upload_ttl_hours=int(os.environ.get("UPLOAD_TTL_HOURS", 24)),
        )
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: {exc}") from exc
