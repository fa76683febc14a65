import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from devstack.tokens import ensure_keypair, issue_token
from eventkit.auth import AuthError, Roles, TokenVerifier
from eventkit.config import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER

ISSUER, AUDIENCE = DEFAULT_JWT_ISSUER, DEFAULT_JWT_AUDIENCE


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return ensure_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def verifier(keys):
    return TokenVerifier(public_key=keys[1].read_text(), issuer=ISSUER, audience=AUDIENCE)


def signed(keys, claims, **headers):
    return jwt.encode(claims, keys[0].read_text(), algorithm="RS256", headers=headers or None)


def claims(**overrides):
    base = {
        "sub": "u1",
        "roles": [Roles.ADMIN],
        "units": ["264"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 60,
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


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
    with pytest.raises(AuthError):
        verifier.verify(signed(keys, claims(roles="admin")))


@pytest.mark.parametrize(
    "changed",
    [
        {"iss": None},
        {"iss": "someone-else"},
        {"aud": None},
        {"aud": "another-app"},
        {"aud": ["another-app", "yet-another"]},
    ],
    ids=["no-issuer", "other-issuer", "no-audience", "other-audience", "other-audiences"],
)
def test_the_issuer_and_the_audience_are_required_and_checked(keys, verifier, changed):
    assert verifier.verify(signed(keys, claims())).roles == {Roles.ADMIN}
    with pytest.raises(AuthError):
        verifier.verify(signed(keys, claims(**changed)))


def test_an_audience_list_naming_ours_is_accepted(keys, verifier):
    assert verifier.verify(signed(keys, claims(aud=["portal-cms", AUDIENCE]))).user_id == "u1"


def test_dev_tokens_carry_the_default_issuer_and_audience(keys, verifier):
    token = issue_token([Roles.SPECIALIST], ["264"], private_key=keys[0])
    unverified = jwt.decode(token, options={"verify_signature": False})
    assert unverified["iss"] == ISSUER and unverified["aud"] == AUDIENCE
    assert verifier.verify(token).roles == {Roles.SPECIALIST}


def test_a_verifier_without_an_issuer_or_an_audience_cannot_be_made(keys):
    public = keys[1].read_text()
    with pytest.raises(ValueError):
        TokenVerifier(public_key=public, issuer="", audience=AUDIENCE)
    with pytest.raises(ValueError):
        TokenVerifier(public_key=public, issuer=ISSUER, audience="")


# -- the OIDC path: keys from a JWK set served over HTTP ----------------------------------------


@pytest.fixture(scope="module")
def jwks_url(keys):
    """A local key set endpoint serving the test key pair's public half as kid `k1`."""
    public = serialization.load_pem_public_key(keys[1].read_bytes())
    jwk = {
        **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public)),
        "kid": "k1",
        "use": "sig",
        "alg": "RS256",
    }
    body = json.dumps({"keys": [jwk]}).encode()

    class KeySet(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeySet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def test_tokens_are_verified_with_the_key_set_served_by_the_jwks_url(keys, jwks_url, tmp_path):
    verifier = TokenVerifier(jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    token = issue_token([Roles.LEADER], ["264"], user_id="u9", private_key=keys[0], key_id="k1")
    staff = verifier.verify(token)
    assert staff.user_id == "u9" and staff.roles == {Roles.LEADER}

    other = ensure_keypair(tmp_path)
    for refused in (
        issue_token([Roles.LEADER], ["264"], private_key=other[0], key_id="k1"),  # not the set's key
        issue_token([Roles.LEADER], ["264"], private_key=keys[0], key_id="k2"),  # not in the set
        issue_token([Roles.LEADER], ["264"], private_key=keys[0], key_id="k1", issuer="elsewhere"),
        issue_token([Roles.LEADER], ["264"], private_key=keys[0], key_id="k1", audience="elsewhere"),
    ):
        with pytest.raises(AuthError):
            verifier.verify(refused)


def test_an_unreachable_key_set_refuses_the_token(keys):
    # Port 1 on the loopback: nothing listens, the fetch fails at once.
    verifier = TokenVerifier(jwks_url="http://127.0.0.1:1/jwks.json", issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(AuthError):
        verifier.verify(issue_token([Roles.ADMIN], ["264"], private_key=keys[0], key_id="k1"))


def test_the_expected_issuer_and_audience_come_from_the_environment_with_local_defaults(keys):
    from eventkit.config import ServiceConfig

    env = {"MONGO_URL": "mongodb://db/", "JWT_PUBLIC_KEY": keys[1].read_text()}
    local = ServiceConfig.from_env("processing", environ=env)
    assert (local.jwt_issuer, local.jwt_audience) == (ISSUER, AUDIENCE)
    oidc = ServiceConfig.from_env(
        "processing", environ={**env, "JWT_ISSUER": "https://id.example.vn", "JWT_AUDIENCE": "motcua-prod"}
    )
    assert (oidc.jwt_issuer, oidc.jwt_audience) == ("https://id.example.vn", "motcua-prod")
