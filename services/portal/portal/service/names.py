"""The applicant's name as the public lookup shows it: masked.

Rule: the name is taken in Unicode NFC with its spaces collapsed; the first word (the family
name: Nguyễn, Trần, ...) is kept whole, and every other word shows its first letter followed by
three asterisks, whatever its length, so the mask does not tell how long the hidden parts are:
"Nguyễn Văn An" → "Nguyễn V*** A***". A name of a single word shows only its first letter
("Hoa" → "H***"): kept whole it would be the whole name. A letter is one character with the
combining marks that follow it (NFC composes every Vietnamese letter into one code point, but a
name typed with marks NFC cannot compose keeps them with their letter).
"""

from __future__ import annotations

import unicodedata

HIDDEN = "***"


def _first_letter(word: str) -> str:
    letter = word[0]
    for char in word[1:]:
        if not unicodedata.combining(char):
            break
        letter += char
    return letter


def mask_name(full_name: object) -> str:
    """The masked name; "" for a missing or blank name."""
    if not isinstance(full_name, str):
        return ""
    words = unicodedata.normalize("NFC", full_name).split()
    if not words:
        return ""
    if len(words) == 1:
        return _first_letter(words[0]) + HIDDEN
    return " ".join([words[0], *(_first_letter(word) + HIDDEN for word in words[1:])])
