"""Notify settings from the environment (see eventkit.config for the shared ones)."""

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import time
from pathlib import Path

from eventkit.config import ConfigError, ServiceConfig

SERVICE = "notify"
API_PORT = 8003
WORKER_HEALTH_PORT = 9003


@dataclass(frozen=True)
class NotifyConfig(ServiceConfig):
    # The units' signing keys and certificates (layout in eventkit.signing): letters are signed
    # with the issuing unit's certificate, as processing signs results.
    signing_certs_dir: str | None = None
    # Where the signed letters and the print batches are kept (eventkit.blobs): notify's own store.
    blob_url: str = ""
    # The key the postal operator signs its status reports with (HMAC-SHA256, notify/postal.py).
    # Empty: reports are refused.
    postal_hmac_key: bytes = b""
    # The local time the day's print batch closes: letters signed after it go in the next one.
    postal_cutoff: time = time(16, 0)
    # How often the worker checks whether the day's batch is due.
    postal_batch_seconds: float = 60.0


def load_config(worker: bool = False, environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """NOTIFY_BLOB_URL, when set, wins over BLOB_URL: one environment shared by several services
    (`make run`) gives each its own store."""
    env = os.environ if environ is None else environ
    base = ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT, environ=env)
    signing_certs_dir = env.get("SIGNING_CERTS_DIR") or None
    if signing_certs_dir and not Path(signing_certs_dir).is_dir():
        raise ConfigError(f"{SERVICE}: SIGNING_CERTS_DIR is not a directory: {signing_certs_dir}")
    blob_url = env.get("NOTIFY_BLOB_URL") or env.get("BLOB_URL") or ""
    if not blob_url:
        raise ConfigError(
            f"{SERVICE}: missing required environment variable: BLOB_URL (e.g. file:///var/lib/motcua/blobs)"
        )
    try:
        cutoff = time.fromisoformat(env.get("POSTAL_CUTOFF", "16:00"))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: POSTAL_CUTOFF is not a time of day (HH:MM)") from exc
    try:
        batch_seconds = float(env.get("POSTAL_BATCH_SECONDS", 60))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: POSTAL_BATCH_SECONDS is not a number") from exc
    if not batch_seconds > 0:
        raise ConfigError(f"{SERVICE}: POSTAL_BATCH_SECONDS must be positive")
    return NotifyConfig(
        **asdict(base),
        signing_certs_dir=signing_certs_dir,
        blob_url=blob_url,
        postal_hmac_key=env.get("POSTAL_HMAC_KEY", "").encode(),
        postal_cutoff=cutoff,
        postal_batch_seconds=batch_seconds,
    )
