"""Portal search: milliseconds per query, and the documents it reads, as the corpus grows.

Run from the repository root (PYTHONPATH as for the tests; `make bench` runs it too)::

    PYTHONPATH=libs/eventkit:tools:services/intake:services/processing:services/notify:services/portal:. \\
        .local/venv/bin/python bench/bench_portal_search.py [--sizes 1000,10000] [--rounds 5] [--quick]

Starts a throwaway FerretDB on a free port. For each size N, a fresh database holds the 25
procedures of the seed catalogue and N articles indexed through `StoreSearch.index`: titles of
8 to 14 words and summaries of 20 to 40, drawn from the words of the catalogue's names, documents
and legal bases as often as they occur there (so "đăng", "ký", "giấy" are in a large share of
the articles, as common words are), plus a few naming the birth registration. Each query of
QUERIES (with and without diacritics, in capitals, with a typo; all kinds, or procedures only)
runs `--rounds` times; reported per query: milliseconds (mean), store queries and documents read
(what the store returned), beside what a scan would read (every indexed document). Growth: the
largest size's mean over the smallest's, for time and documents read; target at most 1.5 (the
cost follows the words' postings, bounded per word, not the corpus).

The script exits 0 once it has measured (a benchmark reports, it does not fail the build); above
target it says so.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness import fill_defaults, run_in_workdir

from devstack.infra import FerretDB, free_ports
from eventkit.mongo import Db, connect
from portal import store
from portal.search import StoreSearch, sources, text
from portal.search.store_index import ReadStats

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "services/processing/processing/seed/procedures.json"
SIZES, ROUNDS = (1_000, 10_000), 5
QUICK = {"sizes": (100, 400), "rounds": 2}
TARGET = 1.5
# (query, kinds): what a citizen types on the home page (all kinds) or the procedures page.
QUERIES: list[tuple[str, list[str] | None]] = [
    ("khai sinh", None),
    ("dang ky khai sinh", None),
    ("ĐĂNG KÝ KHAI SINH", None),
    ("dang ky khai sonh", None),
    ("chứng thực bản sao", None),
    ("dang ky khai sinh", ["procedure"]),
    ("ho kinh doanh", ["procedure"]),
    ("giay chung nhan quyen su dung dat", ["procedure"]),
]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class QueryRun:
    query: str
    kinds: list[str] | None
    ms: float
    queries: float
    documents: float
    found: bool


def vocabulary(procedures: list[dict[str, object]]) -> Counter[str]:
    words: Counter[str] = Counter()
    for procedure in procedures:
        entry = sources.procedure_entry(procedure)
        words.update(word for word in text.words(f"{entry.title} {entry.text}") if word.isalpha())
    return words


def articles(count: int, words: Counter[str], seed: int = 7) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    names, weights = list(words), list(words.values())

    def phrase(low: int, high: int) -> str:
        return " ".join(rng.choices(names, weights, k=rng.randint(low, high)))

    made = []
    for n in range(count):
        title = phrase(8, 14)
        if n % 500 == 0:
            title = "Hướng dẫn đăng ký khai sinh cho trẻ " + title
        made.append((f"a-{n:06d}", title.capitalize(), phrase(20, 40)))
    return made


def load(db: Db, size: int, procedures: list[dict[str, object]], words: Counter[str]) -> float:
    store.ensure_indexes(db)
    index = StoreSearch(db)
    started = time.perf_counter()
    for procedure in procedures:
        sources.put(index, sources.procedure_entry(procedure))
    for id, title, summary in articles(size, words):
        index.index("article", id, title, summary, {"unit": "huyen"})
    return time.perf_counter() - started


def run_queries(db: Db, rounds: int) -> list[QueryRun]:
    index = StoreSearch(db)
    runs = []
    for query, kinds in QUERIES:
        times, costs = [], []
        found = False
        for _ in range(rounds):
            index._sequences.clear()  # read the last sequence numbers each time: the full cost
            stats = ReadStats()
            started = time.perf_counter()
            hits = index.search(query, kinds=kinds, stats=stats)
            times.append((time.perf_counter() - started) * 1000)
            costs.append(stats)
            found = bool(hits)
        runs.append(
            QueryRun(
                query,
                kinds,
                statistics.mean(times),
                statistics.mean(c.queries for c in costs),
                statistics.mean(c.documents for c in costs),
                found,
            )
        )
    return runs


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    procedures = json.loads(SEED.read_text(encoding="utf-8"))
    words = vocabulary(procedures)
    [port] = free_ports(1)
    ferretdb = FerretDB("ferretdb", workdir / "ferretdb", port=port)
    results: dict[int, dict[str, object]] = {}
    try:
        ferretdb.start()
        ferretdb.wait_ready()
        for size in args.sizes:
            db = connect(ferretdb.url, f"bench_search_{size}", app_name="bench")
            seconds = load(db, size, procedures, words)
            corpus = size + len(procedures)
            say(f"\n{corpus:,} documents indexed in {seconds:.1f} s ({seconds / corpus * 1000:.1f} ms each)")
            say(f"{'query':<40}{'kinds':>11}{'ms':>8}{'queries':>9}{'docs read':>11}{'scan reads':>12}")
            runs = run_queries(db, args.rounds)
            for run in runs:
                kinds = ",".join(run.kinds) if run.kinds else "all"
                say(
                    f"{run.query:<40}{kinds:>11}{run.ms:>8.1f}{run.queries:>9.1f}"
                    f"{run.documents:>11.0f}{corpus:>12,}" + ("" if run.found else "   (nothing found)")
                )
            results[size] = {
                "documents": corpus,
                "index_ms_per_document": seconds / corpus * 1000,
                "ms_per_query": statistics.mean(run.ms for run in runs),
                "queries_per_s": 1000 / statistics.mean(run.ms for run in runs),
                "store_queries_per_query": statistics.mean(run.queries for run in runs),
                "documents_read_per_query": statistics.mean(run.documents for run in runs),
                "all_found": all(run.found for run in runs),
            }
            db.client.drop_database(db.name)
    finally:
        ferretdb.stop()
    small, large = results[min(results)], results[max(results)]
    growth = {
        "time": large["ms_per_query"] / small["ms_per_query"],  # type: ignore[operator]
        "documents_read": large["documents_read_per_query"] / small["documents_read_per_query"],  # type: ignore[operator]
    }
    say(
        f"\ngrowth from {min(results):,} to {max(results):,} articles (x{max(results) / min(results):.0f}):"
        f" time x{growth['time']:.2f}, documents read x{growth['documents_read']:.2f}"
        f" (target at most {TARGET})"
    )
    if max(growth.values()) > TARGET:
        say("WARNING: above target")
    result = {"bench": "portal_search", "sizes": {str(k): v for k, v in results.items()}, "growth": growth}
    say(json.dumps(result))
    return result


def sizes(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(","))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=sizes, help=f"articles per run, comma-separated (default {SIZES})")
    parser.add_argument("--rounds", type=int, help=f"times each query runs (default {ROUNDS})")
    parser.add_argument("--quick", action="store_true", help=f"small sizes: {QUICK}")
    args = parser.parse_args(argv)
    fill_defaults(args, QUICK if args.quick else {"sizes": SIZES, "rounds": ROUNDS})
    return run_in_workdir(measure, args)


if __name__ == "__main__":
    sys.exit(main())
