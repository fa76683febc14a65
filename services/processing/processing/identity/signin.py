"""Checking an officer's password and second factor, with lockout after repeated failures.

Five wrong passwords within 15 minutes lock the account for 15 minutes; an administrator's
password reset unlocks it. A locked account is refused before its password is checked, so the
lock also stops a guesser who happens to hit the right one. An unknown user id, an inactive
account and a wrong password get the same answer after the same hashing work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from eventkit.mongo import Db, Document
from processing import store as processing_store
from processing.deadlines import TZ
from processing.identity import passwords, store

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
# A time step's code is accepted one step early or late (clocks drift; typing takes time).
TOTP_WINDOW = 1
TOTP_ISSUER = "MotCua"


class SignInRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _locked_message(until: datetime) -> str:
    local = until.astimezone(TZ)
    return (
        f"Tài khoản tạm khoá do nhập sai mật khẩu nhiều lần; thử lại sau {local:%H:%M}"
        " hoặc liên hệ quản trị viên để đặt lại mật khẩu."
    )


def check_password(db: Db, user_id: str, password: str, now: datetime | None = None) -> Document:
    """The active account whose password this is; SignInRefused with the reason otherwise."""
    now = now or datetime.now(UTC)
    account = processing_store.get_staff(db, user_id)
    credentials = store.get_credentials(db, user_id) if account is not None else None
    locked_until = (credentials or {}).get("locked_until")
    if locked_until is not None and locked_until > now:
        raise SignInRefused(_locked_message(locked_until))
    password_hash = (credentials or {}).get("password_hash")
    if not passwords.verify(password_hash, password) or account is None or not account["active"]:
        if credentials is not None:
            counted = store.record_failure(db, user_id, now - FAILURE_WINDOW, now)
            if counted is not None and counted.get("failures", 0) >= MAX_FAILURES:
                store.lock(db, user_id, now + LOCK_TIME)
                raise SignInRefused(_locked_message(now + LOCK_TIME))
        raise SignInRefused(WRONG)
    assert password_hash is not None
    if passwords.needs_rehash(password_hash):
        store.replace_password_hash(db, user_id, password_hash, passwords.hash_password(password))
    return account


def signed_in(db: Db, user_id: str, now: datetime | None = None) -> None:
    """Every factor passed: the failure count starts again."""
    store.record_success(db, user_id, now or datetime.now(UTC))


def set_password(db: Db, user_id: str, password: str, *, must_change: bool) -> None:
    """Store a new password (its strength checked by the caller with `passwords.weakness`)."""
    store.set_password_hash(db, user_id, passwords.hash_password(password), datetime.now(UTC), must_change)


def has_password(db: Db, user_id: str) -> bool:
    return bool((store.get_credentials(db, user_id) or {}).get("password_hash"))


# -- second factor (TOTP, RFC 6238) --------------------------------------------------------------


def role_requires_totp(db: Db, roles: frozenset[str] | list[str]) -> bool:
    """Whether the administrator requires a second factor of one of `roles`."""
    return bool(set(store.get_settings(db).get("totp_required_roles", [])) & set(roles))


def totp_required(db: Db, account: Document) -> bool:
    """Whether the account must use a second factor: one of its roles requires it, or it enrolled."""
    return role_requires_totp(db, account["roles"]) or totp_enabled(db, account["user_id"])


def totp_enabled(db: Db, user_id: str) -> bool:
    return bool((store.get_credentials(db, user_id) or {}).get("totp_enabled"))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user_id: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user_id, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    step = totp.timecode(now)
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def locked(db: Db, user_id: str, now: datetime | None = None) -> str | None:
    """The lock's message if the account is locked now (between the password and the code too)."""
    now = now or datetime.now(UTC)
    locked_until = (store.get_credentials(db, user_id) or {}).get("locked_until")
    return _locked_message(locked_until) if locked_until is not None and locked_until > now else None


def _count_failure(db: Db, user_id: str, now: datetime) -> None:
    counted = store.record_failure(db, user_id, now - FAILURE_WINDOW, now)
    if counted is not None and counted.get("failures", 0) >= MAX_FAILURES:
        store.lock(db, user_id, now + LOCK_TIME)


def check_totp(db: Db, user_id: str, code: str, now: datetime | None = None) -> bool:
    """The code of the enrolled secret, not used before; a failure counts toward the lock, and a
    locked account's code is refused (the lock stops a guesser of codes as it does of passwords)."""
    now = now or datetime.now(UTC)
    if locked(db, user_id, now):
        return False
    secret = (store.get_credentials(db, user_id) or {}).get("totp_secret")
    step = _matching_step(secret, code, now) if secret else None
    if step is not None and store.use_totp_step(db, user_id, step):
        return True
    _count_failure(db, user_id, now)
    return False


def enrol_totp(db: Db, user_id: str, secret: str, code: str, now: datetime | None = None) -> bool:
    """Turn the second factor on once the officer typed a code of the new secret. A wrong code
    counts toward the lock; an account already enrolled keeps its secret (an old enrolment page
    cannot replace it)."""
    now = now or datetime.now(UTC)
    if locked(db, user_id, now):
        return False
    step = _matching_step(secret, code, now)
    fields = {"totp_secret": secret, "totp_enabled": True, "totp_last_step": step, "totp_enrolled_at": now}
    if step is None or not store.enable_second_factor(db, user_id, fields):
        _count_failure(db, user_id, now)
        return False
    return True


def disable_totp(db: Db, user_id: str) -> None:
    """The officer's own choice to stop using the second factor (not when their role requires it)."""
    store.set_second_factor(
        db,
        user_id,
        {"totp_secret": None, "totp_enabled": False, "totp_last_step": None, "totp_enrolled_at": None},
    )


def must_change_password(db: Db, user_id: str) -> bool:
    return bool((store.get_credentials(db, user_id) or {}).get("must_change"))
