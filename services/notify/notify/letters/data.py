"""A letter's data: checked against its template's field list, and put into its sentences.

A template declares each field by its dotted path (`applicant.full_name`) with a type; a list
field declares its items' fields the same way. `validate` returns the data with every string in
NFC (reportlab draws each code point as it comes and does not compose combining marks) and
datetimes parsed into Vietnam's time; `LetterDataError` names the first field that is missing or
invalid. Placeholders in a template's texts are `{path}` or `{path|format}` (formats below).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TYPES = ("text", "int", "date", "datetime", "url", "choice", "list")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*|#)(?:\|([a-z_]+))?\}")
_MISSING = object()


class LetterDataError(ValueError):
    """The data cannot fill the template: `field` (a dotted path, `documents[1].name` in a list)
    is missing or invalid, `problem` says how."""

    def __init__(self, template: str, field: str, problem: str) -> None:
        super().__init__(f"letter {template}: field '{field}' {problem}")
        self.template = template
        self.field = field
        self.problem = problem


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def validate(
    template: str, fields: Mapping[str, Mapping[str, Any]], data: Mapping[str, Any]
) -> dict[str, Any]:
    """`data` reduced to the declared fields, normalised; LetterDataError on the first bad one."""
    if not isinstance(data, Mapping):
        raise LetterDataError(template, "<data>", "must be an object")
    out: dict[str, Any] = {}
    for path, spec in fields.items():
        value = _lookup(data, path)
        checked = _check(template, path, spec, value)
        if checked is not _MISSING:
            _store(out, path, checked)
    return out


def fill(text: str, values: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]) -> str:
    """`text` with its placeholders replaced; an absent optional value gives an empty string."""

    def one(match: re.Match[str]) -> str:
        path, fmt = match.group(1), match.group(2)
        value = _lookup(values, path)
        if value is _MISSING or value is None:
            return ""
        return format_value(value, fmt, fields.get(path, {}))

    return nfc(_PLACEHOLDER.sub(one, text))


def placeholders(text: str) -> list[str]:
    return [match.group(1) for match in _PLACEHOLDER.finditer(text)]


def present(values: Mapping[str, Any], path: str) -> bool:
    value = _lookup(values, path)
    return value is not _MISSING and value not in (None, "", [])


def format_value(value: Any, fmt: str | None, spec: Mapping[str, Any]) -> str:
    if spec.get("type") == "choice" or fmt == "choice":
        return str(spec.get("choices", {}).get(str(value), value))
    if isinstance(value, dt.datetime):
        if fmt == "dmy":
            return value.strftime("%d/%m/%Y")
        if fmt == "hm_dmy":
            return value.strftime("%H:%M ngày %d/%m/%Y")
        if fmt == "date":
            return long_date(value.date())
        return f"{value:%H} giờ {value:%M} phút, {long_date(value.date())}"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y") if fmt == "dmy" else long_date(value)
    text = str(value)
    return text.upper() if fmt == "upper" else text


def long_date(day: dt.date) -> str:
    """ "ngày 03 tháng 12 năm 2026": a day below 10 and the months 1 and 2 take a leading zero, as
    official documents write them (Decree 30/2020/NĐ-CP, Annex I)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _check(template: str, path: str, spec: Mapping[str, Any], value: Any) -> Any:
    kind = spec.get("type", "text")
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        if spec.get("required", True):
            raise LetterDataError(template, path, "is missing")
        return _MISSING
    if kind == "list":
        if not isinstance(value, list):
            raise LetterDataError(template, path, "must be a list")
        if not value and spec.get("required", True):
            raise LetterDataError(template, path, "must not be empty")
        items = []
        for n, item in enumerate(value):
            if spec.get("of") == "text":
                # A list of sentences (a refusal's reasons): each becomes {"item": sentence}.
                if not isinstance(item, str) or not item.strip():
                    raise LetterDataError(template, f"{path}[{n}]", "must be a non-empty string")
                items.append({"item": nfc(item.strip())})
                continue
            if not isinstance(item, Mapping):
                raise LetterDataError(template, f"{path}[{n}]", "must be an object")
            items.append(validate_item(template, f"{path}[{n}]", spec.get("items", {}), item))
        return items
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < spec.get("min", 0):
            raise LetterDataError(template, path, f"must be a whole number of at least {spec.get('min', 0)}")
        return value
    if kind in ("date", "datetime"):
        return _moment(template, path, kind, value)
    if kind == "choice":
        if str(value) not in spec.get("choices", {}):
            allowed = ", ".join(spec.get("choices", {}))
            raise LetterDataError(template, path, f"must be one of: {allowed}")
        return str(value)
    if not isinstance(value, str):
        raise LetterDataError(template, path, "must be a string")
    value = nfc(value.strip())
    if kind == "url" and not re.fullmatch(r"https?://\S+", value):
        raise LetterDataError(template, path, "must be an http(s) URL")
    if len(value) > spec.get("max_length", 1000):
        raise LetterDataError(template, path, f"must be at most {spec.get('max_length', 1000)} characters")
    return value


def validate_item(
    template: str, prefix: str, fields: Mapping[str, Mapping[str, Any]], item: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, spec in fields.items():
        checked = _check(template, f"{prefix}.{path}", spec, _lookup(item, path))
        if checked is not _MISSING:
            _store(out, path, checked)
    return out


def _moment(template: str, path: str, kind: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        parsed: dt.date = value
    elif isinstance(value, dt.date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value) if kind == "datetime" else dt.date.fromisoformat(value)
        except ValueError:
            example = "2026-12-03T09:30:00+07:00" if kind == "datetime" else "2026-12-03"
            raise LetterDataError(template, path, f"must be an ISO 8601 {kind} such as {example}") from None
    else:
        raise LetterDataError(template, path, f"must be an ISO 8601 {kind}")
    if kind == "datetime":
        if not isinstance(parsed, dt.datetime):
            raise LetterDataError(template, path, "must carry a time")
        # Naive times are taken as local; the letters print Vietnam's time.
        return parsed.replace(tzinfo=TZ) if parsed.tzinfo is None else parsed.astimezone(TZ)
    return parsed.date() if isinstance(parsed, dt.datetime) else parsed


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _store(out: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
