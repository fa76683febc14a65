"""Vietnamese text without its diacritics, for keys and plain-ASCII names."""

from __future__ import annotations

import unicodedata


def without_diacritics(text: str) -> str:
    """The text without its marks, `đ` as `d`, case kept: "Quyết định" → "Quyet dinh"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
