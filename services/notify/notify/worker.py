"""`python -m notify.worker`: the outbox relay, notify's consumer groups, the sender and the sweeper."""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter

from eventkit.blobs import open_blob_store
from eventkit.mongo import Db
from eventkit.worker import Duty, run_service_worker
from notify import handlers, store
from notify.config import NotifyConfig, load_config
from notify.mailer import Mailer
from notify.service import letters, sending
from notify.service.due_scan import DueScan
from notify.templates import Renderer

log = logging.getLogger(__name__)
SENT = Counter(
    "notifications_sent_total", "Notifications the sender finished an attempt of, by status", ["status"]
)
SWEPT = Counter("notifications_swept_total", "Notifications returned to the queue after their lease ended")


def renderer_of(config: NotifyConfig) -> Renderer:
    return Renderer(config.portal_url, config.templates_dir)


def policy_of(config: NotifyConfig) -> sending.SendPolicy:
    return sending.SendPolicy(batch=config.send_batch, lease=timedelta(seconds=config.send_lease_seconds))


class Nudge:
    """Set by the consumers when they have recorded a dossier's event: the sender's next pass
    starts now instead of at its interval (the interval stays for retries and scheduled sends)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, stop: threading.Event, seconds: float) -> None:
        """Until nudged, stopped or `seconds` have passed; the stop is seen within 0.1 s."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and not self._event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._event.wait(min(left, 0.1))
        self._event.clear()


def sender(db: Db, config: NotifyConfig, nudge: Nudge | None = None) -> Duty:
    """Issue the letters recorded, then send what is due, every `send_interval_seconds` or when
    nudged; a full batch is followed by the next at once. Letters first: an email carrying a slip
    then finds it signed in the same pass."""
    nudge = nudge or Nudge()
    mailer = Mailer(config.smtp_url, config.mail_from, timeout=config.smtp_timeout_seconds)
    blobs = open_blob_store(config.blob_url)
    attachments_for = letters.slip_attachments(db, blobs, config.signing_certs_dir)
    renderer = renderer_of(config)
    policy = policy_of(config)
    limit = sending.UnitRateLimit(config.unit_rate_per_minute) if config.unit_rate_per_minute else None
    scan = DueScan()

    def run_sender(stop: threading.Event) -> None:
        while not stop.is_set():
            counts: dict[str, int] = {}
            try:
                letters.issue_pending(db, blobs, config.signing_certs_dir, datetime.now(UTC))
            except Exception:
                log.warning("issuing letters failed; retrying later", exc_info=True)
            try:
                counts = sending.send_due(
                    db, mailer, renderer, policy, rate_limit=limit, attachments_for=attachments_for, scan=scan
                )
                for status, count in counts.items():
                    SENT.labels(status=status).inc(count)
            except Exception:
                log.warning("sending failed; retrying later", exc_info=True)
            busy = sum(counts.values()) - counts.get("rate_limited", 0) >= policy.batch
            if not busy:
                nudge.wait(stop, config.send_interval_seconds)

    return run_sender


def sweeper(db: Db, config: NotifyConfig) -> Duty:
    def run_sweeper(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                SWEPT.inc(sending.sweep(db))
            except Exception:
                log.warning("sweep failed; retrying later", exc_info=True)
            stop.wait(max(1.0, config.send_lease_seconds / 4))

    return run_sweeper


def postal_batches(db: Db, config: NotifyConfig) -> Duty:
    """Close the day's print batch once its cut-off has passed (`POSTAL_CUTOFF`, local time);
    a batch closed already is left alone, one left `closing` by a crash is finished."""

    def run_postal_batches(stop: threading.Event) -> None:
        blobs = open_blob_store(config.blob_url)
        while not stop.is_set():
            try:
                now = datetime.now(UTC)
                day = letters.due_batch_day(now, config.postal_cutoff)
                batch = store.get_batch(db, day.isoformat()) if day else None
                if day is not None and (batch is None or batch["status"] != "closed"):
                    closed = letters.close_batch(db, blobs, day, config.postal_cutoff, now)
                    log.info(
                        "postal batch closed", extra={"day": closed["_id"], "letters": closed["letters"]}
                    )
            except Exception:
                log.warning("postal batch failed; retrying later", exc_info=True)
            stop.wait(config.postal_batch_seconds)

    return run_postal_batches


def main() -> None:
    config = load_config(worker=True)
    renderer = renderer_of(config)
    blobs = open_blob_store(config.blob_url)
    nudge = Nudge()
    run_service_worker(
        config,
        connect=store.connect,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        build_handlers=lambda db: handlers.build_handlers(db, renderer, blobs, nudge.set),
        ensure_indexes=store.ensure_indexes,
        duties=lambda db: [sender(db, config, nudge), sweeper(db, config), postal_batches(db, config)],
    )


if __name__ == "__main__":
    main()
