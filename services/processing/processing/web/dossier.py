"""A dossier's page: what was filed, its documents, control slip (Mẫu 05) and history, and a form
for each action the officer may take now.

Reads and actions go through `service.dossiers` as the JSON API's do (`GET /dossiers/{code}`,
`/actions`, `POST /actions/{action}`); an issued result's file is uploaded through
`service.results` first, as `POST /result-files` does. Each form carries the revision the page
showed: a dossier changed meanwhile is refused (409) and the page shows it afresh, saying what
the other officer did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, redirect, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from eventkit.auth import Roles
from eventkit.errors import DomainError, Forbidden, InvalidData, NotFound, TooLarge, UnsupportedType
from eventkit.signing import SigningUnavailable
from eventkit.web import attachment, current_blobs, current_db
from processing import deadlines
from processing.identity.links import signed_link
from processing.schemas import DossierActionSchema
from processing.service import catalogue, dossiers, results
from processing.service import staff as staff_directory
from processing.service.results import ResultSigning
from processing.web.pages import ROLE_LABELS, blp, officer, page
from processing.web.queue import STATE_LABELS
from processing.workflow import RESULT_METHODS, RULES, Actions, NotAllowed
from webui import PageError
from webui.letters import LETTER_NAMES

RESULT_PAPER = "Kết quả giải quyết đã ký số (PDF)"
RECEIPT_PAPER = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)"
SLIP_PAPER = "Phiếu kiểm soát quá trình giải quyết (Mẫu 05, PDF)"
ACTION_LABELS = {
    Actions.ACCEPT: "Tiếp nhận hồ sơ",
    Actions.REQUEST_SUPPLEMENT: "Yêu cầu bổ sung hồ sơ",
    Actions.REFUSE: "Từ chối tiếp nhận",
    Actions.ASSIGN: "Phân công chuyên viên",
    Actions.TRANSFER: "Chuyển đơn vị khác",
    Actions.PROPOSE: "Trình lãnh đạo kết quả xử lý",
    Actions.SEND_BACK: "Trả lại chuyên viên",
    Actions.APPROVE: "Duyệt kết quả",
    Actions.REJECT: "Không giải quyết",
    Actions.EXTEND: "Gia hạn, hẹn lại ngày trả",
    Actions.ISSUE_RESULT: "Ký số và ban hành kết quả",
    Actions.RETURN_RESULT: "Trả kết quả",
    Actions.STOP: "Dừng giải quyết",
}
# What the history says someone did ("Người khác vừa … hồ sơ này").
DONE_LABELS = {
    "submitted": "nộp",
    "supplemented": "bổ sung",
    "withdrawn": "rút",
    Actions.ACCEPT: "tiếp nhận",
    Actions.REQUEST_SUPPLEMENT: "yêu cầu bổ sung",
    Actions.REFUSE: "từ chối tiếp nhận",
    Actions.ASSIGN: "phân công xử lý",
    Actions.TRANSFER: "chuyển đơn vị",
    Actions.PROPOSE: "trình kết quả xử lý",
    Actions.SEND_BACK: "trả lại chuyên viên",
    Actions.APPROVE: "duyệt",
    Actions.REJECT: "từ chối giải quyết",
    Actions.EXTEND: "gia hạn",
    Actions.ISSUE_RESULT: "ban hành kết quả cho",
    Actions.RETURN_RESULT: "trả kết quả",
    Actions.STOP: "dừng giải quyết",
}
METHOD_LABELS = {"counter": "Tại bộ phận một cửa", "post": "Qua dịch vụ bưu chính", "online": "Trực tuyến"}
# How each body field is asked for: (label, widget).
FIELDS = {
    "note": ("Ghi chú", "textarea"),
    "reason": ("Lý do", "textarea"),
    "missing": ("Giấy tờ cần bổ sung (mỗi dòng một giấy tờ)", "lines"),
    "reasons": ("Lý do từ chối (mỗi dòng một lý do)", "lines"),
    "assignee": ("Chuyên viên xử lý", "assignee"),
    "to_unit": ("Mã đơn vị nhận hồ sơ", "text"),
    "new_due_at": ("Hạn trả kết quả mới", "datetime"),
    "upload_id": ("Tệp kết quả giải quyết (PDF)", "file"),
    "method": ("Hình thức trả kết quả", "method"),
}
SHOWN_OPTIONAL = frozenset({"note"})  # optional fields the forms ask for (a draft id is not)
DONE = "Đã thực hiện: {label}."


def _read(code: str) -> tuple[dict[str, Any], int]:
    try:
        return dossiers.get_with_revision(current_db(), code, officer())
    except Forbidden as exc:
        raise PageError(403, "Hồ sơ này thuộc đơn vị khác; tài khoản của bạn không được xem.") from exc
    except NotFound as exc:
        raise PageError(404, f"Không tìm thấy hồ sơ {code}.") from exc


def _procedure(code: str) -> dict[str, Any]:
    try:
        return catalogue.get(current_db(), catalogue.PROCEDURES, code)
    except NotFound:
        return {}


def _documents(documents: Any, procedure: dict[str, Any]) -> list[dict[str, Any]]:
    """Each document, named as the procedure names its type, with a signed link to its file at
    intake (opened by the officer's browser; processing never fetches it)."""
    keys = current_app.extensions["staff_keys"]
    base = current_app.extensions["service_config"].intake_url
    names = {d.get("code"): d.get("name") for d in procedure.get("documents") or []}
    shown = []
    for document in documents or []:
        if not isinstance(document, dict):
            continue
        upload = document.get("upload_id")
        link = signed_link(keys, base, f"/api/v1/uploads/{upload}", officer()) if upload else None
        shown.append({**document, "type_name": names.get(document.get("type")), "link": link})
    return shown


def _papers(dossier: dict[str, Any]) -> list[tuple[str, str]]:
    """The dossier's papers an officer opens from its page, (label, link): the signed result
    (served here), and at notify, by links signed now, the control slip (Mẫu 05) and, for the
    receiving unit's counter, the receipt (Mẫu 01)."""
    code, staff = dossier["code"], officer()
    papers = []
    if (dossier.get("result") or {}).get("signed"):
        papers.append((RESULT_PAPER, url_for("console.dossier_result", code=code)))
    if dossier.get("received_at") is None:
        return papers
    if staff.has_any_role(frozenset({Roles.RECEPTIONIST})) and staff.serves(dossier["receiving_unit"]):
        papers.append((RECEIPT_PAPER, url_for("console.counter_receipt", code=code)))
    keys, notify = current_app.extensions["staff_keys"], current_app.extensions["service_config"].notify_url
    slip = signed_link(keys, notify, f"/api/v1/dossiers/{code}/control-slip.pdf", staff)
    papers.append((SLIP_PAPER, slip))
    return papers


def _form_fields(dossier: dict[str, Any], procedure: dict[str, Any]) -> list[tuple[str, Any]]:
    """The form's values with the procedure's labels (the field's name where it has none)."""
    labels = {f["name"]: f.get("label") or f["name"] for f in procedure.get("form_fields") or []}
    return [(labels.get(name, name), value) for name, value in (dossier.get("form") or {}).items()]


def _actions(code: str) -> list[dict[str, Any]]:
    allowed = dossiers.actions_for(current_db(), code, officer())
    return [
        {
            "action": item["action"],
            "label": ACTION_LABELS.get(item["action"], item["action"]),
            "fields": [
                (name, name in item["required"])
                for name in (*item["required"], *item["optional"])
                if name in item["required"] or name in SHOWN_OPTIONAL
            ],
        }
        for item in allowed["actions"]
    ]


def what_happened(dossier: dict[str, Any]) -> str:
    """The dossier's latest history entry, told to an officer whose page was behind it."""
    history = dossier.get("history") or []
    if not history:
        return "Người khác vừa cập nhật hồ sơ này."
    last = history[-1]
    verb = DONE_LABELS.get(last.get("action"), "cập nhật")
    when = last.get("when")
    at = f" lúc {when.strftime('%H:%M %d/%m/%Y')}" if isinstance(when, datetime) else ""
    who = "công dân" if last.get("who") == dossiers.CITIZEN else last.get("who")
    return (
        f"Người khác vừa {verb} hồ sơ này ({who}{at}). "
        "Dưới đây là hồ sơ mới nhất; hãy xem lại trước khi thao tác."
    )


def dossier_page(
    code: str,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    open_action: str | None = None,
    conflict: str | None = None,
    done: str | None = None,
) -> tuple[str, int]:
    dossier, revision = _read(code)
    actions = _actions(code)
    specialists = []
    if any(name == "assignee" for a in actions for name, _ in a["fields"]):
        specialists = staff_directory.specialists_of(current_db(), dossier["unit"])
    procedure = _procedure(dossier["procedure_code"])
    return page(
        "console/dossier.html",
        status,
        dossier=dossier,
        revision=revision,
        documents=_documents(dossier.get("documents"), procedure),
        papers=_papers(dossier),
        form_fields=_form_fields(dossier, procedure),
        actions=actions,
        specialists=specialists,
        fields=FIELDS,
        methods=[(m, METHOD_LABELS[m]) for m in RESULT_METHODS],
        errors=errors or {},
        values=values or {},
        open_action=open_action,
        conflict=conflict,
        done=done,
        state_labels=STATE_LABELS,
        letter_names=LETTER_NAMES,
        action_labels={
            **ACTION_LABELS,
            "submitted": "Nộp hồ sơ",
            "supplemented": "Bổ sung hồ sơ",
            "withdrawn": "Rút hồ sơ",
        },
        actor_labels={**ROLE_LABELS, "citizen": "Công dân"},
    )


@blp.get("/ho-so/<code>/ket-qua.pdf")
def dossier_result(code: str) -> Response:
    """The signed result, for an officer who may read the dossier (the API's rule)."""
    try:
        download = results.read_signed(current_db(), current_blobs(), code, officer())
    except Forbidden as exc:
        raise PageError(403, "Hồ sơ này thuộc đơn vị khác; tài khoản của bạn không được xem.") from exc
    except NotFound as exc:
        raise PageError(404, str(exc)) from exc
    return attachment(download.chunks, download.media_type, download.size, download.filename)


@blp.get("/ho-so/<code>")
def dossier(code: str) -> tuple[str, int]:
    done = request.args.get("xong")
    return dossier_page(code, done=DONE.format(label=ACTION_LABELS[done]) if done in ACTION_LABELS else None)


@blp.before_app_request
def allow_result_files() -> None:
    # The issue form carries the result file: its request may be as large as the file limit (set
    # before the CSRF check reads the form).
    if request.endpoint == "console.dossier_action" and request.method == "POST":
        request.max_content_length = current_app.extensions["service_config"].upload_max_bytes + 64 * 1024


def _body(action: str, form: Any) -> dict[str, Any]:
    """The action's fields from the form, in the API's body shape (checked by its schema)."""
    body: dict[str, Any] = {}
    for name in (*RULES[action].required, *RULES[action].optional):
        widget = FIELDS.get(name, ("", ""))[1]
        text = form.get(name, "").strip()
        if widget == "lines":
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                body[name] = lines
        elif widget == "datetime":
            if text:
                body[name] = _local_datetime(text)
        elif widget != "file" and text:
            body[name] = text
    return body


def _local_datetime(text: str) -> str:
    """A `datetime-local` value (wall time in Vietnam) as an aware ISO time; raises InvalidData."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidData({"new_due_at": ["Thời điểm dạng ngày và giờ."]}) from exc
    return moment.replace(tzinfo=moment.tzinfo or deadlines.TZ).isoformat()


def _upload_result(dossier: dict[str, Any]) -> str:
    """Save the form's result file as `POST /result-files` does; its id for issue_result."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData({"upload_id": ["Chọn tệp PDF kết quả giải quyết."]})
    limit = current_app.extensions["service_config"].upload_max_bytes
    staff = officer()
    unit = dossier["unit"] if staff.serves(dossier["unit"]) else None
    try:
        saved = results.save(current_db(), current_blobs(), upload.read(limit + 1), limit, staff, unit=unit)
    except (TooLarge, UnsupportedType) as exc:
        raise InvalidData({"upload_id": [str(exc)]}) from exc
    except InvalidData as exc:
        raise InvalidData({"upload_id": [m for v in exc.errors.values() for m in v]}) from exc
    return str(saved["id"])


def _messages(errors: dict[str, Any]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in errors.items():
        if isinstance(value, dict):
            value = [str(m) for v in value.values() for m in (v if isinstance(v, list) else [v])]
        shown[name] = " ".join(str(m) for m in value) if isinstance(value, list) else str(value)
    return shown


@blp.post("/ho-so/<code>/<action>")
def dossier_action(code: str, action: str) -> Any:
    if action not in RULES:
        raise PageError(404, "Không có thao tác này.")
    shown, _ = _read(code)  # 403 / 404 before anything is parsed or saved
    form = request.form
    values = {k: v for k, v in form.items() if k not in ("csrf_token", "revision")}
    try:
        expected = int(form.get("revision", ""))
    except ValueError:
        raise PageError(400, "Biểu mẫu thiếu phiên bản hồ sơ; hãy tải lại trang.") from None
    config = current_app.extensions["service_config"]
    try:
        body = DossierActionSchema().load(_body(action, form))
        if action == Actions.ISSUE_RESULT:
            body["upload_id"] = _upload_result(shown)
        signing = ResultSigning(current_blobs(), config.signing_certs_dir, config.result_attach_max_bytes)
        dossiers.perform(
            current_db(), code, action, body, officer(), results=signing, expected_revision=expected
        )
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"note": exc.messages}
        return dossier_page(code, 422, errors=_messages(errors), values=values, open_action=action)
    except InvalidData as exc:
        return dossier_page(code, 422, errors=_messages(exc.errors), values=values, open_action=action)
    except NotAllowed as exc:
        if str(exc) != dossiers.CONCURRENT_CHANGE:
            return dossier_page(code, 409, conflict=str(exc))
        fresh, _ = _read(code)
        return dossier_page(code, 409, conflict=what_happened(fresh))
    except SigningUnavailable as exc:
        return dossier_page(code, 503, errors={"upload_id": str(exc)}, values=values, open_action=action)
    except Forbidden as exc:
        raise PageError(403, str(exc)) from exc
    except NotFound as exc:
        raise PageError(404, str(exc)) from exc
    except DomainError as exc:
        return dossier_page(code, exc.status, errors={"note": str(exc)}, values=values, open_action=action)
    return redirect(url_for("console.dossier", code=code, xong=action), 303)
