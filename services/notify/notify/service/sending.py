"""The sender: claims the notifications due, renders and sends them, records what the relay said.

A claim is one conditional write (`created`/`temporary-failure` → `sending`, on the status and
`sequence` read) that also sets a lease: two senders never both take a notification, and one that
died mid-send leaves it to the sweeper, which returns it to `created` once the lease is over. A
relay outage makes the tried notification a temporary failure, due again after a backoff that
grows per attempt, and stops the batch (the rest stays due): nothing is lost however long the
relay is away within the attempts allowed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventkit.errors import is_transient
from eventkit.mongo import Db, Document
from notify import store
from notify.mailer import Attachment, Email, Mailer, MailSession, RelayUnavailable
from notify.service.notifications import Statuses, public_error, status_entries
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


def _transition(
    db: Db, notification: Document, status: str, fields: Document, now: datetime, **event_extra: Any
) -> Document | None:
    """Move `notification` to `status` with `fields` and its status event; None if it changed meanwhile."""
    sequence = int(notification["sequence"]) + 1
    after = {**notification, **fields, "status": status, "sequence": sequence}
    update: Document = {"$set": {**fields, "status": status, "sequence": sequence, "updated_at": now}}
    entries = status_entries(after, status, sequence, **event_extra)
    expected = {"status": notification["status"], "sequence": notification["sequence"]}
    if not store.change_notification(db, notification["_id"], expected, update, entries):
        return None
    return after


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
    db: Db, claimed: Document, policy: SendPolicy, now: datetime, error: Document, permanent: bool
) -> str:
    fields: Document
    if permanent:
        status, fields = Statuses.PERMANENT_FAILURE, {"send_after": None}
    else:
        status = Statuses.TEMPORARY_FAILURE
        again = claimed["attempts"] < policy.max_attempts
        fields = {"send_after": now + policy.backoff(claimed["attempts"]) if again else None}
    fields.update(error=error, lease_until=None)
    _transition(db, claimed, status, fields, now, error=public_error(error))
    return status


def _technical_failure(db: Db, claimed: Document, error: Document, now: datetime) -> str:
    """A failure that trying again would repeat (a template, a slip): kept with its reason."""
    fields = {"error": error, "lease_until": None, "send_after": None}
    _transition(db, claimed, Statuses.TECHNICAL_FAILURE, fields, now, error=public_error(error))
    log.error(
        "notification not sent: technical failure",
        extra={
            "notification_id": claimed["_id"],
            "template": claimed["template"],
            "error_kind": error["kind"],
        },
    )
    return Statuses.TECHNICAL_FAILURE


def send_one(
    db: Db,
    notification: Document,
    session: MailSession,
    renderer: Renderer,
    mailer: Mailer,
    policy: SendPolicy,
    now: datetime,
    attachments_for: AttachmentsFor = no_attachments,
) -> str | None:
    """Claim and send one notification; its new status, or None if another sender had it."""
    claimed = _transition(
        db,
        notification,
        Statuses.SENDING,
        {"lease_until": now + policy.lease, "attempts": int(notification.get("attempts") or 0) + 1},
        now,
    )
    if claimed is None:
        return None
    try:
        attachments = attachments_for(claimed)
    except Exception as exc:
        # The slips could not be made: again later if that may pass, otherwise a technical failure.
        error = {"kind": "attachment", "message": f"{type(exc).__name__}: {exc}"}
        if is_transient(exc):
            return _failed(db, claimed, policy, now, error, permanent=False)
        return _technical_failure(db, claimed, error, now)
    try:
        email = _email(claimed, renderer, mailer, attachments)
    except RenderError as exc:
        return _technical_failure(db, claimed, {"kind": "template", "message": str(exc)}, now)
    try:
        outcome = session.send(email)
    except RelayUnavailable as exc:
        _failed(db, claimed, policy, now, {"kind": "relay", "message": str(exc)}, permanent=False)
        raise
    if outcome.delivered:
        fields = {"sent_at": now, "lease_until": None, "send_after": None, "error": None}
        _transition(db, claimed, Statuses.DELIVERED, fields, now)
        return Statuses.DELIVERED
    smtp_error: Document = {"kind": "smtp", "smtp_code": outcome.smtp_code, "message": outcome.reply}
    return _failed(db, claimed, policy, now, smtp_error, permanent=outcome.permanent)


def send_due(
    db: Db,
    mailer: Mailer,
    renderer: Renderer,
    policy: SendPolicy | None = None,
    now: datetime | None = None,
    rate_limit: UnitRateLimit | None = None,
    attachments_for: AttachmentsFor = no_attachments,
) -> Counter[str]:
    """One batch: the notifications due now, through one connection; counts by new status."""
    policy = policy or SendPolicy()
    now = now or datetime.now(UTC)
    due: list[Document] = []
    for due_status in Statuses.DUE:  # one seek per status: the store pushes no `$in` down
        due.extend(store.due_notifications(db, due_status, now, policy.batch - len(due)))
        if len(due) >= policy.batch:
            break
    due.sort(key=lambda n: n["send_after"])
    counts: Counter[str] = Counter()
    with mailer.session() as session:
        for notification in due:
            if rate_limit is not None and not rate_limit.allow(str(notification.get("unit") or "")):
                counts["rate_limited"] += 1
                continue  # stays due: the next batch tries it
            try:
                status = send_one(db, notification, session, renderer, mailer, policy, now, attachments_for)
            except RelayUnavailable:
                counts[Statuses.TEMPORARY_FAILURE] += 1
                log.warning(
                    "mail relay unavailable; the batch stops", extra={"notification_id": notification["_id"]}
                )
                break
            if status is not None:
                counts[status] += 1
    return counts


def sweep(db: Db, now: datetime | None = None, limit: int = 500) -> int:
    """Return notifications left in `sending` past their lease to `created`; how many."""
    now = now or datetime.now(UTC)
    returned = 0
    for stuck in store.stuck_notifications(db, now, limit):
        fields: Document = {
            "lease_until": None,
            "send_after": now,
            "error": {"kind": "lease", "message": "lease expired while sending"},
        }
        if _transition(db, stuck, Statuses.CREATED, fields, now) is not None:
            returned += 1
    return returned
