"""Single sign-on through an OpenID Connect provider: the authorization-code flow with PKCE.

The provider proves who the officer is; processing still decides whether they may sign in: the
claim `OIDC_USERNAME_CLAIM` (default `preferred_username`) must name an active account of the
staff directory, and the second-factor rules stay processing's. authlib runs the OAuth 2 client
(state, PKCE, the code exchange); the ID token is verified with PyJWT against the provider's key
set, with its issuer, audience (our client id), expiry and the nonce of this sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session

TIMEOUT_SECONDS = 5
SCOPE = "openid profile"


class OidcRefused(Exception):
    """The provider's answer does not sign anyone in (the reason is for the log, not the page)."""


@dataclass(frozen=True)
class Started:
    url: str
    state: str
    nonce: str
    code_verifier: str


class Provider:
    def __init__(self, issuer: str, client_id: str, client_secret: str, username_claim: str) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.username_claim = username_claim
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched once per process."""
        if self._metadata is None:
            answer = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=TIMEOUT_SECONDS)
            answer.raise_for_status()
            found: dict[str, Any] = answer.json()
            if found.get("issuer") != self.issuer:
                raise OidcRefused("the discovery document names another issuer")
            self._metadata = found
        return self._metadata

    def _client(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT_SECONDS,
        )

    def start(self, redirect_uri: str) -> Started:
        """Where to send the browser, and what the callback must find again."""
        nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        url, state = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], nonce=nonce, code_verifier=verifier
        )
        return Started(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def username(self, redirect_uri: str, code: str, nonce: str, code_verifier: str) -> str:
        """Exchange the code for the ID token, verify it, and return the user id it names."""
        try:
            token = self._client(redirect_uri).fetch_token(
                self.metadata()["token_endpoint"], code=code, code_verifier=code_verifier
            )
        except Exception as exc:  # the provider refused the code, or did not answer
            raise OidcRefused(f"code exchange failed: {type(exc).__name__}") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("no ID token")
        if self._keys is None:
            self._keys = jwt.PyJWKClient(self.metadata()["jwks_uri"], timeout=TIMEOUT_SECONDS)
        try:
            claims = jwt.decode(
                id_token,
                self._keys.get_signing_key_from_jwt(id_token).key,
                algorithms=["RS256", "ES256"],
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["sub", "exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcRefused(f"ID token refused: {type(exc).__name__}") from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcRefused("nonce mismatch")
        username = claims.get(self.username_claim)
        if not isinstance(username, str) or not username:
            raise OidcRefused(f"no {self.username_claim} claim")
        return username
