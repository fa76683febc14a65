"""Ranking of the documents a query's words met (pure).

In order: more of the query's words present (a typo counting as present); the words one after
another in the title (a phrase); more words written with the diacritics the query typed (only
words typed with diacritics count); fewer typos; more words in the title; a shorter title; the
newer document.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.search.interface import Hit
from portal.search.text import Token


@dataclass
class WordMatch:
    typo: bool
    exact: bool
    title_positions: set[int]


@dataclass
class DocMatch:
    kind: str
    id: str
    title: str
    title_length: int
    fields: dict[str, Any]
    seq: int
    words: dict[int, WordMatch] = field(default_factory=dict)


def passes(fields: Mapping[str, Any], filters: Mapping[str, Any] | None) -> bool:
    for name, wanted in (filters or {}).items():
        value = fields.get(name)
        if not (value == wanted or (isinstance(value, list) and wanted in value)):
            return False
    return True


class Matches:
    def __init__(self, words: list[Token]) -> None:
        self.words = words
        self.docs: dict[tuple[str, str], DocMatch] = {}

    def add(self, position: int, row: Mapping[str, Any], typo: bool) -> None:
        key = (row["kind"], row["id"])
        doc = self.docs.get(key)
        if doc is None or row["r"] > doc.seq:
            # A row of a newer version (met while it replaces the earlier one) starts afresh.
            doc = DocMatch(row["kind"], row["id"], row["t"], row["n"], row["f"], row["r"])
            self.docs[key] = doc
        elif row["r"] < doc.seq:
            return
        word = self.words[position]
        exact = not typo and word.has_marks and word.exact in row["x"]
        found = WordMatch(typo, exact, set(row["p"]))
        known = doc.words.get(position)
        if known is not None:
            found = WordMatch(
                known.typo and typo, known.exact or exact, known.title_positions | found.title_positions
            )
        doc.words[position] = found

    def documents_with(self, position: int) -> int:
        return sum(position in doc.words for doc in self.docs.values())

    def complete_count(self, filters: Mapping[str, Any] | None) -> int:
        return sum(
            len(doc.words) == len(self.words) and passes(doc.fields, filters) for doc in self.docs.values()
        )

    def _scored(self, filters: Mapping[str, Any] | None, limit: int | None) -> list[tuple[float, DocMatch]]:
        # A document must hold at least half of the words: one common word alone is noise.
        needed = math.ceil(len(self.words) / 2)
        scored = [
            (score(doc, len(self.words)), doc)
            for doc in self.docs.values()
            if len(doc.words) >= needed and passes(doc.fields, filters)
        ]
        scored.sort(key=lambda item: (item[0], item[1].seq), reverse=True)
        return scored[:limit]

    def best(self, filters: Mapping[str, Any] | None, limit: int | None) -> list[DocMatch]:
        return [doc for _, doc in self._scored(filters, limit)]

    def ranked(self, filters: Mapping[str, Any] | None, limit: int) -> list[Hit]:
        return [Hit(doc.kind, doc.id, doc.title, value) for value, doc in self._scored(filters, limit)]


def phrase_in_title(doc: DocMatch, count: int) -> bool:
    if count < 2 or len(doc.words) < count:
        return False
    starts = doc.words[0].title_positions
    return any(all(start + i in doc.words[i].title_positions for i in range(1, count)) for start in starts)


def score(doc: DocMatch, count: int) -> float:
    """The ranking's criteria as one number, each a digit (a query has at most 8 words)."""
    matches = doc.words.values()
    digits = (
        len(doc.words),
        phrase_in_title(doc, count),
        sum(m.exact for m in matches),
        count - sum(m.typo for m in matches),
        sum(bool(m.title_positions) for m in matches),
    )
    value = 0.0
    for digit in digits:
        value = value * 10 + int(digit)
    return value + 1 / (1 + doc.title_length)
