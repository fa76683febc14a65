"""Result files: officers upload the draft PDF of a result; a dossier's signed result is downloaded."""

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from eventkit.auth import current_staff, staff_required
from eventkit.web import attachment, current_blobs, current_db
from processing.schemas import ResultFileFormSchema, ResultFileSchema, ResultFileUnitSchema
from processing.service import results

blp = Blueprint("results", __name__, url_prefix="/api/v1", description="Result files")
SECURITY = [{"staffToken": []}]
PDF_RESPONSE = {
    "description": "The signed result PDF, as an attachment",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}


@blp.before_request
def allow_files() -> None:
    # JSON bodies stay under the app's 1 MiB; a result file may be as large as the file limit.
    request.max_content_length = current_app.extensions["service_config"].upload_max_bytes + 64 * 1024


@blp.route("/result-files")
class ResultFiles(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY)
    @blp.arguments(ResultFileFormSchema(), location="files")
    @blp.arguments(ResultFileUnitSchema(), location="query")
    @blp.response(201, ResultFileSchema)
    @blp.alt_response(403, description="Not a leader or specialist, or not an officer of `unit`")
    @blp.alt_response(413, description="Larger than the limit (20 MiB by default)")
    @blp.alt_response(415, description="Not a well-formed PDF file")
    def post(self, files: dict[str, Any], query: dict[str, Any]) -> Any:
        """Upload the draft of a result (multipart field `file`, a PDF); issue it with its id.

        For leaders and specialists. The file belongs to the uploader's unit (query `unit` when
        they serve several); issue_result takes it for dossiers whose leader serves that unit, and
        the dossier's unit signs it.
        """
        limit = current_app.extensions["service_config"].upload_max_bytes
        return results.save(
            current_db(),
            current_blobs(),
            files["file"].read(limit + 1),
            limit,
            current_staff(),
            unit=query.get("unit"),
        )


@blp.route("/dossiers/<code>/result")
class DossierResult(MethodView):
    @staff_required()
    @blp.doc(security=SECURITY, responses={"200": PDF_RESPONSE})
    @blp.response(200, description="The signed result PDF, as an attachment")
    @blp.alt_response(403, description="Not an officer of the dossier's unit or receiving unit")
    @blp.alt_response(404, description="No such dossier, or no result issued yet")
    def get(self, code: str) -> Response:
        """A dossier's signed result (PAdES, signed by the unit that issued it)."""
        download = results.read_signed(current_db(), current_blobs(), code, current_staff())
        return attachment(download.chunks, download.media_type, download.size, download.filename)
