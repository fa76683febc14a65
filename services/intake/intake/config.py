"""Intake settings from the environment (see eventkit.config for the shared ones)."""

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from limits import parse

from eventkit.config import ConfigError, ServiceConfig

SERVICE = "intake"
API_PORT = 8001
WORKER_HEALTH_PORT = 9001
MIB = 1024 * 1024


@dataclass(frozen=True)
class IntakeConfig(ServiceConfig):
    # Where uploads' bytes are kept (eventkit.blobs), shared by the API processes and the worker.
    blob_url: str = ""
    upload_max_bytes: int = 20 * MIB
    # An upload not attached to a dossier within this time is removed by the worker.
    upload_ttl_hours: int = 24
    # Uploads without a staff token, per client address (`limits` notation, e.g. "60/minute").
    upload_rate_limit: str = "60/minute"
    # Where the counts are kept. "memory://" counts per API process (so the limit is per process
    # locally); several processes share one count with a shared store such as "redis://host:6379".
    rate_limit_storage_uri: str = "memory://"
    # Proxies in front of the API that append the client's address to X-Forwarded-For (an ingress:
    # 1). Without it every client behind the proxy would share one upload limit.
    proxy_hops: int = 0
    # Most time one housekeeping run spends before leaving the rest of the backlog to the next.
    housekeeping_budget_seconds: float = 300.0


def load_config(worker: bool = False, environ: Mapping[str, str] | None = None) -> IntakeConfig:
    env = os.environ if environ is None else environ
    base = ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT, environ=env)
    if not env.get("BLOB_URL"):
        raise ConfigError(
            f"{SERVICE}: missing required environment variable: BLOB_URL (e.g. file:///var/lib/motcua/blobs)"
        )
    try:
        rate_limit = env.get("UPLOAD_RATE_LIMIT", "60/minute")
        parse(rate_limit)  # fail fast on a limit the limiter cannot read
        return IntakeConfig(
            **asdict(base),
            blob_url=env["BLOB_URL"],
            upload_max_bytes=int(env.get("UPLOAD_MAX_BYTES", 20 * MIB)),
            upload_ttl_hours=int(env.get("UPLOAD_TTL_HOURS", 24)),
            upload_rate_limit=rate_limit,
            rate_limit_storage_uri=env.get("RATE_LIMIT_STORAGE_URI", "memory://"),
            proxy_hops=int(env.get("PROXY_HOPS", 0)),
            housekeeping_budget_seconds=float(env.get("HOUSEKEEPING_BUDGET_SECONDS", 300)),
        )
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: {exc}") from exc
