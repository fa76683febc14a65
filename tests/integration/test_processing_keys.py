"""Processing's token keys on the real store: one key per rotation period, the previous one still
verifying, older ones refused, processes agreeing on one key, a key set with no private part;
and the worker's sweep of ended console sessions."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from processing.identity import sessions
from processing.identity import store as identity_store
from processing.identity.keys import KeySet, KeysUnavailable
from processing.worker import session_sweep

pytestmark = pytest.mark.integration
SECRET = "secret of the key tests"
ROTATION = timedelta(minutes=10)
PRIVATE_PARTS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


class Clock:
    """A settable clock: seconds since the epoch, starting at the real now."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def key_set(db, clock=time.time, secret: str | None = SECRET) -> KeySet:
    return KeySet(db, secret, issuer="motcua-processing", audience="motcua", rotation=ROTATION, clock=clock)


def verifies(keys: KeySet, token: str) -> bool:
    public = keys.public_key_for(jwt.get_unverified_header(token)["kid"])
    if public is None:
        return False
    # The clock of the test runs ahead of the real one: times are checked loosely, the key exactly.
    leeway = 3 * ROTATION.total_seconds()
    jwt.decode(
        token, public, algorithms=["RS256"], audience="motcua", issuer="motcua-processing", leeway=leeway
    )
    return True


def test_the_previous_periods_key_still_verifies_and_one_two_periods_old_does_not(mongo_db):
    clock = Clock()
    keys = key_set(mongo_db, clock)
    token = keys.issue({"sub": "leader-1"}, timedelta(hours=1))
    first_kid = jwt.get_unverified_header(token)["kid"]
    assert first_kid == f"k{keys.period()}" and verifies(keys, token)

    clock.now += ROTATION.total_seconds()
    newer = keys.issue({"sub": "leader-1"}, timedelta(hours=1))
    assert jwt.get_unverified_header(newer)["kid"] != first_kid, "a new period signs with a new key"
    assert verifies(keys, token), "a token of the previous period lives until it expires"
    assert [k["kid"] for k in keys.jwks()["keys"]] == keys.published_kids()

    clock.now += ROTATION.total_seconds()
    assert not verifies(keys, token), "two periods old: no longer published"
    assert first_kid not in [k["kid"] for k in keys.jwks()["keys"]]
    assert verifies(keys, newer)


def test_two_processes_racing_agree_on_one_key_per_period(mongo_db):
    clock = Clock()
    processes = [key_set(mongo_db, clock), key_set(mongo_db, clock)]
    barrier = threading.Barrier(2)
    made: dict[int, object] = {}

    def sign(index: int) -> None:
        barrier.wait()
        made[index] = processes[index].current()

    threads = [threading.Thread(target=sign, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert made[0].kid == made[1].kid and made[0].public_jwk == made[1].public_jwk
    assert mongo_db[identity_store.SIGNING_KEYS].count_documents({}) == 1
    token = processes[0].issue({"sub": "leader-1"}, timedelta(minutes=5))
    assert verifies(processes[1], token), "one process's token verifies in the other"


def test_the_published_key_set_holds_no_private_part(mongo_db):
    clock = Clock()
    keys = key_set(mongo_db, clock)
    keys.current()
    clock.now += ROTATION.total_seconds()
    published = keys.jwks()["keys"]
    assert len(published) == 2
    for jwk in published:
        assert not PRIVATE_PARTS & set(jwk), jwk["kid"]
        assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    stored = mongo_db[identity_store.SIGNING_KEYS].find_one({"_id": published[0]["kid"]})
    assert "ENCRYPTED PRIVATE KEY" in stored["private_pem"]


def test_without_the_secret_keys_are_published_but_none_is_made_or_used(mongo_db):
    clock = Clock()
    key_set(mongo_db, clock).current()
    reader = key_set(mongo_db, clock, secret=None)
    assert [k["kid"] for k in reader.jwks()["keys"]] == [f"k{reader.period()}"]
    with pytest.raises(KeysUnavailable):
        reader.issue({"sub": "leader-1"}, timedelta(minutes=5))
    clock.now += ROTATION.total_seconds()
    with pytest.raises(KeysUnavailable):
        reader.current()


def test_the_workers_sweep_deletes_the_sessions_past_their_lifetime(mongo_db):
    identity_store.ensure_indexes(mongo_db)
    now = datetime.now(UTC)
    ended = sessions.start(mongo_db, "leader-1", now - sessions.LIFETIME - timedelta(minutes=1))
    live = sessions.start(mongo_db, "leader-1", now)
    stop = threading.Event()
    duty = threading.Thread(target=session_sweep(mongo_db, every=30), args=(stop,))
    duty.start()
    try:
        deadline = time.monotonic() + 20
        while mongo_db[identity_store.SESSIONS].count_documents({}) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        duty.join(10)
    assert not duty.is_alive(), "the duty stops when asked"
    left = [s["_id"] for s in mongo_db[identity_store.SESSIONS].find({})]
    assert left == [sessions._hash(live)] and sessions._hash(ended) not in left
