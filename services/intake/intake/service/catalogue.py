"""The procedures offered for filing, from intake's projection of processing's catalogue."""

from __future__ import annotations

from datetime import date

from eventkit.mongo import Db, Document
from intake import store
from intake.service import InvalidData, NotFound


def in_force(item: Document, today: date) -> bool:
    day = today.isoformat()
    return item.get("valid_from", "") <= day and (not item.get("valid_to") or day <= item["valid_to"])


def _offered(procedure: Document, channel: str | None) -> bool:
    return channel != "online" or procedure.get("online_mode") != "counter_only"


def list_offered(db: Db, *, channel: str | None, unit: str | None, today: date) -> list[Document]:
    # Filtered here, not by the store: the catalogue is read whole and kept for a moment.
    return [
        _public(p)
        for p in store.list_published(db, store.PROCEDURES)
        if in_force(p, today)
        and _offered(p, channel)
        and (unit is None or unit in p.get("receiving_units", []))
    ]


def get_offered(db: Db, code: str, today: date) -> Document:
    procedure = store.get_published(db, store.PROCEDURES, code)
    if procedure is None or not in_force(procedure, today):
        raise NotFound(f"Không có thủ tục {code}.")
    return _public(procedure)


def offered_procedure(db: Db, code: str, channel: str, today: date) -> Document:
    """The procedure a filing names, as stored; 422 on the field when it cannot be filed."""
    procedure = store.get_published(db, store.PROCEDURES, code)
    if procedure is None or not in_force(procedure, today):
        raise InvalidData({"procedure_code": ["Không có thủ tục này hoặc thủ tục đã hết hiệu lực."]})
    if not _offered(procedure, channel):
        raise InvalidData(
            {"procedure_code": ["Thủ tục này không nộp trực tuyến; vui lòng nộp tại bộ phận một cửa."]}
        )
    return procedure


def _public(procedure: Document) -> Document:
    return {**{k: v for k, v in procedure.items() if k != "_id"}, "code": procedure["_id"]}
