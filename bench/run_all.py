"""`make bench`: every benchmark, each in its own process, its output shown and kept, its figures
(the JSON line it ends with) saved; then the report (`report.py`) written from them.

    .local/venv/bin/python bench/run_all.py [--quick] [--sections pipeline,portal] [--out DIR]

Without `--quick` the figures go to .local/bench/results/ and the report to docs/performance.md
(plots in docs/performance/). A section not run this time keeps its last figures, dated. With
`--quick` every section runs at small sizes (under five minutes in all) into .local/bench/quick/:
a smoke run, whose figures say little.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import report

from devstack.paths import LOCAL, ROOT, VENV_BIN

# Section → (the script and its arguments, what --quick adds).
SECTIONS: dict[str, tuple[list[str], list[str]]] = {
    "deadlines": (["bench_deadlines.py"], ["--n", "20000"]),
    "intake": (["bench_intake.py"], ["--rounds", "1", "--seconds", "3", "--warmup", "1"]),
    # The million-dossier store loads once (about 35 minutes) and is kept for the next runs.
    "processing": (
        ["bench_processing.py"],
        ["--large", "10000", "--small", "1000", "--open", "100", "--requests", "40", "--rounds", "1"]
        + ["--seconds", "3", "--warmup", "1", "--action-rounds", "1", "--procedures-per-unit", "1"],
    ),
    "notify": (["bench_notify.py"], ["--quick"]),
    "portal_search": (["bench_portal_search.py"], ["--quick"]),
    "portal": (["bench_portal.py"], ["--quick"]),
    "pipeline": (["bench_pipeline.py"], ["--quick"]),
}
BENCH = ROOT / "bench"


def command(section: str, quick: bool, folder: Path) -> list[str]:
    script, quick_args = SECTIONS[section]
    argv = [str(VENV_BIN / "python"), str(BENCH / script[0]), *script[1:]]
    if section == "processing":
        argv += ["--store-dir", str(folder / "processing")]
    return argv + (quick_args if quick else [])


def run_section(section: str, quick: bool, folder: Path) -> dict[str, object] | None:
    """Runs one benchmark, its output shown and written to logs/<section>.log; its figures, or
    None when it ended without them."""
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    last_json: dict[str, object] | None = None
    with (logs / f"{section}.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            command(section, quick, folder),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            if line.startswith("{"):
                try:
                    last_json = json.loads(line)
                except ValueError:
                    pass
        proc.wait()
    took = time.monotonic() - started
    if proc.returncode != 0 or last_json is None:
        sys.stdout.write(f"== {section}: no figures (exit {proc.returncode}); see {logs / section}.log\n")
        return None
    figures = last_json | {"section_seconds": round(took), "quick": quick, "finished": report.now_text()}
    sys.stdout.write(f"== {section} done in {took:.0f} s\n")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, every section in a few minutes")
    parser.add_argument("--sections", help=f"comma-separated, of {', '.join(SECTIONS)} (default all)")
    parser.add_argument("--out", type=Path, help="where the report goes (default docs/, or the quick folder)")
    parser.add_argument("--folder", type=Path, help="figures, logs and stores (default .local/bench[/quick])")
    args = parser.parse_args(argv)
    sections = args.sections.split(",") if args.sections else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    folder = args.folder or LOCAL / "bench" / ("quick" if args.quick else "")
    results = folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    failed = []
    for section in sections:
        figures = run_section(section, args.quick, folder)
        if figures is None:
            failed.append(section)
            continue
        (results / f"{section}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    out = args.out or (folder if args.quick else ROOT / "docs")
    written = report.write(report.load(results), out)
    sys.stdout.write(f"report: {written}\n")
    if failed:
        sys.stdout.write(f"sections without figures: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
