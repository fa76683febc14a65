"""Event types notify publishes (CloudEvents `type`), on the topics the registry gives it."""


class EventTypes:
    NOTIFICATION_SENT = "vn.motcua.notify.notification.sent.v1"
    NOTIFICATION_FAILED = "vn.motcua.notify.notification.failed.v1"
    LETTER_DISPATCHED = "vn.motcua.notify.letter.dispatched.v1"
    LETTER_SIGNED = "vn.motcua.notify.letter.signed.v1"
    LETTER_TECHNICAL_FAILURE = "vn.motcua.notify.letter.technical_failure.v1"
    LETTER_BATCHED = "vn.motcua.notify.letter.batched.v1"
    LETTER_CANCELLED = "vn.motcua.notify.letter.cancelled.v1"
    LETTER_DESPATCHED = "vn.motcua.notify.letter.despatched.v1"
    LETTER_DELIVERED = "vn.motcua.notify.letter.delivered.v1"
    LETTER_RETURNED = "vn.motcua.notify.letter.returned.v1"
