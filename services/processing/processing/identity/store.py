"""The identity collections: credentials, console sessions and token signing keys.

Kept apart from the staff directory (`staff`): an account's audited record never holds its
password hash or second-factor secret, and reading the directory never reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from eventkit.mongo import Db, Document

# `_id` = user id: password hash, failures since the last success, lock, second factor.
CREDENTIALS = "credentials"
# `_id` = SHA-256 of the session cookie's value (a stolen copy of the store opens no session).
SESSIONS = "sessions"
# `_id` = key id (`kid`): the private key (encrypted), its public JWK, when it was made.
SIGNING_KEYS = "signing_keys"
# `_id` = "signin": which roles must use a second factor.
SETTINGS = "identity_settings"


def ensure_indexes(db: Db) -> None:
    db[SESSIONS].create_index([("user_id", ASCENDING)], name="user_id")
    db[SESSIONS].create_index([("expires_at", ASCENDING)], name="expires_at")


# -- credentials -----------------------------------------------------------------------------------


def get_credentials(db: Db, user_id: str) -> Document | None:
    return db[CREDENTIALS].find_one({"_id": user_id})


def set_password_hash(db: Db, user_id: str, password_hash: str, at: datetime, must_change: bool) -> None:
    """A new password: failures and lock cleared (an administrator's reset unlocks the account)."""
    db[CREDENTIALS].update_one(
        {"_id": user_id},
        {
            "$set": {
                "password_hash": password_hash,
                "password_changed_at": at,
                "must_change": must_change,
                "failures": 0,
                "locked_until": None,
            }
        },
        upsert=True,
    )


def replace_password_hash(db: Db, user_id: str, old_hash: str, new_hash: str) -> None:
    """The same password hashed with today's parameters, unless it changed meanwhile."""
    db[CREDENTIALS].update_one(
        {"_id": user_id, "password_hash": old_hash}, {"$set": {"password_hash": new_hash}}
    )


def record_failure(db: Db, user_id: str, window_start: datetime, at: datetime) -> Document | None:
    """One more failure, counted from `at` if the last ones are older than `window_start`.

    Two single-document updates, each conditional: the count restarts only when the counting
    window has passed, so concurrent failures are all counted."""
    db[CREDENTIALS].update_one(
        {"_id": user_id, "$or": [{"first_failure_at": None}, {"first_failure_at": {"$lt": window_start}}]},
        {"$set": {"failures": 0, "first_failure_at": at}},
    )
    return db[CREDENTIALS].find_one_and_update(
        {"_id": user_id}, {"$inc": {"failures": 1}}, return_document=ReturnDocument.AFTER
    )


def lock(db: Db, user_id: str, until: datetime) -> None:
    db[CREDENTIALS].update_one({"_id": user_id}, {"$set": {"locked_until": until}})


def record_success(db: Db, user_id: str, at: datetime) -> None:
    db[CREDENTIALS].update_one(
        {"_id": user_id},
        {"$set": {"failures": 0, "first_failure_at": None, "locked_until": None, "last_signed_in_at": at}},
    )


def set_second_factor(db: Db, user_id: str, fields: Document) -> None:
    db[CREDENTIALS].update_one({"_id": user_id}, {"$set": fields})


def enable_second_factor(db: Db, user_id: str, fields: Document) -> bool:
    """Turn the second factor on unless it already is (its secret is then kept)."""
    result = db[CREDENTIALS].update_one({"_id": user_id, "totp_enabled": {"$ne": True}}, {"$set": fields})
    return result.modified_count == 1


def use_totp_step(db: Db, user_id: str, step: int) -> bool:
    """Record that the code of time step `step` was used; False if it (or a later one) already was,
    so a code seen over a shoulder cannot be replayed."""
    result = db[CREDENTIALS].update_one(
        {"_id": user_id, "$or": [{"totp_last_step": None}, {"totp_last_step": {"$lt": step}}]},
        {"$set": {"totp_last_step": step}},
    )
    return result.modified_count == 1


# -- sessions --------------------------------------------------------------------------------------


def insert_session(db: Db, session_hash: str, record: Document) -> None:
    db[SESSIONS].insert_one({"_id": session_hash, **record})


def get_session(db: Db, session_hash: str) -> Document | None:
    return db[SESSIONS].find_one({"_id": session_hash})


def touch_session(db: Db, session_hash: str, idle_expires_at: datetime) -> None:
    db[SESSIONS].update_one({"_id": session_hash}, {"$set": {"idle_expires_at": idle_expires_at}})


def delete_session(db: Db, session_hash: str) -> None:
    db[SESSIONS].delete_one({"_id": session_hash})


def delete_sessions_of(db: Db, user_id: str) -> int:
    return db[SESSIONS].delete_many({"user_id": user_id}).deleted_count


def delete_expired_sessions(db: Db, now: datetime) -> int:
    return db[SESSIONS].delete_many({"expires_at": {"$lt": now}}).deleted_count


# -- signing keys ----------------------------------------------------------------------------------


def get_signing_key(db: Db, kid: str) -> Document | None:
    return db[SIGNING_KEYS].find_one({"_id": kid})


def get_signing_keys(db: Db, kids: list[str]) -> list[Document]:
    return list(db[SIGNING_KEYS].find({"_id": {"$in": kids}}))


def insert_signing_key(db: Db, kid: str, record: Document) -> bool:
    """Store a new key unless another process stored one for the same id first."""
    try:
        db[SIGNING_KEYS].insert_one({"_id": kid, **record})
        return True
    except DuplicateKeyError:
        return False


# -- settings --------------------------------------------------------------------------------------


def get_settings(db: Db) -> Document:
    found = db[SETTINGS].find_one({"_id": "signin"})
    return found or {"_id": "signin", "totp_required_roles": [], "version": 0}


def replace_settings(db: Db, expected_version: int, fields: dict[str, Any]) -> bool:
    record = {**fields, "version": expected_version + 1}
    if expected_version == 0:
        try:
            db[SETTINGS].insert_one({"_id": "signin", **record})
            return True
        except DuplicateKeyError:
            return False
    result = db[SETTINGS].replace_one({"_id": "signin", "version": expected_version}, record)
    return result.modified_count == 1
