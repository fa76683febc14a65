"""What the portal indexes of each kind of page: its title, its text and the fields it is
filtered on, from the documents the read models hold (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal.search.interface import FieldValue, SearchIndex


@dataclass(frozen=True)
class Entry:
    kind: str
    id: str
    title: str
    text: str
    fields: dict[str, FieldValue]


def procedure_entry(procedure: Mapping[str, Any]) -> Entry:
    """A catalogue procedure (processing's published form): found by its name, the names of its
    documents and its legal basis; filtered on field, level, online mode and receiving units."""
    documents = [str(document.get("name", "")) for document in procedure.get("documents") or []]
    fields: dict[str, FieldValue] = {
        name: procedure[name] for name in ("field", "level", "online_mode") if procedure.get(name)
    }
    if procedure.get("receiving_units"):
        fields["receiving_units"] = list(procedure["receiving_units"])
    return Entry(
        "procedure",
        str(procedure["code"]),
        str(procedure["name"]),
        " ".join([*documents, str(procedure.get("legal_basis") or "")]),
        fields,
    )


def put(index: SearchIndex, entry: Entry) -> None:
    index.index(entry.kind, entry.id, entry.title, entry.text, entry.fields)
