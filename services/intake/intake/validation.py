"""Rules of a dossier filing that need the procedure definition or domain knowledge.

The request schema has already checked JSON types and the presence of the top-level fields; these
pure functions (no I/O) check the rest. Each `check_*` that looks at a part of the filing returns
errors in marshmallow's shape (`{field: [messages]}`, nested for nested objects, string indexes for
list items, `_schema` for messages about a whole list that also has item errors) and an empty dict
when all is well; each collects every error instead of stopping at the first. Citizens read the
messages, so they are Vietnamese.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

# Province codes of the place of birth registration (Thông tư 59/2021/TT-BCA, phụ lục I): the 63
# provinces and cities before the 2025 merger; numbers in between are not used.
PROVINCE_CODES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 "
    "038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 "
    "080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)

# 4th digit of a CCCD: (male, female) codes -> first year of the century of birth.
CENTURY_DIGITS: dict[str, int] = {
    "0": 1900,
    "1": 1900,
    "2": 2000,
    "3": 2000,
    "4": 2100,
    "5": 2100,
    "6": 2200,
    "7": 2200,
    "8": 1800,
    "9": 1800,
}

MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
FULL_NAME_LENGTH = (2, 100)
ADDRESS_MAX = 300
TEXT_MAX = 1000
EMAIL_MAX = 254
EARLIEST_BIRTH = date(1900, 1, 1)
FUTURE_DATE_DAYS = 366

_CCCD = re.compile(r"[0-9]{12}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE_SEPARATORS = re.compile(r"[ .\-]")
# local@domain.tld: a dot-atom local part (RFC 5322 without quoted strings), DNS labels, a
# letter TLD (or an IDN one in punycode).
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}))"
)
_NAME_PUNCTUATION = frozenset(" '’-")

PHONE_MESSAGE = "Số điện thoại không hợp lệ (ví dụ 0912345678)."
EMAIL_MESSAGE = "Địa chỉ email không hợp lệ (ví dụ ten@example.com)."
UNKNOWN_FORM_FIELD = "Trường không có trong tờ khai của thủ tục."
UNKNOWN_UPLOAD = "Tệp không tồn tại hoặc đã hết hạn."
UPLOAD_USED = "Tệp đã được dùng cho hồ sơ khác."
# A claim lost at the last moment: to another filing, or to housekeeping removing the expired file.
UPLOAD_TAKEN = "Tệp đã được dùng cho hồ sơ khác hoặc đã hết hạn."

FILE_TYPE_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}


# -- single values ------------------------------------------------------------------------------


def check_cccd(number: str, date_of_birth: date | None = None) -> str | None:
    """None if `number` is a well-formed citizen identity (CCCD) number, else why not.

    12 digits: the province code of the birth registration (3), gender and century (1), the last two
    digits of the birth year (2), a random number (6). With `date_of_birth`, digits 4–6 must match it.
    """
    if not isinstance(number, str) or not _CCCD.fullmatch(number):
        return "Số CCCD phải gồm đúng 12 chữ số."
    if number[:3] not in PROVINCE_CODES:
        return (
            f"Mã tỉnh, thành phố nơi đăng ký khai sinh (3 chữ số đầu của số CCCD) không hợp lệ: {number[:3]}."
        )
    if date_of_birth is None:
        return None
    year = date_of_birth.year
    century = year // 100 * 100
    codes = sorted(digit for digit, first in CENTURY_DIGITS.items() if first == century)
    if not codes:
        return f"Năm sinh {year} nằm ngoài phạm vi mã hóa của số CCCD (1800–2299)."
    if number[3] not in codes or number[4:6] != f"{year % 100:02d}":
        return (
            f"Số CCCD không khớp với năm sinh {year}: chữ số thứ 4 phải là {codes[0]} (nam) "
            f"hoặc {codes[1]} (nữ), chữ số thứ 5–6 phải là {year % 100:02d}."
        )
    return None


def normalise_phone(phone: str) -> str:
    """The national form of a phone number: digits only, leading 0 ("+84 912 345 678" -> "0912345678").

    Spaces, dots and dashes are dropped and a +84 / 84 country code becomes 0. Anything else is kept
    as it is, so the result of an invalid number is still invalid (see `check_phone`).
    """
    digits = _PHONE_SEPARATORS.sub("", phone.strip())
    if digits.startswith("+84"):
        return "0" + digits[3:]
    if digits.startswith("84"):
        return "0" + digits[2:]
    return digits


def check_phone(phone: str) -> str | None:
    """None if `phone` is a Vietnamese mobile (10 digits, 03/05/07/08/09) or landline (11 digits, 02)."""
    if not isinstance(phone, str):
        return PHONE_MESSAGE
    number = normalise_phone(phone)
    if not number.isascii() or not number.isdigit():
        return PHONE_MESSAGE
    if len(number) == 10 and number.startswith(MOBILE_PREFIXES):
        return None
    if len(number) == 11 and number.startswith("02"):
        return None
    return PHONE_MESSAGE


def check_email(email: str) -> str | None:
    """None if `email` looks like local@domain.tld (no spaces, at most 254 characters)."""
    if not isinstance(email, str) or len(email) > EMAIL_MAX:
        return EMAIL_MESSAGE
    match = _EMAIL.fullmatch(email)
    if match is None or len(match["local"]) > 64:
        return EMAIL_MESSAGE
    return None


# -- parts of the filing ------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], field: str, message: str | None) -> None:
    if message:
        errors.setdefault(field, []).append(message)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def _iso_date(value: Any) -> date | None:
    """A date from a date, a datetime or an ISO "YYYY-MM-DD" string; None when it is none of these."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _full_name_errors(value: Any) -> list[str]:
    if not isinstance(value, str):
        return ["Họ và tên phải là chuỗi ký tự."]
    name = unicodedata.normalize("NFC", value.strip())
    messages = []
    low, high = FULL_NAME_LENGTH
    if not low <= len(name) <= high:
        messages.append(f"Họ và tên phải dài từ {low} đến {high} ký tự.")
    if any(ch.isdigit() for ch in name):
        messages.append("Họ và tên không được chứa chữ số.")
    others = {
        ch
        for ch in name
        if not (ch.isalpha() or ch.isdigit() or ch in _NAME_PUNCTUATION or unicodedata.category(ch)[0] == "M")
    }
    if others:
        messages.append("Họ và tên chỉ gồm chữ cái, dấu cách, dấu nháy đơn (') và dấu gạch ngang (-).")
    elif name and not any(ch.isalpha() for ch in name):
        messages.append("Họ và tên phải có chữ cái.")
    return messages


def check_applicant(applicant: Mapping[str, Any], today: date) -> dict[str, list[str]]:
    """Errors of the applicant block: `full_name`, `id_number`, `date_of_birth`, `phone`, `email`, `address`.

    `date_of_birth` may be a date or an ISO string; the CCCD is matched against it when it is acceptable.
    """
    errors: dict[str, list[str]] = {}

    full_name: Any = applicant.get("full_name")
    if _blank(full_name):
        _add(errors, "full_name", "Thiếu họ và tên.")
    else:
        for message in _full_name_errors(full_name):
            _add(errors, "full_name", message)

    birth: date | None = None
    raw_birth: Any = applicant.get("date_of_birth")
    if _blank(raw_birth):
        _add(errors, "date_of_birth", "Thiếu ngày sinh.")
    else:
        birth = _iso_date(raw_birth)
        if birth is None:
            _add(errors, "date_of_birth", "Ngày sinh không hợp lệ (định dạng YYYY-MM-DD).")
        elif birth > today:
            _add(errors, "date_of_birth", "Ngày sinh không được sau ngày hôm nay.")
            birth = None
        elif birth < EARLIEST_BIRTH:
            _add(errors, "date_of_birth", f"Ngày sinh không được trước năm {EARLIEST_BIRTH.year}.")
            birth = None

    id_number: Any = applicant.get("id_number")
    if _blank(id_number):
        _add(errors, "id_number", "Thiếu số CCCD.")
    else:
        # Matched against the birth date only when that date is itself acceptable.
        _add(errors, "id_number", check_cccd(id_number, birth))

    phone: Any = applicant.get("phone")
    if _blank(phone):
        _add(errors, "phone", "Thiếu số điện thoại.")
    else:
        _add(errors, "phone", check_phone(phone))

    email: Any = applicant.get("email")
    if not _blank(email):
        _add(errors, "email", check_email(email))

    address: Any = applicant.get("address")
    if address is not None:
        if not isinstance(address, str):
            _add(errors, "address", "Địa chỉ phải là chuỗi ký tự.")
        elif len(address) > ADDRESS_MAX:
            _add(errors, "address", f"Địa chỉ không được dài quá {ADDRESS_MAX} ký tự.")
    return errors


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def _form_value_error(spec: Mapping[str, Any], value: Any, today: date) -> str | None:
    label = spec.get("label") or spec["name"]
    kind = spec.get("type")
    if kind == "text":
        if not isinstance(value, str):
            return f"{label}: phải là chuỗi ký tự."
        if len(value) > TEXT_MAX:
            return f"{label}: không được dài quá {TEXT_MAX} ký tự."
    elif kind == "date":
        day = _iso_date(value) if isinstance(value, str) else None
        if day is None:
            return f"{label}: phải là ngày hợp lệ dạng YYYY-MM-DD (ví dụ 2024-01-31)."
        latest = today + timedelta(days=FUTURE_DATE_DAYS)
        if day > latest:
            return f"{label}: không được sau ngày {latest:%d/%m/%Y}."
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{label}: phải là số."
        if isinstance(value, float) and not math.isfinite(value):
            return f"{label}: phải là số hữu hạn."
    elif kind == "choice":
        choices = list(spec.get("choices") or [])
        if not isinstance(value, str) or value not in choices:
            return f"{label}: phải là một trong các giá trị: {', '.join(choices)}."
    elif kind == "cccd":
        message = check_cccd(value)
        if message:
            return f"{label}: {_lower_first(message)}"
    else:  # the procedure schema allows no other type
        return f"{label}: kiểu trường không được hỗ trợ."
    return None


def check_form(
    form_fields: Sequence[Mapping[str, Any]], form: Mapping[str, Any], today: date
) -> dict[str, list[str]]:
    """Errors of the procedure-specific form against the procedure's `form_fields`.

    A field that is absent, null or an empty string is missing: an error when required, otherwise
    not checked further. Keys the procedure does not define are errors.
    """
    errors: dict[str, list[str]] = {}
    specs = {spec["name"]: spec for spec in form_fields}
    for name, spec in specs.items():
        value = form.get(name)
        if _blank(value):
            if spec.get("required", True):
                _add(errors, name, f"Thiếu {spec.get('label') or name}.")
            continue
        _add(errors, name, _form_value_error(spec, value, today))
    for name in form:
        if name not in specs:
            _add(errors, name, UNKNOWN_FORM_FIELD)
    return errors


def _file_types(names: Sequence[str]) -> str:
    return ", ".join(FILE_TYPE_NAMES.get(name, name) for name in names)


def check_documents(
    document_types: Sequence[Mapping[str, Any]],
    documents: Sequence[Mapping[str, Any]],
    uploads: Mapping[str, Mapping[str, Any] | None],
    *,
    dossier_code: str | None = None,
) -> dict[str, Any]:
    """Errors of the filed documents against the procedure's `documents` definitions.

    `uploads` maps each upload id to None when unknown or expired, else to
    `{"content_type": "pdf" | "jpeg" | "png", "attached_to": None | dossier code}`; an id missing
    from the mapping counts as unknown. An upload attached to `dossier_code` (when supplementing
    that dossier) is not "used by another dossier".
    """
    types = {spec["code"]: spec for spec in document_types}
    missing = [
        f"Thiếu giấy tờ bắt buộc: {code} ({spec.get('name', code)})."
        for code, spec in types.items()
        if spec.get("mandatory", True) and not any(doc.get("type") == code for doc in documents)
    ]

    items: dict[str, dict[str, list[str]]] = {}
    first_seen: dict[str, int] = {}
    for index, doc in enumerate(documents):
        item: dict[str, list[str]] = {}
        code = doc.get("type")
        spec = types.get(code) if isinstance(code, str) else None
        if _blank(code):
            _add(item, "type", "Thiếu loại giấy tờ.")
        elif spec is None:
            _add(item, "type", f"Loại giấy tờ {code} không có trong thành phần hồ sơ của thủ tục.")

        upload_id = doc.get("upload_id")
        if _blank(upload_id) or not isinstance(upload_id, str):
            _add(item, "upload_id", "Thiếu tệp đính kèm.")
        elif upload_id in first_seen:
            _add(
                item,
                "upload_id",
                f"Tệp đã được đính kèm ở giấy tờ thứ {first_seen[upload_id] + 1} của hồ sơ.",
            )
        else:
            first_seen[upload_id] = index
            upload = uploads.get(upload_id)
            if upload is None:
                _add(item, "upload_id", UNKNOWN_UPLOAD)
            else:
                attached_to = upload.get("attached_to")
                if attached_to is not None and attached_to != dossier_code:
                    _add(item, "upload_id", UPLOAD_USED)
                allowed = list(spec.get("file_types") or FILE_TYPE_NAMES) if spec is not None else None
                content_type = upload.get("content_type")
                if allowed is not None and content_type not in allowed:
                    shown = FILE_TYPE_NAMES.get(str(content_type), str(content_type))
                    _add(
                        item,
                        "upload_id",
                        f"Giấy tờ này không nhận tệp định dạng {shown}; chỉ nhận: {_file_types(allowed)}.",
                    )
        if item:
            items[str(index)] = item

    if not items:
        return {"documents": missing} if missing else {}
    if missing:
        return {"documents": {"_schema": missing, **items}}
    return {"documents": items}


# -- combining ----------------------------------------------------------------------------------


def _as_messages(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _merge_value(left: Any, right: Any) -> Any:
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return merge_errors(left, right)
    if isinstance(left, Mapping):
        return merge_errors(left, {"_schema": _as_messages(right)})
    if isinstance(right, Mapping):
        return merge_errors({"_schema": _as_messages(left)}, right)
    merged = _as_messages(left)
    merged.extend(message for message in _as_messages(right) if message not in merged)
    return merged


def merge_errors(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge error dicts: nested dicts merge, message lists concatenate (without repeats), and a
    message list meeting a dict of item errors goes under that dict's `_schema`. Inputs are not changed.
    """
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in merged:
                merged[key] = _merge_value(merged[key], value)
            elif isinstance(value, Mapping):
                merged[key] = merge_errors(value)
            else:
                merged[key] = _as_messages(value)
    return merged
