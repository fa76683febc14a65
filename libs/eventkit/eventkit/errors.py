"""How a failure is classified decides whether an event is retried or dead-lettered."""

from pymongo.errors import ConnectionFailure


class TransientError(Exception):
    """A failure that may pass by itself (a dependency briefly unavailable): retry the event."""


# Dependency outages: the store, a socket (SMTP, HTTP), or an explicit transient failure.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (TransientError, ConnectionFailure, OSError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)
