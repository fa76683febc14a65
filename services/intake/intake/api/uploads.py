"""Document uploads: PDF, JPEG or PNG, checked from the bytes, kept in intake's blob store."""

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import link_staff
from eventkit.web import attachment, current_blobs, current_db
from intake.api.auth import authenticate_first, request_staff
from intake.schemas import UploadedSchema, UploadFormSchema
from intake.service import uploads

blp = Blueprint("uploads", __name__, url_prefix="/api/v1/uploads", description="Document uploads")
SECRET_HEADER = "X-Lookup-Secret"


@blp.before_request
def allow_files() -> None:
    # JSON bodies stay under the app's 1 MiB; an upload may be as large as the file limit.
    request.max_content_length = current_app.extensions["service_config"].upload_max_bytes + 64 * 1024


@blp.route("")
class Uploads(MethodView):
    @blp.arguments(UploadFormSchema(), location="files")
    @blp.response(201, UploadedSchema)
    @blp.alt_response(413, description="Larger than the limit (20 MiB by default)")
    @blp.alt_response(415, description="Not a well-formed PDF, JPEG or PNG file")
    @blp.alt_response(429, description="Too many uploads from this client without a staff token")
    def post(self, files: dict[str, Any]) -> Any:
        """Upload one file (multipart field `file`); attach it to a dossier by its id."""
        limit = current_app.extensions["service_config"].upload_max_bytes
        return uploads.save(current_db(), current_blobs(), files["file"].read(limit + 1), limit)


@blp.route("/<upload_id>")
class UploadById(MethodView):
    @authenticate_first
    @blp.doc(
        security=[{"staffToken": []}, {}],
        parameters=[{"in": "header", "name": SECRET_HEADER, "schema": {"type": "string"}, "required": False}],
    )
    @blp.response(200, description="The file, as an attachment")
    def get(self, upload_id: str) -> Response:
        """The file of a dossier: for staff handling dossiers in its units (a bearer token, or a
        console link's `?token=` signed for this path), or with its lookup secret."""
        staff = request_staff() or (None if request.headers.get("Authorization") else link_staff())
        download = uploads.read(
            current_db(),
            current_blobs(),
            upload_id,
            staff=staff,
            secret=request.headers.get(SECRET_HEADER),
        )
        return attachment(download.chunks, download.media_type, download.size, download.filename)
