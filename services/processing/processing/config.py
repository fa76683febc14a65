"""Processing settings from the environment (see eventkit.config for the shared ones)."""

from eventkit.config import ServiceConfig

SERVICE = "processing"
API_PORT = 8002
WORKER_HEALTH_PORT = 9002


def load_config(worker: bool = False, auth: bool = True) -> ServiceConfig:
    return ServiceConfig.from_env(SERVICE, worker=worker, auth=auth, default_health_port=WORKER_HEALTH_PORT)
