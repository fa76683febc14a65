"""The editors' content: news articles and directive documents (văn bản chỉ đạo điều hành).

Workflow: draft → review → published (at once, or `scheduled` until `publish_at`, when the
worker publishes it) → unpublished → draft. Every change is ONE conditional write on the item's
`version` (a stale version is refused with 409), carrying the `content.published` /
`content.unpublished` event in the item's outbox; each saved version is then kept in the
revisions collection. Published items are written to the public lists' rows and the search
index after the change. No Flask, no Kafka here.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from markdown_it import MarkdownIt

from eventkit.blobs import BlobStore
from eventkit.envelope import new_event
from eventkit.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound, TooLarge, UnsupportedType
from eventkit.mongo import Db, Document
from eventkit.outbox import outbox_entry
from eventkit.topics import Topics
from portal import content_store
from portal.events import EventTypes
from portal.listing import fold
from portal.search.interface import SearchIndex

SOURCE = "/services/portal"
LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
ARTICLE = "article"
DOCUMENT = "document"
COLLECTION = {ARTICLE: content_store.ARTICLES, DOCUMENT: content_store.DOCUMENTS}
MIB = 1024 * 1024
COVER_MAX_BYTES = 2 * MIB
PDF_MAX_BYTES = 20 * MIB


class Status:
    DRAFT = "draft"
    REVIEW = "review"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ALL = (DRAFT, REVIEW, SCHEDULED, PUBLISHED, UNPUBLISHED)
    # What an editor may ask for (`scheduled` is `published` with a time ahead).
    REQUESTED = (DRAFT, REVIEW, PUBLISHED, UNPUBLISHED)
    EDITABLE = frozenset({DRAFT, REVIEW, UNPUBLISHED})


# From each status, the statuses an editor may move an item to.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.REVIEW}),
    Status.REVIEW: frozenset({Status.DRAFT, Status.PUBLISHED, Status.SCHEDULED}),
    Status.SCHEDULED: frozenset({Status.REVIEW, Status.PUBLISHED}),
    Status.PUBLISHED: frozenset({Status.UNPUBLISHED}),
    Status.UNPUBLISHED: frozenset({Status.DRAFT}),
}
STATUS_NAMES = {
    Status.DRAFT: "bản nháp",
    Status.REVIEW: "chờ duyệt",
    Status.SCHEDULED: "hẹn giờ đăng",
    Status.PUBLISHED: "đã đăng",
    Status.UNPUBLISHED: "đã gỡ",
}

# A directive document's legal standing (hiệu lực).
LEGAL_STATUSES = {"in_force": "Còn hiệu lực", "replaced": "Đã được thay thế", "expired": "Hết hiệu lực"}
DOCUMENT_TYPES = (
    "Quyết định",
    "Chỉ thị",
    "Công văn",
    "Thông báo",
    "Kế hoạch",
    "Báo cáo",
    "Nghị quyết",
    "Hướng dẫn",
    "Tờ trình",
)
BODY_FORMATS = ("markdown", "html")
# The news sections (chuyên mục) the site lists and filters by.
CATEGORIES = (
    "Tin tức - sự kiện",
    "Chỉ đạo điều hành",
    "Cải cách hành chính",
    "Kinh tế",
    "Văn hoá - xã hội",
    "Quốc phòng - an ninh",
    "Thông báo",
)

# Fields an editor writes, per kind (the rest is the workflow's).
ARTICLE_FIELDS = ("title", "summary", "body", "body_format", "category", "tags", "unit")
DOCUMENT_FIELDS = (
    "number",
    "doc_type",
    "issuer",
    "signer",
    "issued_on",
    "effective_on",
    "legal_status",
    "replaces",
    "replaced_by",
    "summary",
    "unit",
)
EDITABLE_FIELDS = {ARTICLE: ARTICLE_FIELDS, DOCUMENT: DOCUMENT_FIELDS}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitise(body: str, body_format: str) -> str:
    """The body as safe HTML: Markdown rendered without raw HTML, then cleaned by nh3 either way."""
    html = _markdown.render(body) if body_format == "markdown" else body
    # nh3's (ammonia's) safe defaults: no script, style, iframe, form, event handler attribute
    # or `javascript:` link survives.
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")


def plain_text(html: str) -> str:
    return re.sub(r"\s+", " ", nh3.clean(html, tags=set())).strip()


def slug_of(title: str, item_id: str) -> str:
    """`dang-ky-khai-sinh-<id>`: readable, and the id at its end finds the item by `_id`."""
    words = re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")[:80].rstrip("-")
    return f"{words}-{item_id}" if words else item_id


def item_id_of(slug_or_id: str) -> str:
    return slug_or_id.rsplit("-", 1)[-1]


def new_item_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Editor:
    user_id: str
    units: frozenset[str]


def check_unit(editor: Editor, unit: str) -> None:
    if unit not in editor.units:
        raise Forbidden("Tài khoản không biên tập nội dung của đơn vị này.")


def now_utc() -> datetime:
    return datetime.now(UTC)


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # the store gives back naive UTC datetimes
    return value


def get(db: Db, kind: str, item_id: str, editor: Editor | None = None) -> Document:
    found = content_store.get_item(db, COLLECTION[kind], item_id)
    if found is None:
        raise NotFound("Không tìm thấy nội dung.")
    if editor is not None:
        check_unit(editor, found["unit"])
    for name in ("publish_at", "published_at", "created_at", "updated_at"):
        found[name] = _aware(found.get(name))
    return found


def get_public(db: Db, kind: str, item_id: str) -> Document | None:
    if len(item_id) > 40:
        return None
    found = content_store.get_item(db, COLLECTION[kind], item_id)
    if found is None or found.get("status") != Status.PUBLISHED:
        return None
    found["published_at"] = _aware(found.get("published_at"))
    return found


def list_for_editor(
    db: Db, kind: str, editor: Editor, unit: str | None, status: str | None, page: int, size: int
) -> list[Document]:
    if unit is None:
        if len(editor.units) != 1:
            raise InvalidData({"unit": ["Cần chọn đơn vị (tài khoản biên tập nhiều đơn vị)."]}, "query")
        [unit] = editor.units
    check_unit(editor, unit)
    return content_store.items_of_unit(db, COLLECTION[kind], unit, status, (page - 1) * size, size)


def _derived(kind: str, fields: Mapping[str, Any], item_id: str) -> dict[str, Any]:
    """What the editor's fields give: the safe HTML and slug of an article, a document's title."""
    if kind == ARTICLE:
        return {
            "body_html": sanitise(fields.get("body") or "", fields.get("body_format") or "markdown"),
            "slug": slug_of(fields["title"], item_id),
        }
    title = f"{fields['doc_type']} số {fields['number']}"
    return {"title": title, "slug": slug_of(f"{title} {fields['summary']}", item_id)}


def stored_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's fields as the store keeps them: dates as `YYYY-MM-DD` text."""
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in fields.items()}


def _check_document_links(db: Db, fields: Mapping[str, Any], item_id: str) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("replaces", "replaced_by"):
        value = fields.get(name)
        ids = value if isinstance(value, list) else ([value] if value else [])
        for other in ids:
            if other == item_id:
                errors.setdefault(name, []).append("Văn bản không thể thay thế chính nó.")
            elif content_store.get_item(db, content_store.DOCUMENTS, other) is None:
                errors.setdefault(name, []).append(f"Không có văn bản mã {other}.")
    if (
        fields.get("effective_on")
        and fields.get("issued_on")
        and fields["effective_on"] < fields["issued_on"]
    ):
        errors.setdefault("effective_on", []).append("Ngày hiệu lực không được trước ngày ban hành.")
    if errors:
        raise InvalidData(errors)


def _revision(kind: str, item: Document, by: str) -> Document:
    kept = {k: v for k, v in item.items() if k not in ("_id", "outbox", "outbox_pending", "outbox_parked")}
    return {
        "_id": f"{item['_id']}:{item['version']}",
        "item": item["_id"],
        "kind": kind,
        "version": item["version"],
        "at": item["updated_at"],
        "by": by,
        "item_state": kept,
    }


def create(db: Db, kind: str, editor: Editor, fields: Mapping[str, Any]) -> Document:
    check_unit(editor, fields["unit"])
    fields = stored_fields(fields)
    item_id = new_item_id()
    if kind == DOCUMENT:
        _check_document_links(db, fields, item_id)
    now = now_utc()
    item: Document = {
        "_id": item_id,
        "kind": kind,
        **{name: fields.get(name) for name in EDITABLE_FIELDS[kind]},
        **_derived(kind, fields, item_id),
        "status": Status.DRAFT,
        "publish_at": None,
        "published_at": None,
        "version": 1,
        "sequence": 0,
        "created_at": now,
        "created_by": editor.user_id,
        "updated_at": now,
        "updated_by": editor.user_id,
    }
    content_store.insert_item(db, COLLECTION[kind], item, [])
    content_store.add_revision(db, _revision(kind, item, editor.user_id))
    return get(db, kind, item_id)


class NoFileStore(DomainError):
    status = 503


class VersionRequired(DomainError):
    status = 428


def _check_version(current: Document, version: int | None) -> int:
    """The version edited, which must be the item's current one."""
    if version is None:
        raise VersionRequired("Cần phiên bản đang sửa: trường “version” hoặc tiêu đề If-Match.")
    if current["version"] != version:
        raise _stale(current)
    return version


def _stale(current: Document) -> Conflict:
    return Conflict(
        f"Nội dung đã được sửa bởi người khác (phiên bản hiện tại {current['version']}); "
        "hãy tải lại rồi sửa tiếp."
    )


def _commit(
    db: Db,
    kind: str,
    current: Document,
    version: int,
    changes: Mapping[str, Any],
    by: str,
    event_type: str | None = None,
    index: SearchIndex | None = None,
) -> Document:
    """Write `changes` as the item's next version if it is still at `version`, with the event
    (when given) in the same write; then its revision, public rows and search entry."""
    if current["version"] != version:
        raise _stale(current)
    now = now_utc()
    fields: dict[str, Any] = {**changes, "version": version + 1, "updated_at": now, "updated_by": by}
    entries = []
    if event_type is not None:
        sequence = int(current.get("sequence") or 0) + 1
        fields["sequence"] = sequence
        event = new_event(
            type=event_type,
            source=SOURCE,
            subject=current["_id"],
            data=event_data(kind, {**current, **fields}),
            sequence=sequence,
        )
        entries.append(outbox_entry(Topics.PORTAL_CONTENT.name, event))
    if not content_store.update_item(db, COLLECTION[kind], current["_id"], version, fields, entries):
        raise _stale(get(db, kind, current["_id"]))
    item = get(db, kind, current["_id"])
    # After the write: a crash here loses one revision's copy, never the change itself.
    content_store.add_revision(db, _revision(kind, item, by))
    refresh_public(db, kind, item, index)
    return item


def update(
    db: Db, kind: str, editor: Editor, item_id: str, version: int | None, fields: Mapping[str, Any]
) -> Document:
    current = get(db, kind, item_id, editor)
    version = _check_version(current, version)
    if current["status"] not in Status.EDITABLE:
        raise Conflict(
            f"Không sửa được nội dung {STATUS_NAMES[current['status']]}: hãy gỡ hoặc đưa về chờ duyệt trước."
        )
    if not fields:
        return current  # nothing to change: no new version
    if "unit" in fields:
        check_unit(editor, fields["unit"])
    fields = stored_fields(fields)
    merged = {**{name: current.get(name) for name in EDITABLE_FIELDS[kind]}, **fields}
    if kind == DOCUMENT:
        _check_document_links(db, merged, item_id)
    changes = {**fields, **_derived(kind, merged, item_id)}
    return _commit(db, kind, current, version, changes, editor.user_id)


def transition(
    db: Db,
    kind: str,
    editor: Editor,
    item_id: str,
    version: int | None,
    status: str,
    publish_at: datetime | None,
    index: SearchIndex,
) -> Document:
    """Move the item to `status`; `published` with a `publish_at` ahead schedules it instead."""
    current = get(db, kind, item_id, editor)
    now = now_utc()
    target = status
    if status == Status.PUBLISHED and publish_at is not None and publish_at > now:
        target = Status.SCHEDULED
    elif publish_at is not None and status != Status.PUBLISHED:
        raise InvalidData({"publish_at": ["Chỉ đặt giờ đăng khi chuyển sang trạng thái đăng (published)."]})
    version = _check_version(current, version)
    allowed = TRANSITIONS[current["status"]]
    if target not in allowed:
        names = ", ".join(sorted(allowed))
        raise Conflict(
            f"Không chuyển được từ “{STATUS_NAMES[current['status']]}” sang “{STATUS_NAMES[target]}”; "
            f"được phép: {names}."
        )
    if target == Status.PUBLISHED and kind == DOCUMENT and not current.get("pdf"):
        raise InvalidData({"pdf": ["Văn bản cần có tệp PDF đính kèm trước khi đăng."]})
    changes: dict[str, Any] = {"status": target}
    event_type = None
    if target == Status.SCHEDULED:
        changes["publish_at"] = publish_at
    elif target == Status.PUBLISHED:
        changes.update(_published_fields(kind, current, now))
        event_type = EventTypes.CONTENT_PUBLISHED
    elif target == Status.UNPUBLISHED:
        event_type = EventTypes.CONTENT_UNPUBLISHED
    else:
        changes["publish_at"] = None
    item = _commit(db, kind, current, version, changes, editor.user_id, event_type, index)
    if target == Status.PUBLISHED and kind == DOCUMENT:
        _mark_replaced(db, item, index)
    return item


def _published_fields(kind: str, item: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    # A document's year is the year it was issued; an article's the year it was published.
    issued = str(item.get("issued_on") or "")
    year = int(issued[:4]) if kind == DOCUMENT and issued[:4].isdigit() else at.year
    return {"status": Status.PUBLISHED, "published_at": at, "year": year, "publish_at": None}


PUBLISH_BATCH = 100


def publish_due(db: Db, index: SearchIndex, now: datetime | None = None, batch: int = PUBLISH_BATCH) -> int:
    """Publish every scheduled item whose `publish_at` has come (the worker's periodic duty); each
    is published at its set time. An item an editor changed meanwhile is left to them."""
    now = now or now_utc()
    published = 0
    for kind, collection in COLLECTION.items():
        for due in content_store.due_scheduled(db, collection, now, batch):
            due["publish_at"] = _aware(due["publish_at"])
            try:
                item = _commit(
                    db,
                    kind,
                    due,
                    due["version"],
                    _published_fields(kind, due, due["publish_at"]),
                    "scheduler",
                    EventTypes.CONTENT_PUBLISHED,
                    index,
                )
            except Conflict:
                continue
            if kind == DOCUMENT:
                _mark_replaced(db, item, index)
            published += 1
    return published


def _mark_replaced(db: Db, item: Document, index: SearchIndex) -> None:
    """A published document that replaces others marks them replaced by it (their own write)."""
    for other_id in item.get("replaces") or []:
        for _attempt in range(3):
            other = content_store.get_item(db, content_store.DOCUMENTS, other_id)
            if other is None or (
                other.get("legal_status") == "replaced" and other.get("replaced_by") == item["_id"]
            ):
                break
            changes = {"legal_status": "replaced", "replaced_by": item["_id"]}
            try:
                _commit(db, DOCUMENT, other, other["version"], changes, "scheduler", None, index)
                break
            except Conflict:
                continue


def attach(
    db: Db,
    blobs: BlobStore | None,
    kind: str,
    editor: Editor,
    item_id: str,
    version: int | None,
    data: bytes,
) -> Document:
    """Keep the article's cover image (PNG/JPEG) or the document's PDF, checked from its bytes."""
    current = get(db, kind, item_id, editor)
    version = _check_version(current, version)
    if current["status"] not in Status.EDITABLE:
        raise Conflict(f"Không sửa được nội dung {STATUS_NAMES[current['status']]}.")
    if kind == DOCUMENT:
        limit, media_type = PDF_MAX_BYTES, "application/pdf" if data.startswith(b"%PDF-") else None
        wrong = "Tệp đính kèm phải là PDF (bắt đầu bằng %PDF-)."
        name = "pdf"
    else:
        limit, media_type, wrong, name = (
            COVER_MAX_BYTES,
            image_type(data),
            "Ảnh bìa phải là PNG hoặc JPEG.",
            "cover",
        )
    if len(data) > limit:
        raise TooLarge(f"Tệp vượt quá giới hạn {limit // MIB} MiB.")
    if media_type is None:
        raise UnsupportedType(wrong)
    if blobs is None:
        raise NoFileStore("Chưa cấu hình nơi lưu tệp (PORTAL_BLOB_URL) nên chưa nhận được tệp đính kèm.")
    digest = hashlib.sha256(data).hexdigest()
    key = f"portal-{name}-{item_id}-{digest[:16]}"
    blobs.put(key, data)
    attached = {"key": key, "media_type": media_type, "size": len(data), "sha256": digest}
    return _commit(db, kind, current, version, {name: attached}, editor.user_id)


def image_type(data: bytes) -> str | None:
    """PNG or JPEG when the bytes are one that decodes, else None."""
    from PIL import Image, UnidentifiedImageError

    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        expected = "PNG"
    elif data.startswith(b"\xff\xd8\xff"):
        expected = "JPEG"
    else:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            if image.format != expected:
                return None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return "image/png" if expected == "PNG" else "image/jpeg"


def event_data(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """What `content.published` / `unpublished` carry: enough for a reader to link and list it."""
    published_at = item.get("published_at")
    data: dict[str, Any] = {
        "id": item["_id"],
        "kind": kind,
        "unit": item["unit"],
        "title": item["title"],
        "summary": item.get("summary") or "",
        "path": public_path(kind, item),
        "published_at": published_at.isoformat() if isinstance(published_at, datetime) else None,
        "version": item["version"],
    }
    if kind == ARTICLE:
        data.update(category=item.get("category"), tags=list(item.get("tags") or []))
    else:
        data.update(
            number=item.get("number"),
            doc_type=item.get("doc_type"),
            issuer=item.get("issuer"),
            legal_status=item.get("legal_status"),
        )
    return data


def public_path(kind: str, item: Mapping[str, Any]) -> str:
    return f"/tin-tuc/{item['slug']}" if kind == ARTICLE else f"/van-ban/{item['_id']}"


# -- the public lists' rows and the search index -------------------------------------------------

ANY = "*"
ARTICLE_FACETS = ("unit", "category", "year")
DOCUMENT_FACETS = ("unit", "doc_type", "issuer", "year", "legal_status")
FACETS = {ARTICLE: ARTICLE_FACETS, DOCUMENT: DOCUMENT_FACETS}
# What a row of a list shows, copied so that a page reads nothing else.
ROW_FIELDS = {
    ARTICLE: ("title", "summary", "slug", "unit", "category", "published_at", "cover"),
    DOCUMENT: (
        "title",
        "number",
        "doc_type",
        "issuer",
        "summary",
        "issued_on",
        "legal_status",
        "unit",
        "published_at",
    ),
}


def facet_key(kind: str, filters: Mapping[str, Any]) -> str:
    return "|".join([kind, *(f"{name}={filters.get(name) or ANY}" for name in FACETS[kind])])


def listing_rows(kind: str, item: Mapping[str, Any]) -> list[Document]:
    names = FACETS[kind]
    published_at = item["published_at"]
    # Newest first by an ascending key: the time's complement, then the id.
    sort_key = f"{9_999_999_999_999 - int(published_at.timestamp() * 1000):013d}{item['_id']}"
    shown = {name: item.get(name) for name in ROW_FIELDS[kind]}
    rows = []
    for mask in range(2 ** len(names)):
        filters = {name: item.get(name) for bit, name in enumerate(names) if mask & (1 << bit)}
        if any(value in (None, "") for value in filters.values()):
            continue
        facet = facet_key(kind, filters)
        rows.append(
            {
                "_id": f"{facet}#{item['_id']}",
                "facet": facet,
                "sort_key": sort_key,
                "item": item["_id"],
                "kind": kind,
                **shown,
            }
        )
    return rows


def search_entry(kind: str, item: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    fields: dict[str, Any] = {"unit": item["unit"], "year": item.get("year") or 0}
    if kind == ARTICLE:
        text = " ".join([item.get("summary") or "", plain_text(item.get("body_html") or "")])
        if item.get("category"):
            fields["category"] = item["category"]
        return item["title"], text[:20000], fields
    if item.get("doc_type"):
        fields["doc_type"] = item["doc_type"]
    text = " ".join(str(item.get(n) or "") for n in ("number", "summary", "issuer", "signer"))
    return f"{item['title']}: {item.get('summary') or ''}", text, fields


def refresh_public(db: Db, kind: str, item: Mapping[str, Any], index: SearchIndex | None) -> None:
    """The item's public rows and search entry follow its status: present only while published."""
    public = item.get("status") == Status.PUBLISHED
    content_store.replace_listing(db, item["_id"], listing_rows(kind, item) if public else [])
    if index is None:
        return
    if public:
        title, text, fields = search_entry(kind, item)
        index.index(kind, item["_id"], title, text, fields)
    else:
        index.remove(kind, item["_id"])


def list_public(
    db: Db, kind: str, filters: Mapping[str, Any], page: int, size: int
) -> tuple[int, list[Document]]:
    facet = facet_key(kind, filters)
    total = content_store.count_listed(db, facet)
    rows = content_store.find_listed(db, facet, (page - 1) * size, size)
    for row in rows:
        row["published_at"] = _aware(row.get("published_at"))
    return total, rows


def revisions(db: Db, item_id: str) -> list[Document]:
    return content_store.revisions_of(db, item_id)
