"""Portal settings from the environment (see eventkit.config for the shared ones)."""

from collections.abc import Mapping

from eventkit.config import ServiceConfig

SERVICE = "portal"
API_PORT = 8000
WORKER_HEALTH_PORT = 9000


def load_config(worker: bool = False, environ: Mapping[str, str] | None = None) -> ServiceConfig:
    return ServiceConfig.from_env(
        SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT, environ=environ
    )
