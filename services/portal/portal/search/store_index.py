"""The search index kept in the portal's store (MongoDB; FerretDB locally).

Collections:
- `search_postings`: one row per (term, document version): `k` = "<kind>|<folded term>", `r` =
  the document's sequence number in its kind (offset by SEQ_BASE so every value has 13 digits),
  the exact forms the document writes the term in, its positions in the title, the document's
  title and filter fields. Indexes `(k, r)` (queries) and `d` (removal).
- `search_neighbours`: `_id` = a folded term or the term with one letter removed, `t` = the terms
  found under it; the query's own keys meet them for a typo of one letter (SymSpell).
- `search_sequences`: `_id` = kind, `n` = the last sequence number given.

A query reads, for each of its words and kinds, the newest rows of the term in windows of
sequence numbers that double until MAX_ROWS_PER_TERM rows are read or the kind is exhausted
(equality on `k` and a range bounded on both sides on `r`: both answered by the index on
FerretDB too). So a word costs at most about twice MAX_ROWS_PER_TERM rows and a few queries per
doubling of the corpus, whatever the corpus holds; a word in more documents than that is ranked
among its newest ones only.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne

from eventkit.mongo import Db
from portal.search import ranking
from portal.search import text as vn
from portal.search.interface import KINDS, FieldValue, Hit

POSTINGS = "search_postings"
NEIGHBOURS = "search_neighbours"
SEQUENCES = "search_sequences"

SEQ_BASE = 10**12
SEQ_TOP = 2 * SEQ_BASE - 1  # above any sequence number, with as many digits
MAX_ROWS_PER_TERM = 64
FIRST_WINDOW = 32
MAX_QUERY_WORDS = 8
# Terms one edit away from a query word that are looked up (the nearest are many for short
# Vietnamese syllables: "sinh" has tinh, xinh, minh, linh...).
MAX_NEIGHBOURS = 12
MAX_LIMIT = 100
# Updates sent in one command: FerretDB 1.24 (SQLite) stops answering a command of a few hundred
# updates that match existing documents, and, with the whole platform writing, sometimes one of a
# hundred; 25 at a time it has answered every time.
WRITE_BATCH = 25
# How long a process keeps a kind's last sequence number: the newest window reaches past it up
# to SEQ_TOP, so what was indexed meanwhile is found all the same.
SEQUENCE_KEPT_SECONDS = 2.0
# Terms whose neighbourhood this process has written; cleared when it grows past this.
KNOWN_TERMS_KEPT = 200_000


def ensure_search_indexes(db: Db) -> None:
    db[POSTINGS].create_index([("k", ASCENDING), ("r", ASCENDING)])
    db[POSTINGS].create_index([("d", ASCENDING)])


@dataclass
class ReadStats:
    """What the store returned to the queries of a search: the cost the benchmark reports."""

    queries: int = 0
    documents: int = 0


@dataclass
class StoreSearch:
    db: Db
    _known_terms: set[str] = field(default_factory=set)
    _sequences: dict[str, tuple[int, float]] = field(default_factory=dict)

    # Writing

    def index(
        self, kind: str, id: str, title: str, text: str = "", fields: Mapping[str, FieldValue] | None = None
    ) -> None:
        check_kind(kind)
        seq = self._next_sequence(kind)
        doc = doc_key(kind, id)
        rows = postings(kind, id, seq, title, text, dict(fields or {}))
        if rows:
            self.db[POSTINGS].insert_many(rows, ordered=False)
        # The earlier version's rows go after the new ones are in, so a search between the two
        # writes finds the document; a later index() of it always wins over an earlier one.
        self.db[POSTINGS].delete_many({"d": doc, "r": {"$lt": SEQ_BASE + seq}})
        self._add_neighbours(row["k"].split("|", 1)[1] for row in rows)

    def remove(self, kind: str, id: str) -> None:
        check_kind(kind)
        self.db[POSTINGS].delete_many({"d": doc_key(kind, id)})

    def _next_sequence(self, kind: str) -> int:
        answer = self.db[SEQUENCES].find_one_and_update(
            {"_id": kind}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert answer is not None  # an upsert returning the document after it always has one
        return int(answer["n"])

    def _add_neighbours(self, terms: Iterable[str]) -> None:
        new = {term for term in terms if term not in self._known_terms and len(term) >= 2}
        if not new:
            return
        updates = [
            UpdateOne({"_id": key}, {"$addToSet": {"t": term}}, upsert=True)
            for term in sorted(new)
            for key in sorted(vn.neighbour_keys(term))
        ]
        for start in range(0, len(updates), WRITE_BATCH):
            self.db[NEIGHBOURS].bulk_write(updates[start : start + WRITE_BATCH], ordered=False)
        if len(self._known_terms) > KNOWN_TERMS_KEPT:
            self._known_terms.clear()
        self._known_terms |= new

    # Searching

    def search(
        self,
        query: str,
        kinds: Collection[str] | None = None,
        filters: Mapping[str, str | int | bool] | None = None,
        limit: int = 10,
        stats: ReadStats | None = None,
    ) -> list[Hit]:
        stats = stats if stats is not None else ReadStats()
        kinds = list(KINDS if kinds is None else dict.fromkeys(kinds))
        for kind in kinds:
            check_kind(kind)
        limit = max(1, min(limit, MAX_LIMIT))
        words = list(dict.fromkeys(vn.tokens(query)))[:MAX_QUERY_WORDS]
        if not words:
            return []
        last = {kind: self._last_sequence(kind, stats) for kind in kinds}
        matches = ranking.Matches(words)
        cut: set[tuple[int, str]] = set()  # (word, kind) read only among the newest documents
        for position, word in enumerate(words):
            for kind in kinds:
                rows, complete = self._rows(kind, word.folded, last[kind], stats)
                for row in rows:
                    matches.add(position, row, typo=False)
                if not complete:
                    cut.add((position, kind))
        if cut:
            self._complete_the_best(words, matches, cut, filters, limit, stats)
        if matches.complete_count(filters) == 0:
            # No document holds every word: the words found nowhere are read as typos, or if
            # each is somewhere, the rarest one.
            for position in typo_candidates(words, matches):
                for term in self._neighbours(words[position].folded, stats):
                    for kind in kinds:
                        for row in self._rows(kind, term, last[kind], stats)[0]:
                            matches.add(position, row, typo=True)
        return matches.ranked(filters, limit)

    def _complete_the_best(
        self,
        words: list[vn.Token],
        matches: ranking.Matches,
        cut: set[tuple[int, str]],
        filters: Mapping[str, str | int | bool] | None,
        limit: int,
        stats: ReadStats,
    ) -> None:
        """Ask, for each of the best documents met through a word read whole, whether it holds the
        words whose rows were read among the newest documents only (one lookup by `_id` each):
        an older document is ranked on all of its words."""
        whole = set(range(len(words))) - {position for position, _ in cut}
        candidates = [
            doc for doc in matches.best(filters, None) if any(position in doc.words for position in whole)
        ]
        for doc in candidates[: 2 * limit]:
            for position, word in enumerate(words):
                if position in doc.words or (position, doc.kind) not in cut:
                    continue
                stats.queries += 1
                row = self.db[POSTINGS].find_one(
                    {"_id": row_id(doc.kind, word.folded, doc.id, doc.seq - SEQ_BASE)}, {"d": 0}
                )
                if row is not None:
                    stats.documents += 1
                    matches.add(position, row, typo=False)

    def _last_sequence(self, kind: str, stats: ReadStats) -> int:
        kept = self._sequences.get(kind)
        if kept is not None and time.monotonic() - kept[1] < SEQUENCE_KEPT_SECONDS:
            return kept[0]
        stats.queries += 1
        answer = self.db[SEQUENCES].find_one({"_id": kind})
        stats.documents += answer is not None
        last = int(answer["n"]) if answer else 0
        self._sequences[kind] = (last, time.monotonic())
        return last

    def _rows(self, kind: str, term: str, last: int, stats: ReadStats) -> tuple[list[dict[str, Any]], bool]:
        """The term's rows in the kind, newest first, up to about MAX_ROWS_PER_TERM, and whether
        they are all of them: windows of sequence numbers, each twice the one before, the newest
        open up to SEQ_TOP."""
        rows: list[dict[str, Any]] = []
        high, size = SEQ_TOP, FIRST_WINDOW
        low = SEQ_BASE + max(1, last - size + 1)
        while len(rows) < MAX_ROWS_PER_TERM:
            stats.queries += 1
            found = list(
                self.db[POSTINGS].find(
                    {"k": f"{kind}|{term}", "r": {"$gte": low, "$lte": high}}, {"_id": 0, "d": 0}
                )
            )
            stats.documents += len(found)
            rows.extend(found)
            if low <= SEQ_BASE + 1:
                return rows, True
            size *= 2
            high, low = low - 1, max(SEQ_BASE + 1, low - size)
        return rows, False

    def _neighbours(self, folded: str, stats: ReadStats) -> list[str]:
        """Indexed terms one edit away from `folded` (not itself), the likeliest typos first."""
        found: set[str] = set()
        for key in sorted(vn.neighbour_keys(folded)):
            stats.queries += 1
            answer = self.db[NEIGHBOURS].find_one({"_id": key})
            if answer:
                stats.documents += 1
                found.update(answer["t"])
        near = [term for term in found if term != folded and vn.within_one_edit(folded, term)]
        # A substitution or a swap (same length) before a letter missed or added; then by name.
        near.sort(key=lambda term: (len(term) != len(folded), term))
        return near[:MAX_NEIGHBOURS]


def typo_candidates(words: list[vn.Token], matches: ranking.Matches) -> list[int]:
    """Positions of the words to look for as typos: long enough, and found in no document; or,
    when each is found somewhere, the one in the fewest."""
    counts = {
        position: matches.documents_with(position)
        for position, word in enumerate(words)
        if vn.fuzzy(word.folded)
    }
    absent = [position for position, count in counts.items() if count == 0]
    if absent or not counts:
        return absent
    return [min(counts, key=lambda position: counts[position])]


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def row_id(kind: str, term: str, id: str, seq: int) -> str:
    return f"{kind}|{term}|{id}|{seq}"


def doc_key(kind: str, id: str) -> str:
    return f"{kind}|{id}"


def postings(
    kind: str, id: str, seq: int, title: str, body: str, fields: dict[str, FieldValue]
) -> list[dict[str, Any]]:
    """One row per folded term of the title and text."""
    exact: defaultdict[str, set[str]] = defaultdict(set)
    in_title: defaultdict[str, list[int]] = defaultdict(list)
    title_tokens = vn.tokens(title)
    for position, token in enumerate(title_tokens):
        exact[token.folded].add(token.exact)
        in_title[token.folded].append(position)
    for token in vn.tokens(body):
        exact[token.folded].add(token.exact)
    return [
        {
            "_id": row_id(kind, term, id, seq),
            "k": f"{kind}|{term}",
            "r": SEQ_BASE + seq,
            "d": doc_key(kind, id),
            "kind": kind,
            "id": id,
            "x": sorted(forms),
            "p": in_title.get(term, []),
            "n": len(title_tokens),
            "t": title,
            "f": fields,
        }
        for term, forms in exact.items()
    ]
