"""`python -m processing.importer`: import a catalogue file (procedures or units) into processing.

    python -m processing.importer units FILE
    python -m processing.importer procedures FILE
    python -m processing.importer --seed          # the shipped units, procedures and calendar

FILE is a JSON array of entries in the API's format. Every entry is validated; each bad one is
reported with its line and reason and the rest are imported. Importing the same file again changes
nothing (an unchanged entry makes no new version and publishes nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError
from tqdm import tqdm

from eventkit.mongo import Db
from processing import store
from processing.config import load_config
from processing.schemas import ProcedureSchema, UnitSchema
from processing.service import InvalidData, calendar, catalogue, dossiers, staff

SEED_DIR = Path(__file__).parent / "seed"
ACTOR = "import"


@dataclass
class Entry:
    line: int
    data: Any


@dataclass
class Problem:
    line: int
    code: str
    reason: str


def read_entries(text: str) -> list[Entry]:
    """The top-level items of a JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if not text.startswith("[", position):
        raise ValueError("the file must hold a JSON array")
    position += 1
    entries: list[Entry] = []
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            raise ValueError("the JSON array is not closed")
        if text[position] == "]":
            return entries
        line = text.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {exc.lineno}: {exc.msg}") from exc
        entries.append(Entry(line, value))


def _reason(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [r for key, value in messages.items() for r in _reason(value, f"{prefix}{key}.")]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix.rstrip('.')}: {' '.join(messages)}"]
    if isinstance(messages, list):
        return [r for index, value in enumerate(messages) for r in _reason(value, f"{prefix}{index}.")]
    return [f"{prefix.rstrip('.')}: {messages}"]


def import_entries(
    db: Db, kind: catalogue.Kind, schema: Schema, entries: list[Entry], progress: bool = True
) -> tuple[Counter[str], list[Problem]]:
    results: Counter[str] = Counter()
    problems: list[Problem] = []
    for entry in tqdm(entries, desc=f"Nhập {kind.label.lower()}", unit="mục", disable=not progress):
        code = entry.data.get("code", "?") if isinstance(entry.data, dict) else "?"
        try:
            data = schema.load(entry.data)
            results[catalogue.put(db, kind, data, ACTOR)] += 1
        except ValidationError as exc:
            problems.append(Problem(entry.line, str(code), "; ".join(_reason(exc.messages))))
        except InvalidData as exc:
            problems.append(Problem(entry.line, str(code), "; ".join(_reason(exc.errors))))
    return results, problems


KINDS = {"units": (catalogue.UNITS, UnitSchema()), "procedures": (catalogue.PROCEDURES, ProcedureSchema())}


def import_file(
    db: Db, kind_name: str, path: Path, progress: bool = True
) -> tuple[Counter[str], list[Problem]]:
    kind, schema = KINDS[kind_name]
    return import_entries(db, kind, schema, read_entries(path.read_text(encoding="utf-8")), progress)


def seed(db: Db, progress: bool = True, demo_staff: bool = False) -> tuple[Counter[str], list[Problem]]:
    """The shipped units and procedures, and the calendar of the seed years (those not stored yet);
    with `demo_staff`, the demo tenant's staff accounts too (those not stored yet)."""
    store.ensure_indexes(db)
    results: Counter[str] = Counter()
    problems = []
    for kind_name in ("units", "procedures"):
        found, bad = import_file(db, kind_name, SEED_DIR / f"{kind_name}.json", progress)
        results.update(found)
        problems.extend(bad)
    results["calendar years"] = len(calendar.seed(db))
    results["units counted"] = len(dossiers.count_missing_units(db))
    if demo_staff:
        results["staff accounts"] = len(staff.seed(db, password=staff.DEMO_PASSWORD))
    return results, problems


def report(results: Counter[str], problems: list[Problem]) -> None:
    print(
        f"mới: {results['created']}, cập nhật: {results['updated']}, không đổi: {results['unchanged']}, "
        f"lỗi: {len(problems)}"
    )
    for problem in problems:
        print(f"  dòng {problem.line} ({problem.code}): {problem.reason}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="processing.importer", description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", choices=sorted(KINDS))
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--seed", action="store_true", help="import the shipped seed data")
    parser.add_argument(
        "--demo-staff", action="store_true", help="with --seed: the demo tenant's staff accounts too"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    # A command-line tool: it needs the store, not the staff token settings.
    db = store.connect(load_config(auth=False))
    if args.seed:
        results, problems = seed(db, progress=not args.no_progress, demo_staff=args.demo_staff)
        report(results, problems)
        print(f"lịch làm việc: thêm {results['calendar years']} năm")
        if args.demo_staff:
            print(f"tài khoản cán bộ mẫu: thêm {results['staff accounts']}")
        return 1 if problems else 0
    if not args.kind or not args.file:
        parser.error("give KIND and FILE, or --seed")
    store.ensure_indexes(db)
    try:
        results, problems = import_file(db, args.kind, args.file, progress=not args.no_progress)
    except (OSError, ValueError) as exc:
        print(f"không đọc được tệp: {exc}", file=sys.stderr)
        return 2
    report(results, problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
