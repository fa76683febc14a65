"""Processing settings from the environment (see eventkit.config for the shared ones)."""

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from eventkit.config import ConfigError, ServiceConfig

SERVICE = "processing"
API_PORT = 8002
WORKER_HEALTH_PORT = 9002


@dataclass(frozen=True)
class ProcessingConfig(ServiceConfig):
    # The units' signing keys and certificates (layout in processing.signing); without it results
    # cannot be signed and issuing one answers with a clear error.
    signing_certs_dir: str | None = None
    # How often the worker raises the dossiers' due-soon and overdue warnings.
    deadline_watch_seconds: float = 60.0


def load_config(
    worker: bool = False, auth: bool = True, environ: Mapping[str, str] | None = None
) -> ProcessingConfig:
    env = os.environ if environ is None else environ
    base = ServiceConfig.from_env(
        SERVICE, worker=worker, auth=auth, default_health_port=WORKER_HEALTH_PORT, environ=env
    )
    signing_certs_dir = env.get("SIGNING_CERTS_DIR") or None
    if signing_certs_dir and not Path(signing_certs_dir).is_dir():
        raise ConfigError(f"{SERVICE}: SIGNING_CERTS_DIR is not a directory: {signing_certs_dir}")
    try:
        deadline_watch_seconds = float(env.get("DEADLINE_WATCH_SECONDS", 60))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: DEADLINE_WATCH_SECONDS is not a number") from exc
    if not deadline_watch_seconds > 0:
        raise ConfigError(f"{SERVICE}: DEADLINE_WATCH_SECONDS must be positive")
    return ProcessingConfig(
        **asdict(base), signing_certs_dir=signing_certs_dir, deadline_watch_seconds=deadline_watch_seconds
    )
