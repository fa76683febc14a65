"""The editors' API: news articles and directive documents of the units an editor serves.

Every view puts `@staff_required(Roles.EDITOR)` above `@blp.arguments`, so a request without a
valid editor token is refused before its body is parsed. A change names the version it edits
(`version` in the body, or `If-Match: "<version>"`); a stale one gets 409.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from eventkit.auth import Roles, current_staff, staff_required
from eventkit.web import current_db
from portal.api.content_schemas import (
    ArticleListSchema,
    ArticleOutSchema,
    ArticleSchema,
    ArticleUpdateSchema,
    ContentQuerySchema,
    DocumentListSchema,
    DocumentOutSchema,
    DocumentSchema,
    DocumentUpdateSchema,
    RevisionListSchema,
    StatusChangeSchema,
)
from portal.search import StoreSearch
from portal.service import content
from portal.service.content import ARTICLE, DOCUMENT, Editor

SECURITY: list[dict[str, list[str]]] = [{"staffToken": []}]
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "schema": {"type": "string", "pattern": r'^(W/)?"?[0-9]{1,9}"?$'},
    "required": False,
}


def editor() -> Editor:
    staff = current_staff()
    return Editor(user_id=staff.user_id, units=staff.units)


def expected_version(body_version: int | None) -> int | None:
    """The version the request edits: the body's `version`, else the If-Match header's (None when
    neither is sent: the item, once found, answers 428)."""
    if body_version is not None:
        return body_version
    header = request.headers.get("If-Match", "").strip()
    value = header.removeprefix("W/").strip('"')
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        abort(400, message='Tiêu đề If-Match phải là số phiên bản, ví dụ "3".')
    return int(value)


def shown(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "path": content.public_path(kind, item)}


def versioned(kind: str, item: dict[str, Any], status: int = 200) -> Any:
    return shown(kind, item), status, {"ETag": f'"{item["version"]}"'}


def content_blueprint(kind: str) -> Blueprint:
    plural = "articles" if kind == ARTICLE else "documents"
    blp = Blueprint(
        plural,
        f"{__name__}.{plural}",
        url_prefix=f"/api/v1/{plural}",
        description="News articles" if kind == ARTICLE else "Directive documents (văn bản chỉ đạo điều hành)",
    )
    create_schema, update_schema = (
        (ArticleSchema, ArticleUpdateSchema) if kind == ARTICLE else (DocumentSchema, DocumentUpdateSchema)
    )
    out_schema = ArticleOutSchema if kind == ARTICLE else DocumentOutSchema
    list_schema = ArticleListSchema if kind == ARTICLE else DocumentListSchema
    attachment = "cover" if kind == ARTICLE else "pdf"

    @blp.before_request
    def allow_files() -> None:
        if request.path.endswith(f"/{attachment}"):
            request.max_content_length = max(content.COVER_MAX_BYTES, content.PDF_MAX_BYTES) + 64 * 1024

    @blp.route("")
    class Collection(MethodView):
        @staff_required(Roles.EDITOR)
        @blp.doc(security=SECURITY)
        @blp.arguments(ContentQuerySchema(), location="query")
        @blp.response(200, list_schema)
        def get(self, query: dict[str, Any]) -> Any:
            """Items of one unit the editor serves (the only one, when they serve one), newest edit first."""
            found = content.list_for_editor(
                current_db(),
                kind,
                editor(),
                query.get("unit"),
                query.get("status"),
                query["page"],
                query["page_size"],
            )
            return {
                "items": [shown(kind, i) for i in found],
                "page": query["page"],
                "page_size": query["page_size"],
            }

        @staff_required(Roles.EDITOR)
        @blp.doc(security=SECURITY)
        @blp.arguments(create_schema())
        @blp.response(201, out_schema)
        @blp.alt_response(403, description="The unit is not one the editor serves")
        def post(self, data: dict[str, Any]) -> Any:
            """A new draft (version 1) of a unit the editor serves."""
            return versioned(kind, content.create(current_db(), kind, editor(), data), 201)

    @blp.route("/<item_id>")
    class Item(MethodView):
        @staff_required(Roles.EDITOR)
        @blp.doc(security=SECURITY)
        @blp.response(200, out_schema)
        def get(self, item_id: str) -> Any:
            """The item as it stands, whatever its status; its version also as the ETag."""
            return versioned(kind, content.get(current_db(), kind, item_id, editor()))

        @staff_required(Roles.EDITOR)
        @blp.doc(security=SECURITY, parameters=[IF_MATCH])
        @blp.arguments(update_schema(partial=True))
        @blp.response(200, out_schema)
        @blp.alt_response(409, description="Edited on a stale version, or not editable in its status")
        @blp.alt_response(428, description="No version named")
        def patch(self, data: dict[str, Any], item_id: str) -> Any:
            """Edit the fields sent (draft, review or unpublished items): a new version and revision."""
            version = expected_version(data.pop("version", None))
            return versioned(kind, content.update(current_db(), kind, editor(), item_id, version, data))

    @blp.route("/<item_id>/status")
    class ItemStatus(MethodView):
        @staff_required(Roles.EDITOR)
        @blp.doc(security=SECURITY, parameters=[IF_MATCH])
        @blp.arguments(StatusChangeSchema())
        @blp.response(200, out_schema)
        @blp.alt_response(409, description="A stale version, or a move the workflow does not allow")
        def post(self, data: dict[str, Any], item_id: str) -> Any:
            """Move the item: draft → review → published (or scheduled with a `publish_at` ahead:
            the worker publishes it then) → unpublished → draft; review or scheduled → back."""
            version = expected_version(data.get("version"))
            item = content.transition(
                current_db(),
                kind,
                editor(),
                item_id,
                version,
                data["status"],
                data.get("publish_at"),
                StoreSearch(current_db()),
            )
            return versioned(kind, item)

    @blp.route(f"/<item_id>/{attachment}")
    class ItemAttachment(MethodView):
        @staff_required(Roles.EDITOR)
        @blp.doc(
            security=SECURITY,
            parameters=[IF_MATCH],
            # The raw bytes, whatever Content-Type says: the type is judged from the bytes.
            requestBody={
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
            },
        )
        @blp.response(200, out_schema)
        @blp.alt_response(413, description="Larger than the limit (cover 2 MiB, PDF 20 MiB)")
        @blp.alt_response(
            415, description="Not a PNG/JPEG image (cover) or a PDF (document), judged from the bytes"
        )
        def put(self, item_id: str) -> Any:
            """Attach the file (the raw request body): an article's cover image, a document's PDF."""
            version = expected_version(None)
            limit = content.COVER_MAX_BYTES if kind == ARTICLE else content.PDF_MAX_BYTES
            data = request.stream.read(limit + 1)
            item = content.attach(
                current_db(), current_app.extensions.get("blobs"), kind, editor(), item_id, version, data
            )
            return versioned(kind, item)

    @blp.route("/<item_id>/revisions")
    class ItemRevisions(MethodView):
        @staff_required(Roles.EDITOR)
        @blp.doc(security=SECURITY)
        @blp.response(200, RevisionListSchema)
        def get(self, item_id: str) -> Any:
            """Every saved version of the item, newest first."""
            content.get(current_db(), kind, item_id, editor())
            return {"items": content.revisions(current_db(), item_id)}

    return blp


articles = content_blueprint(ARTICLE)
documents = content_blueprint(DOCUMENT)
