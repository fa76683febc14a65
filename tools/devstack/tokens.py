"""Development staff tokens: signed with processing's own key set (as its sign-in signs them), or
with a key pair made on first use under .local/keys.

Every service started by `make run` or the tests trusts the development key's public half
(JWT_PUBLIC_KEY_FILE) for tokens that name no key, and processing's key set (JWT_JWKS_URL) for
tokens that do (`kid`), as production does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.paths import KEYS
from eventkit.config import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER


def ensure_keypair(directory: Path = KEYS) -> tuple[Path, Path]:
    private, public = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if private.exists() and public.exists():
        return private, public
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def issue_token(
    roles: list[str],
    units: list[str],
    *,
    user_id: str | None = None,
    name: str = "Cán bộ thử nghiệm",
    ttl_seconds: int = 12 * 3600,
    private_key: Path | None = None,
    issuer: str = DEFAULT_JWT_ISSUER,
    audience: str = DEFAULT_JWT_AUDIENCE,
    key_id: str | None = None,
) -> str:
    """A token the services accept with their default `JWT_ISSUER` and `JWT_AUDIENCE`."""
    key_path = private_key or ensure_keypair()[0]
    now = int(time.time())
    claims = {
        "sub": user_id or f"dev-{uuid.uuid4().hex[:8]}",
        "name": name,
        "roles": roles,
        "units": units,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    # A key set (JWKS) names its keys; a token says which one signed it.
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, key_path.read_text(), algorithm="RS256", headers=headers)


def processing_token(env: Mapping[str, str], account: Mapping[str, Any], ttl_seconds: int = 12 * 3600) -> str:
    """A staff token for `account` (user_id, name, roles, units) signed with processing's current
    key, opened in processing's store with the STAFF_KEYS_SECRET of `env`; it carries a `kid`."""
    from processing import staff_keys
    from processing import store as processing_store
    from processing.config import load_config

    config = load_config(auth=False, environ=env)
    db = processing_store.connect(config)
    try:
        return staff_keys(config, db).staff_token(dict(account), timedelta(seconds=ttl_seconds))
    finally:
        db.client.close()
