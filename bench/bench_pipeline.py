"""The whole pipeline under load, beside its ceilings measured in the same run.

Run from the repository root (PYTHONPATH as for the tests; `make bench` runs it)::

    .local/venv/bin/python bench/bench_pipeline.py [--quick] [--seconds 60] [--fractions 0.1,0.2,0.3]

Starts a throwaway Kafka, FerretDB and Mailpit (keeping every message) and every Procfile process
on its own (`pipeline_platform.py`), then measures, in this order:

1. **Ceilings.** The front door: intake's API with no worker running, 8 clients filing online (a
   100 KiB PDF, then the dossier) as fast as they are answered; the floor (`floor_app.py`: the same
   two requests, three writes, nothing checked) beside it, in alternating rounds. Then the workers
   start and publish and handle that backlog; the time they take is reported. Raw kafka-python:
   copies of one of the platform's own `intake.dossier.submitted` records produced with the relay's
   settings to a 3-partition topic and consumed back (`kafka_ceiling.py`).
2. **Pipeline.** Online filings at fixed rates, fractions of the front door's (`--fractions`), each
   for `--seconds`, every worker running; the counter accepts every fifth filing once processing
   has it. Per rate: filings answered per second, p50/p99 of the filing (from when it was due), of
   "filed" → the "Đã nhận hồ sơ" email in Mailpit, of "accepted" → the receipt email with Mẫu 01,
   and how long after the load stopped every group's lag was back at zero with every email sent.
   Consumer lag per group and resident memory per process are sampled every second throughout.
   The headline is the highest rate whose filings all succeeded with p99 under 500 ms and that
   drained within 10 s.
3. **Profile.** When the headline misses its target (half the front door's rate, and
   "filed → email" p99 under 2 s), one more run at the target rate with py-spy sampling the
   processes that spent the most CPU per filing: where the time goes.
4. **Scaling out.** A backlog (`--backlog`) filed with processing's, notify's and the portal's
   workers stopped, then drained by 1, 2 and 3 copies of every worker (3 partitions per topic).

Prints the figures and ends with one JSON line of them (what `report.py` reads). A benchmark
reports; it does not fail the build.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kafka_ceiling
import machine
import pipeline_load
import profiles
from bench_intake import Gunicorn, RunResult, filing_operation, run_load, server_env
from harness import fill_defaults, run_in_workdir
from pipeline_load import Filing
from pipeline_platform import WORKERS, Platform, running_platform
from pymongo import MongoClient

from devstack.infra import FerretDB, StartError, free_ports, wait_until
from devstack.lag import LagProbe
from eventkit.outbox import PENDING
from intake import store as intake_store
from notify import store as notify_store
from portal import store as portal_store
from processing import store as processing_store

P99_LIMIT_MS = 500.0  # the headline rate's filings answer within this at the 99th percentile
DRAIN_LIMIT_S = 10.0  # and the lag is back at zero this long after the load stops
HEADLINE_TARGET = 0.5  # of the front door's rate
EMAIL_P99_TARGET_S = 2.0
ACCEPT_EVERY = 5
CLIENTS = 8
SAMPLE_S = 1.0
# Every service's collections with an outbox, by database.
OUTBOXES = [
    (f"motcua_{service.__name__.split('.')[0]}", name)
    for service in (intake_store, processing_store, notify_store, portal_store)
    for name in service.OUTBOX_COLLECTIONS
]
DEFAULTS: dict[str, Any] = {
    "seconds": 60.0,
    "ceiling_seconds": 15.0,
    "ceiling_rounds": 2,
    "warmup": 2.0,
    "fractions": (0.1, 0.2, 0.3, 0.4, 0.5),
    "drain_limit": 120.0,
    "backlog": 1500,
    "raw_events": 50_000,
    "copies": (1, 2, 3),
    "profile_seconds": 30.0,
}
QUICK: dict[str, Any] = {
    "seconds": 5.0,
    "ceiling_seconds": 2.0,
    "ceiling_rounds": 1,
    "warmup": 0.5,
    "fractions": (0.25, 0.5),
    "drain_limit": 30.0,
    "backlog": 60,
    "raw_events": 2_000,
    "copies": (1, 3),
    "profile_seconds": 0.0,
}


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank; None when there is nothing."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class Sampler(threading.Thread):
    """Every second: each group's lag, the offsets all groups committed, each process's memory."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(daemon=True)
        self.platform = platform
        self.samples: list[dict[str, Any]] = []
        self.halt = threading.Event()
        self.probe = LagProbe(platform.bootstrap)

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.time()
            try:
                lag, handled = self.probe.by_group()
                self.samples.append(
                    {"t": started, "lag": lag, "handled": handled, "rss": self.platform.rss_bytes()}
                )
            except Exception as exc:  # a sample lost to a broker hiccup is a gap, not the end
                say(f"sample failed: {type(exc).__name__}: {exc}")
            self.halt.wait(max(0.0, SAMPLE_S - (time.time() - started)))

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        return [s for s in self.samples if start <= s["t"] <= end]

    def stop(self) -> None:
        self.halt.set()
        self.join(10)
        self.probe.close()


def outboxes_pending(mongo: MongoClient[Any]) -> int:
    return sum(mongo[database][name].count_documents({PENDING: True}) for database, name in OUTBOXES)


def settled(platform: Platform, probe: LagProbe, mongo: MongoClient[Any], emails: int) -> bool:
    """Every outbox published, every group committed to the end, `emails` messages in Mailpit."""
    lag, _ = probe.by_group()
    return not any(lag.values()) and outboxes_pending(mongo) == 0 and platform.sink.count() >= emails


def wait_settled(
    platform: Platform, probe: LagProbe, mongo: MongoClient[Any], emails: int, limit: float
) -> float | None:
    """Seconds until settled (polled every half second), None past `limit`."""
    start = time.time()
    while time.time() - start < limit:
        if settled(platform, probe, mongo, emails):
            return time.time() - start
        time.sleep(0.5)
    return None


def closed_run(name: str, url: str, args: argparse.Namespace, pids: dict[str, int]) -> RunResult:
    run = run_load(name, lambda: filing_operation(url), CLIENTS, args.warmup, args.ceiling_seconds, pids)
    say(
        f"{name:<28}{run.per_s:>8.1f}/s  p50 {run.percentile_ms(50):>7.1f} ms"
        f"  p99 {run.percentile_ms(99):>7.1f} ms"
    )
    return run


def ceilings(
    args: argparse.Namespace, platform: Platform, mongo: MongoClient[Any], workdir: Path
) -> dict[str, Any]:
    """The front door (no worker running) against the floor, alternating rounds; and the store
    commands a filing at the front door costs."""
    intake_dossiers = mongo["motcua_intake"]["dossiers"]
    ferretdb = platform.infra["ferretdb"]
    assert ferretdb.proc is not None
    floor = Gunicorn(
        "floor",
        workdir / "floor",
        app="floor_app:app",
        port=free_ports(1)[0],
        env=server_env(ferretdb.url, platform.public_key, workdir),
        ready_path="/api/v1/uploads",
        ready_status=405,
    )
    floor.start()
    try:
        floor.wait_ready()
        platform.stop_workers()
        runs: dict[str, list[RunResult]] = {"floor": [], "front_door": []}
        door_commands: dict[str, float] = {}
        door_filed = 0  # warm-ups included: the backlog the workers later publish and handle
        for round_ in range(args.ceiling_rounds):
            order = ["floor", "front_door"] if round_ % 2 == 0 else ["front_door", "floor"]
            for name in order:
                if name == "floor":
                    assert floor.proc is not None
                    pids = {"server": floor.proc.pid, "store": ferretdb.proc.pid}
                    runs[name].append(closed_run("floor", floor.url, args, pids))
                else:
                    pids = {"server": platform.processes.pid("intake-api"), "store": ferretdb.proc.pid}
                    commands, dossiers = platform.store_commands(), intake_dossiers.estimated_document_count()
                    runs[name].append(
                        closed_run("front door (no worker)", platform.url("intake"), args, pids)
                    )
                    filed = intake_dossiers.estimated_document_count() - dossiers  # the warm-up's too
                    door_commands = per_filing(platform.store_commands(), commands, filed)
                    door_filed += filed
    finally:
        floor.stop()
    out: dict[str, Any] = {}
    for name, done in runs.items():
        out[name] = {
            "per_s": round(statistics.median(r.per_s for r in done), 1),
            "p50_ms": round(statistics.median(r.percentile_ms(50) for r in done), 1),
            "p99_ms": round(statistics.median(r.percentile_ms(99) for r in done), 1),
            "failures": sum(r.failures for r in done),
            "filed": sum(len(r.latencies) for r in done),
            "cpu_ms": {
                part: round(statistics.median(r.cpu_ms_per_op(part) for r in done), 2)
                for part in ("server", "store", "client")
            },
        }
    out["front_door"]["of_floor"] = round(out["front_door"]["per_s"] / out["floor"]["per_s"], 3)
    out["front_door"]["store_commands_per_filing"] = door_commands
    out["front_door"]["backlog"] = door_filed
    return out


@dataclass
class Window:
    """What was read around one step: when it began, when its last filing was answered, when it
    had drained (None: not within the limit), and each process's CPU seconds and the store's
    commands before and after."""

    started: float
    cpu_before: dict[str, float]
    commands_before: dict[str, int]
    load_end: float = 0.0
    ended: float = 0.0
    drained: float | None = None
    cpu_after: dict[str, float] = field(default_factory=dict)
    commands_after: dict[str, int] = field(default_factory=dict)

    def cpu(self, name: str) -> float:
        return self.cpu_after[name] - self.cpu_before.get(name, 0.0)


def step(
    args: argparse.Namespace,
    platform: Platform,
    sampler: Sampler,
    probe: LagProbe,
    mongo: MongoClient[Any],
    tag: str,
    rate: float,
) -> dict[str, Any]:
    """Filings at `rate` for `args.seconds`, then until settled: the step's figures."""
    platform.sink.empty()
    window = Window(time.time(), platform.cpu_seconds(), platform.store_commands())
    filings = pipeline_load.paced(platform, tag, rate, args.seconds, ACCEPT_EVERY)
    window.load_end = max((f.filed or 0.0) for f in filings)
    expected = sum(1 for f in filings if f.filed) + sum(1 for f in filings if f.accepted)
    window.drained = wait_settled(platform, probe, mongo, expected, args.drain_limit)
    window.ended = time.time()
    window.cpu_after, window.commands_after = platform.cpu_seconds(), platform.store_commands()
    mails = pipeline_load.mail_times(platform)
    return summarize(
        tag, rate, args.seconds, filings, mails, window, sampler.between(window.started, window.ended)
    )


def summarize(
    tag: str,
    rate: float,
    seconds: float,
    filings: list[Filing],
    mails: dict[tuple[str, str], float],
    window: Window,
    samples: list[dict[str, Any]],
) -> dict[str, Any]:
    filed = [f for f in filings if f.filed is not None]
    latencies = [f.latency for f in filed if f.latency is not None]
    to_email = [
        mails[(f.email, "received")] - f.filed for f in filed if (f.email, "received") in mails and f.filed
    ]
    accepted = [f for f in filings if f.accepted is not None]
    to_receipt = [
        mails[(f.email, "accepted")] - f.accepted
        for f in accepted
        if (f.email, "accepted") in mails and f.accepted
    ]
    peaks: dict[str, int] = {}
    for sample in samples:
        for name, rss in sample["rss"].items():
            peaks[name] = max(peaks.get(name, 0), rss)
    cpu_ms = {name: round(window.cpu(name) / max(1, len(filed)) * 1000, 2) for name in window.cpu_after}
    figures: dict[str, Any] = {
        "tag": tag,
        "rate": round(rate, 2),
        "seconds": seconds,
        "offered": len(filings),
        "filed": len(filed),
        # Over the offered window, or longer when the answers came later.
        "filed_per_s": round(len(filed) / max(seconds, window.load_end - filings[0].due), 2),
        "errors": dict(Counter(f.error for f in filings if f.error)),
        "filing_p50_ms": ms(percentile(latencies, 50)),
        "filing_p99_ms": ms(percentile(latencies, 99)),
        "email_p50_ms": ms(percentile(to_email, 50)),
        "email_p99_ms": ms(percentile(to_email, 99)),
        "emails_missing": len(filed) - len(to_email),
        "accepted": len(accepted),
        "receipt_p50_ms": ms(percentile(to_receipt, 50)),
        "receipt_p99_ms": ms(percentile(to_receipt, 99)),
        "receipts_missing": len(accepted) - len(to_receipt),
        "drain_s": None if window.drained is None else round(window.drained, 1),
        "load_s": round(window.load_end - window.started, 1),
        "cpu_ms_per_filing": cpu_ms,
        "cores_used": round(
            sum(window.cpu(n) for n in window.cpu_after) / max(1e-9, window.ended - window.started), 2
        ),
        "store_commands_per_filing": per_filing(window.commands_after, window.commands_before, len(filed)),
        "peak_rss_mib": {name: round(rss / 2**20, 1) for name, rss in sorted(peaks.items())},
        "lag": [[round(s["t"] - window.started, 1), s["lag"]] for s in samples],
    }
    figures["held"] = held(figures)
    say(
        f"{tag:<10} {rate:>6.1f}/s offered  {figures['filed_per_s']:>6.1f}/s filed"
        f"  filing p50/p99 {figures['filing_p50_ms']}/{figures['filing_p99_ms']} ms"
        f"  email p50/p99 {figures['email_p50_ms']}/{figures['email_p99_ms']} ms"
        f"  receipt p99 {figures['receipt_p99_ms']} ms  drained {figures['drain_s']} s"
        f"  errors {figures['errors'] or 0}  {'held' if figures['held'] else 'not held'}"
    )
    return figures


def per_filing(after: dict[str, int], before: dict[str, int], filed: int) -> dict[str, float]:
    """Store commands per filing by command, the connection handshakes and pings left out."""
    skip = {"ismaster", "isMaster", "hello", "ping", "buildInfo", "buildinfo", "endSessions"}
    counts = {c: (n - before.get(c, 0)) / max(1, filed) for c, n in after.items() if c not in skip}
    return {c: round(n, 2) for c, n in sorted(counts.items(), key=lambda item: -item[1]) if n > 0}


def held(figures: dict[str, Any]) -> bool:
    """Every filing answered within the latency limit at p99, every email sent, drained in time."""
    return (
        not figures["errors"]
        and figures["filed"] == figures["offered"]
        and figures["filing_p99_ms"] is not None
        and figures["filing_p99_ms"] < P99_LIMIT_MS
        and figures["emails_missing"] == 0
        and figures["receipts_missing"] == 0
        and figures["drain_s"] is not None
        and figures["drain_s"] <= DRAIN_LIMIT_S
    )


def scaling(
    args: argparse.Namespace, platform: Platform, probe: LagProbe, mongo: MongoClient[Any], copies: int
) -> dict[str, Any]:
    """A backlog filed with the consuming workers stopped, then drained by `copies` of each."""
    platform.stop_workers()
    platform.start_workers(1, ("intake-worker",))
    platform.sink.empty()
    filings = pipeline_load.as_fast_as_possible(platform, f"scale{copies}", args.backlog, CLIENTS)
    filed = sum(1 for f in filings if f.filed)
    # Until the relay has published the backlog: then only the consumers are left to work.
    if not wait_until(lambda: outboxes_pending(mongo) == 0, 300, 0.5):
        raise StartError("intake's relay did not publish the backlog")
    started = time.time()
    cpu_before = platform.cpu_seconds()
    _, handled_before = probe.by_group()
    platform.start_workers(copies, WORKERS)
    running, emailed = time.time(), platform.sink.count()
    took = wait_settled(platform, probe, mongo, filed, 900)
    if took is None:
        raise StartError(f"{copies} copies did not drain the backlog in 900 s")
    ended = time.time()
    seconds = ended - started
    cpu_after = platform.cpu_seconds()
    _, handled_after = probe.by_group()
    figures = {
        "copies": copies,
        "filed": filed,
        "start_s": round(running - started, 1),
        "seconds": round(seconds, 1),
        "filings_per_s": round(filed / seconds, 1),
        # Once every copy ran: what was left of the backlog over the time it took.
        "running_filings_per_s": round((filed - emailed) / max(1e-9, ended - running), 1),
        "events_per_s": round((handled_after - handled_before) / seconds, 1),
        "cores_used": round(sum(cpu_after[n] - cpu_before.get(n, 0.0) for n in cpu_after) / seconds, 2),
    }
    say(
        f"{copies} copies per group: {filed} filings drained in {figures['seconds']} s"
        f" (the copies running after {figures['start_s']} s), {figures['filings_per_s']}/s,"
        f" {figures['events_per_s']} events/s handled, {figures['cores_used']} cores busy"
    )
    return figures


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    facts = machine.facts()
    say(f"pipeline benchmark on {facts['cores']} cores, {facts['memory_gib']} GiB; Kafka {facts['kafka']}")
    with running_platform(workdir) as platform:
        ferretdb = platform.infra["ferretdb"]
        mongo: MongoClient[Any] = MongoClient(ferretdb.url)  # type: ignore[attr-defined]
        probe = LagProbe(platform.bootstrap)
        sampler = Sampler(platform)
        sampler.start()
        try:
            ceiling = ceilings(args, platform, mongo, workdir)
            backlog = ceiling["front_door"]["backlog"]
            platform.start_workers()
            drain = wait_settled(platform, probe, mongo, 0, 1800)
            say(f"the front door's {backlog} filings published and handled in {drain} s once the workers ran")
            event = kafka_ceiling.sample_event(platform.bootstrap, "intake.dossiers.v1")
            raw = kafka_ceiling.measure(platform.bootstrap, event, args.raw_events)
            say(
                f"raw kafka-python ({raw['event_bytes']} B events): {raw['produced_per_s']}/s produced,"
                f" {raw['consumed_per_s']}/s consumed"
            )
            front = ceiling["front_door"]["per_s"]
            steps: list[dict[str, Any]] = []
            for n, fraction in enumerate(args.fractions):
                steps.append(step(args, platform, sampler, probe, mongo, f"step{n + 1}", fraction * front))
                if len(steps) >= 2 and not steps[-1]["held"] and not steps[-2]["held"]:
                    break  # two rates in a row not held: higher ones will not be
            passed = [s for s in steps if s["held"]]
            headline = max(passed, key=lambda s: s["rate"]) if passed else None
            met = bool(
                headline
                and headline["rate"] >= HEADLINE_TARGET * front
                and (headline["email_p99_ms"] or math.inf) < EMAIL_P99_TARGET_S * 1000
            )
            profile: dict[str, Any] | None = None
            if not met and args.profile_seconds > 0:
                profile = profiled_step(args, platform, sampler, probe, mongo, HEADLINE_TARGET * front, steps)
            scale = [scaling(args, platform, probe, mongo, k) for k in args.copies]
        finally:
            sampler.stop()
            probe.close()
            mongo.close()
    result: dict[str, Any] = {
        "bench": "pipeline",
        "machine": facts,
        "settings": {
            "seconds": args.seconds,
            "fractions": list(args.fractions),
            "accept_every": ACCEPT_EVERY,
            "clients_closed_loop": CLIENTS,
            "p99_limit_ms": P99_LIMIT_MS,
            "drain_limit_s": DRAIN_LIMIT_S,
        },
        "ceilings": ceiling
        | {"kafka": raw, "front_door_backlog_drain_s": drain, "front_door_backlog": backlog},
        "steps": steps,
        "headline": None if headline is None else headline["tag"],
        "headline_of_front_door": None if headline is None else round(headline["filed_per_s"] / front, 3),
        "target_met": met,
        "targets": {"of_front_door": HEADLINE_TARGET, "email_p99_s": EMAIL_P99_TARGET_S},
        "profile": profile,
        "scaling": scale,
    }
    say(json.dumps(result, ensure_ascii=False))
    return result


def profiled_step(
    args: argparse.Namespace,
    platform: Platform,
    sampler: Sampler,
    probe: LagProbe,
    mongo: MongoClient[Any],
    rate: float,
    steps: list[dict[str, Any]],
) -> dict[str, Any]:
    """One more step at `rate` with py-spy on the processes that spent the most CPU per filing in
    the measured step nearest that rate."""
    nearest = min(steps, key=lambda s: abs(s["rate"] - rate))
    costs = {n: c for n, c in nearest["cpu_ms_per_filing"].items() if n in platform.processes.procs}
    top = sorted(costs, key=costs.__getitem__, reverse=True)[:4]
    say(f"profiling {', '.join(top)} at {rate:.1f}/s for {args.profile_seconds:g} s")
    recorders = profiles.record(
        {name: platform.processes.pid(name) for name in top}, args.profile_seconds, platform.processes.log_dir
    )
    ferretdb = platform.infra["ferretdb"]
    assert isinstance(ferretdb, FerretDB)
    store = profiles.GoProfile(
        f"http://127.0.0.1:{ferretdb.debug_port}",
        args.profile_seconds,
        platform.processes.log_dir / "ferretdb.pprof",
    )
    figures = step(args, platform, sampler, probe, mongo, "profiled", rate)
    found = profiles.collect(recorders)
    return {
        "rate": round(rate, 2),
        "step": figures | {"lag": []},
        "processes": found,
        "store": store.summary(),
    }


def floats(value: str) -> tuple[float, ...]:
    return tuple(float(v) for v in value.split(","))


def ints(value: str) -> tuple[int, ...]:
    return tuple(int(v) for v in value.split(","))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help="seconds of load per rate (default 60)")
    parser.add_argument("--ceiling-seconds", type=float, help="seconds per ceiling run (default 15)")
    parser.add_argument("--ceiling-rounds", type=int, help="rounds of floor and front door (default 2)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each ceiling run (default 2)")
    parser.add_argument("--fractions", type=floats, help="rates as fractions of the front door's")
    parser.add_argument("--drain-limit", type=float, help="seconds a step may take to drain (default 120)")
    parser.add_argument("--backlog", type=int, help="filings drained in the scaling runs (default 1500)")
    parser.add_argument("--raw-events", type=int, help="records of the raw Kafka runs (default 50,000)")
    parser.add_argument("--copies", type=ints, help="worker copies of the scaling runs (default 1,2,3)")
    parser.add_argument("--profile-seconds", type=float, help="py-spy run when a target misses (0: none)")
    parser.add_argument("--quick", action="store_true", help=f"short runs: {QUICK}")
    args = parser.parse_args(argv)
    fill_defaults(args, QUICK if args.quick else DEFAULTS)
    return run_in_workdir(measure, args, ("ferretdb", "mailpit"))


if __name__ == "__main__":
    sys.exit(main())
