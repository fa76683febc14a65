"""The sender's wait: a consumer's nudge or the worker's stop ends it early; otherwise it lasts
its interval."""

from __future__ import annotations

import threading
import time

from notify.worker import Nudge


def timed_wait(nudge: Nudge, stop: threading.Event, seconds: float) -> float:
    started = time.monotonic()
    nudge.wait(stop, seconds)
    return time.monotonic() - started


def test_a_nudge_given_while_waiting_ends_the_wait() -> None:
    nudge, stop = Nudge(), threading.Event()
    threading.Timer(0.2, nudge.set).start()
    assert timed_wait(nudge, stop, 5.0) < 1.0


def test_a_nudge_given_before_the_wait_is_not_lost_and_is_used_once() -> None:
    nudge, stop = Nudge(), threading.Event()
    nudge.set()
    assert timed_wait(nudge, stop, 5.0) < 0.5
    assert timed_wait(nudge, stop, 0.3) >= 0.3  # the nudge was cleared by the first wait


def test_the_stop_ends_the_wait() -> None:
    nudge, stop = Nudge(), threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert timed_wait(nudge, stop, 5.0) < 1.0
