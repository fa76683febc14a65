"""Sustained online filings per second (one 100 KiB upload each) against a minimal Flask insert.

Run from the repository root (PYTHONPATH as for the tests; `make bench` runs it too)::

    PYTHONPATH=libs/eventkit:tools:services/intake:services/processing:services/notify:services/portal:. \
        .local/venv/bin/python bench/bench_intake.py [--clients 8] [--seconds 15] [--warmup 3] [--rounds 5]

Starts a throwaway FerretDB on a free port, fills intake's catalogue projection with processing's
seed units and procedures, and starts two gunicorn servers with the services' settings
(deploy/gunicorn.conf.py, as in the Procfile): the intake API and ``bench/baseline_app.py``, a
Flask endpoint doing one insert of the request body into the same store. No Kafka: the API only
writes the outbox; publishing it is the worker's job, outside the measured path.

``--clients`` threads, each with its own HTTP session, repeat one operation for ``--seconds``
after ``--warmup`` unmeasured seconds. A filing is ``POST /api/v1/uploads`` (a 100 KiB PDF) then
``POST /api/v1/dossiers`` (an online filing of 1.004884 at unit 09496 naming that upload); its
latency covers both requests and only 201 + 201 counts as a success. The baseline operation is
``POST /insert`` with a 100 KiB body. A third server, ``bench/floor_app.py``, answers the same two
requests as intake with nothing but three writes (the upload, a counter, the dossier): the floor
of any filing on this machine. The runs
alternate (``--rounds`` of each; floor and intake swap places every round) and the medians are
reported, so machine noise falls on all, with each round's intake/floor ratio beside them. The
store is not emptied between runs: filings accumulate as they do in service, and a later intake
run files into a fuller store. Target: intake reaches at least 0.75 of the floor's throughput.
Each run also reports the CPU used per operation by the server's processes, by the store and by
the client (from /proc and the client's own process time), to show where the time goes.
The script always exits 0 once it has measured (a benchmark reports, it does not fail the build);
below target it says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from harness import run_in_workdir
from urllib3 import encode_multipart_formdata

from devstack.infra import FerretDB, ManagedProcess, StartError, free_ports
from devstack.paths import ROOT, VENV_BIN
from devstack.tokens import ensure_keypair
from eventkit.mongo import connect
from intake import store as intake_store
from tests.factories import fill_catalogue_projection, online_filing
from tests.factories import pdf_bytes as factory_pdf_bytes

# Intake files at least this share of the floor's rate (the same requests with only the writes).
TARGET = 0.75
INTAKE_DB = "bench_intake"
UPLOAD_BYTES = 100 * 1024
REQUEST_TIMEOUT = 30.0
PYTHONPATH = [
    ROOT / "libs" / "eventkit",
    ROOT / "libs" / "webui",  # processing's console, in the processing benchmark's server
    ROOT / "tools",
    *(ROOT / "services" / name for name in ("intake", "processing", "notify", "portal")),
    ROOT / "bench",  # baseline_app, floor_app
]

# One operation on one client's session: (succeeded, what happened when it did not).
Operation = Callable[[requests.Session], tuple[bool, str]]


@dataclass
class Gunicorn(ManagedProcess):
    """One API under gunicorn, started as the Procfile does, with its own environment and log."""

    app: str = ""
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/readyz"
    ready_status: int = 200
    ready_timeout: float = 30.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        config = "deploy/gunicorn.conf.py"
        return [str(VENV_BIN / "gunicorn"), "-c", config, "--bind", f"127.0.0.1:{self.port}", self.app]

    def start(self) -> None:
        # gunicorn.conf.py makes its metrics directory with tempfile.mkdtemp: keep it in our temp dir.
        tmp = self.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in self.env.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {"TMPDIR": str(tmp)}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def is_ready(self) -> bool:
        try:
            return requests.get(self.url + self.ready_path, timeout=2).status_code == self.ready_status
        except requests.RequestException:
            return False


@dataclass
class RunResult:
    name: str
    seconds: float
    latencies: list[float]  # of the successful operations completed in the measured window, s
    failures: int
    failure_kinds: Counter[str]
    first_failure: str | None
    # CPU seconds used in the measured window by the server, the store and this client process.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds

    def cpu_ms_per_op(self, part: str) -> float:
        return self.cpu.get(part, math.nan) / len(self.latencies) * 1000 if self.latencies else math.nan

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile; NaN when nothing succeeded."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def pdf_bytes() -> bytes:
    # Intake opens every PDF it takes: the upload must be a well-formed one.
    return factory_pdf_bytes(UPLOAD_BYTES)


def filing_operation(base_url: str) -> Operation:
    # The multipart body is encoded once per client so the client spends its time waiting.
    body, content_type = encode_multipart_formdata({"file": ("to-khai.pdf", pdf_bytes(), "application/pdf")})
    headers = {"Content-Type": content_type}

    def file_one(session: requests.Session) -> tuple[bool, str]:
        uploaded = session.post(
            f"{base_url}/api/v1/uploads", data=body, headers=headers, timeout=REQUEST_TIMEOUT
        )
        if uploaded.status_code != 201:
            return False, f"upload {uploaded.status_code}: {uploaded.text[:300]}"
        filed = session.post(
            f"{base_url}/api/v1/dossiers", json=online_filing(uploaded.json()["id"]), timeout=REQUEST_TIMEOUT
        )
        if filed.status_code != 201:
            return False, f"dossier {filed.status_code}: {filed.text[:300]}"
        return True, ""

    return file_one


def insert_operation(base_url: str) -> Operation:
    body = pdf_bytes()
    headers = {"Content-Type": "application/octet-stream"}

    def insert_one(session: requests.Session) -> tuple[bool, str]:
        answer = session.post(f"{base_url}/insert", data=body, headers=headers, timeout=REQUEST_TIMEOUT)
        if answer.status_code != 201:
            return False, f"insert {answer.status_code}: {answer.text[:300]}"
        return True, ""

    return insert_one


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group `pgid` (a
    server started in its own session: gunicorn's master and workers, or FerretDB)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        # After the command come state, ppid, pgrp, ...; utime and stime are the 12th and 13th.
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_sample(processes: dict[str, int]) -> dict[str, float]:
    return {name: group_cpu_seconds(pgid) for name, pgid in processes.items()} | {
        "client": time.process_time()
    }


def run_load(
    name: str,
    make_operation: Callable[[], Operation],
    clients: int,
    warmup: float,
    seconds: float,
    processes: dict[str, int] | None = None,
) -> RunResult:
    """`clients` threads repeat the operation; operations completed in the measured window count.
    The CPU that `processes` (name: process group) and this process use in the window is measured."""
    lock = threading.Lock()
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    first_failure: list[str] = []
    begin = time.perf_counter()
    measure_from = begin + warmup
    end = measure_from + seconds

    def client() -> None:
        operation = make_operation()
        mine: list[float] = []
        failed: Counter[str] = Counter()
        with requests.Session() as session:
            while (started := time.perf_counter()) < end:
                try:
                    ok, detail = operation(session)
                except (requests.RequestException, ValueError, KeyError) as exc:
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                finished = time.perf_counter()
                if not measure_from <= finished <= end:
                    continue
                if ok:
                    mine.append(finished - started)
                else:
                    failed[detail.split(":", 1)[0]] += 1
                    with lock:
                        if not first_failure:
                            first_failure.append(detail)
        with lock:
            latencies.extend(mine)
            failures.update(failed)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_from = cpu_sample(processes or {})
    time.sleep(max(0.0, end - time.perf_counter()))
    cpu_to = cpu_sample(processes or {})
    for thread in threads:
        thread.join()
    return RunResult(
        name=name,
        seconds=seconds,
        latencies=latencies,
        failures=sum(failures.values()),
        failure_kinds=failures,
        first_failure=first_failure[0] if first_failure else None,
        cpu={part: cpu_to[part] - cpu_from[part] for part in cpu_to},
    )


def fill_intake_store(mongo_url: str) -> None:
    """Intake's indexes and its projection of the shipped units and procedures (as their events would
    leave it; the same as the `intake_catalogue` test fixture)."""
    db = connect(mongo_url, INTAKE_DB, app_name="bench")
    try:
        intake_store.ensure_indexes(db)
        fill_catalogue_projection(db)
    finally:
        db.client.close()


def server_env(mongo_url: str, public_key: Path, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in PYTHONPATH),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MONGO_URL": mongo_url,
        "MONGO_DB": INTAKE_DB,
        "JWT_PUBLIC_KEY_FILE": str(public_key),
        "BLOB_URL": (workdir / "blobs").as_uri(),
        "PYTHONUNBUFFERED": "1",
        # Every benchmark client uploads from this one address.
        "UPLOAD_RATE_LIMIT": "1000000/minute",
    }


CPU_PARTS = ("server", "store", "client")


def row(label: str, per_s: float, p50: float, p99: float, failures: int, cpu: list[float]) -> str:
    cpu_text = "".join(f"{ms:>8.1f}" for ms in cpu)
    return f"{label:<36}{per_s:>10.1f}{p50:>10.1f}{p99:>10.1f}{failures:>10}{cpu_text}"


def header(first: str) -> str:
    cpu = "".join(f"{part:>8}" for part in CPU_PARTS)
    return f"{first:<36}{'ops/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'failures':>10}{cpu}   (CPU ms per op)\n"


def run_row(run: RunResult) -> str:
    cpu = [run.cpu_ms_per_op(part) for part in CPU_PARTS]
    return row(run.name, run.per_s, run.percentile_ms(50), run.percentile_ms(99), run.failures, cpu)


def report(
    args: argparse.Namespace, baseline: list[RunResult], floor: list[RunResult], intake: list[RunResult]
) -> dict[str, object]:
    def medians(runs: list[RunResult]) -> tuple[float, float, float, int, list[float]]:
        return (
            statistics.median(r.per_s for r in runs),
            statistics.median(r.percentile_ms(50) for r in runs),
            statistics.median(r.percentile_ms(99) for r in runs),
            sum(r.failures for r in runs),
            [statistics.median(r.cpu_ms_per_op(part) for r in runs) for part in CPU_PARTS],
        )

    base_per_s, base_p50, base_p99, base_failures, base_cpu = medians(baseline)
    floor_per_s, floor_p50, floor_p99, floor_failures, floor_cpu = medians(floor)
    per_s, p50, p99, failures, cpu = medians(intake)
    ratio = per_s / base_per_s if base_per_s else 0.0
    floor_ratio = floor_per_s / base_per_s if base_per_s else 0.0
    of_floor = per_s / floor_per_s if floor_per_s else 0.0
    # Each round's intake run beside that round's floor run: the machine's speed drifts between
    # runs (other work on the host), and a pair measured minutes apart shares less of the drift.
    paired = [i.per_s / f.per_s if f.per_s else 0.0 for f, i in zip(floor, intake, strict=True)]
    of_floor_paired = statistics.median(paired)
    out = sys.stdout
    out.write("\n")
    out.write(header(f"median of {args.rounds} runs"))
    out.write(
        row("baseline: POST /insert (100 KiB)", base_per_s, base_p50, base_p99, base_failures, base_cpu)
        + "\n"
    )
    out.write(
        row("floor: upload + filing, 3 writes", floor_per_s, floor_p50, floor_p99, floor_failures, floor_cpu)
        + "\n"
    )
    out.write(row("intake: upload (100 KiB) + filing", per_s, p50, p99, failures, cpu) + "\n")
    verdict = "PASS" if of_floor >= TARGET else "FAIL"
    out.write(f"{'ratio intake/floor':<36}{of_floor:>10.3f}   target >= {TARGET}: {verdict}\n")
    rounds = " ".join(f"{r:.2f}" for r in paired)
    out.write(f"{'ratio intake/floor, per round':<36}{of_floor_paired:>10.3f}   median of: {rounds}\n")
    out.write(f"{'ratio intake/baseline':<36}{ratio:>10.3f}\n")
    out.write(f"{'ratio floor/baseline':<36}{floor_ratio:>10.3f}   (nothing checked, nothing guaranteed)\n")
    if of_floor < TARGET:
        out.write(
            f"BELOW TARGET: intake files {per_s:.1f}/s, {of_floor:.2f} of the floor's {floor_per_s:.1f}/s"
            f" (target {TARGET}).\n"
        )
    for run in (*baseline, *floor, *intake):
        if run.first_failure:
            kinds = ", ".join(f"{kind} x{count}" for kind, count in run.failure_kinds.items())
            out.write(f"failures in {run.name}: {kinds}; first: {run.first_failure}\n")
    result: dict[str, object] = {
        "bench": "intake_filing",
        "clients": args.clients,
        "intake_per_s": round(per_s, 1),
        "baseline_per_s": round(base_per_s, 1),
        "ratio": round(ratio, 4),
        "floor_per_s": round(floor_per_s, 1),
        "floor_ratio": round(floor_ratio, 4),
        "intake_of_floor": round(of_floor, 4),
        "intake_of_floor_per_round": [round(r, 4) for r in paired],
        "cpu_ms_per_op": {
            name: dict(zip(CPU_PARTS, (round(ms, 2) for ms in values), strict=True))
            for name, values in (("baseline", base_cpu), ("floor", floor_cpu), ("intake", cpu))
        },
        "p50_ms": None if math.isnan(p50) else round(p50, 1),
        "p99_ms": None if math.isnan(p99) else round(p99, 1),
        "target": TARGET,
    }
    out.write(json.dumps(result) + "\n")
    out.flush()
    return result


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    store_port, intake_port, baseline_port, floor_port = free_ports(4)
    ferretdb = FerretDB("ferretdb", workdir / "ferretdb", port=store_port)
    servers: list[Gunicorn] = []
    try:
        ferretdb.start()
        ferretdb.wait_ready()
        fill_intake_store(ferretdb.url)
        _, public_key = ensure_keypair(workdir / "keys")
        env = server_env(ferretdb.url, public_key, workdir)
        intake = Gunicorn("intake", workdir / "intake", app="intake.wsgi:app", port=intake_port, env=env)

        def plain(name: str, port: int, post_path: str) -> Gunicorn:
            # A plain Flask app has POST routes only: a 405 to GET on one means Flask answers.
            app = f"{name}_app:app"
            return Gunicorn(
                name, workdir / name, app=app, port=port, env=env, ready_path=post_path, ready_status=405
            )

        baseline = plain("baseline", baseline_port, "/insert")
        floor = plain("floor", floor_port, "/api/v1/uploads")
        servers += [intake, baseline, floor]
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()

        settings = ", ".join(
            f"{name}={os.environ.get(name, 'config default')}"
            for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS")
        )
        sys.stdout.write(
            f"intake filing benchmark: {args.clients} clients, {args.seconds:g} s per run after"
            f" {args.warmup:g} s warm-up, {args.rounds} rounds;"
            f" gunicorn -c deploy/gunicorn.conf.py ({settings})\n"
        )
        sys.stdout.write(header("run"))
        sys.stdout.flush()
        results: dict[str, list[RunResult]] = {"baseline": [], "floor": [], "intake": []}
        plans = {
            "baseline": (baseline, lambda: insert_operation(baseline.url)),
            "floor": (floor, lambda: filing_operation(floor.url)),
            "intake": (intake, lambda: filing_operation(intake.url)),
        }
        for round_ in range(1, args.rounds + 1):
            # Floor and intake swap places every round, so a drift of the machine's speed during a
            # round does not always favour the same one.
            order = ["baseline", "floor", "intake"] if round_ % 2 else ["baseline", "intake", "floor"]
            for name in order:
                server, make_operation = plans[name]
                assert server.proc is not None and ferretdb.proc is not None
                # Each process runs in its own session, so its process group is its pid.
                processes = {"server": server.proc.pid, "store": ferretdb.proc.pid}
                run = run_load(
                    f"{name} #{round_}", make_operation, args.clients, args.warmup, args.seconds, processes
                )
                results[name].append(run)
                sys.stdout.write(run_row(run) + "\n")
                sys.stdout.flush()
                for server in servers:
                    if server.proc is not None and server.proc.poll() is not None:
                        raise StartError(f"{server.name} exited during the run\n{server.log_tail()}")
        return report(args, results["baseline"], results["floor"], results["intake"])
    finally:
        for server in reversed(servers):
            server.stop()
        ferretdb.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per run (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each run")
    parser.add_argument(
        # Five rounds: the host's speed drifts between runs, and a median of five holds still.
        "--rounds",
        type=int,
        default=5,
        help="rounds of baseline, floor and intake runs (default 5)",
    )
    args = parser.parse_args(argv)
    return run_in_workdir(measure, args)


if __name__ == "__main__":
    sys.exit(main())
