"""A filing form (the portal's online filing, the console's counter filing): what it asks (from
the procedure as intake's catalogue holds it), the request it makes to intake, and intake's field
errors put back beside the form's fields. Its fields are drawn by `webui/filing_fields.html`.

The form's field names are the paths of intake's request: `applicant.full_name`,
`delivery.method`, `form.<procedure field>`, `unit`; each document type's file input is
`documents.<type code>`. Intake's 422 names the same paths (documents by their index in the request,
which the form maps back to their type).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from webui.intake_client import IntakeClient, IntakeRefused

APPLICANT_FIELDS = (
    ("full_name", "Họ và tên", "text", True),
    ("id_number", "Số căn cước công dân (12 chữ số)", "text", True),
    ("date_of_birth", "Ngày sinh", "date", True),
    ("phone", "Số điện thoại", "tel", True),
    ("email", "Thư điện tử", "email", False),
    ("address", "Địa chỉ liên hệ", "text", False),
)
DELIVERY_METHODS = {
    "counter": "Nhận tại Bộ phận một cửa",
    "post": "Nhận qua dịch vụ bưu chính (bưu điện)",
    "online": "Nhận trực tuyến (qua thư điện tử)",
}
# What a filing page accepts before sending anything to intake (intake checks the bytes again).
FILE_SIGNATURES = {"pdf": (b"%PDF-",), "jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}
FILE_TYPE_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}
MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
ACCEPT = {"pdf": ".pdf,application/pdf", "jpeg": ".jpg,.jpeg,image/jpeg", "png": ".png,image/png"}
GENERAL = "_form"  # errors that belong to no one field, shown above the form


@dataclass(frozen=True)
class FileSent:
    """One chosen file of the form (its bytes read, at most the limit plus one byte)."""

    document_type: str
    filename: str
    data: bytes


def files_sent(
    procedure: Mapping[str, Any], files: MultiDict[str, FileStorage], limit: int
) -> list[FileSent]:
    """The files chosen in the form, one per document type, each read to at most `limit` + 1 bytes."""
    sent = []
    for spec in procedure.get("documents") or []:
        upload = files.get(f"documents.{spec['code']}")
        if upload is None or not upload.filename:
            continue
        sent.append(FileSent(spec["code"], upload.filename[-100:], upload.stream.read(limit + 1)))
    return sent


def file_type(data: bytes) -> str | None:
    """`pdf`, `jpeg` or `png` from the file's first bytes; None for anything else."""
    for kind, signatures in FILE_SIGNATURES.items():
        if data.startswith(signatures):
            return kind
    return None


def accept_attribute(types: list[str] | None) -> str:
    return ",".join(ACCEPT[t] for t in (types or list(ACCEPT)) if t in ACCEPT)


def file_errors(procedure: Mapping[str, Any], sent: FileSent, max_bytes: int) -> list[str]:
    """Why the page does not send this file to intake (empty when it does)."""
    spec = next((d for d in procedure.get("documents") or [] if d.get("code") == sent.document_type), None)
    allowed = list((spec or {}).get("file_types") or FILE_SIGNATURES)
    if not sent.data:
        return ["Tệp rỗng."]
    if len(sent.data) > max_bytes:
        return [f"Tệp lớn hơn {max_bytes // (1024 * 1024)} MB."]
    kind = file_type(sent.data)
    if kind not in allowed:
        names = ", ".join(FILE_TYPE_NAMES.get(t, t) for t in allowed)
        return [f"Chỉ nhận tệp định dạng {names}."]
    return []


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _number(value: str | None) -> Any:
    """A number typed in the form as a JSON number; kept as typed when it is none (intake says so)."""
    if value is None:
        return None
    typed = value.replace(" ", "").replace(",", ".")
    try:
        return int(typed)
    except ValueError:
        pass
    try:
        return float(typed)
    except ValueError:
        return value


def filing_body(
    procedure: Mapping[str, Any],
    form: Mapping[str, str],
    upload_ids: Mapping[str, str],
    channel: str = "online",
) -> dict[str, Any]:
    """Intake's filing request from the form's values and the uploads of each document type (sent
    in the order of the procedure's documents, so an error's index names the type)."""
    values: dict[str, Any] = {}
    for spec in procedure.get("form_fields") or []:
        name = spec["name"]
        typed = _text(form, f"form.{name}")
        values[name] = _number(typed) if spec.get("type") == "number" else typed
    receiving = list(procedure.get("receiving_units") or [])
    unit = _text(form, "unit") or (receiving[0] if len(receiving) == 1 else None)
    return {
        "procedure_code": procedure["_id"],
        "unit": unit,
        "channel": channel,
        "applicant": {name: _text(form, f"applicant.{name}") for name, *_ in APPLICANT_FIELDS},
        "delivery": {
            "method": _text(form, "delivery.method") or "",
            "address": _text(form, "delivery.address"),
        },
        "form": values,
        "documents": [{"type": t, "upload_id": upload_ids[t]} for t in document_order(procedure, upload_ids)],
    }


def document_order(procedure: Mapping[str, Any], upload_ids: Mapping[str, str]) -> list[str]:
    return [d["code"] for d in procedure.get("documents") or [] if d.get("code") in upload_ids]


def _messages(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value if not isinstance(v, dict | list)]
    if isinstance(value, str):
        return [value]
    return []


def field_errors(errors: Mapping[str, Any], documents_sent: list[str]) -> dict[str, list[str]]:
    """Intake's nested field errors as the form's field names → messages.

    Documents named by their index in the request go to their type's file input; a message on
    the whole list (a missing mandatory type) names its type in the text and stays with the list;
    a field the form does not show (the procedure code) goes above the form.
    """
    found: dict[str, list[str]] = {}

    def add(name: str, messages: list[str]) -> None:
        if messages:
            found.setdefault(name, []).extend(m for m in messages if m not in found.get(name, []))

    def walk(prefix: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            add(prefix or GENERAL, _messages(value))
            return
        for key, inner in value.items():
            key = str(key)
            if key == "_schema":
                add(prefix or GENERAL, _messages(inner))
            elif prefix == "documents" and key.isdigit():
                index = int(key)
                name = f"documents.{documents_sent[index]}" if index < len(documents_sent) else "documents"
                messages: list[str] = []
                for part in inner.values() if isinstance(inner, Mapping) else [inner]:
                    messages += _messages(part)
                add(name, messages)
            else:
                walk(f"{prefix}.{key}" if prefix else key, inner)

    walk("", errors)
    shown = {"unit", "documents"}
    for name in list(found):
        top = name.split(".", 1)[0]
        if name not in shown and top not in ("applicant", "delivery", "form", "documents"):
            add(GENERAL, found.pop(name))
    return found


def blank_errors(
    procedure: Mapping[str, Any], form: Mapping[str, str], document_types: set[str]
) -> dict[str, list[str]]:
    """The required fields left blank and mandatory documents without a file. Intake checks the
    request's shape before its rules, so a blank applicant field would hide every other error:
    these are shown beside the ones intake gives."""
    found: dict[str, list[str]] = {}
    for name, label, _, required in APPLICANT_FIELDS:
        if required and not _text(form, f"applicant.{name}"):
            found[f"applicant.{name}"] = [f"Hãy nhập {label[:1].lower()}{label[1:]}."]
    for spec in procedure.get("form_fields") or []:
        if spec.get("required", True) and not _text(form, f"form.{spec['name']}"):
            found[f"form.{spec['name']}"] = [f"Thiếu {spec.get('label') or spec['name']}."]
    if len(procedure.get("receiving_units") or []) > 1 and not _text(form, "unit"):
        found["unit"] = ["Hãy chọn đơn vị tiếp nhận hồ sơ."]
    if _text(form, "delivery.method") not in DELIVERY_METHODS:
        found["delivery.method"] = ["Hãy chọn hình thức nhận kết quả."]
    elif form.get("delivery.method") == "post" and not _text(form, "delivery.address"):
        found["delivery.address"] = ["Cần địa chỉ nhận kết quả qua bưu điện."]
    for spec in procedure.get("documents") or []:
        if spec.get("mandatory", True) and spec["code"] not in document_types:
            found[f"documents.{spec['code']}"] = ["Hãy chọn tệp cho giấy tờ bắt buộc này."]
    return found


def merge(first: Mapping[str, list[str]], then: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """`then`'s messages of each field, else `first`'s."""
    return {**first, **then}


def upload_messages(exc: IntakeRefused) -> list[str]:
    """Intake's refusal of one file, as the messages beside its input."""
    if exc.status == 413:
        return ["Tệp vượt quá dung lượng cho phép."]
    if exc.status == 415:
        return ["Tệp không phải PDF, JPEG hoặc PNG hợp lệ."]
    messages = [m for value in exc.errors.values() for m in (value if isinstance(value, list) else [value])]
    return [str(m) for m in messages] or [exc.message or "Tệp không được chấp nhận."]


def send_files(
    intake: IntakeClient,
    procedure: Mapping[str, Any],
    sent: list[FileSent],
    limit: int,
    kept: Mapping[str, Mapping[str, Any]],
    keep: Callable[[str, dict[str, str]], None],
    headers: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """Upload each chosen file to intake unless the form's earlier submit sent the same bytes
    (`kept`: `{upload_id, sha256}` by document type); `keep(type, record)` stores each new upload
    under the form's key. The messages of the files refused, by field; a 429 is raised to the
    caller, which answers it as a page of its own."""
    errors: dict[str, list[str]] = {}
    for file in sent:
        name = f"documents.{file.document_type}"
        if refused := file_errors(procedure, file, limit):
            errors[name] = refused
            continue
        sha = hashlib.sha256(file.data).hexdigest()
        held = kept.get(file.document_type)
        if held and held.get("sha256") == sha:
            continue  # the same file sent again with the same form: its upload is reused
        kind = file_type(file.data) or "pdf"
        try:
            uploaded = intake.upload(file.data, file.filename, MEDIA_TYPES[kind], headers)
        except IntakeRefused as exc:
            if exc.status == 429:
                raise
            errors[name] = upload_messages(exc)
            continue
        keep(file.document_type, {"upload_id": str(uploaded["id"]), "sha256": sha})
    return errors


def refusal_errors(
    procedure: Mapping[str, Any], form: Mapping[str, str], upload_ids: Mapping[str, str], exc: IntakeRefused
) -> dict[str, list[str]]:
    """Intake's refusal of the filing as messages beside the form's fields (above it when none fits)."""
    errors = field_errors(exc.errors, document_order(procedure, upload_ids)) if exc.errors else {}
    if not errors:
        errors = {GENERAL: [exc.message or "Hồ sơ chưa được tiếp nhận. Vui lòng thử lại."]}
    if exc.status == 422:
        # Intake checks the request's shape before its rules: add the blanks it did not name yet.
        blanks = blank_errors(procedure, form, set(upload_ids))
        if "documents" in errors:  # intake's list names the missing types already
            blanks = {n: m for n, m in blanks.items() if not n.startswith("documents.")}
        errors = merge(blanks, errors)
    return errors
