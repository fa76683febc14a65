"""`python -m intake.worker`: the outbox relay, intake's consumer groups and its housekeeping."""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from eventkit.blobs import BlobStore, open_blob_store
from eventkit.mongo import Db
from eventkit.worker import Duty, run_service_worker
from intake import handlers, store
from intake.config import IntakeConfig, load_config
from intake.service import dossiers, uploads

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY = 600.0


def housekeeping(db: Db, blobs: BlobStore, config: IntakeConfig) -> Duty:
    """Remove expired unattached uploads and forget first answers kept for retries: each run works
    through the whole backlog, within `housekeeping_budget_seconds`."""

    def run_housekeeping(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                now = datetime.now(UTC)
                until = time.monotonic() + config.housekeeping_budget_seconds
                ttl = timedelta(hours=config.upload_ttl_hours)
                counts = uploads.clean_up(db, blobs, now, ttl, until=until)
                forgotten = store.forget_responses(db, now, dossiers.RESPONSE_KEPT, until=until)
                log.info("housekeeping done", extra={**counts, "responses_forgotten": forgotten})
            except Exception:
                log.warning("housekeeping failed; retrying later", exc_info=True)
            stop.wait(HOUSEKEEPING_EVERY)

    return run_housekeeping


def main() -> None:
    config = load_config(worker=True)
    run_service_worker(
        config,
        connect=store.connect,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        build_handlers=handlers.build_handlers,
        ensure_indexes=store.ensure_indexes,
        duties=lambda db: [housekeeping(db, open_blob_store(config.blob_url), config)],
    )


if __name__ == "__main__":
    main()
