"""Request and response schemas of the notify API."""

from __future__ import annotations

from marshmallow import fields

from eventkit.schemas import BaseSchema, length, pattern

DOSSIER_CODE = r"^[0-9A-Za-z.]{1,20}-\d{6}-\d{4}$"


class NotificationQuerySchema(BaseSchema):
    dossier = fields.String(
        required=True,
        validate=[length(max=40), pattern(DOSSIER_CODE, "Mã hồ sơ không đúng dạng <mã đơn vị>-YYMMDD-NNNN.")],
        metadata={"description": "Dossier code"},
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
