"""The signature check (`/kiem-tra-chu-ky`): a visitor uploads a result or letter PDF and reads
whether its signature is valid and which unit signed it. The file is checked in memory and kept
nowhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from eventkit.signing import TRUST_ROOTS_FILE
from portal.service import signatures
from portal.service.dossiers import TZ
from portal.web.pages import absolute, blp, page
from webui import PageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ENDPOINT = "portal_web.signature_check"


def configure_signature_check(app: Flask, environ: Mapping[str, str] | None = None) -> None:
    """SIGNING_TRUST_ROOTS names a PEM file of the CA certificates whose signers the check trusts
    (else the `ca.pem` in SIGNING_CERTS_DIR; neither: no signer is trusted, every intact
    signature is "untrusted"); SIGNATURE_CHECK_MAX_BYTES
    the largest upload. Call before the page rules are installed: the larger limit must hold
    before the CSRF check reads the form."""
    env = os.environ if environ is None else environ
    roots_file = env.get("SIGNING_TRUST_ROOTS") or ""
    if not roots_file and env.get("SIGNING_CERTS_DIR"):
        # Beside processing's and notify's certificates, as eventkit.signing lays them out.
        roots_file = str(Path(env["SIGNING_CERTS_DIR"]) / TRUST_ROOTS_FILE)
    roots = []
    if roots_file:
        if not Path(roots_file).is_file():
            raise RuntimeError(f"portal: SIGNING_TRUST_ROOTS is not a file: {roots_file}")
        try:
            roots = signatures.load_trust_roots(roots_file)
        except ValueError as exc:
            raise RuntimeError(f"portal: SIGNING_TRUST_ROOTS holds no PEM certificate: {roots_file}") from exc
    limit = int(env.get("SIGNATURE_CHECK_MAX_BYTES") or MAX_UPLOAD_BYTES)
    app.extensions["portal_signatures"] = {"trust_roots": roots, "max_bytes": limit}

    @app.before_request
    def allow_a_pdf_upload() -> None:
        # The API keeps its own (smaller) limit; only this form takes a file this large.
        if request.endpoint == ENDPOINT and request.method == "POST":
            request.max_content_length = limit


def _settings() -> dict[str, object]:
    settings: dict[str, object] = current_app.extensions["portal_signatures"]
    return settings


def _max_bytes() -> int:
    return int(str(_settings()["max_bytes"]))


def _page(result: signatures.CheckResult | None = None, filename: str = "") -> tuple[str, int]:
    limit = _max_bytes()
    return page(
        "portal/signature_check.html",
        canonical=absolute(ENDPOINT),
        result=result,
        filename=filename,
        max_mib=limit // (1024 * 1024),
        tz=TZ,
    ), 200


@blp.route("/kiem-tra-chu-ky", methods=["GET", "POST"])
def signature_check() -> tuple[str, int]:
    if request.method == "GET":
        return _page()
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise PageError(413, f"Tệp gửi lên lớn hơn {_max_bytes() // (1024 * 1024)} MiB cho phép.") from None
    if upload is None or not upload.filename:
        raise PageError(400, "Chưa chọn tệp PDF cần kiểm tra (trường “file”).")
    data = upload.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        raise PageError(413, "Tệp gửi lên vượt quá giới hạn cho phép.")
    roots = _settings()["trust_roots"]
    assert isinstance(roots, list)
    result = signatures.check_pdf(data, roots)
    # The name is shown back as text only (escaped), never used as a path.
    return _page(result, filename=upload.filename[:200])
