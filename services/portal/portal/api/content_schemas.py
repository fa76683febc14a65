"""The editors' API bodies and answers (marshmallow, Vietnamese messages)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from eventkit.schemas import BaseSchema, between, items, length, one_of, pattern
from portal.service.content import BODY_FORMATS, CATEGORIES, DOCUMENT_TYPES, LEGAL_STATUSES, Status

UNIT = pattern(r"^[A-Za-z0-9._-]{1,40}$", "Mã đơn vị không hợp lệ.")
ITEM_ID = pattern(r"^[0-9a-f]{12}$", "Mã nội dung không hợp lệ.")
VERSION: dict[str, Any] = {
    "validate": between(1),
    "metadata": {"description": "the version edited (or the If-Match header)"},
}


class ArticleSchema(BaseSchema):
    title = fields.String(required=True, validate=length(5, 250))
    summary = fields.String(required=True, validate=length(1, 1000))
    body = fields.String(required=True, validate=length(1, 200_000))
    body_format = fields.String(load_default="markdown", validate=one_of(BODY_FORMATS))
    category = fields.String(required=True, validate=one_of(CATEGORIES))
    tags = fields.List(fields.String(validate=length(1, 50)), load_default=list, validate=items(max=20))
    unit = fields.String(required=True, validate=UNIT)


class ArticleUpdateSchema(ArticleSchema):
    """An edit (loaded with `partial=True`): only the fields sent change, none sent changes nothing;
    `version` (or If-Match) is the version edited."""

    version = fields.Integer(**VERSION)


class DocumentSchema(BaseSchema):
    number = fields.String(
        required=True,
        validate=pattern(r"^[0-9]{1,6}/[0-9]{0,4}/?[A-ZĐa-zđ0-9.\-]{1,40}$", "Số, ký hiệu dạng 123/QĐ-UBND."),
        metadata={"example": "123/QĐ-UBND"},
    )
    doc_type = fields.String(required=True, validate=one_of(DOCUMENT_TYPES))
    issuer = fields.String(required=True, validate=length(1, 200))
    signer = fields.String(required=True, validate=length(1, 120))
    issued_on = fields.Date(required=True)
    effective_on = fields.Date(load_default=None, allow_none=True)
    legal_status = fields.String(load_default="in_force", validate=one_of(LEGAL_STATUSES))
    replaces = fields.List(fields.String(validate=ITEM_ID), load_default=list, validate=items(max=20))
    replaced_by = fields.String(load_default=None, allow_none=True, validate=ITEM_ID)
    summary = fields.String(required=True, validate=length(5, 2000), metadata={"description": "trích yếu"})
    unit = fields.String(required=True, validate=UNIT)


class DocumentUpdateSchema(DocumentSchema):
    version = fields.Integer(**VERSION)


class StatusChangeSchema(BaseSchema):
    status = fields.String(required=True, validate=one_of(Status.REQUESTED))
    publish_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "with `published`: a time ahead schedules the publication"},
    )
    version = fields.Integer(**VERSION)


class ContentQuerySchema(BaseSchema):
    unit = fields.String(validate=UNIT)
    status = fields.String(validate=one_of(Status.ALL))
    page = fields.Integer(load_default=1, validate=between(1, 1000))
    page_size = fields.Integer(load_default=20, validate=between(1, 100))


class AttachmentSchema(BaseSchema):
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class ContentOutSchema(BaseSchema):
    id = fields.String(attribute="_id")
    kind = fields.String()
    status = fields.String()
    version = fields.Integer()
    unit = fields.String()
    title = fields.String()
    slug = fields.String()
    summary = fields.String()
    publish_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()
    path = fields.String(metadata={"description": "the public page, once published"})


class ArticleOutSchema(ContentOutSchema):
    body = fields.String()
    body_format = fields.String()
    body_html = fields.String(metadata={"description": "the body as the public page shows it (sanitised)"})
    category = fields.String()
    tags = fields.List(fields.String())
    cover = fields.Nested(AttachmentSchema, allow_none=True)


class DocumentOutSchema(ContentOutSchema):
    number = fields.String()
    doc_type = fields.String()
    issuer = fields.String()
    signer = fields.String()
    issued_on = fields.String()
    effective_on = fields.String(allow_none=True)
    legal_status = fields.String()
    replaces = fields.List(fields.String())
    replaced_by = fields.String(allow_none=True)
    pdf = fields.Nested(AttachmentSchema, allow_none=True)


class ArticleListSchema(BaseSchema):
    items = fields.List(fields.Nested(ArticleOutSchema))
    page = fields.Integer()
    page_size = fields.Integer()


class DocumentListSchema(BaseSchema):
    items = fields.List(fields.Nested(DocumentOutSchema))
    page = fields.Integer()
    page_size = fields.Integer()


class RevisionSchema(BaseSchema):
    version = fields.Integer()
    at = fields.DateTime()
    by = fields.String()
    item_state = fields.Dict(metadata={"description": "the item as this version saved it"})


class RevisionListSchema(BaseSchema):
    items = fields.List(fields.Nested(RevisionSchema))
