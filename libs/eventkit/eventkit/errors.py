"""How a failure is classified decides whether an event is retried or dead-lettered."""

from typing import Any

from pymongo.errors import ConnectionFailure


class TransientError(Exception):
    """A failure that may pass by itself (a dependency briefly unavailable): retry the event."""


# Dependency outages: the store, a socket (SMTP, HTTP), or an explicit transient failure.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (TransientError, ConnectionFailure, OSError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


class DomainError(Exception):
    """A use case's refusal; the web layer answers it with `status` and the message."""

    status = 400


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Unauthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class TooLarge(DomainError):
    status = 413


class UnsupportedType(DomainError):
    status = 415


class InvalidData(DomainError):
    """Rules broken by the request, in marshmallow's error shape: `{field: [messages]}`, under
    `location` (the body, `json`, unless the fields are query arguments, `query`)."""

    status = 422

    def __init__(self, errors: dict[str, Any], location: str = "json") -> None:
        super().__init__("Dữ liệu không hợp lệ.")
        self.errors = errors
        self.location = location
