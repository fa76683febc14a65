"""A moving window of requests per client address, counted with `limits` (the library under
Flask-Limiter) and checked only on the routes that need it: Flask-Limiter's per-request hooks
resolve every route's limits, a cost paid by requests that are not limited at all.

Counts live in `RATE_LIMIT_STORAGE_URI`: "memory://" keeps them per API process; a store shared by
the processes (e.g. Redis) makes the limit exact across them. A shared store that fails does not
stop the requests: they are counted in the process meanwhile.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import parse, storage, strategies

log = logging.getLogger(__name__)


class ClientLimit:
    """At most `rate` (`limits` notation, e.g. "20/minute") requests of one kind per client."""

    def __init__(self, rate: str, storage_uri: str, namespace: str) -> None:
        self.limit = parse(rate)
        self.namespace = namespace
        self.window = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        self.fallback = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def _counted(self, action: str, client: str) -> Any:
        try:
            return getattr(self.window, action)(self.limit, self.namespace, client)
        except Exception:
            log.warning("%s limit store unreachable: counting in this process", self.namespace, exc_info=True)
            return getattr(self.fallback, action)(self.limit, self.namespace, client)

    def allows(self, client: str) -> bool:
        """Count one request of `client`; False once it is over the limit."""
        return bool(self._counted("hit", client))

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again."""
        stats = self._counted("get_window_stats", client)
        return max(1, math.ceil(float(stats.reset_time) - time.time()))
