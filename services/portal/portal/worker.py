"""`python -m portal.worker`: the outbox relay, portal's consumer groups and scheduled publishing."""

import logging
import os
import threading

from prometheus_client import Counter

from eventkit.config import ConfigError
from eventkit.mongo import Db
from eventkit.worker import Duty, run_service_worker
from portal import handlers, store
from portal.config import load_config
from portal.search import StoreSearch
from portal.service import content

log = logging.getLogger(__name__)
SCHEDULED_PUBLISHED = Counter("content_scheduled_published_total", "Scheduled items the worker published")


def publish_interval(environ: dict[str, str] | None = None) -> float:
    """PUBLISH_CHECK_SECONDS: how often scheduled articles and documents are looked for (5 s)."""
    raw = (os.environ if environ is None else environ).get("PUBLISH_CHECK_SECONDS", "5")
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ConfigError("portal: PUBLISH_CHECK_SECONDS is not a number") from exc
    if not seconds > 0:
        raise ConfigError("portal: PUBLISH_CHECK_SECONDS must be positive")
    return seconds


def scheduled_publisher(db: Db, interval: float) -> Duty:
    """Publish what is scheduled once its time has come; a full batch is followed by the next at once."""
    index = StoreSearch(db)

    def run_scheduled_publisher(stop: threading.Event) -> None:
        while not stop.is_set():
            published = 0
            try:
                published = content.publish_due(db, index)
                SCHEDULED_PUBLISHED.inc(published)
                if published:
                    log.info("scheduled content published", extra={"count": published})
            except Exception:
                log.warning("scheduled publishing failed; retrying later", exc_info=True)
            stop.wait(0 if published >= content.PUBLISH_BATCH else interval)

    return run_scheduled_publisher


def main() -> None:
    interval = publish_interval()
    run_service_worker(
        load_config(worker=True),
        connect=store.connect,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        build_handlers=handlers.build_handlers,
        ensure_indexes=store.ensure_indexes,
        duties=lambda db: [scheduled_publisher(db, interval)],
    )


if __name__ == "__main__":
    main()
