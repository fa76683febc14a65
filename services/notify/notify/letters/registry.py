"""The letter templates: data files, one per form and version, under `templates/<version>/`.

A template is identified by its `id` (`mau-01`) and `version` (`2019.1`: the 2019 set of
Circular 01/2018/TT-VPCP, first edition). Both are recorded with each letter, so a letter can be
rendered again exactly as it was sent. A new rule set (Circular 03/2025/TT-VPCP has seven forms)
is a new folder of files; nothing here changes.

A file holds: `id`, `version`, `rule_set`, `name` (the form's title as the circular writes it),
`page` (`A5` / `A4`, `portrait` / `landscape`), `heading` (which parts of the common heading it
shows), `fields` (every datum it needs, see data.py) and `body` (blocks drawn in order, see
render.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from notify.letters.data import TYPES, placeholders

TEMPLATES_DIR = Path(__file__).parent / "templates"
# The version used when the caller names none: the rules in force for the demo tenant (2019 set).
DEFAULT_VERSION = "2019.1"
PAGE_SIZES = {"A5", "A4"}
BLOCK_KINDS = {"text", "list", "table", "signatures", "space"}
HEADING_FIELDS = ("unit.parent_name", "unit.name", "place", "date", "lookup_url")


class UnknownTemplate(LookupError):
    def __init__(self, template_id: str, version: str) -> None:
        known = ", ".join(f"{t} {v}" for t, v in sorted(templates())) or "none"
        super().__init__(f"no letter template {template_id!r} version {version!r} (known: {known})")
        self.template_id = template_id
        self.version = version


@dataclass(frozen=True)
class Template:
    id: str
    version: str
    rule_set: str
    name: str
    page: str
    orientation: str
    heading: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    body: tuple[dict[str, Any], ...]

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @classmethod
    def from_document(cls, doc: dict[str, Any], origin: str = "") -> Template:
        template = cls(
            id=doc["id"],
            version=doc["version"],
            rule_set=doc["rule_set"],
            name=doc["name"],
            page=doc["page"],
            orientation=doc.get("orientation", "portrait"),
            heading=doc.get("heading", {}),
            fields=doc["fields"],
            body=tuple(doc["body"]),
        )
        template.check(origin)
        return template

    def check(self, origin: str = "") -> None:
        """Fail on a template that could never render: every placeholder must be a declared field."""
        where = origin or self.key
        if self.page not in PAGE_SIZES or self.orientation not in ("portrait", "landscape"):
            raise ValueError(f"{where}: page must be one of {sorted(PAGE_SIZES)}, portrait or landscape")
        for path, spec in self.fields.items():
            if spec.get("type", "text") not in TYPES:
                raise ValueError(f"{where}: field {path} has unknown type {spec.get('type')!r}")
        # What the common heading draws (render.py) must be asked of the data.
        needed = [*HEADING_FIELDS, *(["number"] if self.heading.get("number", True) else [])]
        for path in needed:
            if path not in self.fields:
                raise ValueError(f"{where}: the heading needs the field {path}")
        for line in self.heading.get("lines", []):
            for path in placeholders(line):
                if path not in self.fields:
                    raise ValueError(f"{where}: placeholder {{{path}}} is not a declared field")
        for block in self.body:
            if block.get("when") and block["when"] not in self.fields:
                raise ValueError(f"{where}: block condition {block['when']!r} is not a declared field")
            if block.get("kind") not in BLOCK_KINDS:
                raise ValueError(f"{where}: unknown block kind {block.get('kind')!r}")
            # A list's or table's texts speak of one item: its fields, its number, the item itself.
            if block["kind"] in ("list", "table"):
                spec = self.fields.get(block.get("items", ""), {})
                if spec.get("type") != "list":
                    raise ValueError(
                        f"{where}: {block['kind']} items {block.get('items')!r} is not a list field"
                    )
                known = {*spec.get("items", {}), "#", *(["item"] if spec.get("of") == "text" else [])}
            else:
                known = set(self.fields)
            for text in _texts(block):
                for path in placeholders(text):
                    if path not in known:
                        raise ValueError(f"{where}: placeholder {{{path}}} is not a declared field")


def _texts(block: dict[str, Any]) -> list[str]:
    texts = [block["text"]] if isinstance(block.get("text"), str) else []
    for column in block.get("columns", []):
        texts += [column["title"], column["value"]]
    for signature in block.get("signatures", []):
        texts += [v for v in signature.values() if isinstance(v, str)]
    return texts


@cache
def templates() -> dict[tuple[str, str], Template]:
    found: dict[tuple[str, str], Template] = {}
    for path in sorted(TEMPLATES_DIR.glob("*/*.json")):
        template = Template.from_document(json.loads(path.read_text("utf-8")), origin=str(path))
        if (template.id, template.version) in found:
            raise ValueError(f"{path}: template {template.key} defined twice")
        found[(template.id, template.version)] = template
    return found


def get_template(template_id: str, version: str = DEFAULT_VERSION) -> Template:
    try:
        return templates()[(template_id, version)]
    except KeyError:
        raise UnknownTemplate(template_id, version) from None


def versions(template_id: str) -> list[str]:
    return sorted(v for t, v in templates() if t == template_id)
