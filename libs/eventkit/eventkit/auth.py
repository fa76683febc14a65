"""Staff identity: RS256 bearer tokens verified against a public key, a JWKS URL or the issuer's own keys.

Processing issues the staff tokens and publishes its key set at `/.well-known/jwks.json`; the
other services verify against that URL (JWT_JWKS_URL), processing against its own keys (a
`key_resolver`). A fixed public key (JWT_PUBLIC_KEY_FILE) serves development tools and tests.

Claims: `sub` (user id), `name`, `roles` (see Roles), `units` (unit codes the officer serves), and
`iss`, `aud`, `exp`, all required: a token another issuer signed for another audience with a key
we happen to trust is still refused. Missing or invalid token: 401. Valid token without the role
or the unit: 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

import jwt
from flask import current_app, g, request
from flask_smorest import abort

ALGORITHMS = ["RS256"]
# The audience of a link token: processing signs it for one path of another service (an upload at
# intake, a slip at notify) and one officer; see `link_staff`.
LINK_AUDIENCE = "motcua-link"
# A key set that does not answer holds a request this long at most (pyjwt's default is 30 s).
JWKS_TIMEOUT_SECONDS = 5


class Roles:
    RECEPTIONIST = "receptionist"
    SPECIALIST = "specialist"
    LEADER = "leader"
    ADMIN = "admin"
    EDITOR = "editor"
    ALL = frozenset({RECEPTIONIST, SPECIALIST, LEADER, ADMIN, EDITOR})
    STAFF = frozenset({RECEPTIONIST, SPECIALIST, LEADER, ADMIN})


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Staff:
    user_id: str
    name: str
    roles: frozenset[str]
    units: frozenset[str]

    def has_any_role(self, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.roles & roles)

    def serves(self, unit: str) -> bool:
        return unit in self.units


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key: str | None = None,
        jwks_url: str | None = None,
        key_resolver: Callable[[str], Any | None] | None = None,
    ) -> None:
        if not public_key and not jwks_url and key_resolver is None:
            raise ValueError("a public key, a JWKS URL or a key resolver is required")
        if not issuer or not audience:
            raise ValueError("the expected issuer and audience are required")
        self.public_key = public_key
        self.jwks = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, timeout=JWKS_TIMEOUT_SECONDS) if jwks_url else None
        )
        self.key_resolver = key_resolver
        self.issuer = issuer
        self.audience = audience

    def _key(self, token: str) -> Any:
        """The key that must have signed `token`: for a token naming its key (`kid`), the
        resolver's or the key set's; for one that does not, the fixed key (development tools)."""
        kid = jwt.get_unverified_header(token).get("kid")
        if self.key_resolver is not None and isinstance(kid, str):
            key = self.key_resolver(kid)
            if key is not None:
                return key
        if self.jwks is not None and (kid or not self.public_key):
            return self.jwks.get_signing_key_from_jwt(token).key
        if self.public_key:
            return self.public_key
        raise jwt.InvalidKeyError("the token's key is not one of ours")

    def verify(self, token: str) -> Staff:
        return staff_of(self.claims(token))

    def claims(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """The verified claims of `token` (for `audience`, our audience by default); AuthError else."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(token),
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                audience=audience or self.audience,
                options={"require": ["sub", "exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(str(exc)) from exc
        return claims


def staff_of(claims: dict[str, Any]) -> Staff:
    roles, units = claims.get("roles", []), claims.get("units", [])
    if not isinstance(roles, list) or not isinstance(units, list):
        raise AuthError("roles and units must be lists")
    return Staff(
        user_id=str(claims["sub"]),
        name=str(claims.get("name", "")),
        roles=frozenset(str(r) for r in roles) & Roles.ALL,
        units=frozenset(str(u) for u in units),
    )


def link_staff() -> Staff | None:
    """The officer of the link token in `?token=` (processing.identity.links), signed for exactly
    this request's path; None when the request has no token. An invalid or expired token is 401,
    a token for another path 403: a link opens the one file it was made for."""
    token = request.args.get("token", "")
    if not token:
        return None
    verifier: TokenVerifier = current_app.extensions["token_verifier"]
    try:
        claims = verifier.claims(token, audience=LINK_AUDIENCE)
        staff = staff_of(claims)
    except AuthError:
        abort(401, message="Đường dẫn đã hết hạn hoặc không hợp lệ; hãy mở lại từ trang hồ sơ.")
    if claims.get("path") != request.path:
        abort(403, message="Đường dẫn này không dành cho tệp được yêu cầu.")
    return staff


def current_staff() -> Staff:
    """The staff member of this request, set by `staff_required`."""
    return cast(Staff, g.staff)


def authenticate() -> Staff:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Cần đăng nhập: thiếu mã xác thực (Bearer token).")
    verifier: TokenVerifier = current_app.extensions["token_verifier"]
    try:
        return verifier.verify(token.strip())
    except AuthError:
        abort(401, message="Mã xác thực không hợp lệ hoặc đã hết hạn.")
    raise AssertionError("unreachable")


F = TypeVar("F", bound=Callable[..., Any])


def staff_required(*roles: str, links: bool = False) -> Callable[[F], F]:
    """Require a valid token with at least one of `roles`; with none named, any staff role.

    A token whose roles are all unknown or only `editor` (the portal's content role) is not staff.
    Put it above `@blp.arguments`, so a request without a valid token is refused before its body
    is parsed: 401 rather than 422 with the field errors. `links`: a request without an
    `Authorization` header may instead carry a link token for its path (`link_staff`), the way an
    officer's browser opens a file from the console.
    """
    wanted = frozenset(roles) or Roles.STAFF

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            linked = link_staff() if links and not request.headers.get("Authorization") else None
            staff = linked or authenticate()
            if not staff.has_any_role(wanted):
                abort(403, message="Tài khoản không có quyền thực hiện thao tác này.")
            g.staff = staff
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def require_unit(unit: str) -> None:
    """403 unless the current staff member serves `unit`."""
    if not current_staff().serves(unit):
        abort(403, message="Tài khoản không thuộc đơn vị xử lý hồ sơ này.")
