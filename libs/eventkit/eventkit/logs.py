"""JSON logs, one object per line, each carrying the service and the current correlation id.

The correlation id lives in a context variable: the web layer sets it per request, the consumer
runner per event, so every record logged meanwhile carries it without being passed around.
Never log personal data: log ids (dossier code, event id), not names, numbers or addresses.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from eventkit.redact import scrub_lines

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)


class ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlationid = correlation_id.get()
        cause = causation_id.get()
        if cause is not None:
            record.causationid = cause
        return True


class ScrubbedJsonFormatter(JsonFormatter):
    """JSON records whose tracebacks carry no personal data: an exception's message may quote
    what it failed on (an address the relay refused, a value a driver rejected)."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return _scrubbed(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return _scrubbed(super().formatStack(stack_info))


def _scrubbed(formatted: str | list[str]) -> str:
    return scrub_lines(formatted if isinstance(formatted, str) else "\n".join(formatted))


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        ScrubbedJsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    )
    handler.addFilter(ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The Kafka client logs every reconnect attempt at INFO; keep its warnings only.
    logging.getLogger("kafka").setLevel(logging.WARNING)


@contextmanager
def correlation(correlationid: str | None, causationid: str | None = None) -> Iterator[None]:
    token = correlation_id.set(correlationid)
    cause_token = causation_id.set(causationid)
    try:
        yield
    finally:
        correlation_id.reset(token)
        causation_id.reset(cause_token)


def continue_trace(correlationid: str | None) -> None:
    """Carry on the trace of what this request acts on (a dossier's correlation id, given when it
    was filed): the request's later log lines and the events it makes carry it, so one id follows a
    dossier through every service. Only inside a request or a `correlation` block, which put the
    previous id back when they end."""
    if isinstance(correlationid, str) and correlationid:
        correlation_id.set(correlationid)
