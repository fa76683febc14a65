"""The public news (`/tin-tuc`) and directive documents (`/van-ban`): lists with filters and
paging, detail pages, the attached PDF, the Atom feed; only published items are shown.

Every list is one equality on the indexed `facet` of the content listing, paged by `skip` within
it and bounded by the page size. View counts are kept in this process's memory and added to the
store with one `$inc` per item every VIEW_FLUSH_SECONDS (never a write per view on a hot item).
"""

from __future__ import annotations

import atexit
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, current_app, redirect, render_template, request, url_for

from eventkit.blobs import BlobMissing
from eventkit.mongo import Db
from eventkit.web import attachment, current_db
from portal import content_store, store
from portal.search import StoreSearch
from portal.service import content
from portal.service.content import ARTICLE, CATEGORIES, DOCUMENT, DOCUMENT_TYPES, LEGAL_STATUSES
from portal.web.pages import absolute, blp, page
from webui import PageError

PAGE_SIZE = 10
MAX_PAGE = 500
FEED_SIZE = 20
VIEW_FLUSH_SECONDS = 10.0
FIRST_YEAR = 2015


class ViewCounts:
    """Views counted in this process, flushed to `content_views` by `$inc` once per interval."""

    def __init__(self, flush_seconds: float = VIEW_FLUSH_SECONDS) -> None:
        self.flush_seconds = flush_seconds
        self.pending: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.flushed_at = time.monotonic()
        self.db: Db | None = None

    def seen(self, db: Db, item_id: str) -> int:
        """Count one view; the item's views so far (stored and not yet flushed)."""
        with self.lock:
            self.db = db
            self.pending[item_id] += 1
            mine = self.pending[item_id]
        if time.monotonic() - self.flushed_at >= self.flush_seconds:
            self.flush()
            mine = 0
        return content_store.views_of(db, item_id) + mine

    def flush(self) -> None:
        with self.lock:
            taken, self.pending = self.pending, Counter()
            self.flushed_at = time.monotonic()
            db = self.db
        if taken and db is not None:
            try:
                content_store.add_views(db, taken)
            except Exception:
                with self.lock:
                    self.pending.update(taken)  # kept for the next flush


VIEWS = ViewCounts()
atexit.register(VIEWS.flush)


def text_arg(name: str, limit: int = 100) -> str:
    value = (request.args.get(name) or "").strip()
    if len(value) > limit:
        raise PageError(400, f"Bộ lọc “{name}” không hợp lệ: dài quá {limit} ký tự.")
    return value


def page_arg() -> int:
    raw = text_arg("page", 6) or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise PageError(400, "Bộ lọc “page” không hợp lệ: phải là số trang từ 1 trở lên.")
    return int(raw)


def year_arg() -> int | None:
    raw = text_arg("year", 4)
    if not raw:
        return None
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= datetime.now(UTC).year + 1:
        raise PageError(400, "Bộ lọc “year” không hợp lệ: phải là một năm.")
    return int(raw)


def choice_arg(name: str, choices: Any) -> str:
    value = text_arg(name)
    if value and value not in choices:
        raise PageError(400, f"Bộ lọc “{name}” không hợp lệ: không có trong danh sách.")
    return value


@dataclass
class Found:
    total: int
    page: int
    items: list[dict[str, Any]]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def years() -> list[int]:
    return list(range(datetime.now(UTC).year, FIRST_YEAR - 1, -1))


def units() -> list[dict[str, Any]]:
    return list(current_app.extensions["portal_web"]["options"].get(current_db())["units"])


def paging(endpoint: str, found: Found, args: dict[str, Any]) -> list[tuple[int, str]]:
    shown = range(max(1, found.page - 4), min(found.pages, found.page + 4) + 1)
    return [(n, url_for(endpoint, **{**args, "page": n})) for n in shown]


# The filters the search index holds per kind (service.content.search_entry); the others are
# checked on the (at most 50) items found.
INDEXED_FILTERS = {ARTICLE: ("unit", "category", "year"), DOCUMENT: ("unit", "doc_type", "year")}


def searched(db: Db, kind: str, query: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The 50 best published items of `kind` for `query`, best first, that match `filters`."""
    wanted = {name: value for name, value in filters.items() if value}
    indexed = {name: value for name, value in wanted.items() if name in INDEXED_FILTERS[kind]}
    hits = StoreSearch(db).search(query, kinds=[kind], filters=indexed, limit=50)
    items = [content.get_public(db, kind, hit.id) for hit in hits]
    # Shaped as the list's rows (`item` names the item), so one template shows both.
    return [
        {**item, "item": item["_id"]}
        for item in items
        if item is not None and all(item.get(name) == value for name, value in wanted.items())
    ]


@blp.app_template_global()
def latest_public(kind: str, unit: str | None = None, limit: int = 5) -> list[dict[str, Any]]:
    """The newest published articles or documents (of one unit), for the home and unit pages."""
    return content.list_public(current_db(), kind, {"unit": unit}, 1, limit)[1]


@blp.app_template_global()
def legal_status_name(value: str) -> str:
    return LEGAL_STATUSES.get(value, "")


@blp.app_template_global()
def local_date(value: Any) -> str:
    if isinstance(value, datetime):
        local = value.astimezone(content.LOCAL_TIME)
        return local.strftime("%d/%m/%Y")
    if isinstance(value, str) and len(value) == 10:
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    return ""


@blp.get("/tin-tuc")
def news() -> str:
    db = current_db()
    filters: dict[str, Any] = {
        "unit": text_arg("unit", 40),
        "category": choice_arg("category", CATEGORIES),
        "year": year_arg(),
    }
    query, number = text_arg("q", 200), page_arg()
    if query:
        hits = searched(db, ARTICLE, query, filters)
        found = Found(len(hits), number, hits[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    else:
        total, rows = content.list_public(db, ARTICLE, filters, number, PAGE_SIZE)
        found = Found(total, number, rows)
    args = {k: v for k, v in {**filters, "q": query}.items() if v}
    return page(
        "portal/news.html",
        canonical=absolute("portal_web.news", **({"page": number} if number > 1 else {})),
        found=found,
        filters=filters,
        query=query,
        pages=paging("portal_web.news", found, args),
        categories=CATEGORIES,
        units=units(),
        years=years(),
        feed_url=url_for("portal_web.news_feed", **{k: v for k, v in filters.items() if v and k != "year"}),
    )


@blp.get("/tin-tuc/<slug>")
def article(slug: str) -> Any:
    db = current_db()
    item = content.get_public(db, ARTICLE, content.item_id_of(slug))
    if item is None:
        abort(404)
    if slug != item["slug"]:
        return redirect(url_for("portal_web.article", slug=item["slug"]), 301)
    unit = store.get_published(db, store.UNITS, item["unit"])
    return page(
        "portal/article.html",
        canonical=absolute("portal_web.article", slug=item["slug"]),
        item=item,
        unit=unit,
        views=VIEWS.seen(db, item["_id"]),
    )


@blp.get("/tin-tuc/<item_id>/anh-bia")
def article_cover(item_id: str) -> Response:
    item = content.get_public(current_db(), ARTICLE, item_id)
    if item is None or not item.get("cover"):
        abort(404)
    return stored_file(item["cover"], f"anh-bia-{item_id}", inline=True)


def stored_file(attached: dict[str, Any], name: str, inline: bool = False) -> Response:
    blobs = current_app.extensions.get("blobs")
    if blobs is None:
        abort(404)
    chunks = blobs.chunks(attached["key"])
    try:
        first = next(chunks, b"")
    except BlobMissing:
        abort(404)

    def body() -> Any:
        yield first
        yield from chunks

    extension = "pdf" if attached["media_type"] == "application/pdf" else attached["media_type"].split("/")[1]
    response = attachment(body(), attached["media_type"], attached["size"], f"{name}.{extension}")
    if inline:
        # A cover is content-addressed (its key holds its hash): it may be kept by any cache.
        response.headers["Content-Disposition"] = "inline"
        response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blp.get("/tin-tuc/atom.xml")
def news_feed() -> Response:
    """The newest articles as Atom 1.0, of one unit and/or category when asked."""
    filters = {"unit": text_arg("unit", 40), "category": choice_arg("category", CATEGORIES)}
    _total, rows = content.list_public(current_db(), ARTICLE, filters, 1, FEED_SIZE)
    self_url = absolute("portal_web.news_feed", **{k: v for k, v in filters.items() if v})
    updated = rows[0]["published_at"] if rows else datetime(2015, 1, 1, tzinfo=UTC)
    body = render_template(
        "portal/news.atom.xml",
        rows=rows,
        self_url=self_url,
        home_url=absolute("portal_web.news", **{k: v for k, v in filters.items() if v}),
        feed_id=self_url,
        updated=updated.isoformat(),
        article_url=lambda row: absolute("portal_web.article", slug=row["slug"]),
        filters=filters,
    )
    return Response(body, mimetype="application/atom+xml")


@blp.get("/van-ban")
def documents() -> str:
    db = current_db()
    filters = {
        "unit": text_arg("unit", 40),
        "doc_type": choice_arg("doc_type", DOCUMENT_TYPES),
        "issuer": text_arg("issuer", 200),
        "year": year_arg(),
        "legal_status": choice_arg("legal_status", LEGAL_STATUSES),
    }
    query, number = text_arg("q", 200), page_arg()
    if query:
        hits = searched(db, DOCUMENT, query, filters)
        found = Found(len(hits), number, hits[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    else:
        total, rows = content.list_public(db, DOCUMENT, filters, number, PAGE_SIZE)
        found = Found(total, number, rows)
    args = {k: v for k, v in {**filters, "q": query}.items() if v}
    return page(
        "portal/documents.html",
        query=query,
        canonical=absolute("portal_web.documents", **({"page": number} if number > 1 else {})),
        found=found,
        filters=filters,
        pages=paging("portal_web.documents", found, args),
        doc_types=DOCUMENT_TYPES,
        legal_statuses=LEGAL_STATUSES,
        units=units(),
        years=years(),
    )


@blp.get("/van-ban/<item_id>")
def document(item_id: str) -> str:
    db = current_db()
    item = content.get_public(db, DOCUMENT, item_id)
    if item is None:
        abort(404)
    linked = {}
    for other in [*(item.get("replaces") or []), item.get("replaced_by")][:21]:
        if other and (found := content.get_public(db, DOCUMENT, other)):
            linked[other] = found
    return page(
        "portal/document.html",
        canonical=absolute("portal_web.document", item_id=item_id),
        item=item,
        linked=linked,
        unit=store.get_published(db, store.UNITS, item["unit"]),
        views=VIEWS.seen(db, item["_id"]),
    )


@blp.get("/van-ban/<item_id>/tep.pdf")
def document_pdf(item_id: str) -> Response:
    item = content.get_public(current_db(), DOCUMENT, item_id)
    if item is None or not item.get("pdf"):
        abort(404)
    return stored_file(item["pdf"], item["number"].replace("/", "-"))


def sitemap_urls(limit: int = 5000) -> list[str]:
    """The published articles' and documents' pages, newest first, for sitemap.xml."""
    db = current_db()
    urls = [absolute("portal_web.news"), absolute("portal_web.documents")]
    urls += [
        absolute("portal_web.article", slug=r["slug"])
        for r in content.list_public(db, ARTICLE, {}, 1, limit)[1]
    ]
    urls += [
        absolute("portal_web.document", item_id=r["item"])
        for r in content.list_public(db, DOCUMENT, {}, 1, limit)[1]
    ]
    return urls
