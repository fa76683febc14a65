"""Request and response schemas of the processing API (and the catalogue import file format)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from eventkit.envelope import jsonable
from eventkit.schemas import BaseSchema, between, items, length, one_of, pattern
from processing.service.queues import decode_cursor, parse_search
from processing.workflow import RESULT_METHODS, States

PROCEDURE_CODE = r"^\d\.\d{6}$"
UNIT_CODE = r"^[0-9A-Za-z.]{1,20}$"
ELECTRONIC_ID = r"^\d{3}\.[0-9A-Z]{2}\.\d{2}\.[A-Z]\d{2}$"
HH_MM = r"^([01]\d|2[0-3]):[0-5]\d$"

LEVELS = ("province", "district", "commune")
UNIT_TYPES = ("province", "district", "commune", "town", "ward", "centre", "office")
ONLINE_MODES = ("full_online", "partial_online", "counter_only")
TIME_UNITS = ("working_days", "working_hours", "calendar_days")
FEE_KINDS = ("fixed", "per_page", "exempt")
FIELD_TYPES = ("text", "date", "number", "choice", "cccd")
FILE_TYPES = ("pdf", "jpeg", "png")


class StaffSchema(BaseSchema):
    user_id = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    units = fields.List(fields.String(), required=True)


# -- staff directory ----------------------------------------------------------------------------

USER_ID = r"^[a-z0-9][a-z0-9._-]{1,63}$"
STAFF_ROLES = ("receptionist", "specialist", "leader", "admin")


class StaffAccountSchema(BaseSchema):
    """A staff account as the administrator enters it."""

    user_id = fields.String(
        required=True,
        validate=pattern(USER_ID, "Tên đăng nhập: 2–64 ký tự chữ thường, số, dấu chấm, gạch."),
    )
    name = fields.String(required=True, validate=length(1, 200))
    email = fields.Email(load_default=None, allow_none=True, validate=length(max=254))
    roles = fields.List(fields.String(validate=one_of(STAFF_ROLES)), required=True, validate=items(1, 4))
    units = fields.List(
        fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ.")),
        required=True,
        validate=items(1, 50),
    )
    active = fields.Boolean(load_default=True)
    reason = fields.String(load_default="", validate=length(max=2000))

    @validates_schema
    def _distinct(self, data: dict[str, Any], **_: Any) -> None:
        for name, what in (("roles", "Vai trò"), ("units", "Đơn vị")):
            if name in data:
                _unique(data[name], name, what)


class StaffAccountUpdateSchema(StaffAccountSchema):
    class Meta:
        exclude = ("user_id",)

    version = fields.Integer(
        required=True, validate=between(1), metadata={"description": "The version edited"}
    )
    reason = fields.String(required=True, validate=length(1, 2000))


class StaffAccountOutSchema(BaseSchema):
    user_id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String(), required=True)
    units = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class TokenRequestSchema(BaseSchema):
    """An officer's sign-in for an API client: user id, password and, where required, the code."""

    user_id = fields.String(required=True, validate=length(1, 64))
    password = fields.String(required=True, validate=length(1, 128), load_only=True)
    totp = fields.String(load_default=None, allow_none=True, validate=length(max=12), load_only=True)


class TokenSchema(BaseSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class PasswordResetSchema(BaseSchema):
    """A temporary password the administrator gives an officer, who must change it at sign-in."""

    password = fields.String(required=True, validate=length(1, 128), load_only=True)
    reason = fields.String(required=True, validate=length(1, 2000))


class WholeNumber(fields.Integer):
    """An integer as JSON Schema has it: `3` or `3.0`, not `3.5`, `"3"` or `true`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return int(super()._deserialize(value, attr, data, **kwargs))


class SigninSettingsSchema(BaseSchema):
    """Which staff roles must sign in with a second factor (TOTP)."""

    totp_required_roles = fields.List(fields.String(validate=one_of(STAFF_ROLES)), required=True)
    version = WholeNumber(required=True, strict=True, validate=between(0, 2**31))
    reason = fields.String(required=True, validate=length(1, 2000), load_only=True)


class StaffQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    unit = fields.String(required=True, validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."))
    role = fields.String(load_default=None, validate=one_of(STAFF_ROLES))


# -- catalogue entries --------------------------------------------------------------------------


class CatalogueEntrySchema(BaseSchema):
    """What procedures and units share: when they are in force and where their data comes from."""

    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    placeholders = fields.List(fields.String(), load_default=list)
    source = fields.String(load_default="", validate=length(max=2000))
    notes = fields.String(load_default="", validate=length(max=4000))


def _validity_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    if data.get("valid_to") and data.get("valid_from") and data["valid_to"] < data["valid_from"]:
        return {"valid_to": ["Ngày hết hiệu lực phải sau ngày có hiệu lực."]}
    return {}


# -- procedures ---------------------------------------------------------------------------------


class ProcessingTimeSchema(BaseSchema):
    amount = fields.Float(required=True, validate=between(0, 365))
    unit = fields.String(required=True, validate=one_of(TIME_UNITS))
    holidays_count = fields.Boolean(load_default=False)

    @validates_schema
    def whole_calendar_days(self, data: dict[str, Any], **_: Any) -> None:
        if data["unit"] == "calendar_days" and data["amount"] != int(data["amount"]):
            raise ValidationError("Thời hạn tính theo ngày lịch phải là số nguyên.", "amount")


class FeeSchema(BaseSchema):
    kind = fields.String(required=True, validate=one_of(FEE_KINDS))
    amount_vnd = fields.Integer(required=True, validate=between(0, 1_000_000_000))
    description = fields.String(load_default="", validate=length(max=500))

    @validates_schema
    def exempt_is_free(self, data: dict[str, Any], **_: Any) -> None:
        if data["kind"] == "exempt" and data["amount_vnd"] != 0:
            raise ValidationError("Miễn phí thì số tiền phải là 0.", "amount_vnd")


class DocumentTypeSchema(BaseSchema):
    code = fields.String(
        required=True, validate=pattern(r"^[A-Z0-9-]{2,20}$", "Mã giấy tờ: 2–20 ký tự A–Z, 0–9, -.")
    )
    name = fields.String(required=True, validate=length(1, 500))
    originals = fields.Integer(load_default=1, validate=between(0, 20))
    copies = fields.Integer(load_default=0, validate=between(0, 20))
    mandatory = fields.Boolean(load_default=True)
    file_types = fields.List(
        fields.String(validate=one_of(FILE_TYPES)), load_default=list(FILE_TYPES), validate=items(1, 3)
    )


class FormFieldSchema(BaseSchema):
    name = fields.String(
        required=True, validate=pattern(r"^[a-z][a-z0-9_]{1,40}$", "Tên trường: chữ thường a–z, số, _.")
    )
    label = fields.String(required=True, validate=length(1, 200))
    type = fields.String(required=True, validate=one_of(FIELD_TYPES))
    required = fields.Boolean(load_default=True)
    choices = fields.List(fields.String(validate=length(1, 200)), load_default=None, validate=items(1, 50))

    @validates_schema
    def choices_go_with_choice(self, data: dict[str, Any], **_: Any) -> None:
        if data["type"] == "choice" and not data.get("choices"):
            raise ValidationError("Trường kiểu lựa chọn phải có danh sách lựa chọn.", "choices")
        if data["type"] != "choice" and data.get("choices"):
            raise ValidationError("Chỉ trường kiểu lựa chọn mới có danh sách lựa chọn.", "choices")


def _passed(entries: list[dict[str, Any]] | None, key: str) -> list[Any]:
    """The `key` of each list entry whose `key` passed its own checks.

    With some fields failed, marshmallow hands the cross-field checks what did pass: an entry
    whose `key` failed is there without it.
    """
    return [entry[key] for entry in entries or [] if key in entry]


def _unique(values: list[str], field: str, what: str) -> None:
    if len(values) != len(set(values)):
        raise ValidationError(f"{what} bị trùng.", field)


class ProcedureSchema(CatalogueEntrySchema):
    """A procedure as an administrator writes it (POST, and PUT with `version`)."""

    code = fields.String(required=True, validate=pattern(PROCEDURE_CODE, "Mã thủ tục dạng 1.001193."))
    name = fields.String(required=True, validate=length(1, 500))
    field = fields.String(required=True, validate=length(1, 200))
    level = fields.String(required=True, validate=one_of(LEVELS))
    receiving_units = fields.List(
        fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ.")),
        required=True,
        validate=items(1, 200),
    )
    resolving_units = fields.List(
        fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ.")),
        required=True,
        validate=items(1, 200),
    )
    online_mode = fields.String(required=True, validate=one_of(ONLINE_MODES))
    service_level_2019 = fields.String(
        load_default=None, allow_none=True, validate=one_of(["Mức độ 2", "Mức độ 3", "Mức độ 4"])
    )
    processing_time = fields.Nested(ProcessingTimeSchema, required=True)
    same_day = fields.Boolean(load_default=False)
    same_day_cutoff = fields.String(
        load_default=None, allow_none=True, validate=pattern(HH_MM, "Giờ dạng HH:MM.")
    )
    fees = fields.List(fields.Nested(FeeSchema), load_default=list, validate=items(max=20))
    documents = fields.List(fields.Nested(DocumentTypeSchema), load_default=list, validate=items(max=50))
    form_fields = fields.List(fields.Nested(FormFieldSchema), load_default=list, validate=items(max=50))
    legal_basis = fields.String(load_default="", validate=length(max=2000))
    result_type = fields.String(load_default="", validate=length(max=500))

    # Also run when some fields failed, so that one answer names every bad field.
    @validates_schema(skip_on_field_errors=False)
    def consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors = _validity_errors(data)
        if data.get("same_day") and not data.get("same_day_cutoff"):
            errors.setdefault("same_day_cutoff", []).append(
                "Thủ tục giải quyết trong ngày cần giờ tiếp nhận cuối."
            )
        for name, values, what in (
            ("documents", _passed(data.get("documents"), "code"), "Mã giấy tờ"),
            ("form_fields", _passed(data.get("form_fields"), "name"), "Tên trường"),
            ("receiving_units", data.get("receiving_units", []), "Mã đơn vị"),
        ):
            try:
                _unique(values, name, what)
            except ValidationError as exc:
                errors.update(exc.normalized_messages())  # type: ignore[arg-type]
        unknown = set(data.get("placeholders", [])) - set(self.fields)
        if unknown:
            errors.setdefault("placeholders", []).append(
                "Tên trường không tồn tại: " + ", ".join(sorted(unknown))
            )
        if errors:
            raise ValidationError(errors)


class ProcedureUpdateSchema(ProcedureSchema):
    version = fields.Integer(
        required=True, validate=between(1), metadata={"description": "The version edited"}
    )
    change_reason = fields.String(
        load_default="", validate=length(max=2000), metadata={"description": "Why, kept with the version"}
    )


class VersionedOutSchema(BaseSchema):
    """What a stored procedure or unit adds to what was written."""

    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)
    updated_by = fields.String()
    change_reason = fields.String()
    # Stored and published as ISO dates.
    valid_from = fields.String(required=True)
    valid_to = fields.String(allow_none=True)


class ProcedureOutSchema(VersionedOutSchema, ProcedureSchema):
    pass


class ProcedureQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    level = fields.String(validate=one_of(LEVELS))
    field = fields.String(validate=length(1, 200))
    unit = fields.String(
        validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."),
        metadata={"description": "Only procedures this unit receives"},
    )
    page = fields.Integer(load_default=1, validate=between(1, 10_000))
    page_size = fields.Integer(load_default=50, validate=between(1, 200))


class ProcedureListSchema(BaseSchema):
    items = fields.List(fields.Nested(ProcedureOutSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)


class ProcedureVersionSchema(BaseSchema):
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)
    updated_by = fields.String(required=True)
    procedure = fields.Nested(ProcedureOutSchema, required=True)


# -- units --------------------------------------------------------------------------------------


class UnitSchema(CatalogueEntrySchema):
    code = fields.String(
        required=True, validate=pattern(UNIT_CODE, "Mã đơn vị: 1–20 ký tự chữ, số, dấu chấm.")
    )
    name = fields.String(required=True, validate=length(1, 300))
    short_name = fields.String(load_default="", validate=length(max=200))
    type = fields.String(required=True, validate=one_of(UNIT_TYPES))
    parent = fields.String(
        load_default=None, allow_none=True, validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ.")
    )
    statistics_code = fields.String(
        load_default=None, allow_none=True, validate=pattern(r"^\d{2,8}$", "Mã thống kê gồm chữ số.")
    )
    electronic_id = fields.String(
        required=True, validate=pattern(ELECTRONIC_ID, "Mã định danh dạng 000.00.06.H56.")
    )
    successors = fields.List(
        fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ.")), load_default=list
    )
    address = fields.String(load_default=None, allow_none=True, validate=length(max=500))
    phone = fields.String(load_default=None, allow_none=True, validate=length(max=50))
    email = fields.Email(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def consistent(self, data: dict[str, Any], **_: Any) -> None:
        if errors := _validity_errors(data):
            raise ValidationError(errors)
        # Compared only when both passed (a failed field is absent, not None).
        if data.get("code") is not None and data.get("parent") == data["code"]:
            raise ValidationError("Đơn vị không thể là cấp trên của chính nó.", "parent")


class UnitUpdateSchema(UnitSchema):
    version = fields.Integer(required=True, validate=between(1))
    change_reason = fields.String(
        load_default="", validate=length(max=2000), metadata={"description": "Why, kept with the version"}
    )


class UnitOutSchema(VersionedOutSchema, UnitSchema):
    pass


class UnitQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    parent = fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."))
    type = fields.String(validate=one_of(UNIT_TYPES))


# -- calendar -----------------------------------------------------------------------------------


class DayOffSchema(BaseSchema):
    date = fields.Date(required=True)
    name = fields.String(required=True, validate=length(1, 200))
    kind = fields.String(required=True, validate=one_of(["holiday", "compensatory", "swap"]))


class WorkingDaySchema(BaseSchema):
    date = fields.Date(required=True)
    name = fields.String(required=True, validate=length(1, 200))


class SessionSchema(BaseSchema):
    start = fields.String(required=True, validate=pattern(HH_MM, "Giờ dạng HH:MM."))
    end = fields.String(required=True, validate=pattern(HH_MM, "Giờ dạng HH:MM."))


class CalendarYearSchema(BaseSchema):
    days_off = fields.List(fields.Nested(DayOffSchema), required=True, validate=items(max=60))
    working_days = fields.List(fields.Nested(WorkingDaySchema), required=True, validate=items(max=20))
    hours = fields.List(fields.Nested(SessionSchema), required=True, validate=items(1, 4))


class CalendarUpdateSchema(CalendarYearSchema):
    version = fields.Integer(
        required=True,
        validate=between(0),
        metadata={"description": "The version edited; 0 for a year never saved"},
    )
    reason = fields.String(
        load_default="", validate=length(max=2000), metadata={"description": "Why, for the audit trail"}
    )


class DayOffOutSchema(DayOffSchema):
    date = fields.String(required=True)


class WorkingDayOutSchema(WorkingDaySchema):
    date = fields.String(required=True)


class CalendarOutSchema(BaseSchema):
    days_off = fields.List(fields.Nested(DayOffOutSchema), required=True)
    working_days = fields.List(fields.Nested(WorkingDayOutSchema), required=True)
    hours = fields.List(fields.Nested(SessionSchema), required=True)
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)
    source = fields.String(required=True)
    updated_at = fields.DateTime(allow_none=True, required=True)
    updated_by = fields.String(required=True)


class AuditEntrySchema(BaseSchema):
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    target = fields.String(required=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    reason = fields.String(load_default="")


class DueQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    received_at = fields.AwareDateTime(required=True, metadata={"example": "2023-10-27T09:32:00+07:00"})
    procedure = fields.String(required=True, validate=pattern(PROCEDURE_CODE, "Mã thủ tục dạng 1.001193."))


class DueSchema(BaseSchema):
    procedure = fields.String(required=True)
    procedure_version = fields.Integer(required=True)
    received_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)
    processing_time = fields.Nested(ProcessingTimeSchema, required=True)
    same_day = fields.Boolean(required=True)


# -- dossier workflow ---------------------------------------------------------------------------


class JsonValue(fields.Raw):
    """Any JSON value; dates and times inside it are written as ISO 8601 strings."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return jsonable(value)


MISSING_DOCUMENT = "Mỗi mục là tên giấy tờ, hoặc {document, reason}."


class MissingDocumentField(fields.Field):
    """A document a supplement must bring: its name, or `{document, reason}`."""

    def __init__(self, **kwargs: Any) -> None:
        one_of_shapes = {
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"},
                {
                    "type": "object",
                    "properties": {
                        "document": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"},
                        "reason": {"type": "string", "maxLength": 2000},
                    },
                    "required": ["document"],
                    "additionalProperties": False,
                },
            ]
        }
        super().__init__(metadata=one_of_shapes, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and value.strip() and len(value) <= 500:
            return value
        if (
            isinstance(value, dict)
            and set(value) <= {"document", "reason"}
            and isinstance(value.get("document"), str)
            and value["document"].strip()
            and len(value["document"]) <= 500
            and isinstance(value.get("reason", ""), str)
            and len(value.get("reason", "")) <= 2000
        ):
            return value
        raise ValidationError(MISSING_DOCUMENT)


class DossierActionSchema(BaseSchema):
    """The body of an action: which fields an action needs is in the action's description (and
    `GET /dossiers/{code}/actions`); a missing one is named in the 422 answer."""

    note = fields.String(validate=length(max=4000))
    reason = fields.String(validate=length(max=4000))
    missing = fields.List(
        MissingDocumentField(),
        validate=items(max=50),
        metadata={"description": "Documents to bring: `{document, reason}` objects or plain texts"},
    )
    reasons = fields.List(fields.String(validate=length(1, 2000)), validate=items(max=20))
    assignee = fields.String(
        validate=length(1, 200), metadata={"description": "User id of a specialist of the unit"}
    )
    to_unit = fields.String(validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."))
    draft_upload_id = fields.String(validate=length(1, 200))
    new_due_at = fields.AwareDateTime(metadata={"example": "2023-11-10T17:00:00+07:00"})
    upload_id = fields.String(validate=length(1, 200))
    method = fields.String(validate=one_of(RESULT_METHODS))


class DossierSnapshotSchema(BaseSchema):
    state = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    unit = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)


class DossierHistoryEntrySchema(BaseSchema):
    who = fields.String(required=True)
    role = fields.String(required=True)
    when = fields.DateTime(required=True)
    action = fields.String(required=True)
    before = fields.Nested(DossierSnapshotSchema, required=True)
    after = fields.Nested(DossierSnapshotSchema, required=True)
    reason = fields.String()
    note = fields.String()


class ControlSlipRowSchema(BaseSchema):
    """One hand-over of the processing control slip (Mẫu 05)."""

    at = fields.DateTime(required=True)
    action = fields.String(required=True)
    from_unit = fields.String(allow_none=True)
    from_user = fields.String(allow_none=True)
    to_unit = fields.String(allow_none=True)
    to_user = fields.String(allow_none=True)
    on_time = fields.Boolean(required=True)
    note = fields.String()


class DossierSchema(BaseSchema):
    code = fields.String(required=True)
    state = fields.String(required=True)
    procedure_code = fields.String(required=True)
    procedure_version = fields.Integer(allow_none=True)
    procedure_name = fields.String()
    channel = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "The unit handling it now"})
    receiving_unit = fields.String(required=True)
    assignee = fields.String(allow_none=True)
    applicant = JsonValue()
    delivery = JsonValue()
    documents = fields.List(JsonValue())
    form = JsonValue()
    submitted_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    received_by = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    paused_at = fields.DateTime(allow_none=True)
    extended = fields.Boolean()
    resolved_at = fields.DateTime(allow_none=True)
    timeliness = fields.String(allow_none=True, metadata={"description": "early / on_time / late"})
    result = JsonValue(allow_none=True)
    supplement = JsonValue()
    refusal = JsonValue()
    proposal = JsonValue()
    sent_back = JsonValue()
    approval = JsonValue()
    extension = JsonValue()
    rejection = JsonValue()
    stop = JsonValue()
    returned = JsonValue()
    returned_letters = fields.List(
        JsonValue(),
        metadata={"description": "Letters the post brought back (letter, template, reason, when)"},
    )
    control_slip = fields.List(fields.Nested(ControlSlipRowSchema), required=True)
    history = fields.List(fields.Nested(DossierHistoryEntrySchema), required=True)
    sequence = fields.Integer(required=True)
    updated_at = fields.DateTime(allow_none=True)


class DossierActionInfoSchema(BaseSchema):
    action = fields.String(required=True)
    required = fields.List(fields.String(), required=True)
    optional = fields.List(fields.String(), required=True)


class DossierActionsSchema(BaseSchema):
    code = fields.String(required=True)
    state = fields.String(required=True)
    allowed = fields.List(fields.String(), required=True)
    actions = fields.List(fields.Nested(DossierActionInfoSchema), required=True)


class NotAllowedSchema(BaseSchema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)
    state = fields.String(required=True)
    allowed = fields.List(fields.String(), required=True)


# -- result files -------------------------------------------------------------------------------


class ResultFileFormSchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ResultFileUnitSchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    unit = fields.String(
        validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."),
        metadata={"description": "The unit the file belongs to; needed only by officers of several"},
    )


class ResultFileSchema(BaseSchema):
    id = fields.String(required=True, metadata={"description": "The `upload_id` of issue_result"})
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)


# -- statistics and the register (Mẫu 06) -------------------------------------------------------

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
GROUP_BY = ("unit", "procedure", "month", "channel")
REGISTER_FORMATS = ("csv", "xlsx")


class StatsQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    unit = fields.String(
        validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."),
        metadata={"description": "A unit the caller serves; default: all of the caller's units"},
    )
    from_month = fields.String(
        data_key="from",
        required=True,
        validate=pattern(MONTH, "Tháng dạng YYYY-MM."),
        metadata={"example": "2026-01"},
    )
    to_month = fields.String(
        data_key="to",
        required=True,
        validate=pattern(MONTH, "Tháng dạng YYYY-MM."),
        metadata={"example": "2026-03"},
    )
    group_by = fields.String(load_default="unit", validate=one_of(GROUP_BY))


class StatsRowSchema(BaseSchema):
    unit = fields.String()
    procedure = fields.String()
    channel = fields.String()
    month = fields.String()
    from_month = fields.String(required=True)
    to_month = fields.String(required=True)
    carried_over = fields.Integer(required=True)
    received_new = fields.Integer(required=True)
    received_new_online = fields.Integer(required=True)
    received_new_counter = fields.Integer(required=True)
    received_new_post = fields.Integer(required=True)
    to_process = fields.Integer(required=True)
    resolved = fields.Integer(required=True)
    resolved_early = fields.Integer(required=True)
    resolved_on_time = fields.Integer(required=True)
    resolved_late = fields.Integer(required=True)
    in_progress = fields.Integer(required=True)
    in_progress_on_time = fields.Integer(required=True)
    in_progress_overdue = fields.Integer(required=True)
    returned = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    stopped = fields.Integer(required=True)
    withdrawn = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    late_rate = fields.Float(allow_none=True, required=True)
    on_time_rate = fields.Float(allow_none=True, required=True)
    resolved_in_time_rate = fields.Float(allow_none=True, required=True)
    resolved_early_rate = fields.Float(allow_none=True, required=True)


class StatsReportSchema(BaseSchema):
    units = fields.List(fields.String(), required=True)
    from_month = fields.String(data_key="from", required=True)
    to_month = fields.String(data_key="to", required=True)
    group_by = fields.String(required=True)
    rows = fields.List(fields.Nested(StatsRowSchema), required=True)


class RegisterQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    unit = fields.String(
        validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."),
        metadata={"description": "A unit the caller serves; default: the caller's only unit"},
    )
    from_day = fields.Date(
        data_key="from",
        required=True,
        format="%Y-%m-%d",
        error_messages={"invalid": "Ngày dạng YYYY-MM-DD."},
        metadata={"example": "2026-01-01"},
    )
    to_day = fields.Date(
        data_key="to",
        required=True,
        format="%Y-%m-%d",
        error_messages={"invalid": "Ngày dạng YYYY-MM-DD."},
        metadata={"example": "2026-01-31"},
    )
    format = fields.String(load_default="csv", validate=one_of(REGISTER_FORMATS))


# -- work queues --------------------------------------------------------------------------------


BAD_CURSOR = "Con trỏ trang không hợp lệ; hãy dùng next_cursor của trang trước."


class CursorField(fields.String):
    """The opaque position a page ended on, as `next_cursor` gave it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(text) > 500:
                raise ValueError("too long")
            return decode_cursor(text)
        except ValueError as exc:
            raise ValidationError(BAD_CURSOR) from exc


class SearchField(fields.String):
    """A dossier code, an ID number (CMND/CCCD) or a full name."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 200:
            raise ValidationError("Tối đa 200 ký tự.")
        search = parse_search(text)
        if search is None:
            raise ValidationError("Nhập mã hồ sơ, số CMND/CCCD hoặc họ và tên người nộp.")
        return search


DOSSIER_STATES = States.ALL


class DossierQuerySchema(BaseSchema):
    class Meta:
        unknown = "exclude"

    unit = fields.String(
        validate=pattern(UNIT_CODE, "Mã đơn vị không hợp lệ."),
        metadata={"description": "One of the caller's units (default: all of them)"},
    )
    state = fields.List(
        fields.String(validate=one_of(DOSSIER_STATES)),
        validate=items(max=len(DOSSIER_STATES)),
        metadata={"description": "One or more states (default: the open ones; with `q`: all)"},
    )
    procedure = fields.String(validate=pattern(PROCEDURE_CODE, "Mã thủ tục dạng 1.001193."))
    assignee = fields.String(
        validate=length(1, 200), metadata={"description": "A specialist's user id, or `me`"}
    )
    overdue = fields.Boolean()
    due_before = fields.AwareDateTime(metadata={"example": "2023-11-10T17:00:00+07:00"})
    q = SearchField(
        metadata={
            "description": "A dossier code, an ID number (CMND/CCCD) or the applicant's full name",
            "minLength": 1,
            "maxLength": 200,
            "pattern": r"\S",
        },
    )
    limit = fields.Integer(load_default=20, validate=between(1, 100))
    cursor = CursorField(
        metadata={
            "description": "`next_cursor` of the page before",
            "minLength": 1,
            "maxLength": 500,
            "pattern": "^[A-Za-z0-9_-]+$",
        }
    )


class DossierSummarySchema(BaseSchema):
    code = fields.String(required=True)
    procedure_code = fields.String(required=True)
    procedure_name = fields.String(required=True)
    applicant_name = fields.String(required=True)
    state = fields.String(required=True)
    unit = fields.String(required=True)
    receiving_unit = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    paused = fields.Boolean(required=True, metadata={"description": "The clock waits for a supplement"})
    overdue = fields.Boolean(required=True)
    working_hours_left = fields.Float(
        allow_none=True, metadata={"description": "Working hours to the due time; negative when overdue"}
    )


class DossierPageSchema(BaseSchema):
    items = fields.List(fields.Nested(DossierSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
