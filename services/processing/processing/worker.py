"""`python -m processing.worker`: the outbox relay, processing's consumer groups, the deadline
watch and the sweep of ended console sessions."""

import logging
import threading
import time
from datetime import UTC, datetime

from prometheus_client import Counter

from eventkit.mongo import Db
from eventkit.worker import Duty, run_service_worker
from processing import handlers, store
from processing.config import ProcessingConfig, load_config
from processing.identity import store as identity_store
from processing.service import deadlines_watch

log = logging.getLogger(__name__)
WARNINGS_RAISED = Counter(
    "deadline_warnings_raised_total", "Dossier deadline warnings raised by the worker", ["kind"]
)
# Ended sessions are refused when resumed whatever their age; the sweep only keeps the store small.
SESSION_SWEEP_SECONDS = 3600.0


def deadline_watch(db: Db, config: ProcessingConfig) -> Duty:
    """Raise the due-soon and overdue warnings that have fallen due, every
    `deadline_watch_seconds`; a run works through the whole backlog within that time."""

    def run_deadline_watch(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                until = time.monotonic() + config.deadline_watch_seconds
                raised = deadlines_watch.raise_due(db, until=until)
                for kind, count in raised.items():
                    WARNINGS_RAISED.labels(kind=kind).inc(count)
                log.info("deadline watch done", extra={f"{kind}_raised": n for kind, n in raised.items()})
            except Exception:
                log.warning("deadline watch failed; retrying later", exc_info=True)
            stop.wait(config.deadline_watch_seconds)

    return run_deadline_watch


def session_sweep(db: Db, every: float = SESSION_SWEEP_SECONDS) -> Duty:
    """Delete the console sessions past their lifetime, every `every` seconds (one ranged delete
    on the `expires_at` index)."""

    def run_session_sweep(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                deleted = identity_store.delete_expired_sessions(db, datetime.now(UTC))
                log.info("session sweep done", extra={"sessions_deleted": deleted})
            except Exception:
                log.warning("session sweep failed; retrying later", exc_info=True)
            stop.wait(every)

    return run_session_sweep


def main() -> None:
    config = load_config(worker=True)
    run_service_worker(
        config,
        connect=store.connect,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        build_handlers=handlers.build_handlers,
        ensure_indexes=store.ensure_indexes,
        duties=lambda db: [deadline_watch(db, config), session_sweep(db)],
    )


if __name__ == "__main__":
    main()
