"""The console's sign-in sessions: an opaque cookie value, its hash kept in processing's store.

A session ends after 12 hours, or after 2 hours without a request, or when the officer signs
out, or when their account is deactivated or their password is reset (all sessions of the
account are deleted). Each request reads the account again, so a role or unit taken away counts
from the next page, not from the next sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eventkit.auth import Roles, Staff
from eventkit.mongo import Db
from processing import store as processing_store
from processing.identity import store

LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(hours=2)
# The idle expiry is written at most this often (not on every page).
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Session:
    token_hash: str
    staff: Staff
    must_change_password: bool


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def start(db: Db, user_id: str, now: datetime | None = None) -> str:
    """A new session for the account; returns the cookie's value (shown to nobody else)."""
    now = now or datetime.now(UTC)
    value = secrets.token_urlsafe(32)
    store.insert_session(
        db,
        _hash(value),
        {
            "user_id": user_id,
            "created_at": now,
            "expires_at": now + LIFETIME,
            "idle_expires_at": now + IDLE_TIMEOUT,
        },
    )
    return value


def resume(db: Db, value: str | None, now: datetime | None = None) -> Session | None:
    """The session of a cookie's value, if it is live and its account active; None otherwise."""
    if not value or len(value) > 100:
        return None
    now = now or datetime.now(UTC)
    token_hash = _hash(value)
    record = store.get_session(db, token_hash)
    if record is None:
        return None
    if record["expires_at"] <= now or record["idle_expires_at"] <= now:
        store.delete_session(db, token_hash)
        return None
    account = processing_store.get_staff(db, record["user_id"])
    if account is None or not account["active"]:
        store.delete_session(db, token_hash)
        return None
    if record["idle_expires_at"] - IDLE_TIMEOUT + TOUCH_EVERY <= now:
        store.touch_session(db, token_hash, now + IDLE_TIMEOUT)
    credentials = store.get_credentials(db, record["user_id"]) or {}
    staff = Staff(
        user_id=account["user_id"],
        name=account["name"],
        roles=frozenset(account["roles"]) & Roles.ALL,
        units=frozenset(account["units"]),
    )
    return Session(
        token_hash=token_hash, staff=staff, must_change_password=bool(credentials.get("must_change"))
    )


def end(db: Db, value: str | None) -> None:
    if value:
        store.delete_session(db, _hash(value))


def end_all(db: Db, user_id: str) -> int:
    return store.delete_sessions_of(db, user_id)
