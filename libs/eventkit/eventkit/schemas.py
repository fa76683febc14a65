"""Base marshmallow schema and validators whose error messages are Vietnamese.

People read these messages (citizens filing, officers editing), so every service builds its
schemas on `BaseSchema` and these validators. Importing this module also makes marshmallow's
built-in field messages Vietnamese for the whole process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

FIELD_MESSAGES: dict[type[Any], dict[str, str]] = {
    fields.Field: {
        "required": "Thiếu trường bắt buộc.",
        "null": "Không được để trống.",
        "validator_failed": "Giá trị không hợp lệ.",
    },
    fields.String: {"invalid": "Phải là chuỗi ký tự.", "invalid_utf8": "Chuỗi không đúng mã UTF-8."},
    fields.Number: {"invalid": "Phải là số.", "too_large": "Số quá lớn."},
    fields.Integer: {"invalid": "Phải là số nguyên."},
    fields.Float: {"special": "Không chấp nhận giá trị đặc biệt (NaN, vô cực)."},
    fields.Boolean: {"invalid": "Phải là true hoặc false."},
    fields.Date: {"invalid": "Ngày không hợp lệ (định dạng YYYY-MM-DD).", "format": "Ngày không hợp lệ."},
    fields.DateTime: {
        "invalid": "Thời điểm không hợp lệ (định dạng ISO 8601).",
        "invalid_awareness": "Thời điểm phải có múi giờ.",
        "format": "Thời điểm không hợp lệ.",
    },
    fields.AwareDateTime: {"invalid_awareness": "Thời điểm phải có múi giờ (ví dụ +07:00)."},
    fields.Time: {"invalid": "Giờ không hợp lệ (định dạng HH:MM).", "format": "Giờ không hợp lệ."},
    fields.List: {"invalid": "Phải là danh sách."},
    fields.Dict: {"invalid": "Phải là đối tượng JSON."},
    fields.Nested: {"type": "Phải là đối tượng JSON."},
    fields.Email: {"invalid": "Địa chỉ email không hợp lệ."},
}

for _field, _messages in FIELD_MESSAGES.items():
    _field.default_error_messages = {**_field.default_error_messages, **_messages}


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"type": "Dữ liệu phải là đối tượng JSON.", "unknown": "Trường không được chấp nhận."}


def length(min: int | None = None, max: int | None = None) -> validate.Length:
    if min is not None and max is not None:
        message = f"Độ dài phải từ {min} đến {max} ký tự." if min else f"Tối đa {max} ký tự."
    elif min is not None:
        message = f"Tối thiểu {min} ký tự." if min > 1 else "Không được để trống."
    else:
        message = f"Tối đa {max} ký tự."
    return validate.Length(min=min, max=max, error=message)


def items(min: int | None = None, max: int | None = None) -> validate.Length:
    """A bound on the number of items of a list."""
    if min and max:
        message = f"Phải có từ {min} đến {max} mục."
    elif min:
        message = f"Phải có ít nhất {min} mục."
    else:
        message = f"Tối đa {max} mục."
    return validate.Length(min=min, max=max, error=message)


def one_of(choices: Iterable[Any]) -> validate.OneOf:
    values = list(choices)
    return validate.OneOf(values, error="Phải là một trong: " + ", ".join(str(v) for v in values) + ".")


def between(min: float | None = None, max: float | None = None) -> validate.Range:
    if min is not None and max is not None:
        message = f"Phải từ {min} đến {max}."
    elif min is not None:
        message = f"Không được nhỏ hơn {min}."
    else:
        message = f"Không được lớn hơn {max}."
    return validate.Range(min=min, max=max, error=message)


def pattern(regex: str, message: str) -> validate.Regexp:
    return validate.Regexp(regex, error=message)
