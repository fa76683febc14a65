"""What a received file really is: its type read from its first bytes, never from what the client
claims, and its structure checked by the parser of that type."""

from __future__ import annotations

import io
import warnings

from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG"}


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes: `pdf`, `jpeg`, `png`, or None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def well_formed(data: bytes, kind: str) -> bool:
    """Whether the file really is what its first bytes say: a PDF that opens (its cross-reference
    table, trailer and catalogue read) and says it has pages, an image whose structure the decoder
    verifies. Anything a parser raises on a bad file is a no."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if kind == "pdf":
                reader = PdfReader(io.BytesIO(data), strict=False)
                pages = reader.root_object["/Pages"]
                if not isinstance(pages, DictionaryObject):
                    return False
                # The page tree's own count: walking every page (len(reader.pages)) costs a third more.
                count = pages["/Count"]
                return isinstance(count, int) and count > 0
            with Image.open(io.BytesIO(data)) as image:
                if image.format != PIL_FORMATS[kind]:
                    return False
                image.verify()
            return True
    except Exception:
        return False
