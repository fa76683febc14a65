"""Request and response schemas of the processing API."""

from marshmallow import Schema, fields


class StaffSchema(Schema):
    user_id = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    units = fields.List(fields.String(), required=True)
