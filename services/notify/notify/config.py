"""Notify settings from the environment (see eventkit.config for the shared ones)."""

from eventkit.config import ServiceConfig

SERVICE = "notify"
API_PORT = 8003
WORKER_HEALTH_PORT = 9003


def load_config(worker: bool = False) -> ServiceConfig:
    return ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT)
