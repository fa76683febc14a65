"""Event types notify publishes (CloudEvents `type`), on the topics the registry gives it."""


class EventTypes:
    NOTIFICATION_SENT = "vn.motcua.notify.notification.sent.v1"
    NOTIFICATION_FAILED = "vn.motcua.notify.notification.failed.v1"
    LETTER_DISPATCHED = "vn.motcua.notify.letter.dispatched.v1"
