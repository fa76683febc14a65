"""Which roots the signature check trusts: SIGNING_TRUST_ROOTS, else SIGNING_CERTS_DIR's ca.pem."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from devstack.certificates import ensure_ca
from devstack.run import Endpoints, ports_from_env, service_env
from portal.service.signatures import NOT_PDF, UNSIGNED, check_pdf
from portal.web.signatures import MAX_UPLOAD_BYTES, configure_signature_check


def roots_of(environ: dict[str, str]) -> list[object]:
    app = Flask(__name__)
    configure_signature_check(app, environ)
    settings = app.extensions["portal_signatures"]
    assert settings["max_bytes"] == MAX_UPLOAD_BYTES
    return list(settings["trust_roots"])


def test_make_run_hands_the_development_ca_to_the_portal(tmp_path: Path) -> None:
    ensure_ca(tmp_path)
    endpoints = Endpoints("mongodb://127.0.0.1:1/", "127.0.0.1:1", "smtp://127.0.0.1:1", None)
    env = service_env(endpoints, ports_from_env({}), tmp_path / "jwt.pem", tmp_path, tmp_path)
    assert env["SIGNING_TRUST_ROOTS"] == str(tmp_path / "ca.pem")
    assert len(roots_of({"SIGNING_TRUST_ROOTS": env["SIGNING_TRUST_ROOTS"]})) == 1
    assert len(roots_of({"SIGNING_CERTS_DIR": str(tmp_path)})) == 1, "the signing services' folder"
    assert roots_of({}) == [], "no roots: nothing is trusted"


def test_a_missing_or_empty_roots_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SIGNING_TRUST_ROOTS is not a file"):
        roots_of({"SIGNING_TRUST_ROOTS": str(tmp_path / "missing.pem")})
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificate here\n")
    with pytest.raises(RuntimeError, match="holds no PEM certificate"):
        roots_of({"SIGNING_TRUST_ROOTS": str(empty)})


@pytest.mark.parametrize("data", [b"", b"%PDF", b"<html>%PDF-1.7", b"%PDF-1.7\nxref\ntrailer<<>>"])
def test_what_is_not_a_readable_pdf_is_an_answer(data: bytes) -> None:
    assert check_pdf(data, []).outcome == NOT_PDF


def test_a_readable_pdf_without_a_signature_says_so() -> None:
    from tests.factories import pdf_bytes

    assert check_pdf(pdf_bytes(), []).outcome == UNSIGNED
