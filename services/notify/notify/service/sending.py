"""The sender: claims the notifications due, renders and sends them, records what the relay said.

A batch costs the store a few requests whatever its size. The claim moves each notification found
due (service/due_scan.py) from `created`/`temporary-failure` to `sending`, each write conditional
on the status and `sequence` read, and sets a lease: two senders never both take a notification,
and one that died mid-batch leaves its claims to the sweeper, which returns them to `created` once
the lease is over (the second send carries the same Message-ID). The outcomes (delivered, each
failure with the relay's reply) are written by a second thread while the next emails go out, in
as few requests as keep up (OutcomeWriter), and all of them before the batch returns. A batch stops taking
notifications once half the lease has passed, so every outcome is written before the sweeper
could take a claim back. A relay outage makes the notification tried a temporary failure, due
again after a backoff that grows per attempt, stops the batch and returns the claims not tried to
the queue: nothing is lost however long the relay is away within the attempts allowed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventkit.errors import is_transient
from eventkit.mongo import Db, Document
from notify import store
from notify.mailer import Attachment, Email, Mailer, MailSession, RelayUnavailable
from notify.service.due_scan import DueScan
from notify.service.notifications import Statuses, public_error, status_entries
from notify.store import NotificationChange
from notify.templates import Renderer, RenderError

log = logging.getLogger(__name__)

# The files to attach to a notification. Its `attachments` names the legal slips it should carry
# (`receipt_slip` for `accepted`, ...); letters will render them (PDF) and provide them through
# this hook. Until then an email goes without them and says they follow.
AttachmentsFor = Callable[[Document], list[Attachment]]


def no_attachments(_notification: Document) -> list[Attachment]:
    return []


@dataclass(frozen=True)
class SendPolicy:
    batch: int = 50
    lease: timedelta = timedelta(minutes=2)
    # Backoff after the n-th failed attempt: base * 2^(n-1), at most `retry_max`.
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=10)
    # After this many attempts a temporary failure stays one (about 3 hours with the defaults).
    max_attempts: int = 24

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.retry_base * (2 ** max(0, attempts - 1))
        return min(self.retry_max, delay)


class UnitRateLimit:
    """At most `per_minute` emails per unit in any minute, in this process (`limits`' moving window)."""

    def __init__(self, per_minute: int) -> None:
        from limits import RateLimitItemPerMinute
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.item = RateLimitItemPerMinute(per_minute)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, unit: str) -> bool:
        return bool(self.limiter.hit(self.item, "unit", unit or "-"))


def _change(
    notification: Document, status: str, fields: Document, now: datetime, **event_extra: Any
) -> tuple[Document, NotificationChange]:
    """`notification` moved to `status` with `fields`, and the conditional write with its status event.

    A claim (`sending`) publishes nothing and keeps the `sequence`, the number of the last status
    event: as GOV.UK Notify's callbacks, the events say what was made and how each attempt ended."""
    published = status != Statuses.SENDING
    sequence = int(notification["sequence"]) + (1 if published else 0)
    after = {**notification, **fields, "status": status, "sequence": sequence}
    update: Document = {"$set": {**fields, "status": status, "sequence": sequence, "updated_at": now}}
    entries = status_entries(after, status, sequence, **event_extra) if published else []
    expected = {"status": notification["status"], "sequence": notification["sequence"]}
    return after, NotificationChange(notification["_id"], expected, update, entries)


def _transition(
    db: Db, notification: Document, status: str, fields: Document, now: datetime, **event_extra: Any
) -> Document | None:
    """Move `notification` to `status` with `fields` and its status event; None if it changed meanwhile."""
    after, change = _change(notification, status, fields, now, **event_extra)
    return after if store.change_notifications(db, [change]) == 1 else None


def _claim(db: Db, due: list[Document], policy: SendPolicy, now: datetime) -> list[Document]:
    """Claim `due` for this batch; those claimed, as they are now (another sender may hold some)."""
    token = uuid.uuid4().hex
    claims = [
        _change(
            notification,
            Statuses.SENDING,
            {
                "lease_until": now + policy.lease,
                "attempts": int(notification.get("attempts") or 0) + 1,
                "claim": token,
            },
            now,
        )
        for notification in due
    ]
    if store.change_notifications(db, [change for _, change in claims]) == len(claims):
        return [claimed for claimed, _ in claims]
    held = [store.get_notification(db, claimed["_id"]) or {} for claimed, _ in claims]
    ours = {notification["_id"] for notification in held if notification.get("claim") == token}
    return [claimed for claimed, _ in claims if claimed["_id"] in ours]


def _released(claimed: Document, before: Document, now: datetime) -> NotificationChange:
    """A claim not tried (the batch stopped) back in the queue as it was, due now."""
    fields = {"lease_until": None, "attempts": before.get("attempts") or 0, "send_after": now, "claim": None}
    return _change(claimed, before["status"], fields, now)[1]


def _email(
    notification: Document, renderer: Renderer, mailer: Mailer, attachments: list[Attachment]
) -> Email:
    version = notification.get("template_version")
    if not version:
        raise RenderError(
            f"template {notification['template']!r} had no version when the notification was made"
        )
    recipient = notification["recipient"]
    rendered = renderer.render(
        notification["template"],
        str(version),
        {**notification.get("personalisation", {}), "sent_because": notification.get("reason") or ""},
        recipient.get("kind") or "citizen",
    )
    return Email(
        to_name=recipient.get("name") or "",
        to_address=recipient["email"],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=mailer.message_id(notification["_id"]),
        attachments=attachments,
    )


def _failed(
    claimed: Document, policy: SendPolicy, now: datetime, error: Document, permanent: bool
) -> tuple[str, NotificationChange]:
    fields: Document
    if permanent:
        status, fields = Statuses.PERMANENT_FAILURE, {"send_after": None}
    else:
        status = Statuses.TEMPORARY_FAILURE
        again = claimed["attempts"] < policy.max_attempts
        fields = {"send_after": now + policy.backoff(claimed["attempts"]) if again else None}
    fields.update(error=error, lease_until=None, claim=None)
    return status, _change(claimed, status, fields, now, error=public_error(error))[1]


def _relay_failed(
    claimed: Document, policy: SendPolicy, now: datetime, exc: RelayUnavailable
) -> NotificationChange:
    return _failed(claimed, policy, now, {"kind": "relay", "message": str(exc)}, permanent=False)[1]


def _technical_failure(claimed: Document, error: Document, now: datetime) -> tuple[str, NotificationChange]:
    """A failure that trying again would repeat (a template, a slip): kept with its reason."""
    fields = {"error": error, "lease_until": None, "send_after": None, "claim": None}
    log.error(
        "notification not sent: technical failure",
        extra={
            "notification_id": claimed["_id"],
            "template": claimed["template"],
            "error_kind": error["kind"],
        },
    )
    status = Statuses.TECHNICAL_FAILURE
    return status, _change(claimed, status, fields, now, error=public_error(error))[1]


def _attempt(
    claimed: Document,
    session: MailSession,
    renderer: Renderer,
    mailer: Mailer,
    policy: SendPolicy,
    now: datetime,
    attachments_for: AttachmentsFor,
) -> tuple[str, NotificationChange]:
    """Send one claimed notification: its new status and the write that records it.

    Raises RelayUnavailable (with the write recording the temporary failure as its `outcome`)."""
    try:
        attachments = attachments_for(claimed)
    except Exception as exc:
        # The slips could not be made: again later if that may pass, otherwise a technical failure.
        error = {"kind": "attachment", "message": f"{type(exc).__name__}: {exc}"}
        if is_transient(exc):
            return _failed(claimed, policy, now, error, permanent=False)
        return _technical_failure(claimed, error, now)
    try:
        email = _email(claimed, renderer, mailer, attachments)
    except RenderError as exc:
        return _technical_failure(claimed, {"kind": "template", "message": str(exc)}, now)
    try:
        outcome = session.send(email)
    except RelayUnavailable as exc:
        raise RelayStopped(_relay_failed(claimed, policy, now, exc)) from exc
    if outcome.delivered:
        fields = {"sent_at": now, "lease_until": None, "send_after": None, "error": None, "claim": None}
        return Statuses.DELIVERED, _change(claimed, Statuses.DELIVERED, fields, now)[1]
    smtp_error: Document = {"kind": "smtp", "smtp_code": outcome.smtp_code, "message": outcome.reply}
    return _failed(claimed, policy, now, smtp_error, permanent=outcome.permanent)


GATHER, GATHER_SECONDS = 10, 0.05


class OutcomeWriter:
    """Writes a batch's outcomes while its next emails go out: a thread takes what has gathered
    and writes it in one request, again and again until the batch ends. A failed write stops
    the batch (`failed`); its notifications stay `sending` until the sweeper returns them."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.pending: list[NotificationChange] = []
        self.done = False
        self.error: BaseException | None = None
        self.ready = threading.Condition()
        self.thread = threading.Thread(target=self._write, name="notify-outcomes", daemon=True)
        self.thread.start()

    @property
    def failed(self) -> bool:
        return self.error is not None

    def add(self, change: NotificationChange) -> None:
        with self.ready:
            self.pending.append(change)
            self.ready.notify()

    def close(self) -> None:
        """Write what is left and wait; raises the store's error if a write failed."""
        with self.ready:
            self.done = True
            self.ready.notify()
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _write(self) -> None:
        while True:
            with self.ready:
                while not self.pending and not self.done:
                    self.ready.wait()
                # A moment for more to gather: one write of ten costs the store far less than ten.
                until = time.monotonic() + GATHER_SECONDS
                while not self.done and len(self.pending) < GATHER and (left := until - time.monotonic()) > 0:
                    self.ready.wait(left)
                changes, self.pending = self.pending, []
            if not changes:
                return
            if self.error is None:
                try:
                    store.change_notifications(self.db, changes)
                except Exception as exc:
                    self.error = exc


class RelayStopped(Exception):
    """The relay went away during a send: the batch stops; `outcome` records the attempt."""

    def __init__(self, outcome: NotificationChange) -> None:
        super().__init__("mail relay unavailable")
        self.outcome = outcome


def send_due(
    db: Db,
    mailer: Mailer,
    renderer: Renderer,
    policy: SendPolicy | None = None,
    now: datetime | None = None,
    rate_limit: UnitRateLimit | None = None,
    attachments_for: AttachmentsFor = no_attachments,
    scan: DueScan | None = None,
) -> Counter[str]:
    """One batch: the notifications due now, through one connection; counts by new status.

    `scan` is the sender's own (it remembers where the due ones are); without one, a new scan
    finds them from the oldest."""
    policy = policy or SendPolicy()
    now = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    due: list[Document] = []
    for notification in (scan or DueScan()).due(db, now, policy.batch):
        if rate_limit is not None and not rate_limit.allow(str(notification.get("unit") or "")):
            counts["rate_limited"] += 1
            continue  # stays due: the next batch tries it
        due.append(notification)
    if not due:
        return counts
    with mailer.session() as session:
        try:
            session.open()
        except RelayUnavailable as exc:
            # Nothing is claimed but the oldest, which records the outage and backs off.
            for claimed in _claim(db, due[:1], policy, now):
                store.change_notifications(db, [_relay_failed(claimed, policy, now, exc)])
                counts[Statuses.TEMPORARY_FAILURE] += 1
            log.warning("mail relay unavailable; nothing sent this time")
            return counts
        _send_claimed(db, session, due, renderer, mailer, policy, now, attachments_for, counts)
    return counts


def _send_claimed(
    db: Db,
    session: MailSession,
    due: list[Document],
    renderer: Renderer,
    mailer: Mailer,
    policy: SendPolicy,
    now: datetime,
    attachments_for: AttachmentsFor,
    counts: Counter[str],
) -> None:
    before = {notification["_id"]: notification for notification in due}
    claimed = _claim(db, due, policy, now)
    if len(claimed) < len(due):
        counts["held_elsewhere"] += len(due) - len(claimed)  # another sender claimed them first
    writer = OutcomeWriter(db)
    deadline = time.monotonic() + policy.lease.total_seconds() / 2
    tried = 0
    try:
        for notification in claimed:
            if writer.failed or time.monotonic() > deadline:
                break  # the rest goes back to the queue before the lease could run out
            tried += 1
            try:
                status, change = _attempt(
                    notification, session, renderer, mailer, policy, now, attachments_for
                )
            except RelayStopped as stopped:
                writer.add(stopped.outcome)
                counts[Statuses.TEMPORARY_FAILURE] += 1
                log.warning(
                    "mail relay unavailable; the batch stops", extra={"notification_id": notification["_id"]}
                )
                break
            writer.add(change)
            counts[status] += 1
    finally:
        for left in claimed[tried:]:
            writer.add(_released(left, before[left["_id"]], now))
        writer.close()


def sweep(db: Db, now: datetime | None = None, limit: int = 500) -> int:
    """Return notifications left in `sending` past their lease to `created`; how many."""
    now = now or datetime.now(UTC)
    returned = 0
    for stuck in store.stuck_notifications(db, now, limit):
        fields: Document = {
            "lease_until": None,
            "claim": None,
            "send_after": now,
            "error": {"kind": "lease", "message": "lease expired while sending"},
        }
        if _transition(db, stuck, Statuses.CREATED, fields, now) is not None:
            returned += 1
    return returned
