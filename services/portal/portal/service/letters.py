"""The latest status of each official letter and citizen notification of a dossier, from notify's
status events, so the lookup can say "đã gửi thư" / "đã gửi email".

Kept per letter (`letter_statuses`, `_id` = letter id): its dossier, the issuing unit, its form
(`template_id`), the status and when it was entered (only what every status event carries, so
the newest one alone says it all). Per notification
(`notification_statuses`, `_id` = notification id) of a citizen only: its dossier, channel,
template, status and when. Notify's events carry no name or address, and none is kept. Each
item keeps only its newest status: a status is written unless one with a sequence at least as
high is kept (`upsert_latest` on `version` = the event's sequence), so repeats and late
deliveries change nothing.
"""

from __future__ import annotations

from typing import Any

from eventkit.envelope import Event
from eventkit.mongo import Db, Document
from portal import store
from webui.letters import LETTER_NAMES

LETTER_STATUS_LABELS = {
    "rendered": "Đã lập",
    "signed": "Đã ký",
    "technical_failure": "Chưa lập được",
    "batched": "Chờ gửi bưu điện",
    "cancelled": "Đã huỷ",
    "despatched": "Đã gửi thư",
    "delivered": "Đã phát thư",
    "returned": "Thư bị trả lại",
}

NOTIFICATION_STATUS_LABELS = {
    "created": "Đang gửi",
    "skipped": "Không gửi",
    "delivered": "Đã gửi",
    "temporary-failure": "Đang gửi lại",
    "permanent-failure": "Gửi không thành công",
    "technical-failure": "Gửi không thành công",
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def apply_letter(db: Db, event: Event, data: Document) -> bool:
    fields = {
        "dossier_code": _text(data.get("dossier_code")),
        "unit": _text(data.get("unit")),
        "template_id": _text(data.get("template_id")),
        "status": _text(data.get("status")) or event["type"].split(".")[-2],
        "at": _text(data.get("at")) or event.get("time"),
    }
    key = _text(data.get("letter_id")) or str(event["subject"])
    return store.keep_latest_status(db, store.LETTER_STATUSES, key, int(event["sequence"]), fields)


def apply_notification(db: Db, event: Event, data: Document) -> bool:
    recipient = data.get("recipient")
    recipient = recipient if isinstance(recipient, dict) else {}
    if recipient.get("kind") != "citizen":
        return False  # staff's warnings are none of the public's business
    fields = {
        "dossier": _text(data.get("dossier")),
        "channel": _text(data.get("channel")),
        "template": _text(data.get("template")),
        "status": _text(data.get("status")),
        "at": event.get("time"),
    }
    key = _text(data.get("id")) or str(event["subject"])
    return store.keep_latest_status(db, store.NOTIFICATION_STATUSES, key, int(event["sequence"]), fields)


def letters_of(db: Db, code: str) -> list[Document]:
    """The dossier's letters, each at its latest status, by time."""
    docs = store.statuses_of_dossier(db, store.LETTER_STATUSES, "dossier_code", code)
    return [
        {
            "letter_id": doc["_id"],
            "template_id": doc.get("template_id"),
            "name": LETTER_NAMES.get(str(doc.get("template_id")), doc.get("template_id")),
            "status": doc.get("status"),
            "status_label": LETTER_STATUS_LABELS.get(str(doc.get("status")), doc.get("status")),
            "at": doc.get("at"),
        }
        for doc in sorted(docs, key=lambda d: (str(d.get("at") or ""), str(d["_id"])))
    ]


def notifications_of(db: Db, code: str) -> list[Document]:
    """The citizen's notifications of the dossier, each at its latest status, by time."""
    docs = store.statuses_of_dossier(db, store.NOTIFICATION_STATUSES, "dossier", code)
    return [
        {
            "channel": doc.get("channel"),
            "template": doc.get("template"),
            "status": doc.get("status"),
            "status_label": NOTIFICATION_STATUS_LABELS.get(str(doc.get("status")), doc.get("status")),
            "at": doc.get("at"),
        }
        for doc in sorted(docs, key=lambda d: (str(d.get("at") or ""), str(d["_id"])))
    ]
