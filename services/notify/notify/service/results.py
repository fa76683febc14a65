"""Signed results processing sends for the citizen's email (processing.results.v1).

Processing sends a dossier's signed result only when the dossier is delivered online and the file
is small enough for an email; the `result_issued` event says whether it does (`result.file_sent`).
The file is checked against its SHA-256 and size and kept in notify's own blob store under the
dossier code and that hash, so the `result_issued` email finds it (`result_attachment`) whichever
of the two records arrives first. Keeping it again on a second delivery writes the same bytes
under the same key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from eventkit.blobs import BlobMissing, BlobStore
from eventkit.envelope import Event
from eventkit.errors import TransientError
from eventkit.mongo import Document
from notify import store
from notify.mailer import Attachment

# The name of the signed result in a notification's `attachments`.
RESULT = "result"
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="must be a lower-case hex SHA-256")


class ResultFileSchema(Schema):
    """A signed result: its bytes in base64, checked against the hash and size it comes with."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True, validate=validate.Length(min=1))
    sha256 = fields.String(required=True, validate=SHA256)
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    media_type = fields.String(load_default="application/pdf", validate=validate.Equal("application/pdf"))
    content_base64 = fields.String(required=True)

    @validates_schema
    def _matches(self, data: dict[str, Any], **_: Any) -> None:
        try:
            content = base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("is not base64", "content_base64") from None
        if len(content) != data["size"]:
            raise ValidationError("the decoded file's size differs from `size`", "content_base64")
        if hashlib.sha256(content).hexdigest() != data["sha256"]:
            raise ValidationError("the decoded file's SHA-256 differs from `sha256`", "content_base64")
        if not content.startswith(b"%PDF-"):
            raise ValidationError("is not a PDF", "content_base64")


def keep(blobs: BlobStore, event: Event, data: Document) -> None:
    """Keep the signed result `data` (validated by ResultFileSchema) for its dossier's email."""
    content = base64.b64decode(data["content_base64"])
    store.save_result_pdf(blobs, event["subject"], data["sha256"], content)


def filename(code: str) -> str:
    return f"ket-qua-{_FILENAME_UNSAFE.sub('_', code)}.pdf"


def result_attachment(blobs: BlobStore, notification: Document) -> Attachment:
    """The signed result a `result_issued` email carries; a transient error until it arrives."""
    personalisation = notification.get("personalisation") or {}
    code, sha256 = notification["dossier"], str(personalisation.get("result_sha256") or "")
    try:
        content = store.result_pdf(blobs, code, sha256)
    except BlobMissing:
        raise TransientError("the signed result has not arrived yet") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise TransientError("the signed result kept differs from the one issued")
    return Attachment(filename(code), content)
