"""Request and response schemas of the notify API."""

from __future__ import annotations

from marshmallow import fields

from eventkit.schemas import BaseSchema, length, one_of

POSTAL_STATUSES = ("despatched", "delivered", "returned")


class LetterHistorySchema(BaseSchema):
    status = fields.String(required=True)
    at = fields.DateTime(required=True)
    reason = fields.String()
    by = fields.String()
    report = fields.String()
    late = fields.Boolean()


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
