"""Processing settings from the environment (see eventkit.config for the shared ones)."""

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from eventkit.config import ConfigError, ServiceConfig

SERVICE = "processing"
API_PORT = 8002
WORKER_HEALTH_PORT = 9002
MIB = 1024 * 1024
# The largest signed result sent to notify: in base64 with its envelope it fits the results topic's
# records (8 MiB), and twice that fits one store command (16 MiB), which an outbox entry the
# broker refused needs: the relay removes it and keeps it aside in the same update.
MAX_ATTACHED_RESULT = 11 * MIB // 2


@dataclass(frozen=True)
class ProcessingConfig(ServiceConfig):
    # The units' signing keys and certificates (layout in eventkit.signing); without it results
    # cannot be signed and issuing one answers with a clear error.
    signing_certs_dir: str | None = None
    # Where result files' bytes are kept (eventkit.blobs): the drafts officers upload and the
    # signed results. Processing's own store, never another service's.
    blob_url: str = ""
    upload_max_bytes: int = 20 * MIB
    # How often the worker raises the dossiers' due-soon and overdue warnings.
    deadline_watch_seconds: float = 60.0
    # Intake's API as the officers' browsers reach it: a dossier's documents link to their download
    # there (`<INTAKE_URL>/api/v1/uploads/<id>`, the officer's own token). Empty: the path alone.
    intake_url: str = ""
    # Intake's API as processing itself reaches it, for the counter's filings (a cluster-internal
    # address, where the browsers' INTAKE_URL is a public one). Default: INTAKE_URL.
    intake_api_url: str = ""
    # Notify's API as the officers' browsers reach it: the console links to its slips and registers
    # (`<NOTIFY_URL>/api/v1/...`, a link token processing signs). Empty: the path alone.
    notify_url: str = ""
    # A signed result at most this large is sent to notify (processing.results.v1) and attached
    # to the citizen's email when the dossier is delivered online; a larger one is downloaded or
    # collected instead. At most MAX_ATTACHED_RESULT.
    result_attach_max_bytes: int = 5 * MIB
    # Staff identity (processing.identity): the secret the token signing keys are stored encrypted
    # with (without it nobody can sign in: 503), how often a new key is made, how long a token
    # from `POST /api/v1/token` lives, and the console's forms key (else one kept in the store).
    staff_keys_secret: str | None = None
    staff_key_rotation_days: int = 30
    staff_token_minutes: int = 480
    web_secret_key: str | None = None
    signin_rate_limit: str = "30/minute"
    rate_limit_storage_uri: str = "memory://"
    # Single sign-on through an OpenID Connect provider (processing.identity.oidc): all three set,
    # or none (no button on the sign-in page). The claim holding the staff user id.
    oidc_issuer_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_username_claim: str = "preferred_username"


def load_config(
    worker: bool = False, auth: bool = True, environ: Mapping[str, str] | None = None
) -> ProcessingConfig:
    """Settings of the API (which needs the blob store), the worker or a tool (`auth=False`).

    PROCESSING_BLOB_URL, when set, wins over BLOB_URL: one environment shared by several services
    (`make run`) gives each its own store."""
    env = os.environ if environ is None else environ
    base = ServiceConfig.from_env(
        SERVICE, worker=worker, auth=auth, default_health_port=WORKER_HEALTH_PORT, environ=env, own_keys=True
    )
    signing_certs_dir = env.get("SIGNING_CERTS_DIR") or None
    if signing_certs_dir and not Path(signing_certs_dir).is_dir():
        raise ConfigError(f"{SERVICE}: SIGNING_CERTS_DIR is not a directory: {signing_certs_dir}")
    blob_url = env.get("PROCESSING_BLOB_URL") or env.get("BLOB_URL") or ""
    if not blob_url and auth and not worker:
        raise ConfigError(
            f"{SERVICE}: missing required environment variable: BLOB_URL (e.g. file:///var/lib/motcua/blobs)"
        )
    try:
        upload_max_bytes = int(env.get("UPLOAD_MAX_BYTES", 20 * MIB))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: {exc}") from exc
    try:
        deadline_watch_seconds = float(env.get("DEADLINE_WATCH_SECONDS", 60))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: DEADLINE_WATCH_SECONDS is not a number") from exc
    if not deadline_watch_seconds > 0:
        raise ConfigError(f"{SERVICE}: DEADLINE_WATCH_SECONDS must be positive")
    try:
        result_attach_max_bytes = int(env.get("RESULT_ATTACH_MAX_BYTES", 5 * MIB))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: RESULT_ATTACH_MAX_BYTES is not a number") from exc
    if not 0 <= result_attach_max_bytes <= MAX_ATTACHED_RESULT:
        raise ConfigError(f"{SERVICE}: RESULT_ATTACH_MAX_BYTES must be between 0 and {MAX_ATTACHED_RESULT}")
    try:
        staff_key_rotation_days = int(env.get("STAFF_KEY_ROTATION_DAYS", 30))
        staff_token_minutes = int(env.get("STAFF_TOKEN_MINUTES", 480))
    except ValueError as exc:
        raise ConfigError(f"{SERVICE}: {exc}") from exc
    # The previous period's key stays published one period: a token must live less than that.
    if staff_key_rotation_days < 1 or not 1 <= staff_token_minutes < staff_key_rotation_days * 24 * 60:
        raise ConfigError(
            f"{SERVICE}: need STAFF_KEY_ROTATION_DAYS >= 1 and 1 <= STAFF_TOKEN_MINUTES < the rotation period"
        )
    intake_url = (env.get("INTAKE_URL") or "").rstrip("/")
    if intake_url and not intake_url.startswith(("http://", "https://")):
        raise ConfigError(f"{SERVICE}: INTAKE_URL must be an http(s) URL: {intake_url}")
    intake_api_url = (env.get("INTAKE_API_URL") or intake_url).rstrip("/")
    if intake_api_url and not intake_api_url.startswith(("http://", "https://")):
        raise ConfigError(f"{SERVICE}: INTAKE_API_URL must be an http(s) URL: {intake_api_url}")
    notify_url = (env.get("NOTIFY_URL") or "").rstrip("/")
    if notify_url and not notify_url.startswith(("http://", "https://")):
        raise ConfigError(f"{SERVICE}: NOTIFY_URL must be an http(s) URL: {notify_url}")
    oidc = {
        name: (env.get(name) or "").strip()
        for name in ("OIDC_ISSUER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
    }
    if any(oidc.values()) and not all(oidc.values()):
        raise ConfigError(
            f"{SERVICE}: set all of OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET or none"
        )
    if oidc["OIDC_ISSUER_URL"] and not oidc["OIDC_ISSUER_URL"].startswith(("http://", "https://")):
        raise ConfigError(f"{SERVICE}: OIDC_ISSUER_URL must be an http(s) URL")
    # Processing is the issuer: it verifies tokens with its own keys, never a key set URL (in a
    # shared environment JWT_JWKS_URL points at processing itself).
    return ProcessingConfig(
        **{**asdict(base), "jwt_jwks_url": None},
        signing_certs_dir=signing_certs_dir,
        blob_url=blob_url,
        upload_max_bytes=upload_max_bytes,
        deadline_watch_seconds=deadline_watch_seconds,
        intake_url=intake_url,
        intake_api_url=intake_api_url,
        notify_url=notify_url,
        result_attach_max_bytes=result_attach_max_bytes,
        staff_keys_secret=env.get("STAFF_KEYS_SECRET") or None,
        staff_key_rotation_days=staff_key_rotation_days,
        staff_token_minutes=staff_token_minutes,
        web_secret_key=env.get("WEB_SECRET_KEY") or None,
        signin_rate_limit=env.get("SIGNIN_RATE_LIMIT") or "30/minute",
        rate_limit_storage_uri=env.get("RATE_LIMIT_STORAGE_URI") or "memory://",
        oidc_issuer_url=oidc["OIDC_ISSUER_URL"].rstrip("/"),
        oidc_client_id=oidc["OIDC_CLIENT_ID"],
        oidc_client_secret=oidc["OIDC_CLIENT_SECRET"],
        oidc_username_claim=env.get("OIDC_USERNAME_CLAIM") or "preferred_username",
    )
