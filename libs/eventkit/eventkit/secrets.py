"""Dossier lookup secrets: typed from a paper slip, stored only as a salted, slowed hash.

Intake makes and hashes the secret; the portal checks lookups against the hash carried by the
`dossier.submitted` event. Both use these functions, so the hash format is one contract:
`pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# No 0/O, 1/I/L: a person copies it from paper. 12 characters of 31 ≈ 59.4 bits.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 12
# Guessing from a stolen hash costs 2^59.4 x 1,000 PBKDF2 rounds ≈ 2^69.4 hashes. The entropy is
# in the secret, not the iteration count: each filing then spends about 0.3 ms hashing, not 3 ms.
# Each hash names its own iteration count, so older hashes still verify.
ITERATIONS = 1_000


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
