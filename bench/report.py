"""The performance report: docs/performance.md and its plots, written from the figures the
benchmarks saved (`run_all.py`). Every table says when and on what it was measured; a section
whose benchmark has not run says so."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Figures = dict[str, Any]
# For scale (issue figures): the demo district's centre, and GOV.UK Notify's API in 2019.
DISTRICT_PER_DAY = 50
NOTIFY_REQ_PER_S = 360
GROWTH_TARGET = 1.5
PLOTS = "performance"  # the plots' folder, beside the report

plt.rcParams.update({"svg.hashsalt": "motcua", "svg.fonttype": "none", "figure.dpi": 100})


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def load(results: Path) -> dict[str, Figures]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(results.glob("*.json"))}


def num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def pair(first: Any, second: Any, digits: int = 1) -> str:
    return f"{num(first, digits)} / {num(second, digits)}"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def stamp(figures: Figures) -> str:
    when = figures.get("finished", "date unknown")
    quick = " (quick run: small sizes)" if figures.get("quick") else ""
    return f"_Measured {when}{quick}, in {num(figures.get('section_seconds'), 0)} s._"


# -- plots -------------------------------------------------------------------------------------


def save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_latency(pipeline: Figures, path: Path) -> None:
    steps = pipeline["steps"]
    rates = [s["rate"] for s in steps]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in (
        ("filing_p50_ms", "filing p50"),
        ("filing_p99_ms", "filing p99"),
        ("email_p50_ms", "filed → email p50"),
        ("email_p99_ms", "filed → email p99"),
        ("receipt_p99_ms", "accepted → receipt email p99"),
    ):
        ax.plot(rates, [s[key] or math.nan for s in steps], marker="o", label=label)
    ax.axhline(500, color="grey", linestyle=":", label="500 ms (filing p99 limit)")
    ax.axhline(2000, color="black", linestyle=":", label="2 s (email p99 target)")
    front = pipeline["ceilings"]["front_door"]["per_s"]
    ax.axvline(front / 2, color="red", linestyle="--", label="half the front door's rate")
    ax.set_yscale("log")
    ax.set_xlabel("filings offered per second")
    ax.set_ylabel("ms")
    ax.set_title("Latency at rising rates")
    ax.legend(fontsize=7)
    save(fig, path)


def plot_lag(pipeline: Figures, path: Path) -> None:
    steps = pipeline["steps"]
    headline = next((s for s in steps if s["tag"] == pipeline.get("headline")), steps[-1])
    fig, (total, groups) = plt.subplots(1, 2, figsize=(11, 4))
    for s in steps:
        total.plot(
            [t for t, _ in s["lag"]], [sum(lag.values()) for _, lag in s["lag"]], label=f"{s['rate']:.0f}/s"
        )
    total.axvline(pipeline["settings"]["seconds"], color="grey", linestyle=":", label="load stops")
    total.set_xlabel("seconds since the step began")
    total.set_ylabel("records behind, all groups")
    total.set_title("Consumer lag per rate")
    total.legend(fontsize=7)
    names = sorted({g for _, lag in headline["lag"] for g in lag})
    for name in names:
        values = [lag.get(name, 0) for _, lag in headline["lag"]]
        if any(values):
            groups.plot([t for t, _ in headline["lag"]], values, label=name)
    groups.set_xlabel("seconds since the step began")
    groups.set_ylabel("records behind")
    groups.set_title(f"Lag per group at {headline['rate']:.0f}/s")
    groups.legend(fontsize=6)
    save(fig, path)


def plot_scaling(pipeline: Figures, path: Path) -> None:
    runs = pipeline["scaling"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    copies = [r["copies"] for r in runs]
    ax.bar(copies, [r["filings_per_s"] for r in runs], color="tab:blue", label="filings drained per second")
    ax.set_xlabel("worker processes per consuming group")
    ax.set_ylabel("filings per second")
    ax.set_xticks(copies)
    cores = ax.twinx()
    cores.plot(copies, [r["cores_used"] for r in runs], color="tab:red", marker="o", label="cores busy")
    cores.set_ylabel("cores busy")
    cores.set_ylim(0, max(2.2, max(r["cores_used"] for r in runs) * 1.2))
    ax.set_title("Scaling out the consumers")
    fig.legend(fontsize=7, loc="lower right")
    save(fig, path)


def plot_growth(rows: list[tuple[str, float]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh([name for name, _ in rows], [ratio for _, ratio in rows], color="tab:green")
    ax.axvline(GROWTH_TARGET, color="red", linestyle="--", label="target 1.5")
    ax.axvline(1.0, color="grey", linestyle=":")
    ax.set_xlabel("cost at the large size ÷ cost at the small size")
    ax.set_title("Growth with history")
    ax.legend(fontsize=7)
    save(fig, path)


# -- sections ----------------------------------------------------------------------------------


def machine_section(results: dict[str, Figures]) -> list[str]:
    facts = results.get("pipeline", {}).get("machine")
    lines = ["## The machine", ""]
    if not facts:
        return lines + ["The pipeline benchmark has not run: no machine recorded.", ""]
    lines += [
        f"- {facts['cores']} cores ({facts['cpu']}), {facts['memory_gib']} GiB; load average at the start"
        f" {', '.join(str(x) for x in facts['load_average'])}",
        f"- Kafka {facts['kafka']} (one KRaft broker from the Maven jars), FerretDB {facts['ferretdb']},"
        f" Mailpit {facts['mailpit']}",
        f"- Python {facts['python']}, Flask {facts['flask']}, gunicorn {facts['gunicorn']} (2 workers × 4"
        f" threads each API), pymongo {facts['pymongo']}, kafka-python {facts['kafka-python']}",
        "- Everything (infrastructure, 4 APIs, 4 workers, the load generator) on this one machine.",
        "",
    ]
    return lines


def summary_section(results: dict[str, Figures]) -> list[str]:
    rows: list[list[Any]] = []
    pipeline = results.get("pipeline")
    if pipeline:
        front = pipeline["ceilings"]["front_door"]["per_s"]
        head = headline_step(pipeline)
        rate = head["filed_per_s"] if head else None
        rows.append(
            [
                "headline rate ÷ intake's front door",
                f"{num(rate)} ÷ {num(front)} = {num(pipeline.get('headline_of_front_door'), 3)}",
                "≥ 0.5",
                verdict(bool(head) and (pipeline.get("headline_of_front_door") or 0) >= 0.5),
            ]
        )
        email = head["email_p99_ms"] if head else None
        rows.append(
            [
                "filed → email p99 at the headline rate",
                f"{num(email, 0)} ms",
                "< 2,000 ms",
                verdict(email is not None and email < 2000),
            ]
        )
        door = pipeline["ceilings"]["front_door"]
        rows.append(
            [
                "intake's front door ÷ the floor",
                num(door["of_floor"], 3),
                "≥ 0.75",
                verdict(door["of_floor"] >= 0.75),
            ]
        )
    intake = results.get("intake")
    if intake:
        ratio = intake["intake_of_floor"]
        rows.append(
            ["intake filing ÷ floor (intake benchmark)", num(ratio, 3), "≥ 0.75", verdict(ratio >= 0.75)]
        )
    for name, ratio in growth_rows(results):
        rows.append([f"growth: {name}", num(ratio, 2), "≤ 1.5", verdict(ratio <= GROWTH_TARGET)])
    notify = results.get("notify")
    if notify:
        for variant, label in (("slip", "with the signed slip"), ("plain", "without attachment")):
            if variant in notify:
                ratio = notify[variant]["ratio"]
                rows.append(
                    [f"notify emails {label} ÷ smtplib loop", num(ratio, 3), "≥ 0.7", verdict(ratio >= 0.7)]
                )
    lines = ["## Targets", ""]
    if not rows:
        return lines + ["No benchmark has run yet.", ""]
    return lines + table(["Figure", "Measured", "Target", ""], rows)


def headline_step(pipeline: Figures) -> Figures | None:
    return next((s for s in pipeline["steps"] if s["tag"] == pipeline.get("headline")), None)


def scale_section(results: dict[str, Figures]) -> list[str]:
    pipeline = results.get("pipeline")
    if not pipeline:
        return []
    head = headline_step(pipeline)
    rate = head["filed_per_s"] if head else 0.0
    front = pipeline["ceilings"]["front_door"]["per_s"]
    per_day = rate * 8 * 3600  # one 8-hour working day at the headline rate
    lines = ["## For scale", ""]
    lines += table(
        ["", "per second", "per 8-hour working day"],
        [
            [
                "Lương Tài's centre, 2019 (about 8,800 dossiers in 5½ months)",
                num(DISTRICT_PER_DAY / 8 / 3600, 4),
                f"about {DISTRICT_PER_DAY}",
            ],
            [
                "MotCua's headline: filings through the whole pipeline, every email sent",
                num(rate),
                num(round(per_day)),
            ],
            ["MotCua's intake front door alone", num(front), num(round(front * 8 * 3600))],
            ["GOV.UK Notify's API, 2019 (requests)", num(NOTIFY_REQ_PER_S), num(NOTIFY_REQ_PER_S * 8 * 3600)],
        ],
    )
    if rate:
        lines += [
            f"At the headline rate this one machine takes a district centre's day of filings in"
            f" {DISTRICT_PER_DAY / rate:.0f} s, about {per_day / DISTRICT_PER_DAY:,.0f} times the load."
            " GOV.UK Notify's 360 requests a second were one request per email; each of our filings is"
            " two requests at intake, then its events, its read models and its email, all on these 2 cores.",
            "",
        ]
    return lines


def pipeline_section(pipeline: Figures | None, out: Path) -> list[str]:
    lines = ["## The pipeline under load", ""]
    if not pipeline:
        return lines + ["`bench/bench_pipeline.py` has not run.", ""]
    settings = pipeline["settings"]
    lines += [
        stamp(pipeline),
        "",
        f"Online filings (a 100 KiB PDF upload, then the dossier) at fixed rates for {num(settings['seconds'], 0)} s"
        " each, open loop (a filing's latency counts from when it was due), every worker running;"
        f" the counter accepts every {settings['accept_every']}th filing as soon as processing has it."
        " *Email* is from intake's 201 to the \"Đã nhận hồ sơ\" email's arrival in Mailpit; *receipt* from"
        " processing's 200 to the accept to the arrival of the email carrying Mẫu 01. *Drained* is"
        " how long after the last filing every outbox was published, every group had committed to the"
        " end and every email had arrived. A rate is *held* when every filing succeeded, its p99 was under"
        f" {num(settings['p99_limit_ms'], 0)} ms and it drained within {num(settings['drain_limit_s'], 0)} s.",
        "",
    ]
    rows = []
    for s in pipeline["steps"]:
        rows.append(
            [
                num(s["rate"]),
                num(s["filed_per_s"]),
                pair(s["filing_p50_ms"], s["filing_p99_ms"], 0),
                pair(s["email_p50_ms"], s["email_p99_ms"], 0),
                pair(s["receipt_p50_ms"], s["receipt_p99_ms"], 0),
                num(s["drain_s"]),
                num(s["cores_used"], 2),
                ", ".join(f"{k} ×{v}" for k, v in s["errors"].items()) or "0",
                "held" if s["held"] else "not held",
            ]
        )
    lines += table(
        [
            "offered /s",
            "filed /s",
            "filing p50 / p99 ms",
            "email p50 / p99 ms",
            "receipt p50 / p99 ms",
            "drained s",
            "cores busy",
            "failures",
            "",
        ],
        rows,
    )
    head = headline_step(pipeline)
    if head:
        lines += [
            f"**Headline: {num(head['filed_per_s'])} filings a second** held end to end,"
            f" {num(pipeline['headline_of_front_door'], 3)} of the front door's {num(pipeline['ceilings']['front_door']['per_s'])}"
            f' (target 0.5), with "filed → email" p99 {num(head["email_p99_ms"], 0)} ms (target 2,000 ms).',
            "",
        ]
    else:
        lines += ["**No rate was held.**", ""]
    if not pipeline.get("target_met"):
        lines += why_missed(pipeline, head or pipeline["steps"][-1])
    plot_latency(pipeline, out / PLOTS / "pipeline-latency.svg")
    plot_lag(pipeline, out / PLOTS / "pipeline-lag.svg")
    lines += [
        f"![Latency at rising rates]({PLOTS}/pipeline-latency.svg)",
        "",
        f"![Consumer lag]({PLOTS}/pipeline-lag.svg)",
        "",
    ]
    lines += cpu_section(pipeline, head)
    lines += commands_section(pipeline, head)
    lines += memory_section(head or pipeline["steps"][-1])
    lines += profile_section(pipeline.get("profile"))
    return lines


def why_missed(pipeline: Figures, s: Figures) -> list[str]:
    """The target in CPU terms: every process shares the machine's cores, so the pipeline's rate is
    bounded by its CPU per filing, which the target compares with the front door's."""
    door = pipeline["ceilings"]["front_door"]["cpu_ms"]
    door_ms = door["server"] + door["store"]
    total = sum(s["cpu_ms_per_filing"].values())
    return [
        f"**Why the target is missed.** Every process here shares {pipeline['machine']['cores']} cores, so the"
        f" rates are set by CPU per filing. The front door costs {num(door_ms)} ms a filing (intake's API and"
        f" the store); the whole pipeline costs {num(total)} ms (every process, the load generator left out),"
        f" {num(total / door_ms if door_ms else 0)} times as much. Half the front door's rate would need the whole"
        f" pipeline at about {num(2 * door_ms)} ms. The tables below say where the rest goes: the store's commands,"
        " the broker, and the workers' own code (the profile).",
        "",
    ]


def cpu_section(pipeline: Figures, head: Figures | None) -> list[str]:
    s = head or pipeline["steps"][-1]
    costs = sorted(s["cpu_ms_per_filing"].items(), key=lambda item: -item[1])
    total = sum(c for _, c in costs)
    door = pipeline["ceilings"]["front_door"]["cpu_ms"]
    cores = pipeline["machine"]["cores"]
    largest = ", ".join(f"{n} {100 * c / total:.0f} %" for n, c in costs[:3]) if total else "–"
    lines = [
        f"### Where the CPU goes, at {num(s['rate'])} filings/s",
        "",
        "CPU per filing of each process (user + system, from /proc, over the step and its drain),"
        f" {num(total)} ms in all; the front door alone costs {num(door['server'])} ms in intake's API and"
        f" {num(door['store'])} ms in the store per filing. With {cores} cores the machine cannot file more than"
        f" {num(cores * 1000 / total if total else 0)} a second end to end. The largest shares: {largest}.",
        "",
    ]
    return lines + table(
        ["process", "CPU ms per filing", "share"],
        [[n, num(c, 2), f"{100 * c / total:.0f} %"] for n, c in costs if c > 0],
    )


def commands_section(pipeline: Figures, head: Figures | None) -> list[str]:
    s = head or pipeline["steps"][-1]
    every = s.get("store_commands_per_filing") or {}
    door = pipeline["ceilings"]["front_door"].get("store_commands_per_filing") or {}
    if not every:
        return []
    names = sorted(set(every) | set(door), key=lambda c: -every.get(c, 0))
    lines = [
        f"### Store commands per filing, at {num(s['rate'])} filings/s",
        "",
        "FerretDB's own count of the commands it answered (its Prometheus counter), over the step and its"
        " drain, divided by the filings; every service's reads and writes, the relays' and the inboxes'."
        f" In all {num(sum(every.values()))} a filing through the whole pipeline (every fifth also accepted),"
        f" against {num(sum(door.values()))} at the front door alone.",
        "",
    ]
    return lines + table(
        ["command", "whole pipeline", "front door"],
        [[c, num(every.get(c), 2), num(door.get(c), 2)] for c in names],
    )


def memory_section(s: Figures) -> list[str]:
    lines = [
        f"### Memory at {num(s['rate'])} filings/s",
        "",
        "Peak resident memory of each process group during the step (gunicorn's master and its workers summed), sampled every second.",
        "",
    ]
    return lines + table(["process", "peak RSS MiB"], [[n, num(v)] for n, v in s["peak_rss_mib"].items()])


def profile_section(profile: Figures | None) -> list[str]:
    if not profile:
        return []
    lines = [
        f"### Profile at the target rate ({num(profile['rate'])} filings/s)",
        "",
        "The target was missed, so one more step ran at half the front door's rate with py-spy sampling"
        " (while holding the GIL, 50 Hz) the processes that spent the most CPU per filing. *Project*"
        " is the innermost function of services/ or libs/ on the stack, with all it called; *library*"
        " is where the innermost frame was.",
        "",
    ]
    s = profile["step"]
    lines += [
        f"That step: {num(s['filed_per_s'])} filed/s, filing p99 {num(s['filing_p99_ms'], 0)} ms, email p99"
        f" {num(s['email_p99_ms'], 0)} ms, drained in {num(s['drain_s'])} s (py-spy's own sampling costs CPU too).",
        "",
    ]
    store = profile.get("store") or {}
    if "top" in store:
        lines += [
            "**ferretdb** (Go's CPU profile, `pprof -top`: CPU of each function itself, and with what it called)",
            "",
        ]
        lines += table(
            ["function", "flat %", "cum %"],
            [[f"`{n}`", num(flat), num(cum)] for n, flat, cum in store["top"]],
        )
    elif store:
        lines += [f"- ferretdb: no profile: `{store['error'].strip()[:200]}`", ""]
    for name, found in profile["processes"].items():
        if "error" in found:
            lines += [f"- {name}: py-spy failed: `{found['error'].strip()[:200]}`", ""]
            continue
        rows = []
        functions, packages = found["functions"], found["packages"]
        for i in range(max(len(functions), len(packages))):
            f = functions[i] if i < len(functions) else ["", None]
            p = packages[i] if i < len(packages) else ["", None]
            rows.append(
                [
                    f"`{f[0]}`" if f[0] else "",
                    num(f[1]) if f[1] is not None else "",
                    p[0],
                    num(p[1]) if p[1] is not None else "",
                ]
            )
        lines += [f"**{name}** ({num(found['samples'])} samples)", ""]
        lines += table(["project function", "%", "library", "%"], rows)
    return lines


def ceilings_section(pipeline: Figures | None) -> list[str]:
    lines = ["## Ceilings, measured in the same run", ""]
    if not pipeline:
        return lines + ["`bench/bench_pipeline.py` has not run.", ""]
    c = pipeline["ceilings"]
    kafka = c["kafka"]
    floor, door = c["floor"], c["front_door"]
    head = headline_step(pipeline)
    lines += [
        "The front door is intake's API with no worker running: 8 clients filing as fast as they are answered;"
        " the floor (`bench/floor_app.py`) answers the same two requests with three writes and no checks.",
        "",
    ]
    lines += table(
        ["", "per second", "p50 ms", "p99 ms", "CPU server ms", "CPU store ms", "of its ceiling"],
        [
            [
                "floor: upload + filing, 3 writes",
                num(floor["per_s"]),
                num(floor["p50_ms"]),
                num(floor["p99_ms"]),
                num(floor["cpu_ms"]["server"], 2),
                num(floor["cpu_ms"]["store"], 2),
                "",
            ],
            [
                "intake's front door (no worker)",
                num(door["per_s"]),
                num(door["p50_ms"]),
                num(door["p99_ms"]),
                num(door["cpu_ms"]["server"], 2),
                num(door["cpu_ms"]["store"], 2),
                f"{num(door['of_floor'], 3)} of the floor",
            ],
            [
                "the whole pipeline (headline)",
                num(head["filed_per_s"]) if head else "–",
                num(head["filing_p50_ms"], 0) if head else "–",
                num(head["filing_p99_ms"], 0) if head else "–",
                "",
                "",
                f"{num(pipeline.get('headline_of_front_door'), 3)} of the front door",
            ],
            [
                f"kafka-python producer, {num(kafka['event_bytes'])} B events (the relay's settings)",
                num(kafka["produced_per_s"]),
                "",
                "",
                "",
                "",
                "",
            ],
            ["kafka-python consumer, committing each poll", num(kafka["consumed_per_s"]), "", "", "", "", ""],
        ],
    )
    one = next((r for r in pipeline["scaling"] if r["copies"] == 1), None)
    if one:
        lines += [
            f"With one copy of each worker the consumers handled {num(one['events_per_s'])} events a second while"
            f" draining a backlog: {num(one['events_per_s'] / kafka['consumed_per_s'] if kafka['consumed_per_s'] else 0, 3)}"
            " of the raw consumer, the rest being the handlers' store work. The front door's own"
            f" {num(c['front_door_backlog'])} filings took {num(c['front_door_backlog_drain_s'])} s to publish and handle"
            " once the workers started.",
            "",
        ]
    return lines


def scaling_section(pipeline: Figures | None, out: Path) -> list[str]:
    lines = ["## Scaling out", ""]
    if not pipeline or not pipeline.get("scaling"):
        return lines + ["`bench/bench_pipeline.py` has not run.", ""]
    runs = pipeline["scaling"]
    lines += [
        f"A backlog of {num(runs[0]['filed'])} filings is filed with processing's, notify's and the portal's"
        " workers stopped (intake's relay publishes it), then 1, 2 and 3 copies of every worker drain it;"
        " each topic has 3 partitions, so up to 3 copies of a group share the work. Timed from starting the"
        " copies (their start-up included) to the last email.",
        "",
    ]
    lines += table(
        [
            "copies per group",
            "start-up s",
            "drained in s",
            "filings/s",
            "filings/s once running",
            "events handled/s",
            "cores busy",
        ],
        [
            [
                r["copies"],
                num(r["start_s"]),
                num(r["seconds"]),
                num(r["filings_per_s"]),
                num(r.get("running_filings_per_s")),
                num(r["events_per_s"]),
                num(r["cores_used"], 2),
            ]
            for r in runs
        ],
    )
    plot_scaling(pipeline, out / PLOTS / "scaling.svg")
    lines += [f"![Scaling out]({PLOTS}/scaling.svg)", ""]
    one, best = runs[0], max(runs, key=lambda r: r["filings_per_s"])
    cores = pipeline["machine"]["cores"]
    per_consumer = one.get("running_filings_per_s") or one["filings_per_s"]
    head = headline_step(pipeline) or pipeline["steps"][-1]
    cpu_ms = sum(head["cpu_ms_per_filing"].values())
    copies = "copy" if best["copies"] == 1 else "copies"
    lines += [
        f"Here every copy shares {cores} cores with the store, the broker and the sink: the best run"
        f" ({best['copies']} {copies} per group) drained {num(best['filings_per_s'])} filings a second with"
        f" {num(best['cores_used'], 2)} cores busy, so more copies cannot help once the cores are busy. Each"
        " topic has 3 partitions, so a group runs at most 3 consumers at once. With one copy the groups"
        f" drained {num(per_consumer)} filings a second once running: 3 copies on cores of their own would"
        f" reach about {num(3 * per_consumer)}, and at the {num(cpu_ms)} ms of CPU the whole pipeline spends"
        f" per filing (above) that takes about {num(3 * per_consumer * cpu_ms / 1000)} cores for all the"
        " processes, the store and the broker included. More partitions raise each group's ceiling; the"
        " workers' Deployments in `deploy/k8s` scale by replicas.",
        "",
    ]
    return lines


def processing_calls(processing: Figures) -> dict[str, Figures]:
    """The processing benchmark's calls (each with its latencies and ratios) among its figures."""
    return {name: v for name, v in processing.items() if isinstance(v, dict) and "ratios" in v}


def growth_rows(results: dict[str, Figures]) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    processing = results.get("processing")
    if processing:
        for name, value in processing_calls(processing).items():
            rows.append((f"processing {name}", max(value["ratios"])))
    portal = results.get("portal")
    if portal:
        for case in ("lookup", "search"):
            if case in portal:
                rows.append((f"portal {case}", portal[case]["growth"]))
    search = results.get("portal_search")
    if search:
        rows.append(("portal search index", max(search["growth"].values())))
    return rows


def growth_section(results: dict[str, Figures], out: Path) -> list[str]:
    lines = ["## Growth with history", ""]
    rows = growth_rows(results)
    if not rows:
        return lines + ["No growth benchmark has run.", ""]
    processing, portal, search = (
        results.get("processing"),
        results.get("portal"),
        results.get("portal_search"),
    )
    if processing:
        lines += [
            f"**Processing** (`bench/bench_processing.py`): {num(processing['small'])} and {num(processing['large'])}"
            " dossiers made from templates that went through processing's own handlers and actions, copied in"
            " bulk; the same open work in both. Ratio = large ÷ small.",
            "",
            stamp(processing),
            "",
        ]
        lines += table(
            ["call", "p50 ms small / large", "p99 ms small / large", "ratio p50 / p99"],
            [
                [
                    name,
                    pair(*v["p50_ms"]),
                    pair(*v["p99_ms"]),
                    pair(*v["ratios"], digits=2),
                ]
                for name, v in processing_calls(processing).items()
            ],
        )
        lines += [
            f"Accepting a dossier: {num(processing['accept_per_s'])}/s against {num(processing['update_per_s'])}/s for one"
            f" update by `_id` ({num(processing['actions_ratio'], 3)}).",
            "",
        ]
    if portal:
        small, large = portal["sizes"]["small"], portal["sizes"]["large"]
        lines += [
            f"**Portal** (`bench/bench_portal.py`): the read models at {num(small['dossiers'])} and {num(large['dossiers'])}"
            " dossiers, 8 clients for each case against a constant page on the same gunicorn settings.",
            "",
            stamp(portal),
            "",
        ]
        rows_portal = [["constant page (baseline)", num(portal["baseline"]["per_s"]), "", "", ""]]
        for case in ("lookup", "search"):
            if case in portal:
                c = portal[case]
                rows_portal.append(
                    [
                        case,
                        pair(c["small"]["per_s"], c["large"]["per_s"]),
                        pair(c["small"]["p99_ms"], c["large"]["p99_ms"]),
                        pair(c["ratio_small"], c["ratio_large"], 3),
                        num(c["growth"], 2),
                    ]
                )
        lines += table(
            ["case", "req/s small / large", "p99 ms small / large", "÷ baseline", "growth"], rows_portal
        )
    if search:
        sizes = search["sizes"]
        lines += [
            "**Portal search index** (`bench/bench_portal_search.py`), queries straight on the index:",
            "",
            stamp(search),
            "",
        ]
        lines += table(
            ["documents", "ms per query", "store queries per query", "documents read per query"],
            [
                [
                    num(v["documents"]),
                    num(v["ms_per_query"], 2),
                    num(v["store_queries_per_query"]),
                    num(v["documents_read_per_query"]),
                ]
                for v in sizes.values()
            ],
        )
    plot_growth(rows, out / PLOTS / "growth.svg")
    return lines + [f"![Growth]({PLOTS}/growth.svg)", ""]


def services_section(results: dict[str, Figures]) -> list[str]:
    lines = ["## Each service against its own baseline", ""]
    intake, notify, deadlines = results.get("intake"), results.get("notify"), results.get("deadlines")
    if intake:
        cpu = intake["cpu_ms_per_op"]
        lines += [
            "**Intake** (`bench/bench_intake.py`): 8 clients, alternating rounds.",
            "",
            stamp(intake),
            "",
        ]
        lines += table(
            ["server", "ops/s", "CPU server ms", "CPU store ms", "CPU client ms"],
            [
                [
                    "baseline: one insert of 100 KiB",
                    num(intake["baseline_per_s"]),
                    *(num(cpu["baseline"][p], 2) for p in ("server", "store", "client")),
                ],
                [
                    "floor: upload + filing, 3 writes",
                    num(intake["floor_per_s"]),
                    *(num(cpu["floor"][p], 2) for p in ("server", "store", "client")),
                ],
                [
                    "intake: upload + filing",
                    num(intake["intake_per_s"]),
                    *(num(cpu["intake"][p], 2) for p in ("server", "store", "client")),
                ],
            ],
        )
        rounds = " ".join(num(r, 2) for r in intake["intake_of_floor_per_round"])
        lines += [
            f"Intake ÷ floor: **{num(intake['intake_of_floor'], 3)}** (target 0.75; rounds {rounds}).",
            "",
        ]
    if notify:
        lines += [
            f"**Notify** (`bench/bench_notify.py`): a backlog of {num(notify['emails'])} notifications drained by the sender against a plain smtplib loop.",
            "",
            stamp(notify),
            "",
        ]
        rows = []
        for variant, label in (("plain", "without attachment"), ("slip", "with the signed slip")):
            if variant in notify:
                v = notify[variant]
                rows.append([label, num(v["notify_per_s"]), num(v["baseline_per_s"]), num(v["ratio"], 3)])
        lines += table(["emails", "notify /s", "smtplib /s", "ratio (target 0.7)"], rows)
        lines += [
            f"Letters (Mẫu 01): {num(notify['letters_rendered_per_s'])}/s rendered, {num(notify['letters_signed_per_s'])}/s rendered and signed ({num(notify['letters_ratio'], 3)}).",
            "",
        ]
    if deadlines:
        lines += [
            f"**Deadlines** (`bench/bench_deadlines.py`): {num(deadlines['engine_per_s'])} due times a second on the working-day calendar against {num(deadlines['baseline_per_s'])} for `datetime + timedelta` ({num(deadlines['ratio'], 3)}).",
            "",
            stamp(deadlines),
            "",
        ]
    if len(lines) == 2:
        lines += ["No service benchmark has run.", ""]
    return lines


def write(results: dict[str, Figures], out: Path) -> Path:
    """docs-like folder `out`: performance.md and performance/*.svg."""
    (out / PLOTS).mkdir(parents=True, exist_ok=True)
    pipeline = results.get("pipeline")
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`bench/run_all.py`, then `bench/report.py`) from the figures each benchmark"
        " saved in `.local/bench/results/`; rerun it to measure again (`make bench SECTIONS=pipeline` for one"
        " section; a section not rerun keeps its figures and their date). `make bench QUICK=1` is a smoke run"
        " at small sizes into `.local/bench/quick/`. Every figure is a ratio against a baseline measured in the"
        " same run, or a latency; no test asserts a time. How the services were made faster, and why the"
        " remaining costs are where they are: [performance-notes.md](performance-notes.md).",
        "",
    ]
    lines += machine_section(results)
    lines += summary_section(results)
    lines += scale_section(results)
    lines += pipeline_section(pipeline, out)
    lines += ceilings_section(pipeline)
    lines += scaling_section(pipeline, out)
    lines += growth_section(results, out)
    lines += services_section(results)
    path = out / "performance.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
