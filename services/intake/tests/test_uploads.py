"""What an upload must be: its structure checked, not only its first bytes."""

from __future__ import annotations

import pytest

from eventkit.config import ConfigError
from intake.config import load_config
from intake.service.uploads import sniff, well_formed
from tests.factories import image_bytes, pdf_bytes


@pytest.mark.parametrize(
    "data,kind",
    [(pdf_bytes(2000), "pdf"), (image_bytes("PNG"), "png"), (image_bytes("JPEG"), "jpeg")],
)
def test_well_formed_files_pass(data, kind):
    assert sniff(data) == kind and well_formed(data, kind)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"x" * 1000,
        pdf_bytes(2000)[:-200],
        b"\x89PNG\r\n\x1a\n" + b"y" * 500,
        image_bytes("PNG")[:50],
        b"\xff\xd8\xff\xe0" + b"z" * 500,
    ],
    ids=["pdf-header-only", "pdf-cut", "png-header-only", "png-cut", "jpeg-header-only"],
)
def test_a_file_with_only_the_right_first_bytes_fails(data):
    kind = sniff(data)
    assert kind is not None and not well_formed(data, kind)


def test_a_png_sent_as_a_jpeg_is_not_a_jpeg():
    assert not well_formed(image_bytes("PNG"), "jpeg")


def test_the_upload_rate_limit_is_read_from_the_environment():
    environ = {"MONGO_URL": "mongodb://127.0.0.1:1", "JWT_PUBLIC_KEY": "k", "BLOB_URL": "file:///tmp/b"}
    assert load_config(environ=environ).upload_rate_limit == "60/minute"
    assert load_config(environ={**environ, "UPLOAD_RATE_LIMIT": "5/second"}).upload_rate_limit == "5/second"
    with pytest.raises(ConfigError):
        load_config(environ={**environ, "UPLOAD_RATE_LIMIT": "many"})


def test_intake_does_not_start_without_a_blob_store():
    with pytest.raises(ConfigError, match="BLOB_URL"):
        load_config(environ={"MONGO_URL": "mongodb://127.0.0.1:1", "JWT_PUBLIC_KEY": "k"})
