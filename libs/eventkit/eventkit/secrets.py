"""Dossier lookup secrets: short enough to type from a paper slip, stored only as a slow hash.

Intake makes and hashes the secret; the portal checks lookups against the hash carried by the
`dossier.submitted` event. Both use these functions, so the hash format is one contract:
`pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# No 0/O, 1/I/L: a person copies it from paper. 10 characters of 31 ≈ 49.5 bits.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10
ITERATIONS = 10_000


def new_lookup_secret() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(secret: str) -> str:
    """What the person typed, without spaces or dashes, in capitals."""
    return "".join(ch for ch in secret.upper() if ch not in " -")


def hash_secret(secret: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", normalise(secret).encode(), salt, iterations)
    encode = base64.b64encode
    return f"pbkdf2_sha256${iterations}${encode(salt).decode()}${encode(digest).decode()}"


def verify_secret(secret: str, hashed: str) -> bool:
    try:
        scheme, iterations, salt, digest = hashed.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac(
            "sha256", normalise(secret).encode(), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
