"""Vietnamese text as search terms (pure).

Each word gives two forms:
- exact: lower-case with its diacritics, the tone mark moved to the end of the word, so that the
  old and new placements (hoà / hòa, thuỷ / thủy, khoẻ / khỏe) are one term;
- folded: lower-case without any mark, `đ` as `d` ("Đăng" → "dang"), what every query matches.
Typos are met through deletion neighbourhoods (each word with one letter removed) of the folded
form: two words one edit apart share a neighbour or are one another's neighbour.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# The five Vietnamese tone marks as combining characters (grave, acute, tilde, hook, dot below);
# the other marks (circumflex, breve, horn) make a different vowel and stay in the exact form.
TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
FOLDED_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})
# Shorter words are matched as typed: one edit of a two-letter word is another word.
FUZZY_MIN_LENGTH = 3


@dataclass(frozen=True)
class Token:
    exact: str
    folded: str

    @property
    def has_marks(self) -> bool:
        """Whether it was typed with diacritics (only then do they rank what matches them)."""
        return self.exact != self.folded


def exact_form(word: str) -> str:
    """`word` lower-case with its tone mark (the first, if it has several) after its last letter."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tone = next((c for c in decomposed if c in TONES), "")
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
    return base + tone


def folded_form(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(FOLDED_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFC", text))


def tokens(text: str) -> list[Token]:
    return [Token(exact_form(word), folded_form(word)) for word in words(text)]


def fuzzy(folded: str) -> bool:
    """Whether typos of this term are looked for: words of letters, long enough."""
    return len(folded) >= FUZZY_MIN_LENGTH and folded.isalpha()


def deletions(term: str) -> set[str]:
    """`term` with each one of its letters removed."""
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


def neighbour_keys(term: str) -> set[str]:
    """The keys under which a term is found by the queries one edit away from it."""
    return {term} | (deletions(term) if fuzzy(term) else set())


def within_one_edit(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter substituted, inserted, deleted, or two adjacent letters
    swapped (Damerau-Levenshtein distance at most 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter in deletions(longer)
