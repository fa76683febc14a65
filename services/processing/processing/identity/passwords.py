"""Officers' passwords, hashed with argon2id (argon2-cffi's default parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
MIN_LENGTH = 10
MAX_LENGTH = 128
# Checked when the user id is unknown, so that a wrong name costs the same time as a wrong password.
_UNKNOWN_USER_HASH = HASHER.hash("no such account: the time of a real check")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _UNKNOWN_USER_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


def weakness(password: str, user_id: str) -> str | None:
    """Why a new password is refused, in Vietnamese; None if it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự."
    if len(password) > MAX_LENGTH:
        return f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự."
    if user_id.lower() in password.lower():
        return "Mật khẩu không được chứa tên đăng nhập."
    if len(set(password)) < 5:
        return "Mật khẩu quá đơn giản."
    return None
