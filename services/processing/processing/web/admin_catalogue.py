"""Administration: the units and the procedure catalogue (service/catalogue.py, as /api/v1/units
and /api/v1/procedures). A saved edit is a new version, published as the API's edit is."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.datastructures import MultiDict

from eventkit.envelope import jsonable
from eventkit.mongo import Document
from eventkit.web import current_db
from processing import store
from processing.schemas import (
    FEE_KINDS,
    FIELD_TYPES,
    FILE_TYPES,
    LEVELS,
    ONLINE_MODES,
    TIME_UNITS,
    UNIT_TYPES,
    ProcedureQuerySchema,
    ProcedureUpdateSchema,
    UnitQuerySchema,
    UnitUpdateSchema,
)
from processing.service import Conflict, InvalidData, catalogue
from processing.service.catalogue import PROCEDURES, UNITS
from processing.web.admin import PREFIX
from processing.web.admin_forms import (
    STALE,
    admin_page,
    editing_rows,
    flat_errors,
    load,
    optional,
    rows,
    split,
    text,
)
from processing.web.pages import blp, officer, page

LABELS = {
    "province": "Tỉnh",
    "district": "Huyện",
    "commune": "Xã",
    "town": "Thị trấn",
    "ward": "Phường",
    "centre": "Trung tâm",
    "office": "Phòng, ban",
    "full_online": "Trực tuyến toàn trình",
    "partial_online": "Trực tuyến một phần",
    "counter_only": "Chỉ nộp tại bộ phận một cửa",
    "working_days": "Ngày làm việc",
    "working_hours": "Giờ làm việc",
    "calendar_days": "Ngày theo lịch",
    "fixed": "Cố định",
    "per_page": "Theo trang",
    "exempt": "Miễn phí",
    "text": "Chữ",
    "date": "Ngày",
    "number": "Số",
    "choice": "Lựa chọn",
    "cccd": "Số định danh cá nhân",
    "pdf": "PDF",
    "jpeg": "JPEG",
    "png": "PNG",
}


def options(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, LABELS.get(value, value)) for value in values]


def _joined(values: list[str] | None) -> str:
    return ", ".join(values or [])


def _iso(value: Any) -> str:
    return "" if value is None else str(jsonable(value))


# -- units --------------------------------------------------------------------------------------

UNIT_TEXT: tuple[str, ...] = ("name", "short_name", "type", "parent", "statistics_code", "electronic_id")
UNIT_TEXT += ("address", "phone", "email", "valid_from", "valid_to", "source", "notes")


def _unit_state(unit: Document) -> dict[str, Any]:
    state = {k: unit.get(k) or "" for k in UNIT_TEXT}
    state.update(valid_from=_iso(unit.get("valid_from")), valid_to=_iso(unit.get("valid_to")))
    return {
        **state,
        "code": unit["code"],
        "successors": _joined(unit.get("successors")),
        "placeholders": _joined(unit.get("placeholders")),
        "version": unit["version"],
        "change_reason": "",
    }


def _unit_form(form: MultiDict[str, str], code: str) -> dict[str, Any]:
    state: dict[str, Any] = {k: text(form, k) for k in UNIT_TEXT}
    for name in ("successors", "placeholders", "version", "change_reason"):
        state[name] = text(form, name)
    return {**state, "code": code}


def _unit_input(state: dict[str, Any]) -> dict[str, Any]:
    data = {k: state[k] for k in ("code", "name", "short_name", "type", "electronic_id", "valid_from")}
    data.update({k: optional(state[k]) for k in ("parent", "statistics_code", "address", "phone", "email")})
    data.update(
        valid_to=optional(state["valid_to"]),
        successors=split(state["successors"]),
        placeholders=split(state["placeholders"]),
        source=state["source"],
        notes=state["notes"],
        version=state["version"],
        change_reason=state["change_reason"],
    )
    return data


def _unit_page(state: dict[str, Any], status: int = 200, **context: Any) -> tuple[str, int]:
    return page(
        "console/admin_unit.html",
        status,
        state=state,
        type_options=options(UNIT_TYPES),
        history=catalogue.unit_history(current_db(), state["code"]),
        **context,
    )


@blp.get(f"{PREFIX}/don-vi")
@admin_page
def admin_units() -> tuple[str, int]:
    """The units a filter names (children of a parent, of a type), as the API lists them; without
    one, the units the administrator serves (one seek on their codes)."""
    wanted = {k: v for k, v in request.args.items() if k in ("parent", "type") and v}
    query, errors = load(UnitQuerySchema(), wanted)
    db = current_db()
    if query:
        units = catalogue.list_units(db, parent=query.get("parent"), type=query.get("type"))
    elif query is not None:
        units, _ = store.list_references(db, UNITS.collection, {"_id": {"$in": sorted(officer().units)}})
    else:
        units = []
    return page(
        "console/admin_units.html",
        422 if errors else 200,
        units=units,
        errors=errors,
        filters={"parent": request.args.get("parent", ""), "type": request.args.get("type", "")},
        type_options=options(UNIT_TYPES),
        labels=LABELS,
    )


@blp.get(f"{PREFIX}/don-vi/<code>")
@admin_page
def admin_unit(code: str) -> tuple[str, int]:
    unit = catalogue.get(current_db(), UNITS, code)
    return _unit_page(_unit_state(unit), saved="da_luu" in request.args)


@blp.post(f"{PREFIX}/don-vi/<code>")
@admin_page
def admin_unit_save(code: str) -> Any:
    db = current_db()
    catalogue.get(db, UNITS, code)
    state = _unit_form(request.form, code)
    data, errors = load(UnitUpdateSchema(), _unit_input(state))
    if data is None:
        return _unit_page(state, 422, errors=errors)
    version = data.pop("version")
    try:
        catalogue.update(db, UNITS, data, version, officer().user_id)
    except InvalidData as invalid:
        return _unit_page(state, 422, errors=flat_errors(invalid.errors))
    except Conflict:
        fresh = {**_unit_state(catalogue.get(db, UNITS, code)), "change_reason": state["change_reason"]}
        return _unit_page(fresh, 409, conflict=STALE)
    return redirect(url_for("console.admin_unit", code=code, da_luu=1))


# -- procedures ---------------------------------------------------------------------------------

PROCEDURE_TEXT: tuple[str, ...] = (
    "name",
    "field",
    "level",
    "online_mode",
    "service_level_2019",
    "same_day_cutoff",
)
PROCEDURE_TEXT += ("legal_basis", "result_type", "valid_from", "valid_to", "source", "notes")
FEE_KEYS = ("kind", "amount_vnd", "description")
DOCUMENT_KEYS = ("code", "name", "originals", "copies")
FIELD_KEYS = ("name", "label", "type", "choices")
ROW_LISTS = ("fees", "documents", "form_fields")
BLANK_DOCUMENT = {"code": "", "name": "", "originals": "1", "copies": "0", "mandatory": True}
SERVICE_LEVELS = ("Mức độ 2", "Mức độ 3", "Mức độ 4")


def _procedure_state(procedure: Document) -> dict[str, Any]:
    state: dict[str, Any] = {k: procedure.get(k) or "" for k in PROCEDURE_TEXT}
    time_ = procedure["processing_time"]
    state.update(
        code=procedure["code"],
        valid_from=_iso(procedure.get("valid_from")),
        valid_to=_iso(procedure.get("valid_to")),
        receiving_units=_joined(procedure.get("receiving_units")),
        resolving_units=_joined(procedure.get("resolving_units")),
        placeholders=_joined(procedure.get("placeholders")),
        amount=f"{time_['amount']:g}",
        time_unit=time_["unit"],
        holidays_count=bool(time_.get("holidays_count")),
        same_day=bool(procedure.get("same_day")),
        fees=[{k: str(fee.get(k, "")) for k in FEE_KEYS} for fee in procedure.get("fees", [])],
        documents=[
            {
                **{k: str(doc.get(k, "")) for k in DOCUMENT_KEYS},
                "mandatory": bool(doc.get("mandatory", True)),
                "file_types": list(doc.get("file_types", FILE_TYPES)),
            }
            for doc in procedure.get("documents", [])
        ],
        form_fields=[
            {
                **{k: str(f.get(k, "")) for k in ("name", "label", "type")},
                "required": bool(f.get("required", True)),
                "choices": "; ".join(f.get("choices") or []),
            }
            for f in procedure.get("form_fields", [])
        ],
        version=procedure["version"],
        change_reason="",
    )
    return state


def _procedure_form(form: MultiDict[str, str], code: str) -> dict[str, Any]:
    state: dict[str, Any] = {k: text(form, k) for k in PROCEDURE_TEXT}
    for name in ("receiving_units", "resolving_units", "placeholders", "amount", "time_unit"):
        state[name] = text(form, name)
    state.update(
        code=code,
        holidays_count="holidays_count" in form,
        same_day="same_day" in form,
        fees=rows(form, "fees", FEE_KEYS, blank={"kind": "fixed", "amount_vnd": "0", "description": ""}),
        documents=rows(
            form,
            "documents",
            DOCUMENT_KEYS,
            checks=("mandatory",),
            lists=("file_types",),
            blank={**BLANK_DOCUMENT, "file_types": list(FILE_TYPES)},
        ),
        form_fields=rows(
            form,
            "form_fields",
            FIELD_KEYS,
            checks=("required",),
            blank={"name": "", "label": "", "type": "text", "choices": "", "required": True},
        ),
        version=text(form, "version", 20),
        change_reason=text(form, "change_reason", 2000),
    )
    return state


def _procedure_input(state: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {k: state[k] for k in ("code", "name", "field", "level", "online_mode")}
    data.update(
        receiving_units=split(state["receiving_units"]),
        resolving_units=split(state["resolving_units"]),
        service_level_2019=optional(state["service_level_2019"]),
        processing_time={
            "amount": state["amount"],
            "unit": state["time_unit"],
            "holidays_count": state["holidays_count"],
        },
        same_day=state["same_day"],
        same_day_cutoff=optional(state["same_day_cutoff"]),
        fees=[dict(fee) for fee in state["fees"]],
        documents=[{**doc, "file_types": doc["file_types"]} for doc in state["documents"]],
        form_fields=[
            {
                **{k: f[k] for k in ("name", "label", "type", "required")},
                **({"choices": split(f["choices"])} if split(f["choices"]) else {}),
            }
            for f in state["form_fields"]
        ],
        legal_basis=state["legal_basis"],
        result_type=state["result_type"],
        valid_from=state["valid_from"],
        valid_to=optional(state["valid_to"]),
        placeholders=split(state["placeholders"]),
        source=state["source"],
        notes=state["notes"],
        version=state["version"],
        change_reason=state["change_reason"],
    )
    return data


def _procedure_page(state: dict[str, Any], status: int = 200, **context: Any) -> tuple[str, int]:
    return page(
        "console/admin_procedure.html",
        status,
        state=state,
        level_options=options(LEVELS),
        mode_options=options(ONLINE_MODES),
        time_options=options(TIME_UNITS),
        fee_options=options(FEE_KINDS),
        field_type_options=options(FIELD_TYPES),
        file_type_options=options(FILE_TYPES),
        service_level_options=[(level, level) for level in SERVICE_LEVELS],
        **context,
    )


@blp.get(f"{PREFIX}/thu-tuc")
@admin_page
def admin_procedures() -> tuple[str, int]:
    wanted = {k: v for k, v in request.args.items() if v}
    query, errors = load(ProcedureQuerySchema(), wanted)
    items: list[Document] = []
    total = 0
    if query is not None:
        items, total = catalogue.list_procedures(
            current_db(),
            level=query.get("level"),
            field=query.get("field"),
            unit=query.get("unit"),
            page=query["page"],
            page_size=query["page_size"],
        )
    number, size = (query or {}).get("page", 1), (query or {}).get("page_size", 50)
    filters: dict[str, Any] = {k: request.args.get(k, "") for k in ("level", "field", "unit")}
    last = max(1, -(-total // size))
    pages = [(n, url_for("console.admin_procedures", **filters, page=n)) for n in range(1, last + 1)]
    return page(
        "console/admin_procedures.html",
        422 if errors else 200,
        items=items,
        total=total,
        errors=errors,
        filters=filters,
        level_options=options(LEVELS),
        labels=LABELS,
        page_number=number,
        pages=pages,
    )


@blp.get(f"{PREFIX}/thu-tuc/<code>")
@admin_page
def admin_procedure(code: str) -> tuple[str, int]:
    procedure = catalogue.get(current_db(), PROCEDURES, code)
    return _procedure_page(_procedure_state(procedure), saved="da_luu" in request.args)


@blp.post(f"{PREFIX}/thu-tuc/<code>")
@admin_page
def admin_procedure_save(code: str) -> Any:
    db = current_db()
    catalogue.get(db, PROCEDURES, code)
    state = _procedure_form(request.form, code)
    if editing_rows(request.form, ROW_LISTS):
        return _procedure_page(state)
    data, errors = load(ProcedureUpdateSchema(), _procedure_input(state))
    if data is None:
        return _procedure_page(state, 422, errors=errors)
    version = data.pop("version")
    try:
        catalogue.update(db, PROCEDURES, data, version, officer().user_id)
    except InvalidData as invalid:
        return _procedure_page(state, 422, errors=flat_errors(invalid.errors))
    except Conflict:
        fresh = _procedure_state(catalogue.get(db, PROCEDURES, code))
        return _procedure_page({**fresh, "change_reason": state["change_reason"]}, 409, conflict=STALE)
    return redirect(url_for("console.admin_procedure", code=code, da_luu=1))


@blp.get(f"{PREFIX}/thu-tuc/<code>/phien-ban")
@admin_page
def admin_procedure_versions(code: str) -> tuple[str, int]:
    versions = catalogue.procedure_versions(current_db(), code)
    return page("console/admin_procedure_versions.html", code=code, versions=list(reversed(versions)))
