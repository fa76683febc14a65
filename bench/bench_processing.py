"""Processing at a centre's scale: officers' reads at 1,000,000 dossiers against 10,000, and actions.

Run from the repository root (PYTHONPATH as for the tests; `make bench` runs it too)::

    PYTHONPATH=libs/eventkit:tools:services/intake:services/processing:services/notify:services/portal:. \\
        .local/venv/bin/python bench/bench_processing.py [--large 1000000] [--small 10000] [--open 2000]

Starts a throwaway FerretDB on a free port and fills two databases through the bulk path of
``bench/processing_bulk.py`` (templates made by the real flow, copied with new codes, applicants
and times): ``small`` with ``--small`` dossiers and ``large`` with ``--large``, both at the same
rate of receipts per week (``large`` spans 2019 to now, ``small`` its last weeks) and both with
the same ``--open`` open dossiers (the same codes, states and due times: a centre's live work).
Indexes are built after the load, as ``store.ensure_indexes`` makes them.

Two processing APIs run under gunicorn with the services' settings (deploy/gunicorn.conf.py), one
per database. One client at a time calls, alternating the stores every round:

- work queue: ``GET /api/v1/dossiers?unit=U`` (the open dossiers of a unit, due first, one page);
- overdue queue: the same with ``overdue=true``;
- search: ``GET /api/v1/dossiers?unit=U&q=<ID number>`` of an open dossier's applicant;
- detail: ``GET /api/v1/dossiers/{code}`` of a random dossier of that store;
- statistics: ``GET /api/v1/stats?unit=U&from=M&to=M&group_by=procedure`` for the current month.

Each call's p50 and p99 at ``large`` are reported as a ratio to ``small``; target: at most 1.5.
Then actions: ``--clients`` threads accept freshly filed online dossiers of ``large``
(``POST /api/v1/dossiers/{code}/actions/accept``) against ``bench/update_app.py``, a Flask
endpoint doing one update by ``_id`` on the same collection; the ratio is reported. The script
exits 0 once it has measured (a benchmark reports, it does not fail the build).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import pickle
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from bench_intake import Gunicorn, RunResult, run_load
from bench_intake import server_env as intake_server_env
from processing_bulk import (
    CLOSED_PATHS,
    OPEN_PATHS,
    WEEK,
    Bulk,
    Person,
    Template,
    TemplateRunner,
    make_templates,
    person,
    pick,
    seed_items,
)

from devstack.certificates import ensure_unit_certificates
from devstack.infra import FerretDB, free_ports
from devstack.tokens import ensure_keypair, issue_token
from eventkit.blobs import open_blob_store
from eventkit.mongo import connect
from processing import importer
from processing.deadlines import TZ

TARGET = 1.5
LARGE, SMALL, OPEN = 1_000_000, 10_000, 2_000
# The large store's receipts spread from this Monday to now; the small store has the same weekly rate.
HISTORY_FROM = datetime(2019, 1, 7, tzinfo=UTC)
REQUEST_TIMEOUT = 60.0
SEED = 20191231
# Building an index over a million documents takes minutes: the loader waits that long.
STORE_TIMEOUT_MS = 3_600_000


@dataclass
class Loaded:
    name: str
    total: int
    codes: list[str]
    open_codes: list[str]
    people: dict[str, Person]  # of the open dossiers
    seconds: float


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def weeks_back(template: Template, now: datetime) -> int:
    """The largest whole-week shift that keeps every time of the template before `now`."""
    return math.floor((now - template.last_time) / WEEK)


def load(
    mongo_url: str, name: str, templates: list[Template], total: int, open_count: int, now: datetime
) -> Loaded:
    started = time.perf_counter()
    db = connect(mongo_url, f"bench_processing_{name}", app_name="bench", timeout_ms=STORE_TIMEOUT_MS)
    units = {u["code"]: u for u in seed_items("units")}
    bulk = Bulk(db, units)
    if os.environ.get("BENCH_INDEXES_FIRST"):
        importer.seed(db, progress=False)
    per_week = LARGE / ((now - HISTORY_FROM) / WEEK)
    weeks = max(1, round((total - open_count) / per_week))
    # The open work: the same dossiers in every store (one seed), filed in the last three weeks.
    rng = random.Random(SEED)
    choose_open = pick(templates, OPEN_PATHS, rng)
    people: dict[str, Person] = {}
    for _ in range(open_count):
        index = choose_open()
        who = person(rng)
        code = bulk.add(templates[index], weeks_back(templates[index], now) - rng.randrange(3), who, index)
        people[code] = who
    open_codes = list(bulk.codes)
    rng = random.Random(SEED + total)
    choose_closed = pick(templates, CLOSED_PATHS, rng)
    for n in range(total - open_count):
        index = choose_closed()
        bulk.add(
            templates[index], weeks_back(templates[index], now) - rng.randrange(weeks), person(rng), index
        )
        if n % 100_000 == 99_999:
            say(f"  {name}: {bulk.written:,} dossiers written ({time.perf_counter() - started:.0f} s)")
    bulk.write_statistics()
    say(f"  {name}: {len(bulk.codes):,} dossiers written; indexes and catalogue")
    importer.seed(db, progress=False)
    db.client.close()
    return Loaded(name, total, bulk.codes, open_codes, people, time.perf_counter() - started)


def server_env(mongo_url: str, database: str, public_key: Path, workdir: Path, certs: Path) -> dict[str, str]:
    """The intake benchmark's server environment, on `database`, with processing's blob store and
    the units' certificates (PROCESSING_BLOB_URL wins over BLOB_URL)."""
    return {
        **intake_server_env(mongo_url, public_key, workdir),
        "MONGO_DB": database,
        "PROCESSING_BLOB_URL": (workdir / "blobs").as_uri(),
        "SIGNING_CERTS_DIR": str(certs),
    }


class Tokens:
    def __init__(self, private_key: Path) -> None:
        self.private_key = private_key
        self.cache: dict[tuple[str, str], dict[str, str]] = {}

    def headers(self, role: str, unit: str) -> dict[str, str]:
        if (role, unit) not in self.cache:
            token = issue_token([role], [unit], user_id=f"{role}-{unit}", private_key=self.private_key)
            self.cache[(role, unit)] = {"Authorization": f"Bearer {token}"}
        return self.cache[(role, unit)]


def unit_of(code: str, units: dict[str, str]) -> str:
    return units[code.split("-", 1)[0]]


@dataclass(frozen=True)
class Call:
    name: str
    path: str
    headers: dict[str, str]


def calls(
    loaded: Loaded, tokens: Tokens, by_electronic_id: dict[str, str], month: str, rng: random.Random, n: int
) -> dict[str, list[Call]]:
    """`n` requests of each kind for one store; the same units and open dossiers for every store."""
    open_units = sorted({unit_of(code, by_electronic_id) for code in loaded.open_codes})
    chosen = [rng.choice(loaded.open_codes) for _ in range(n)]
    units = [rng.choice(open_units) for _ in range(n)]
    details = [rng.choice(loaded.codes) for _ in range(n)]
    return {
        "work queue": [
            Call("queue", f"/api/v1/dossiers?unit={u}", tokens.headers("leader", u)) for u in units
        ],
        "overdue queue": [
            Call("overdue", f"/api/v1/dossiers?unit={u}&overdue=true", tokens.headers("leader", u))
            for u in units
        ],
        "search by ID number": [
            Call(
                "search",
                f"/api/v1/dossiers?unit={unit_of(c, by_electronic_id)}&q={loaded.people[c].id_number}",
                tokens.headers("receptionist", unit_of(c, by_electronic_id)),
            )
            for c in chosen
        ],
        "dossier detail": [
            Call("detail", f"/api/v1/dossiers/{c}", tokens.headers("leader", unit_of(c, by_electronic_id)))
            for c in details
        ],
        "statistics, month by procedure": [
            Call(
                "stats",
                f"/api/v1/stats?unit={u}&from={month}&to={month}&group_by=procedure",
                tokens.headers("leader", u),
            )
            for u in units
        ],
    }


def timed(base_url: str, session: requests.Session, call: Call) -> float:
    started = time.perf_counter()
    answer = session.get(base_url + call.path, headers=call.headers, timeout=REQUEST_TIMEOUT)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"{call.path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def measure_reads(
    servers: dict[str, Gunicorn], plans: dict[str, dict[str, list[Call]]], rounds: int
) -> dict[str, dict[str, list[float]]]:
    """Latencies by store and call kind; the stores swap places every round."""
    latencies: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    order = list(servers)
    for round_number in range(rounds):
        for name in order if round_number % 2 == 0 else order[::-1]:
            with requests.Session() as session:
                for kind, round_calls in plans[name].items():
                    share = len(round_calls) // rounds
                    part = round_calls[round_number * share : (round_number + 1) * share]
                    for call in part[:5]:
                        timed(servers[name].url, session, call)  # warm the connection and caches
                    latencies[name].setdefault(kind, []).extend(
                        timed(servers[name].url, session, call) for call in part
                    )
        say(f"  reads: round {round_number + 1} of {rounds} done")
    return latencies


def file_for_actions(mongo_url: str, templates: list[Template], count: int, now: datetime) -> list[str]:
    """Online filings waiting for the counter's check, filed today in `large` (its numbering goes on)."""
    db = connect(mongo_url, "bench_processing_large", app_name="bench", timeout_ms=STORE_TIMEOUT_MS)
    units = {u["code"]: u for u in seed_items("units")}
    bulk = Bulk(db, units, batch=count + 1)
    rng = random.Random(SEED + 1)
    waiting = [i for i, t in enumerate(templates) if t.name == "submitted"]
    for _ in range(count):
        index = rng.choice(waiting)
        template = templates[index]
        # Numbers after the day's loaded ones: a day's number is unique per unit.
        day = (template.received + weeks_back(template, now) * WEEK).astimezone(TZ).date()
        bulk.numbers[(template.unit, day)] = max(bulk.numbers[(template.unit, day)], 5000)
        bulk.add(template, weeks_back(template, now), person(rng), index)
    for code in bulk.codes:  # a run on kept stores files the same dossiers again
        db.dossiers.delete_one({"_id": code})
        db.stats_standing.delete_one({"_id": code})
    bulk.flush()
    bulk.finish()
    db.client.close()
    return bulk.codes


def forget_filed(mongo_url: str, codes: list[str]) -> None:
    db = connect(mongo_url, "bench_processing_large", app_name="bench", timeout_ms=STORE_TIMEOUT_MS)
    for code in codes:
        db.dossiers.delete_one({"_id": code})
        db.stats_standing.delete_one({"_id": code})
    db.client.close()


def accept_operation(
    base_url: str,
    codes: itertools.count,
    waiting: list[str],
    tokens: Tokens,
    by_electronic_id: dict[str, str],
    lock: threading.Lock,
):
    def accept_one(session: requests.Session) -> tuple[bool, str]:
        with lock:
            n = next(codes)
        if n >= len(waiting):
            return False, "no dossier left to accept"
        code = waiting[n]
        headers = tokens.headers("receptionist", unit_of(code, by_electronic_id))
        answer = session.post(
            f"{base_url}/api/v1/dossiers/{code}/actions/accept",
            json={},
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        if answer.status_code != 200:
            return False, f"accept {answer.status_code}: {answer.text[:300]}"
        return True, ""

    return lambda: accept_one


def update_operation(base_url: str, pool: list[str]):
    def make():
        rng = random.Random()

        def update_one(session: requests.Session) -> tuple[bool, str]:
            answer = session.post(f"{base_url}/update/{rng.choice(pool)}", timeout=REQUEST_TIMEOUT)
            if answer.status_code != 200 or answer.json().get("matched") != 1:
                return False, f"update {answer.status_code}: {answer.text[:300]}"
            return True, ""

        return update_one

    return make


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--large", type=int, default=LARGE)
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--open", type=int, default=OPEN)
    parser.add_argument("--requests", type=int, default=600, help="requests of each kind per store")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--procedures-per-unit", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--action-rounds", type=int, default=2)
    parser.add_argument(
        "--store-dir",
        type=Path,
        help="keep the loaded stores here and reuse them on the next run with the same sizes"
        " (the load of a million dossiers takes about 25 minutes on two cores)",
    )
    args = parser.parse_args(argv)
    if args.store_dir is not None:
        args.store_dir.mkdir(parents=True, exist_ok=True)
        return run(args, args.store_dir.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-processing-") as tmp:
        return run(args, Path(tmp))


def _fingerprint(args: argparse.Namespace) -> dict[str, int]:
    return {k: getattr(args, k) for k in ("large", "small", "open", "procedures_per_unit")}


def run(args: argparse.Namespace, workdir: Path) -> int:
    store_port, small_port, large_port, update_port = free_ports(4)
    ferretdb = FerretDB("ferretdb", workdir / "ferretdb", port=store_port)
    servers: list[Gunicorn] = []
    now = datetime.now(UTC)
    try:
        ferretdb.start()
        ferretdb.wait_ready()
        certs = ensure_unit_certificates(workdir / "signing")
        private_key, public_key = ensure_keypair(workdir / "keys")

        kept = workdir / "loaded.pickle"
        if kept.exists() and (saved := pickle.loads(kept.read_bytes()))["fingerprint"] == _fingerprint(args):
            templates, stores, now = saved["templates"], saved["stores"], saved["now"]
            say(f"reusing the stores loaded at {now:%Y-%m-%d %H:%M} UTC in {workdir}")
        else:
            for name in ("templates", "small", "large"):
                connect(ferretdb.url, "bench", app_name="bench").client.drop_database(
                    f"bench_processing_{name}"
                )
            started = time.perf_counter()
            template_db = connect(ferretdb.url, "bench_processing_templates", app_name="bench")
            importer.seed(template_db, progress=False)
            blobs = open_blob_store((workdir / "template-blobs").as_uri())
            runner = TemplateRunner(template_db, blobs, str(certs))
            templates = make_templates(runner, args.procedures_per_unit, random.Random(SEED))
            say(f"{len(templates)} templates made by the real flow in {time.perf_counter() - started:.0f} s")
            stores = {}
            for name, total in (("small", args.small), ("large", args.large)):
                stores[name] = load(ferretdb.url, name, templates, total, args.open, now)
                say(f"{name}: {total:,} dossiers loaded in {stores[name].seconds:.0f} s")
            saved = {"fingerprint": _fingerprint(args), "templates": templates, "stores": stores, "now": now}
            kept.write_bytes(pickle.dumps(saved))

        tokens = Tokens(private_key)
        by_electronic_id = {
            u["electronic_id"]: u["code"] for u in seed_items("units") if u.get("electronic_id")
        }
        gunicorns = {}
        for name, port in (("small", small_port), ("large", large_port)):
            env = server_env(ferretdb.url, f"bench_processing_{name}", public_key, workdir, certs)
            gunicorns[name] = Gunicorn(name, workdir / name, app="processing.wsgi:app", port=port, env=env)
        update_env = server_env(ferretdb.url, "bench_processing_large", public_key, workdir, certs)
        update = Gunicorn(
            "update",
            workdir / "update",
            app="update_app:app",
            port=update_port,
            env=update_env,
            ready_path="/update/x",
            ready_status=405,
        )
        servers += [*gunicorns.values(), update]
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()

        month = now.astimezone(TZ).strftime("%Y-%m")
        plans = {
            name: calls(stores[name], tokens, by_electronic_id, month, random.Random(SEED + 7), args.requests)
            for name in gunicorns
        }
        latencies = measure_reads(gunicorns, plans, args.rounds)

        per_round = 200 * (args.seconds + args.warmup)
        waiting = file_for_actions(ferretdb.url, templates, int(per_round * args.action_rounds), now)
        lock = threading.Lock()
        counter = itertools.count()
        actions: list[RunResult] = []
        updates: list[RunResult] = []
        for _ in range(args.action_rounds):
            updates.append(
                run_load(
                    "one-update Flask endpoint",
                    update_operation(update.url, stores["large"].codes[:50_000]),
                    args.clients,
                    args.warmup,
                    args.seconds,
                )
            )
            actions.append(
                run_load(
                    "accept (processing)",
                    accept_operation(
                        gunicorns["large"].url, counter, waiting, tokens, by_electronic_id, lock
                    ),
                    args.clients,
                    args.warmup,
                    args.seconds,
                )
            )
        report(args, stores, latencies, actions, updates)
        # Kept stores hold the same open work on the next run: the accepted filings go again.
        forget_filed(ferretdb.url, waiting)
    finally:
        for server in servers:
            server.stop()
        ferretdb.stop()
    return 0


def report(args, stores, latencies, actions, updates) -> None:
    out = sys.stdout
    out.write(
        f"\nprocessing at scale: {stores['large'].total:,} against {stores['small'].total:,} dossiers,"
        f" {args.open:,} open in each; {args.requests} requests of each kind per store\n"
    )
    out.write(
        f"{'call':<34}{'small p50':>10}{'large p50':>10}{'ratio':>8}"
        f"{'small p99':>10}{'large p99':>10}{'ratio':>8}\n"
    )
    result: dict[str, object] = {
        "bench": "processing_scale",
        "large": stores["large"].total,
        "small": stores["small"].total,
    }
    worst = 0.0
    for kind in latencies["small"]:
        small, large = latencies["small"][kind], latencies["large"][kind]
        s50, l50, s99, l99 = (
            percentile(small, 50),
            percentile(large, 50),
            percentile(small, 99),
            percentile(large, 99),
        )
        r50, r99 = l50 / s50, l99 / s99
        worst = max(worst, r50, r99)
        out.write(f"{kind:<34}{s50:>10.1f}{l50:>10.1f}{r50:>8.2f}{s99:>10.1f}{l99:>10.1f}{r99:>8.2f}\n")
        result[kind] = {
            "p50_ms": [round(s50, 1), round(l50, 1)],
            "p99_ms": [round(s99, 1), round(l99, 1)],
            "ratios": [round(r50, 3), round(r99, 3)],
        }
    verdict = "PASS" if worst <= TARGET else "FAIL"
    out.write(f"{'worst ratio large/small':<34}{worst:>10.2f}   target <= {TARGET}: {verdict}\n")
    action_rate = statistics.median(r.per_s for r in actions)
    update_rate = statistics.median(r.per_s for r in updates)
    action_p50 = statistics.median(r.percentile_ms(50) for r in actions)
    out.write(
        f"actions: accept {action_rate:.1f}/s (p50 {action_p50:.1f} ms),"
        f" one update {update_rate:.1f}/s; ratio {action_rate / update_rate:.3f}"
        f" (rounds: {' '.join(f'{a.per_s / u.per_s:.2f}' for a, u in zip(actions, updates, strict=True))})\n"
    )
    for run in (*actions, *updates):
        if run.first_failure:
            out.write(f"failures in {run.name}: {dict(run.failure_kinds)}; first: {run.first_failure}\n")
    result |= {
        "worst_ratio": round(worst, 3),
        "target": TARGET,
        "accept_per_s": round(action_rate, 1),
        "update_per_s": round(update_rate, 1),
        "actions_ratio": round(action_rate / update_rate, 4),
        "load_seconds": {name: round(s.seconds) for name, s in stores.items()},
    }
    out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
