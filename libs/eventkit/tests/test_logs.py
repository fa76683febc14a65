"""JSON logs: one object per line with the service and correlation id, and no personal data in a
traceback, whatever the exception's message quotes."""

from __future__ import annotations

import io
import json
import logging

from eventkit.logs import ContextFilter, ScrubbedJsonFormatter, correlation


def logged(emit) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbedJsonFormatter("{asctime}{levelname}{name}{message}", style="{"))
    handler.addFilter(ContextFilter("notify"))
    logger = logging.getLogger("test-logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        emit(logger)
    finally:
        logger.handlers[:] = []
    [line] = stream.getvalue().splitlines()
    return json.loads(line)


def test_a_traceback_keeps_its_shape_but_not_the_addresses_numbers_and_values_it_quotes():
    def emit(logger):
        try:
            raise RuntimeError("550 <nguyen.van.an@example.vn> refused; ID 001203004567; 'Nguyễn Văn An'")
        except RuntimeError:
            with correlation("c-1"):
                logger.warning("sending failed; retrying later", exc_info=True)

    record = logged(emit)
    assert record["message"] == "sending failed; retrying later"
    assert record["service"] == "notify" and record["correlationid"] == "c-1"
    trace = record["exc_info"]
    assert "Traceback (most recent call last)" in trace and "RuntimeError" in trace
    assert 'test_logs.py", line' in trace  # where it happened is kept
    for personal in ("nguyen.van.an@example.vn", "001203004567", "Nguyễn Văn An"):
        assert personal not in trace
    assert "<email>" in trace and "<number>" in trace


def test_a_record_without_an_exception_is_left_as_it_is():
    record = logged(lambda logger: logger.info("postal batch closed", extra={"day": "2026-12-06"}))
    assert record["message"] == "postal batch closed" and record["day"] == "2026-12-06"
    assert "exc_info" not in record
