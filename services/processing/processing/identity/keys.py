"""The keys that sign staff tokens: one per rotation period, made by whichever process needs it first.

Time is cut into periods of `rotation` (30 days by default). The key of period `n` has the id
`k<n>`; the first process that signs in period `n` makes it and stores it (insert-if-absent, so
concurrent processes agree on one). The key set published at `/.well-known/jwks.json` holds the
current period's key and the previous one: a token signed just before a rotation stays valid
until it expires, because a token lives far shorter than a period. Private keys are stored
encrypted with STAFF_KEYS_SECRET (PKCS#8, the `cryptography` package's best available scheme).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from eventkit.mongo import Db
from processing.identity import store

DEFAULT_ROTATION = timedelta(days=30)
KEY_SIZE = 2048


class KeysUnavailable(RuntimeError):
    """No secret to keep the signing keys with: tokens cannot be issued."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey | None
    public_jwk: dict[str, Any]


class KeySet:
    def __init__(
        self,
        db: Db,
        secret: str | None,
        *,
        issuer: str,
        audience: str,
        rotation: timedelta = DEFAULT_ROTATION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.secret = secret.encode() if secret else None
        self.issuer = issuer
        self.audience = audience
        self.rotation = rotation
        self.clock = clock
        self._cache: dict[str, SigningKey] = {}

    # -- periods ---------------------------------------------------------------------------------

    def period(self, now: float | None = None) -> int:
        return int((self.clock() if now is None else now) // self.rotation.total_seconds())

    @staticmethod
    def kid_of(period: int) -> str:
        return f"k{period}"

    def published_kids(self, now: float | None = None) -> list[str]:
        current = self.period(now)
        return [self.kid_of(current), self.kid_of(current - 1)]

    # -- keys ------------------------------------------------------------------------------------

    def _load(self, record: dict[str, Any]) -> SigningKey:
        private = None
        if self.secret is not None:
            loaded = serialization.load_pem_private_key(record["private_pem"].encode(), password=self.secret)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            private = loaded
        return SigningKey(kid=record["_id"], private=private, public_jwk=record["public_jwk"])

    def _make(self, kid: str) -> None:
        if self.secret is None:
            raise KeysUnavailable("STAFF_KEYS_SECRET is not set")
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.secret),
        ).decode()
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
        store.insert_signing_key(
            self.db, kid, {"private_pem": pem, "public_jwk": jwk, "created_at": datetime.now(UTC)}
        )

    def key(self, kid: str, *, create: bool = False) -> SigningKey | None:
        cached = self._cache.get(kid)
        if cached is not None:
            return cached
        record = store.get_signing_key(self.db, kid)
        if record is None and create:
            self._make(kid)
            record = store.get_signing_key(self.db, kid)
        if record is None:
            return None
        loaded = self._load(record)
        self._cache[kid] = loaded
        return loaded

    def current(self) -> SigningKey:
        found = self.key(self.kid_of(self.period()), create=True)
        assert found is not None
        if found.private is None:
            raise KeysUnavailable("STAFF_KEYS_SECRET is not set")
        return found

    def public_key_for(self, kid: str) -> Any | None:
        """The public key to verify a token signed with `kid`, if that key is still published."""
        if kid not in self.published_kids():
            return None
        found = self.key(kid)
        return None if found is None else RSAAlgorithm.from_jwk(found.public_jwk)

    def jwks(self) -> dict[str, Any]:
        """The published key set (the current key made first if no process has made it yet)."""
        if self.secret is not None:
            self.current()
        records = store.get_signing_keys(self.db, self.published_kids())
        return {"keys": sorted((r["public_jwk"] for r in records), key=lambda jwk: jwk["kid"], reverse=True)}

    # -- tokens ----------------------------------------------------------------------------------

    def issue(self, claims: dict[str, Any], ttl: timedelta, audience: str | None = None) -> str:
        """A signed token with `claims`, our issuer, the audience and an expiry `ttl` from now."""
        signing = self.current()
        now = int(self.clock())
        body = {
            **claims,
            "iss": self.issuer,
            "aud": audience or self.audience,
            "iat": now,
            "nbf": now - 5,
            "exp": now + int(ttl.total_seconds()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(body, signing.private, algorithm="RS256", headers={"kid": signing.kid})

    def staff_token(self, account: dict[str, Any], ttl: timedelta) -> str:
        """A staff token for an account of the directory: its roles and units as they are now."""
        return self.issue(
            {
                "sub": account["user_id"],
                "name": account["name"],
                "roles": sorted(account["roles"]),
                "units": sorted(account["units"]),
            },
            ttl,
        )
