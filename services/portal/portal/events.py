"""Event types portal publishes and consumes (CloudEvents `type`)."""


class ConsumedTypes:
    """Types of other services' events that this service handles (its own copy of the contract)."""

    PROCEDURE_PUBLISHED = "vn.motcua.processing.procedure.published.v1"
    UNIT_PUBLISHED = "vn.motcua.processing.unit.published.v1"

    # intake.dossiers.v1 (group portal.intake-dossiers): the filing, supplements, withdrawals.
    DOSSIER_SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.motcua.intake.dossier.supplemented.v1"
    DOSSIER_WITHDRAWN = "vn.motcua.intake.dossier.withdrawn.v1"
    INTAKE = (DOSSIER_SUBMITTED, DOSSIER_SUPPLEMENTED, DOSSIER_WITHDRAWN)

    # processing.dossiers.v1 (group portal.processing-dossiers): the workflow, every verb.
    DOSSIER_ACCEPTED = "vn.motcua.processing.dossier.accepted.v1"
    DOSSIER_REFUSED = "vn.motcua.processing.dossier.refused.v1"
    DOSSIER_SUPPLEMENT_REQUESTED = "vn.motcua.processing.dossier.supplement_requested.v1"
    DOSSIER_ASSIGNED = "vn.motcua.processing.dossier.assigned.v1"
    DOSSIER_TRANSFERRED = "vn.motcua.processing.dossier.transferred.v1"
    DOSSIER_EXTENDED = "vn.motcua.processing.dossier.extended.v1"
    DOSSIER_APPROVED = "vn.motcua.processing.dossier.approved.v1"
    DOSSIER_REJECTED = "vn.motcua.processing.dossier.rejected.v1"
    DOSSIER_STOPPED = "vn.motcua.processing.dossier.stopped.v1"
    DOSSIER_RESULT_ISSUED = "vn.motcua.processing.dossier.result_issued.v1"
    DOSSIER_RETURNED = "vn.motcua.processing.dossier.returned.v1"
    DOSSIER_DUE_SOON = "vn.motcua.processing.dossier.due_soon.v1"
    DOSSIER_OVERDUE = "vn.motcua.processing.dossier.overdue.v1"
    PROCESSING = (
        DOSSIER_ACCEPTED,
        DOSSIER_REFUSED,
        DOSSIER_SUPPLEMENT_REQUESTED,
        DOSSIER_ASSIGNED,
        DOSSIER_TRANSFERRED,
        DOSSIER_EXTENDED,
        DOSSIER_APPROVED,
        DOSSIER_REJECTED,
        DOSSIER_STOPPED,
        DOSSIER_RESULT_ISSUED,
        DOSSIER_RETURNED,
        DOSSIER_DUE_SOON,
        DOSSIER_OVERDUE,
    )

    # notify.notifications.v1 and notify.letters.v1 (group portal.notifications): statuses only.
    # (`sending` is registered but notify publishes none: handled all the same.)
    NOTIFICATION_CREATED = "vn.motcua.notify.notification.created.v1"
    NOTIFICATION_SKIPPED = "vn.motcua.notify.notification.skipped.v1"
    NOTIFICATION_SENDING = "vn.motcua.notify.notification.sending.v1"
    NOTIFICATION_DELIVERED = "vn.motcua.notify.notification.delivered.v1"
    NOTIFICATION_TEMPORARY_FAILURE = "vn.motcua.notify.notification.temporary_failure.v1"
    NOTIFICATION_PERMANENT_FAILURE = "vn.motcua.notify.notification.permanent_failure.v1"
    NOTIFICATION_TECHNICAL_FAILURE = "vn.motcua.notify.notification.technical_failure.v1"
    NOTIFICATIONS = (
        NOTIFICATION_CREATED,
        NOTIFICATION_SKIPPED,
        NOTIFICATION_SENDING,
        NOTIFICATION_DELIVERED,
        NOTIFICATION_TEMPORARY_FAILURE,
        NOTIFICATION_PERMANENT_FAILURE,
        NOTIFICATION_TECHNICAL_FAILURE,
    )
    LETTER_RENDERED = "vn.motcua.notify.letter.rendered.v1"
    LETTER_SIGNED = "vn.motcua.notify.letter.signed.v1"
    LETTER_TECHNICAL_FAILURE = "vn.motcua.notify.letter.technical_failure.v1"
    LETTER_BATCHED = "vn.motcua.notify.letter.batched.v1"
    LETTER_CANCELLED = "vn.motcua.notify.letter.cancelled.v1"
    LETTER_DESPATCHED = "vn.motcua.notify.letter.despatched.v1"
    LETTER_DELIVERED = "vn.motcua.notify.letter.delivered.v1"
    LETTER_RETURNED = "vn.motcua.notify.letter.returned.v1"
    LETTERS = (
        LETTER_RENDERED,
        LETTER_SIGNED,
        LETTER_TECHNICAL_FAILURE,
        LETTER_BATCHED,
        LETTER_CANCELLED,
        LETTER_DESPATCHED,
        LETTER_DELIVERED,
        LETTER_RETURNED,
    )


def verb_of(event_type: str) -> str:
    """`vn.motcua.processing.dossier.accepted.v1` → `accepted`."""
    return event_type.split(".")[-2]


class EventTypes:
    """Types portal publishes (topic portal.content.v1, key = the article's or document's id)."""

    CONTENT_PUBLISHED = "vn.motcua.portal.content.published.v1"
    CONTENT_UNPUBLISHED = "vn.motcua.portal.content.unpublished.v1"
