"""Event types notify publishes (CloudEvents `type`) and those of other services it reads."""


class EventTypes:
    # One type per notification status (GOV.UK Notify's names; `_` for `-` in an event type).
    NOTIFICATION_CREATED = "vn.motcua.notify.notification.created.v1"
    NOTIFICATION_SKIPPED = "vn.motcua.notify.notification.skipped.v1"
    NOTIFICATION_SENDING = "vn.motcua.notify.notification.sending.v1"
    NOTIFICATION_DELIVERED = "vn.motcua.notify.notification.delivered.v1"
    NOTIFICATION_TEMPORARY_FAILURE = "vn.motcua.notify.notification.temporary_failure.v1"
    NOTIFICATION_PERMANENT_FAILURE = "vn.motcua.notify.notification.permanent_failure.v1"
    NOTIFICATION_TECHNICAL_FAILURE = "vn.motcua.notify.notification.technical_failure.v1"
    LETTER_RENDERED = "vn.motcua.notify.letter.rendered.v1"
    LETTER_SIGNED = "vn.motcua.notify.letter.signed.v1"
    LETTER_TECHNICAL_FAILURE = "vn.motcua.notify.letter.technical_failure.v1"
    LETTER_BATCHED = "vn.motcua.notify.letter.batched.v1"
    LETTER_CANCELLED = "vn.motcua.notify.letter.cancelled.v1"
    LETTER_DESPATCHED = "vn.motcua.notify.letter.despatched.v1"
    LETTER_DELIVERED = "vn.motcua.notify.letter.delivered.v1"
    LETTER_RETURNED = "vn.motcua.notify.letter.returned.v1"


def status_event_type(status: str) -> str:
    """`temporary-failure` → `vn.motcua.notify.notification.temporary_failure.v1`."""
    return f"vn.motcua.notify.notification.{status.replace('-', '_')}.v1"


class ConsumedTypes:
    """Types of other services' events that notify handles (its own copy of the contract)."""

    DOSSIER_SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.motcua.intake.dossier.supplemented.v1"
    DOSSIER_WITHDRAWN = "vn.motcua.intake.dossier.withdrawn.v1"
    DOSSIER_ACCEPTED = "vn.motcua.processing.dossier.accepted.v1"
    DOSSIER_REFUSED = "vn.motcua.processing.dossier.refused.v1"
    SUPPLEMENT_REQUESTED = "vn.motcua.processing.dossier.supplement_requested.v1"
    DOSSIER_ASSIGNED = "vn.motcua.processing.dossier.assigned.v1"
    DOSSIER_TRANSFERRED = "vn.motcua.processing.dossier.transferred.v1"
    DOSSIER_EXTENDED = "vn.motcua.processing.dossier.extended.v1"
    DOSSIER_APPROVED = "vn.motcua.processing.dossier.approved.v1"
    DOSSIER_REJECTED = "vn.motcua.processing.dossier.rejected.v1"
    DOSSIER_STOPPED = "vn.motcua.processing.dossier.stopped.v1"
    RESULT_ISSUED = "vn.motcua.processing.dossier.result_issued.v1"
    DOSSIER_RETURNED = "vn.motcua.processing.dossier.returned.v1"
    DOSSIER_DUE_SOON = "vn.motcua.processing.dossier.due_soon.v1"
    DOSSIER_OVERDUE = "vn.motcua.processing.dossier.overdue.v1"
    RESULT_FILE = "vn.motcua.processing.result.issued.v1"

    INTAKE = (DOSSIER_SUBMITTED, DOSSIER_SUPPLEMENTED, DOSSIER_WITHDRAWN)
    PROCEDURE_PUBLISHED = "vn.motcua.processing.procedure.published.v1"
    UNIT_PUBLISHED = "vn.motcua.processing.unit.published.v1"
