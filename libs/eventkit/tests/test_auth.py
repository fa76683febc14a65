import time

import jwt
import pytest

from devstack.tokens import ensure_keypair, issue_token
from eventkit.auth import AuthError, Roles, TokenVerifier


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return ensure_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def verifier(keys):
    return TokenVerifier(public_key=keys[1].read_text())


def test_a_valid_token_gives_the_officer_roles_and_units(keys, verifier):
    token = issue_token(
        [Roles.LEADER, "superuser"], ["264", "09496"], user_id="u1", name="Trần Văn An", private_key=keys[0]
    )
    staff = verifier.verify(token)
    assert staff.user_id == "u1" and staff.name == "Trần Văn An"
    assert staff.roles == {Roles.LEADER}, "unknown roles are dropped"
    assert staff.serves("09496") and not staff.serves("09499")


def test_an_expired_token_is_refused(keys, verifier):
    token = issue_token([Roles.ADMIN], ["264"], ttl_seconds=-10, private_key=keys[0])
    with pytest.raises(AuthError):
        verifier.verify(token)


def test_a_token_signed_by_another_key_is_refused(tmp_path, verifier):
    other = ensure_keypair(tmp_path)
    with pytest.raises(AuthError):
        verifier.verify(issue_token([Roles.ADMIN], ["264"], private_key=other[0]))


def test_a_shared_secret_token_is_refused(verifier):
    claims = {"sub": "x", "roles": ["admin"], "units": ["264"], "exp": int(time.time()) + 60}
    with pytest.raises(AuthError):
        verifier.verify(jwt.encode(claims, "a-shared-secret-of-enough-length-for-hs256", algorithm="HS256"))


def test_unsigned_tokens_are_refused(verifier):
    unsigned = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, key=None, algorithm="none")
    with pytest.raises(AuthError):
        verifier.verify(unsigned)


def test_roles_must_be_a_list(keys, verifier):
    token = jwt.encode(
        {"sub": "x", "exp": int(time.time()) + 60, "roles": "admin"}, keys[0].read_text(), algorithm="RS256"
    )
    with pytest.raises(AuthError):
        verifier.verify(token)
