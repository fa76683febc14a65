"""Who is asking, checked before the request body is read."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from eventkit.auth import Staff, authenticate

F = TypeVar("F", bound=Callable[..., Any])


def authenticate_first(view: F) -> F:
    """Verify an `Authorization` header before the body is parsed: a bad token is 401 whatever the
    body. Put it above the `@blp` decorators; the view reads the officer with `request_staff()`."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.request_staff = authenticate() if request.headers.get("Authorization") else None
        return view(*args, **kwargs)

    return cast(F, wrapper)


def request_staff() -> Staff | None:
    """The officer whose token came with this request (checked by `authenticate_first`), if any."""
    staff: Staff | None = g.get("request_staff")
    return staff
