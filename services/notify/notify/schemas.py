"""Request and response schemas of the notify API."""

from __future__ import annotations

from marshmallow import fields

from eventkit.schemas import BaseSchema, length, one_of, pattern

DOSSIER_CODE = r"^[0-9A-Za-z.]{1,20}-\d{6}-\d{4}$"


class NotificationQuerySchema(BaseSchema):
    dossier = fields.String(
        required=True,
        validate=[length(max=40), pattern(DOSSIER_CODE, "Mã hồ sơ không đúng dạng <mã đơn vị>-YYMMDD-NNNN.")],
        metadata={"description": "Dossier code"},
    )


class RegisterQuerySchema(BaseSchema):
    unit = fields.String(
        required=True, validate=length(min=1, max=40), metadata={"description": "Receiving unit's code"}
    )
    first = fields.String(
        required=True,
        data_key="from",
        validate=length(max=10),
        metadata={"description": "First day received (YYYY-MM-DD, local), included"},
    )
    last = fields.String(
        required=True,
        data_key="to",
        validate=length(max=10),
        metadata={"description": "Last day received (YYYY-MM-DD, local), included"},
    )


class RecipientSchema(BaseSchema):
    kind = fields.String(required=True, metadata={"description": "`citizen` or `staff`"})
    name = fields.String(required=True)
    email = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)


class NotificationErrorSchema(BaseSchema):
    kind = fields.String(required=True, metadata={"description": "`smtp`, `relay`, `template` or `lease`"})
    smtp_code = fields.Integer(allow_none=True)
    message = fields.String(required=True)


class NotificationSchema(BaseSchema):
    id = fields.String(required=True)
    channel = fields.String(required=True, metadata={"description": "`email` (letters later: `letter`)"})
    template = fields.String(required=True)
    template_version = fields.String(allow_none=True)
    dossier = fields.String(required=True)
    event_type = fields.String(allow_none=True)
    recipient = fields.Nested(RecipientSchema, required=True)
    reason = fields.String(required=True, metadata={"description": "Why it was sent, as its reader is told"})
    status = fields.String(
        required=True,
        metadata={
            "description": "created, sending, delivered, temporary-failure, permanent-failure, "
            "technical-failure, or skipped (not sent on this channel, see skip_reason)"
        },
    )
    skip_reason = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    error = fields.Nested(NotificationErrorSchema, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    sent_at = fields.AwareDateTime(allow_none=True)


class NotificationListSchema(BaseSchema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)


POSTAL_STATUSES = ("despatched", "delivered", "returned")


class LetterHistorySchema(BaseSchema):
    status = fields.String(required=True)
    at = fields.DateTime(required=True)
    reason = fields.String()
    by = fields.String()
    report = fields.String()
    late = fields.Boolean()
    # On `rendered`: the form version drawn and its page count.
    template_version = fields.String()
    pages = fields.Integer()


class LetterSchema(BaseSchema):
    letter_id = fields.String(required=True, attribute="_id", data_key="letter_id")
    dossier_code = fields.String(required=True)
    unit = fields.String(required=True)
    template_id = fields.String(required=True)
    template_version = fields.String()
    status = fields.String(required=True)
    register_number = fields.Integer()
    number_text = fields.String()
    recipient = fields.String(required=True)
    address = fields.String(required=True)
    by_post = fields.Boolean(required=True)
    post = fields.String()
    batch = fields.String()
    item_number = fields.String()
    needs_attention = fields.Boolean()
    returned_reason = fields.String()
    failure = fields.String()
    reason = fields.String()
    sha256 = fields.String()
    signed_at = fields.DateTime()
    history = fields.List(fields.Nested(LetterHistorySchema), required=True)


class CancelSchema(BaseSchema):
    reason = fields.String(required=True, validate=length(1, 2000))


class PostalReportSchema(BaseSchema):
    """A status report of the postal operator (signed: header X-Postal-Signature)."""

    id = fields.String(
        required=True, validate=length(1, 200), metadata={"description": "The report's own id"}
    )
    status = fields.String(required=True, validate=one_of(POSTAL_STATUSES))
    at = fields.AwareDateTime(required=True, metadata={"description": "When it happened"})
    reason = fields.String(
        load_default="", validate=length(max=2000), metadata={"description": "Why it was returned"}
    )


class BatchItemSchema(BaseSchema):
    letter_id = fields.String(required=True, attribute="_id", data_key="letter_id")
    item_number = fields.String(required=True)
    number_text = fields.String(required=True)
    template_id = fields.String(required=True)
    status = fields.String(required=True)


class BatchSchema(BaseSchema):
    day = fields.String(required=True, attribute="_id", data_key="day")
    status = fields.String(required=True)
    letters = fields.Integer()
    closed_at = fields.DateTime()
    cutoff = fields.DateTime()
    items = fields.List(fields.Nested(BatchItemSchema), required=True)
