"""Request and response schemas of the intake API. Citizens read these messages: Vietnamese."""

from __future__ import annotations

from marshmallow import fields

from eventkit.schemas import BaseSchema, items, length, one_of, pattern

PROCEDURE_CODE = r"^\d\.\d{6}$"
UNIT_CODE = r"^[0-9A-Za-z.]{1,20}$"
DOSSIER_CODE = r"^\d{3}\.[0-9A-Z]{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$"
CHANNELS = ("online", "counter")
DELIVERY_METHODS = ("counter", "post", "online")


class ApplicantSchema(BaseSchema):
    # The rules of intake.validation, written into the OpenAPI document for client authors; that
    # module checks them (with every message at once), the rules no JSON Schema can carry are in
    # the description of POST /api/v1/dossiers.
    full_name = fields.String(
        required=True,
        validate=length(1, 100),
        metadata={
            "example": "Nguyễn Văn An",
            "minLength": 2,
            "description": "2–100 characters: letters (with diacritics), spaces, ' and -; no digits",
        },
    )
    id_number = fields.String(
        required=True,
        metadata={
            "description": "Số căn cước công dân: 12 digits; the first 3 a province code of Thông tư "
            "59/2021/TT-BCA, the 4th the gender and century of birth, the 5th and 6th the year of birth",
            "pattern": r"^[0-9]{12}$",
            "example": "027190001234",
        },
    )
    date_of_birth = fields.Date(
        required=True, metadata={"description": "From 1900-01-01 to today", "example": "1990-05-12"}
    )
    phone = fields.String(
        required=True,
        validate=length(1, 30),
        metadata={
            "description": "A Vietnamese mobile (10 digits from 03, 05, 07, 08 or 09) or landline (11 digits "
            "from 02); spaces, dots and dashes are ignored, +84 or 84 stands for the leading 0",
            "pattern": r"^\+?[0-9][0-9 .\-]*$",
            "example": "0912 345 678",
        },
    )
    email = fields.String(
        load_default=None,
        allow_none=True,
        validate=length(max=254),
        metadata={
            "description": "local@domain.tld, at most 254 characters (local part at most 64)",
            "format": "email",
            "example": "an@example.vn",
        },
    )
    address = fields.String(load_default=None, allow_none=True, validate=length(max=300))


class DeliverySchema(BaseSchema):
    method = fields.String(required=True, validate=one_of(DELIVERY_METHODS))
    address = fields.String(
        load_default=None,
        allow_none=True,
        validate=length(max=300),
        metadata={"description": "Required (not blank) when `method` is `post`"},
    )


class DocumentRefSchema(BaseSchema):
    type = fields.String(
        required=True,
        validate=length(1, 20),
        metadata={"description": "A document type `code` of the procedure (GET /api/v1/procedures/{code})"},
    )
    upload_id = fields.String(
        required=True,
        validate=length(1, 64),
        metadata={"description": "The `id` of an unexpired upload (POST /api/v1/uploads) no dossier uses"},
    )


class FilingSchema(BaseSchema):
    procedure_code = fields.String(
        required=True, validate=pattern(PROCEDURE_CODE, "Mã thủ tục dạng 1.001193.")
    )
    unit = fields.String(
        load_default=None,
        allow_none=True,
        validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."),
        metadata={"description": "The receiving unit; required when several units receive the procedure"},
    )
    channel = fields.String(required=True, validate=one_of(CHANNELS))
    applicant = fields.Nested(ApplicantSchema, required=True)
    delivery = fields.Nested(DeliverySchema, required=True)
    form = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={
            "description": "The procedure's own form: one key per `form_fields[].name` of the procedure, "
            "no other; see the operation's description for the value of each field type"
        },
    )
    documents = fields.List(
        fields.Nested(DocumentRefSchema),
        load_default=list,
        validate=items(max=50),
        metadata={
            "description": "One per document type; every mandatory type of the procedure at least once"
        },
    )


class FiledSchema(BaseSchema):
    code = fields.String(required=True, metadata={"example": "000.21.26.H06-231027-0001"})
    lookup_secret = fields.String(
        required=True, metadata={"description": "Shown once; the portal asks for it"}
    )
    status = fields.String(required=True)
    # Kept as sent the first time: a retried request gets the identical answer.
    submitted_at = fields.String(required=True, metadata={"format": "date-time"})


class CitizenAccessSchema(BaseSchema):
    """A citizen proves they hold the dossier with the secret from the receipt."""

    lookup_secret = fields.String(load_default=None, allow_none=True, validate=length(1, 40))


class SupplementSchema(CitizenAccessSchema):
    note = fields.String(load_default="", validate=length(max=2000))
    documents = fields.List(fields.Nested(DocumentRefSchema), required=True, validate=items(1, 50))


class WithdrawalSchema(CitizenAccessSchema):
    reason = fields.String(load_default="", validate=length(max=2000))


class DossierStateSchema(BaseSchema):
    code = fields.String(required=True)
    status = fields.String(required=True)
    supplement_open = fields.Boolean(required=True)
    updated_at = fields.DateTime(required=True)


class UploadedSchema(BaseSchema):
    id = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True, metadata={"example": "application/pdf"})
    sha256 = fields.String(required=True)


class UploadFormSchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class UploadAccessSchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    lookup_secret = fields.String(validate=length(1, 40))


class ProcedureQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    channel = fields.String(validate=one_of(CHANNELS), metadata={"description": "Only those offered on it"})
    unit = fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."))


class FormFieldOutSchema(BaseSchema):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.String(), allow_none=True)


class DocumentTypeOutSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    originals = fields.Integer()
    copies = fields.Integer()
    mandatory = fields.Boolean()
    file_types = fields.List(fields.String())


class OfferedProcedureSchema(BaseSchema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    field = fields.String()
    level = fields.String()
    online_mode = fields.String()
    receiving_units = fields.List(fields.String())
    processing_time = fields.Dict()
    same_day = fields.Boolean()
    fees = fields.List(fields.Dict())
    form_fields = fields.List(fields.Nested(FormFieldOutSchema))
    documents = fields.List(fields.Nested(DocumentTypeOutSchema))
    valid_from = fields.String()
    valid_to = fields.String(allow_none=True)
