"""The procedure catalogue and the administrative units: create, edit (new version), list, import.

Every change is one single-document write holding the new state and its `*.published` event, so
the compacted topics always end with the current version of each code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from eventkit.envelope import jsonable, new_event
from eventkit.logs import correlation_id
from eventkit.mongo import Db, Document
from eventkit.outbox import outbox_entry
from eventkit.topics import Topics
from processing import store
from processing.events import EventTypes
from processing.service import Conflict, InvalidData, NotFound

SOURCE = "/services/processing"
META_FIELDS = ("version", "updated_at", "updated_by", "change_reason", "applied_events")
ImportResult = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Kind:
    """Procedures and units share their life cycle; this says where each lives and is published."""

    collection: str
    topic: str
    event_type: str
    label: str


PROCEDURES = Kind("procedures", Topics.PROCESSING_PROCEDURES.name, EventTypes.PROCEDURE_PUBLISHED, "Thủ tục")
UNITS = Kind("units", Topics.PROCESSING_UNITS.name, EventTypes.UNIT_PUBLISHED, "Đơn vị")


def _content(document: Document) -> Document:
    return jsonable({k: v for k, v in document.items() if k not in META_FIELDS})


def _published(kind: Kind, content: Document, meta: Document) -> list[dict[str, Any]]:
    event = new_event(
        type=kind.event_type,
        source=SOURCE,
        subject=content["code"],
        data={**content, "version": meta["version"], "updated_at": jsonable(meta["updated_at"])},
        # A procedure's or unit's versions are its history: version N is its N-th event.
        sequence=meta["version"],
        correlationid=correlation_id.get(),
    )
    return [outbox_entry(kind.topic, event)]


def _meta(version: int, actor: str, reason: str = "") -> Document:
    """Who wrote version `version`, when, and why (the administrator's reason, for the audit)."""
    return {"version": version, "updated_at": datetime.now(UTC), "updated_by": actor, "change_reason": reason}


def _check_units(db: Db, data: Document) -> None:
    """Procedures name their receiving and resolving units; each must exist."""
    errors: dict[str, list[str]] = {}
    for field in ("receiving_units", "resolving_units"):
        codes = sorted(set(data.get(field, [])))
        found, _ = store.list_references(db, UNITS.collection, {"_id": {"$in": codes}})
        missing = sorted(set(codes) - {unit["code"] for unit in found})
        if missing:
            errors[field] = [f"Đơn vị không tồn tại: {', '.join(missing)}."]
    if errors:
        raise InvalidData(errors)


def _check_parent(db: Db, data: Document) -> None:
    codes = [c for c in [data.get("parent"), *data.get("successors", [])] if c]
    found, _ = store.list_references(db, UNITS.collection, {"_id": {"$in": codes}})
    known = {unit["code"] for unit in found} | {data["code"]}
    errors = {}
    if data.get("parent") and data["parent"] not in known:
        errors["parent"] = [f"Đơn vị cấp trên không tồn tại: {data['parent']}."]
    missing = [c for c in data.get("successors", []) if c not in known]
    if missing:
        errors["successors"] = [f"Đơn vị kế thừa không tồn tại: {', '.join(missing)}."]
    if errors:
        raise InvalidData(errors)


def _validate(db: Db, kind: Kind, data: Document) -> None:
    (_check_units if kind is PROCEDURES else _check_parent)(db, data)


def get(db: Db, kind: Kind, code: str) -> Document:
    document = store.get_reference(db, kind.collection, code)
    if document is None:
        raise NotFound(f"{kind.label} {code} không tồn tại.")
    return document


def create(db: Db, kind: Kind, data: Document, actor: str) -> Document:
    _validate(db, kind, data)
    content, meta = _content(data), _meta(1, actor)
    try:
        store.insert_reference(db, kind.collection, content, meta, _published(kind, content, meta))
    except store.AlreadyExists as exc:
        raise Conflict(f"{kind.label} {data['code']} đã tồn tại.") from exc
    created = get(db, kind, data["code"])
    _audit_unit(db, kind, None, created, actor, "units.created")
    return created


def update(db: Db, kind: Kind, data: Document, expected_version: int, actor: str) -> Document:
    """A changed procedure becomes a new version; saving identical content changes nothing."""
    current = get(db, kind, data["code"])
    if current["version"] != expected_version:
        raise Conflict(
            f"{kind.label} {data['code']} đã được sửa (phiên bản hiện tại {current['version']}); "
            "hãy tải lại và sửa trên phiên bản mới nhất."
        )
    content = _content(data)
    if content == _content(current):
        return current
    _validate(db, kind, data)
    if kind is PROCEDURES:
        store.keep_procedure_version(db, current)
    meta = _meta(expected_version + 1, actor, data.get("change_reason", ""))
    if not store.replace_reference(
        db, kind.collection, content, expected_version, meta, _published(kind, content, meta)
    ):
        raise Conflict(f"{kind.label} {data['code']} vừa được người khác sửa; hãy tải lại.")
    updated = get(db, kind, data["code"])
    _audit_unit(db, kind, current, updated, actor, "units.updated")
    return updated


def _audit_unit(
    db: Db, kind: Kind, before: Document | None, after: Document, actor: str, action: str
) -> None:
    """A unit's change in the audit trail (a procedure keeps its earlier versions instead)."""
    if kind is not UNITS:
        return

    def view(unit: Document | None) -> Document | None:
        return None if unit is None else {**_content(unit), "version": unit["version"]}

    store.record_audit(
        db,
        actor=actor,
        action=action,
        target=unit_target(after["code"]),
        before=view(before),
        after=view(after),
        reason=after.get("change_reason", ""),
    )


def unit_target(code: str) -> str:
    return f"unit:{code}"


def unit_history(db: Db, code: str) -> list[Document]:
    """Who changed the unit, when, before and after, and why (newest first)."""
    get(db, UNITS, code)
    return store.list_audit(db, unit_target(code))


def put(db: Db, kind: Kind, data: Document, actor: str) -> ImportResult:
    """Create or bring up to date, as an import does: the same data twice changes nothing."""
    current = store.get_reference(db, kind.collection, data["code"])
    if current is None:
        create(db, kind, data, actor)
        return "created"
    before = current["version"]
    after = update(db, kind, data, before, actor)["version"]
    return "unchanged" if after == before else "updated"


def list_procedures(
    db: Db, *, level: str | None, field: str | None, unit: str | None, page: int, page_size: int
) -> tuple[list[Document], int]:
    filters: dict[str, Any] = {}
    if level:
        filters["level"] = level
    if field:
        filters["field"] = field
    if unit:
        filters["receiving_units"] = unit
    return store.list_references(db, PROCEDURES.collection, filters, (page - 1) * page_size, page_size)


def list_units(db: Db, *, parent: str | None, type: str | None) -> list[Document]:
    filters: dict[str, Any] = {}
    if parent:
        filters["parent"] = parent
    if type:
        filters["type"] = type
    units, _ = store.list_references(db, UNITS.collection, filters)
    return units


def procedure_versions(db: Db, code: str) -> list[Document]:
    """Every version of a procedure, oldest first, the current one last."""
    current = get(db, PROCEDURES, code)
    history = [v for v in store.list_procedure_versions(db, code) if v["version"] < current["version"]]
    return [*history, current]
