"""Intake settings from the environment (see eventkit.config for the shared ones)."""

from eventkit.config import ServiceConfig

SERVICE = "intake"
API_PORT = 8001
WORKER_HEALTH_PORT = 9001


def load_config(worker: bool = False) -> ServiceConfig:
    return ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT)
