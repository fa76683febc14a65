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
            jwt.PyJWKClient(jwks_url, cache_keys=True, timeout=JWKS_TIMEOUT_SECONDS)
            if jwks_url and not public_key
            else None
        )
        self.key_resolver = key_resolver
        self.issuer = issuer
        self.audience = audience

    def _key(self, token: str) -> Any:
        """The key of the token's `kid` from the resolver; else the key set's; else the fixed key."""
        if self.key_resolver is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.key_resolver(kid) if isinstance(kid, str) else None
            if key is not None:
                return key
        if self.jwks is not None:
            return self.jwks.get_signing_key_from_jwt(token).key
        if self.public_key:
            return self.public_key
        raise jwt.InvalidKeyError("the token's key is not one of ours")

    def verify(self, token: str) -> Staff:
        claims = self.claims(token)
        roles, units = claims.get("roles", []), claims.get("units", [])
        if not isinstance(roles, list) or not isinstance(units, list):
            raise AuthError("roles and units must be lists")
        return Staff(
            user_id=str(claims["sub"]),
            name=str(claims.get("name", "")),
            roles=frozenset(str(r) for r in roles) & Roles.ALL,
            units=frozenset(str(u) for u in units),
        )

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


def staff_required(*roles: str) -> Callable[[F], F]:
    """Require a valid token with at least one of `roles`; with none named, any staff role.

    A token whose roles are all unknown or only `editor` (the portal's content role) is not staff.
    Put it above `@blp.arguments`, so a request without a valid token is refused before its body
    is parsed: 401 rather than 422 with the field errors.
    """
    wanted = frozenset(roles) or Roles.STAFF

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = authenticate()
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
