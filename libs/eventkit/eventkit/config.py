"""Settings every service reads from the environment; a missing required value stops the start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(RuntimeError):
    pass


# Staff tokens are issued by processing for every MotCua API; production sets its OIDC values.
DEFAULT_JWT_ISSUER = "motcua-processing"
DEFAULT_JWT_AUDIENCE = "motcua"


@dataclass(frozen=True)
class ServiceConfig:
    service: str
    mongo_url: str
    mongo_db: str
    kafka_bootstrap: str | None
    jwt_public_key: str | None
    jwt_jwks_url: str | None
    jwt_issuer: str
    jwt_audience: str
    log_level: str = "INFO"
    health_port: int = 0
    max_content_length: int = 1024 * 1024
    # Topics a worker creates get these; one broker locally, the cluster sets 3 and 2.
    kafka_replication_factor: int = 1
    kafka_min_insync_replicas: int = 1

    @classmethod
    def from_env(
        cls,
        service: str,
        *,
        worker: bool = False,
        auth: bool = True,
        default_health_port: int = 0,
        environ: Mapping[str, str] | None = None,
        own_keys: bool = False,
    ) -> ServiceConfig:
        """`own_keys`: the service verifies tokens with keys it holds itself (processing, the
        issuer), so a public key or a key set URL is optional."""
        env = os.environ if environ is None else environ
        missing = [name for name in ("MONGO_URL",) if not env.get(name)]
        if worker and not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            missing.append("KAFKA_BOOTSTRAP_SERVERS")
        key = env.get("JWT_PUBLIC_KEY")
        key_file = env.get("JWT_PUBLIC_KEY_FILE")
        if not key and key_file:
            path = Path(key_file)
            if not path.is_file():
                raise ConfigError(f"JWT_PUBLIC_KEY_FILE does not exist: {key_file}")
            key = path.read_text()
        jwks_url = env.get("JWT_JWKS_URL")
        if auth and not own_keys and not key and not jwks_url:
            missing.append("JWT_PUBLIC_KEY_FILE (or JWT_PUBLIC_KEY or JWT_JWKS_URL)")
        if missing:
            raise ConfigError(f"{service}: missing required environment variables: {', '.join(missing)}")
        try:
            health_port = int(env.get("HEALTH_PORT", default_health_port))
            max_content_length = int(env.get("MAX_CONTENT_LENGTH", 1024 * 1024))
            replication_factor = int(env.get("KAFKA_REPLICATION_FACTOR", 1))
            min_insync_replicas = int(env.get("KAFKA_MIN_INSYNC_REPLICAS", 1))
        except ValueError as exc:
            raise ConfigError(f"{service}: {exc}") from exc
        if not 1 <= min_insync_replicas <= replication_factor:
            # More in-sync replicas than copies would make every acks=all write fail.
            raise ConfigError(
                f"{service}: need 1 <= KAFKA_MIN_INSYNC_REPLICAS ({min_insync_replicas})"
                f" <= KAFKA_REPLICATION_FACTOR ({replication_factor})"
            )
        return cls(
            service=service,
            mongo_url=env["MONGO_URL"],
            mongo_db=env.get("MONGO_DB", f"motcua_{service}"),
            kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS"),
            jwt_public_key=key,
            jwt_jwks_url=jwks_url,
            jwt_issuer=env.get("JWT_ISSUER") or DEFAULT_JWT_ISSUER,
            jwt_audience=env.get("JWT_AUDIENCE") or DEFAULT_JWT_AUDIENCE,
            log_level=env.get("LOG_LEVEL", "INFO"),
            health_port=health_port,
            max_content_length=max_content_length,
            kafka_replication_factor=replication_factor,
            kafka_min_insync_replicas=min_insync_replicas,
        )
