"""What any search index offers the portal, so that a search engine (OpenSearch) can replace the
store's index in the cluster without a change to its callers."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

# What can be found: a procedure of the catalogue, a news article, a directive document.
KINDS = ("procedure", "article", "document")

# Values a document can be filtered on (unit, field, category, year, status...): a filter matches
# a value equal to it, or a list holding it.
FieldValue = str | int | bool | Sequence[str]


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    title: str
    score: float  # higher ranks first; comparable within one answer only


class SearchIndex(Protocol):
    def index(
        self, kind: str, id: str, title: str, text: str, fields: Mapping[str, FieldValue] | None = None
    ) -> None:
        """Add the document, or replace what was indexed of it."""

    def remove(self, kind: str, id: str) -> None:
        """Forget the document; nothing happens if it was never indexed."""

    def search(
        self,
        query: str,
        kinds: Collection[str] | None = None,
        filters: Mapping[str, str | int | bool] | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        """The documents best matching `query`, best first, of the given kinds (all when None)
        whose fields equal every filter."""
