"""Notify settings from the environment (see eventkit.config for the shared ones)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

from eventkit.config import ConfigError, ServiceConfig

SERVICE = "notify"
API_PORT = 8003
WORKER_HEALTH_PORT = 9003


@dataclass(frozen=True)
class NotifyConfig(ServiceConfig):
    # The relay every email goes through: smtp://[user:password@]host:port, or smtps:// for TLS.
    smtp_url: str = "smtp://127.0.0.1:1025"
    mail_from: str = "Bộ phận một cửa <motcua@luongtai.example.vn>"
    # The public portal, for the dossier lookup links in citizens' emails.
    portal_url: str = "http://127.0.0.1:8000"
    # Another template folder (same layout as notify/templates); the shipped one by default.
    templates_dir: str | None = None
    # How often the sender looks for notifications due, and how many it sends per batch.
    send_interval_seconds: float = 2.0
    send_batch: int = 50
    # A claim holds a notification in `sending` this long; the sweeper returns it after that.
    send_lease_seconds: float = 120.0
    # Emails per receiving unit per minute (a relay's quota shared fairly); 0 = no limit.
    unit_rate_per_minute: int = 0
    smtp_timeout_seconds: float = 10.0
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


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    try:
        value = kind(env.get(name, default))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: {name} is not a number") from exc
    if value < 0:
        raise ConfigError(f"{SERVICE}: {name} must not be negative")
    return float(value)


def load_config(worker: bool = False, environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """NOTIFY_BLOB_URL, when set, wins over BLOB_URL: one environment shared by several services
    (`make run`) gives each its own store."""
    env = os.environ if environ is None else environ
    base = ServiceConfig.from_env(SERVICE, worker=worker, default_health_port=WORKER_HEALTH_PORT, environ=env)
    smtp_url = env.get("SMTP_URL") or NotifyConfig.smtp_url
    if urlsplit(smtp_url).scheme not in ("smtp", "smtps") or not urlsplit(smtp_url).hostname:
        raise ConfigError(f"{SERVICE}: SMTP_URL must be smtp://host:port or smtps://host:port")
    portal_url = (env.get("PORTAL_URL") or NotifyConfig.portal_url).rstrip("/")
    if not portal_url.startswith(("http://", "https://")):
        raise ConfigError(f"{SERVICE}: PORTAL_URL must be an http(s) URL: {portal_url}")
    templates_dir = env.get("EMAIL_TEMPLATES_DIR") or None
    if templates_dir and not Path(templates_dir).is_dir():
        raise ConfigError(f"{SERVICE}: EMAIL_TEMPLATES_DIR is not a directory: {templates_dir}")
    interval = _number(env, "SEND_INTERVAL_SECONDS", 2.0)
    if not interval > 0:
        raise ConfigError(f"{SERVICE}: SEND_INTERVAL_SECONDS must be positive")
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
    batch_seconds = _number(env, "POSTAL_BATCH_SECONDS", 60.0)
    if not batch_seconds > 0:
        raise ConfigError(f"{SERVICE}: POSTAL_BATCH_SECONDS must be positive")
    return NotifyConfig(
        **asdict(base),
        smtp_url=smtp_url,
        mail_from=env.get("MAIL_FROM") or NotifyConfig.mail_from,
        portal_url=portal_url,
        templates_dir=templates_dir,
        send_interval_seconds=interval,
        send_batch=max(1, int(_number(env, "SEND_BATCH", 50, int))),
        send_lease_seconds=_number(env, "SEND_LEASE_SECONDS", 120.0) or 120.0,
        unit_rate_per_minute=int(_number(env, "UNIT_EMAIL_RATE_PER_MINUTE", 0, int)),
        smtp_timeout_seconds=_number(env, "SMTP_TIMEOUT_SECONDS", 10.0) or 10.0,
        signing_certs_dir=signing_certs_dir,
        blob_url=blob_url,
        postal_hmac_key=env.get("POSTAL_HMAC_KEY", "").encode(),
        postal_cutoff=cutoff,
        postal_batch_seconds=batch_seconds,
    )
