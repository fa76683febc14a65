"""Portal lookup and procedure search over HTTP: requests per second and p99, against a constant
page, at a small and a large store.

Run from the repository root with the tests' PYTHONPATH (libs/eventkit, libs/webui, tools, the
four services and the root; `make bench` runs it too)::

    .local/venv/bin/python bench/bench_portal.py [--small 10000,100] [--large 1000000,10000] \\
        [--clients 8] [--seconds 15] [--warmup 3] [--rounds 3] [--quick]

Starts a throwaway FerretDB on a free port and, for each size (dossiers, articles), one database
filled as the portal's worker fills it:

- the seed catalogue's units and 25 procedures through the catalogue handlers (which index the
  procedures for search), and the articles of ``bench_portal_search.articles`` (8 to 14 words of
  the catalogue's vocabulary, as often as they occur there) through ``StoreSearch.index`` as kind
  "article";
- the dossiers: one is built by the portal's own handlers (``intake.dossier.submitted`` then
  ``processing.dossier.accepted``, tests/portal_events.py), and copies of its document are inserted
  with distinct codes (``insert_many``, 1,000 a command: FerretDB stalls on much larger ones).
  ``PROBES`` of them, spread over the collection, carry the hash of a secret of their own, which the
  clients look them up with; the others carry one of ``HASH_POOL`` real hashes in turn (hashing a
  million secrets would take minutes and changes nothing a lookup reads). The load time is reported.

Three servers run under the services' gunicorn settings (deploy/gunicorn.conf.py: 2 workers of 4
threads unless GUNICORN_WORKERS/GUNICORN_THREADS say otherwise): the portal on each database
(``portal.wsgi:app``, its lookup limit raised by LOOKUP_RATE_LIMIT since every client here is one
address) and ``bench/constant_app.py``, a Flask page answering a constant HTML page.

Load: ``--clients`` threads, each with its own ``requests.Session`` (keep-alive), repeat one
request for ``--seconds`` after ``--warmup`` unmeasured seconds (``bench_intake.run_load``); only
an expected answer counts (200 with the dossier's code; 200 with a result list). Cases:

- baseline: ``GET /`` of the constant page;
- lookup: ``POST /api/v1/lookup`` {code, secret} of a random probe (200 with its public status);
- search: ``GET /thu-tuc?q=...`` cycling through ``bench_portal_search.QUERIES`` (the procedures
  page: a search of the procedures in the index that also holds the articles).

Each round runs baseline, then each case on the small and the large store (the order of the sizes
swaps every round); medians of ``--rounds`` are reported. Figures:

- ratio = the portal's requests per second / the baseline's (same clients, same workers);
- growth = max(small req/s / large req/s, large p99 / small p99) for each case: how much worse
  the large store serves than the small one, by throughput or by tail latency, whichever is worse.
  Target: at most 1.5.

The lookup checks a PBKDF2 hash of the secret (eventkit.secrets): its cost per verification is
measured in this process and reported beside the server's CPU per lookup; it is the same at every
size (a security cost, not growth). The script exits 0 once it has measured (a benchmark reports,
it does not fail the build); above target it says so.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests
from bench_intake import CPU_PARTS, REQUEST_TIMEOUT, Gunicorn, Operation, RunResult, run_load
from bench_portal_search import QUERIES, SEED, articles, vocabulary
from harness import fill_defaults, run_in_workdir

from devstack.infra import FerretDB, StartError, free_ports
from devstack.paths import ROOT, VENV_BIN
from devstack.tokens import ensure_keypair
from eventkit.mongo import Db, Document, connect
from eventkit.secrets import hash_secret, new_lookup_secret, verify_secret
from portal import store
from portal.search import StoreSearch
from tests.factories import feed_portal_catalogue
from tests.integration.portal_tools import Deliverer
from tests.portal_events import accepted, submitted

TARGET = 1.5
SMALL, LARGE = (10_000, 100), (1_000_000, 10_000)
QUICK = {"small": (200, 20), "large": (2_000, 200), "seconds": 2.0, "warmup": 0.5, "rounds": 1}
DEFAULTS = {"small": SMALL, "large": LARGE, "seconds": 15.0, "warmup": 3.0, "rounds": 3}
INSERT_BATCH = 1_000  # FerretDB stalls on single commands much larger than this
PROBES = 1_000  # dossiers the clients look up, each with a secret of its own
HASH_POOL = 1_000  # real hashes the other dossiers carry in turn
PROGRESS = 100_000  # dossiers between two progress lines
CASES = ("lookup", "search")
PYTHONPATH = [
    ROOT / "libs" / "eventkit",
    ROOT / "libs" / "webui",
    ROOT / "tools",
    *(ROOT / "services" / name for name in ("intake", "processing", "notify", "portal")),
    ROOT / "bench",  # constant_app
]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Store:
    """One size's database and what its clients ask it."""

    label: str
    dossiers: int
    articles: int
    db_name: str
    probes: list[tuple[str, str]]  # (code, secret)
    dossier_seconds: float
    article_seconds: float


def code_of(n: int) -> str:
    # Distinct codes in the shape of the real ones (unit, six digits, number): 9,999 a "day".
    return f"000.21.26.H06-{260101 + n // 9999:06d}-{n % 9999 + 1:04d}"


def dossier_template(db: Db) -> Document:
    """A dossier's document as the portal's handlers leave it after its filing and acceptance."""
    code = code_of(0)
    Deliverer(db)(submitted(code, hash_secret(new_lookup_secret())), accepted(code))
    doc = db[store.DOSSIERS].find_one({"_id": code})
    assert doc is not None and doc.get("lookup_secret_hash")
    db[store.DOSSIERS].delete_one({"_id": code})
    return doc


def load_dossiers(db: Db, count: int, rng: random.Random) -> tuple[list[tuple[str, str]], float]:
    """`count` copies of the template with distinct codes; the probes (code, secret) and the seconds
    the inserts took. (Counting the collection afterwards would scan it on FerretDB: the inserts'
    own answers are counted instead.)"""
    template = dossier_template(db)
    pool = [hash_secret(new_lookup_secret()) for _ in range(min(HASH_POOL, count))]
    step = max(1, count // PROBES)
    probes: dict[int, str] = {n: new_lookup_secret() for n in range(0, count, step)}
    hashes = {n: hash_secret(secret) for n, secret in probes.items()}
    collection = db[store.DOSSIERS]
    started = time.perf_counter()
    inserted = 0
    for first in range(0, count, INSERT_BATCH):
        batch = [
            {**template, "_id": code_of(n), "lookup_secret_hash": hashes.get(n) or pool[n % len(pool)]}
            for n in range(first, min(first + INSERT_BATCH, count))
        ]
        inserted += len(collection.insert_many(batch, ordered=False).inserted_ids)
        if inserted % PROGRESS == 0:
            say(f"  {inserted:,} dossiers in {time.perf_counter() - started:.0f} s")
    seconds = time.perf_counter() - started
    assert inserted == count, f"{inserted} of {count} dossiers inserted"
    probe_list = [(code_of(n), secret) for n, secret in probes.items()]
    rng.shuffle(probe_list)
    return probe_list, seconds


def load_articles(db: Db, count: int) -> float:
    procedures = json.loads(SEED.read_text(encoding="utf-8"))
    index = StoreSearch(db)
    started = time.perf_counter()
    for id, title, summary in articles(count, vocabulary(procedures)):
        index.index("article", id, title, summary, {"unit": "264"})
    return time.perf_counter() - started


def fill(url: str, label: str, dossiers: int, article_count: int) -> Store:
    name = f"bench_portal_{label}"
    db = connect(url, name, app_name="bench")
    try:
        store.ensure_indexes(db)
        feed_portal_catalogue(db)
        probes, dossier_seconds = load_dossiers(db, dossiers, random.Random(label))
        article_seconds = load_articles(db, article_count)
    finally:
        db.client.close()
    say(
        f"{label}: {dossiers:,} dossiers inserted in {dossier_seconds:.1f} s"
        f" ({dossiers / dossier_seconds:,.0f}/s), {article_count:,} articles indexed in"
        f" {article_seconds:.1f} s"
    )
    return Store(label, dossiers, article_count, name, probes, dossier_seconds, article_seconds)


# -- the requests --------------------------------------------------------------------------------


def constant_operation(base_url: str) -> Operation:
    def get_page(session: requests.Session) -> tuple[bool, str]:
        answer = session.get(f"{base_url}/", timeout=REQUEST_TIMEOUT)
        return answer.status_code == 200, f"page {answer.status_code}"

    return get_page


def lookup_operation(base_url: str, probes: list[tuple[str, str]]) -> Operation:
    cycle = itertools.cycle(random.sample(probes, len(probes)))

    def look_up(session: requests.Session) -> tuple[bool, str]:
        code, secret = next(cycle)
        answer = session.post(
            f"{base_url}/api/v1/lookup", json={"code": code, "secret": secret}, timeout=REQUEST_TIMEOUT
        )
        if answer.status_code != 200 or answer.json().get("code") != code:
            return False, f"lookup {answer.status_code}: {answer.text[:300]}"
        return True, ""

    return look_up


def search_operation(base_url: str) -> Operation:
    cycle = itertools.cycle([query for query, _ in QUERIES])

    def search(session: requests.Session) -> tuple[bool, str]:
        answer = session.get(f"{base_url}/thu-tuc?q={quote(next(cycle))}", timeout=REQUEST_TIMEOUT)
        if answer.status_code != 200 or "Tìm thấy" not in answer.text:
            return False, f"search {answer.status_code}: {answer.text[:300]}"
        return True, ""

    return search


def hash_ms() -> float:
    """Milliseconds one lookup spends verifying its secret's hash (in this process)."""
    secret = new_lookup_secret()
    hashed = hash_secret(secret)
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        verify_secret(secret, hashed)
    return (time.perf_counter() - started) / rounds * 1000


# -- running -------------------------------------------------------------------------------------


def server_env(mongo_url: str, workdir: Path) -> dict[str, str]:
    _, public_key = ensure_keypair(workdir / "keys")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in PYTHONPATH),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MONGO_URL": mongo_url,
        "JWT_PUBLIC_KEY_FILE": str(public_key),
        "WEB_SECRET_KEY": "bench-portal",
        "PYTHONUNBUFFERED": "1",
        # Every benchmark client looks up from this one address.
        "LOOKUP_RATE_LIMIT": "100000000/minute",
    }


def summary(runs: list[RunResult]) -> dict[str, float]:
    return {
        "per_s": statistics.median(r.per_s for r in runs),
        "p50_ms": statistics.median(r.percentile_ms(50) for r in runs),
        "p99_ms": statistics.median(r.percentile_ms(99) for r in runs),
        "failures": sum(r.failures for r in runs),
        **{f"cpu_ms_{part}": statistics.median(r.cpu_ms_per_op(part) for r in runs) for part in CPU_PARTS},
    }


def header() -> str:
    cpu = "".join(f"{part:>8}" for part in CPU_PARTS)
    return f"{'run':<34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'failures':>10}{cpu}   (CPU ms per request)"


def row(label: str, figures: dict[str, float]) -> str:
    cpu = "".join(f"{figures[f'cpu_ms_{part}']:>8.2f}" for part in CPU_PARTS)
    return (
        f"{label:<34}{figures['per_s']:>10.1f}{figures['p50_ms']:>9.1f}{figures['p99_ms']:>9.1f}"
        f"{figures['failures']:>10.0f}{cpu}"
    )


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    store_port, baseline_port, small_port, large_port = free_ports(4)
    ferretdb = FerretDB("ferretdb", workdir / "ferretdb", port=store_port)
    servers: list[Gunicorn] = []
    try:
        ferretdb.start()
        ferretdb.wait_ready()
        stores = {
            "small": fill(ferretdb.url, "small", *args.small),
            "large": fill(ferretdb.url, "large", *args.large),
        }
        env = server_env(ferretdb.url, workdir)
        baseline = Gunicorn(
            "constant",
            workdir / "constant",
            app="constant_app:app",
            port=baseline_port,
            env=env,
            ready_path="/",
        )
        portals = {
            label: Gunicorn(
                f"portal-{label}",
                workdir / f"portal-{label}",
                app="portal.wsgi:app",
                port=port,
                env=env | {"MONGO_DB": stores[label].db_name},
            )
            for label, port in (("small", small_port), ("large", large_port))
        }
        servers += [baseline, *portals.values()]
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        settings = ", ".join(
            f"{name}={os.environ.get(name, 'config default')}"
            for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS")
        )
        say(
            f"portal benchmark: {args.clients} clients, {args.seconds:g} s per run after {args.warmup:g} s"
            f" warm-up, {args.rounds} rounds; gunicorn -c deploy/gunicorn.conf.py ({settings})"
        )
        say(header())
        runs: dict[str, list[RunResult]] = {}
        plans: dict[str, tuple[Gunicorn, Callable[[], Operation]]] = {
            "baseline": (baseline, lambda: constant_operation(baseline.url))
        }
        for label, portal in portals.items():
            probes = stores[label].probes
            plans[f"lookup {label}"] = (portal, lambda p=portal, pr=probes: lookup_operation(p.url, pr))  # type: ignore[misc]
            plans[f"search {label}"] = (portal, lambda p=portal: search_operation(p.url))  # type: ignore[misc]
        for round_ in range(1, args.rounds + 1):
            sizes = ["small", "large"] if round_ % 2 else ["large", "small"]
            for name in ["baseline", *(f"{case} {size}" for case in CASES for size in sizes)]:
                server, make_operation = plans[name]
                assert server.proc is not None and ferretdb.proc is not None
                processes = {"server": server.proc.pid, "store": ferretdb.proc.pid}
                run = run_load(
                    f"{name} #{round_}", make_operation, args.clients, args.warmup, args.seconds, processes
                )
                runs.setdefault(name, []).append(run)
                say(row(run.name, summary([run])))
                if run.first_failure:
                    say(f"  first failure: {run.first_failure}")
                for each in servers:
                    if each.proc is not None and each.proc.poll() is not None:
                        raise StartError(f"{each.name} exited during the run\n{each.log_tail()}")
        return report(args, stores, {name: summary(r) for name, r in runs.items()})
    finally:
        for server in reversed(servers):
            server.stop()
        ferretdb.stop()


def report(
    args: argparse.Namespace, stores: dict[str, Store], figures: dict[str, dict[str, float]]
) -> dict[str, object]:
    say(f"\nmedian of {args.rounds} rounds")
    say(header())
    base = figures["baseline"]
    say(row("baseline: constant page", base))
    cases: dict[str, object] = {}
    above = []
    for case in CASES:
        small, large = figures[f"{case} small"], figures[f"{case} large"]
        for label, each in (("small", small), ("large", large)):
            say(row(f"{case} ({stores[label].dossiers:,} d, {stores[label].articles:,} a)", each))
        throughput_growth = small["per_s"] / large["per_s"] if large["per_s"] else float("inf")
        p99_growth = large["p99_ms"] / small["p99_ms"] if small["p99_ms"] else float("inf")
        growth = max(throughput_growth, p99_growth)
        verdict = "PASS" if growth <= TARGET else "FAIL"
        say(
            f"{case}: ratio to baseline small {small['per_s'] / base['per_s']:.3f}, large"
            f" {large['per_s'] / base['per_s']:.3f}; growth req/s x{throughput_growth:.2f}, p99"
            f" x{p99_growth:.2f}   target <= {TARGET}: {verdict}"
        )
        if growth > TARGET:
            above.append(case)
        cases[case] = {
            "small": {k: round(v, 2) for k, v in small.items()},
            "large": {k: round(v, 2) for k, v in large.items()},
            "ratio_small": round(small["per_s"] / base["per_s"], 4),
            "ratio_large": round(large["per_s"] / base["per_s"], 4),
            "growth_throughput": round(throughput_growth, 3),
            "growth_p99": round(p99_growth, 3),
            "growth": round(growth, 3),
        }
    hashing = hash_ms()
    lookup_cpu = figures["lookup large"]["cpu_ms_server"]
    say(
        f"secret hash check: {hashing:.2f} ms per lookup (PBKDF2, eventkit.secrets), of"
        f" {lookup_cpu:.2f} ms server CPU per lookup at the large size"
    )
    if above:
        say(f"ABOVE TARGET: growth of {', '.join(above)} over {TARGET}")
    result: dict[str, object] = {
        "bench": "portal",
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "sizes": {
            label: {
                "dossiers": s.dossiers,
                "articles": s.articles,
                "dossier_load_s": round(s.dossier_seconds, 1),
                "dossiers_per_s": round(s.dossiers / s.dossier_seconds, 1),
                "article_index_s": round(s.article_seconds, 1),
            }
            for label, s in stores.items()
        },
        "baseline": {k: round(v, 2) for k, v in base.items()},
        **cases,
        "hash_ms": round(hashing, 3),
        "target": TARGET,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    say(json.dumps(result))
    return result


def size(value: str) -> tuple[int, int]:
    dossiers, articles_ = (int(part) for part in value.split(","))
    return dossiers, articles_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=size, help=f"dossiers,articles of the small store (default {SMALL})")
    parser.add_argument("--large", type=size, help=f"dossiers,articles of the large store (default {LARGE})")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--seconds", type=float, help="measured seconds per run (default 15)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each run (default 3)")
    parser.add_argument("--rounds", type=int, help="rounds of every run (default 3)")
    parser.add_argument("--quick", action="store_true", help=f"small sizes and short runs: {QUICK}")
    args = parser.parse_args(argv)
    fill_defaults(args, QUICK if args.quick else DEFAULTS)
    return run_in_workdir(measure, args)


if __name__ == "__main__":
    sys.exit(main())
