"""Development staff tokens, signed with a key pair made on first use under .local/keys.

Every service started by `make run` or the tests trusts the public half (JWT_PUBLIC_KEY_FILE).
Production points the services at an OIDC provider's JWKS instead.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

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
