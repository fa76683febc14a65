"""What a received file must be: its structure checked, not only its first bytes."""

from __future__ import annotations

import pytest

from eventkit.files import sniff, well_formed
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


def test_anything_else_has_no_type():
    assert sniff(b"GIF89a" + b"\x00" * 100) is None and sniff(b"") is None
