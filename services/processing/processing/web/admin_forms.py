"""What the administration screens share: the admin check, form rows, and the API's schemas
applied to a form (their messages shown beside the fields).

A list in a form (a procedure's form fields, a year's days off) is one row per entry, named
`<list>-<i>-<key>` with `<list>-count` rows. Without JavaScript a row is added or removed by a
submit button (`add_<list>`, `remove_<list>` = the row's index): the page comes back with what was
typed, one row more or less, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from eventkit.auth import Roles
from eventkit.errors import Forbidden, NotFound
from processing.deadlines import TZ
from processing.schemas import STAFF_ROLES
from processing.web.pages import ROLE_LABELS, blp, require_role
from webui import PageError

MAX_ROWS = 60
STALE = (
    "Trong lúc bạn sửa, người khác vừa sửa bản ghi này. Dưới đây là bản mới nhất đang lưu; "
    "hãy xem lại rồi sửa và lưu lần nữa."
)
INVALID = "Dữ liệu chưa hợp lệ; xem thông báo bên cạnh từng trường."
F = TypeVar("F", bound=Callable[..., Any])
# The roles an account can hold, (role, its label), in the schema's order.
ROLE_OPTIONS = tuple((role, ROLE_LABELS[role]) for role in STAFF_ROLES)


def admin_page(view: F) -> F:
    """For administrators only; the service's refusals become pages saying why."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        require_role(Roles.ADMIN)
        try:
            return view(*args, **kwargs)
        except Forbidden as refused:
            raise PageError(403, str(refused)) from refused
        except NotFound as missing:
            raise PageError(404, str(missing)) from missing

    return wrapped  # type: ignore[return-value]


def flat_errors(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as `{"form_fields.0.name": "…"}`, one line per field."""
    if isinstance(messages, Mapping):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            flat.update(flat_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": " ".join(messages)}
    if isinstance(messages, list):
        flat = {}
        for value in messages:
            flat.update(flat_errors(value, prefix))
        return flat
    return {prefix or "_schema": str(messages)}


def load(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The form's data as the API would load it, or the messages of each bad field."""
    try:
        return schema.load(data), {}
    except ValidationError as invalid:
        return None, flat_errors(invalid.messages)


def text(form: MultiDict[str, str], name: str, limit: int = 4000) -> str:
    return form.get(name, "").strip()[:limit]


def whole(value: str) -> int | str:
    """Digits as the number they write; anything else as given, for the schema to refuse."""
    return int(value) if value.isdigit() else value


def optional(value: str) -> str | None:
    """An empty box is no value (the schemas' `None`), not an empty string."""
    return value or None


def split(value: str) -> list[str]:
    """A list typed in one box, entries separated by commas, semicolons or lines."""
    return [part.strip() for part in value.replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def rows(
    form: MultiDict[str, str],
    name: str,
    keys: Iterable[str],
    checks: Iterable[str] = (),
    lists: Iterable[str] = (),
    blank: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The rows of list `name` as typed (strings; `checks` as booleans, `lists` as the ticked
    values), less the one removed, plus an empty one if asked."""
    try:
        count = min(max(int(form.get(f"{name}-count", "0")), 0), MAX_ROWS)
    except ValueError:
        count = 0
    removed = form.get(f"remove_{name}")
    found = []
    for i in range(count):
        if removed == str(i):
            continue
        row: dict[str, Any] = {key: text(form, f"{name}-{i}-{key}") for key in keys}
        row.update({key: f"{name}-{i}-{key}" in form for key in checks})
        row.update({key: form.getlist(f"{name}-{i}-{key}") for key in lists})
        found.append(row)
    if f"add_{name}" in form and len(found) < MAX_ROWS:
        found.append(dict(blank or {}))
    return found


def editing_rows(form: MultiDict[str, str], names: Iterable[str]) -> bool:
    """Whether the form was sent by a button that adds or removes a row (not by "Lưu")."""
    return any(f"add_{name}" in form or f"remove_{name}" in form for name in names)


# Audit fields that change with every write: not worth a line in the history.
QUIET_FIELDS = frozenset({"updated_at", "updated_by"})


@blp.app_template_filter("admin_time")
def admin_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:  # the store gives back UTC without its zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TZ).strftime("%d/%m/%Y %H:%M")


# Codes inside an audited list or record, as the screens name them.
VALUE_LABELS = {**ROLE_LABELS, "holiday": "nghỉ lễ, Tết", "compensatory": "nghỉ bù", "swap": "nghỉ hoán đổi"}


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(trống)"
    if isinstance(value, list):
        return ", ".join(
            _shown(v) if isinstance(v, dict) else VALUE_LABELS.get(str(v), str(v)) for v in value
        )
    if isinstance(value, dict):
        return " ".join(VALUE_LABELS.get(str(v), _shown(v)) for v in value.values())
    if isinstance(value, bool):
        return "có" if value else "không"
    return str(value)


# The audited fields as the history names them.
FIELD_LABELS = {
    "name": "Tên",
    "email": "Thư điện tử",
    "roles": "Vai trò",
    "units": "Đơn vị",
    "active": "Đang làm việc",
    "version": "Phiên bản",
    "short_name": "Tên ngắn",
    "type": "Loại",
    "parent": "Cấp trên",
    "electronic_id": "Mã định danh",
    "statistics_code": "Mã thống kê",
    "address": "Địa chỉ",
    "phone": "Điện thoại",
    "valid_from": "Hiệu lực từ",
    "valid_to": "Hết hiệu lực từ",
    "successors": "Đơn vị kế thừa",
    "days_off": "Ngày nghỉ",
    "working_days": "Ngày làm bù",
    "hours": "Giờ làm việc",
    "totp_required_roles": "Vai trò phải dùng mã hai lớp",
}


@blp.app_template_filter("audit_changes")
def audit_changes(entry: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The fields an audited change altered: (field, before, after), as an officer reads them; of
    a list of records, only the records removed (before) and added (after)."""
    before, after = entry.get("before") or {}, entry.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    changes = []
    for key in (k for k in {**before, **after} if k not in QUIET_FIELDS):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list) and any(isinstance(v, dict) for v in old + new):
            old, new = [v for v in old if v not in new], [v for v in new if v not in old]
        changes.append((FIELD_LABELS.get(key, key), _shown(old), _shown(new)))
    return changes
