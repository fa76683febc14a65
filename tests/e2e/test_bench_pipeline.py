"""The pipeline benchmark at a tiny size, so its code cannot rot: it starts its own platform,
measures every section, and its figures hold together (every filing filed and emailed, the lag
sampled, the backlog drained by each number of copies). Then the report is written from them, and
`make bench`'s runner runs a section and saves its figures. Nothing here asserts a speed."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from devstack.paths import ROOT, VENV_BIN

pytestmark = pytest.mark.e2e

BENCH = ROOT / "bench"
TINY = ["--seconds", "3", "--ceiling-seconds", "2", "--ceiling-rounds", "1", "--fractions", "0.05,0.1"]
TINY += ["--backlog", "12", "--raw-events", "300", "--copies", "1,2", "--drain-limit", "60"]
PATHS = [
    "libs/eventkit",
    "libs/webui",
    "tools",
    *(f"services/{s}" for s in ("intake", "processing", "notify", "portal")),
]
# The benchmarks run as `make bench` runs them: their own processes, with the Makefile's PYTHONPATH.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([*(str(ROOT / p) for p in PATHS), str(ROOT)])}


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "pipeline.log"
    # The benchmark starts Kafka, FerretDB and Mailpit of its own.
    with out.open("w") as log:
        done = subprocess.run(
            [str(VENV_BIN / "python"), str(BENCH / "bench_pipeline.py"), *TINY, "--profile-seconds", "2"],
            cwd=ROOT,
            env=ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    text = out.read_text()
    assert done.returncode == 0, text[-4000:]
    return json.loads(text.strip().splitlines()[-1])


def test_the_ceilings_are_measured_beside_each_other(figures: dict) -> None:
    ceilings = figures["ceilings"]
    door, floor = ceilings["front_door"], ceilings["floor"]
    assert door["per_s"] > 0 and floor["per_s"] > 0 and door["failures"] == 0
    assert door["of_floor"] == pytest.approx(door["per_s"] / floor["per_s"], rel=0.01)
    assert door["cpu_ms"]["store"] > 0  # the front door writes to the store
    # The front door's filings were published and handled once the workers started.
    assert ceilings["front_door_backlog"] > 0 and ceilings["front_door_backlog_drain_s"] is not None
    kafka = ceilings["kafka"]
    assert kafka["consumed"] == kafka["records"] == 300
    assert kafka["event_bytes"] > 500  # a real intake.dossier.submitted envelope


def test_every_filing_of_every_rate_is_filed_emailed_and_drained(figures: dict) -> None:
    steps = figures["steps"]
    assert [s["tag"] for s in steps] == ["step1", "step2"]
    for s in steps:
        assert s["offered"] == s["filed"] > 0 and not s["errors"]
        assert s["emails_missing"] == 0 and s["receipts_missing"] == 0
        assert s["accepted"] == len(range(0, s["offered"], figures["settings"]["accept_every"]))
        assert s["filing_p50_ms"] <= s["filing_p99_ms"] and s["email_p50_ms"] <= s["email_p99_ms"]
        assert s["drain_s"] is not None
        # The lag was sampled through the step, for every consuming group.
        assert len(s["lag"]) >= 2 and "notify.intake-dossiers" in s["lag"][0][1]
        assert {"intake-api", "notify-worker", "kafka", "ferretdb"} <= set(s["peak_rss_mib"])
        assert s["cpu_ms_per_filing"]["intake-api"] > 0 and s["cpu_ms_per_filing"]["notify-worker"] > 0
    assert figures["headline"] in (None, "step1", "step2")


def test_the_backlog_is_drained_by_each_number_of_copies(figures: dict) -> None:
    runs = figures["scaling"]
    assert [r["copies"] for r in runs] == [1, 2]
    for run in runs:
        assert run["filed"] == 12 and run["seconds"] > 0 and run["events_per_s"] > 0


def test_a_missed_target_is_profiled_with_py_spy(figures: dict) -> None:
    # At these tiny rates the headline is far below half the front door: the profile runs.
    assert figures["target_met"] is False
    processes = figures["profile"]["processes"]
    assert processes and all("error" not in found for found in processes.values()), processes
    for found in processes.values():
        assert found["samples"] > 0 and found["packages"]


def test_the_report_is_written_from_the_figures(figures: dict, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    report = importlib.import_module("report")
    path = report.write({"pipeline": figures | {"finished": "now", "section_seconds": 1}}, tmp_path)
    text = path.read_text()
    for heading in (
        "## Targets",
        "## The pipeline under load",
        "## Ceilings",
        "## Scaling out",
        "## For scale",
    ):
        assert heading in text
    assert f"| {figures['steps'][0]['rate']:,.1f} |" in text  # the first rate's row
    assert "No growth benchmark has run." in text
    for plot in ("pipeline-latency.svg", "pipeline-lag.svg", "scaling.svg"):
        assert (tmp_path / "performance" / plot).stat().st_size > 1000
        assert f"(performance/{plot})" in text


def test_the_runner_saves_a_sections_figures_and_writes_the_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "python"), str(BENCH / "run_all.py"), "--quick", "--sections", "deadlines"]
        + ["--folder", str(tmp_path), "--out", str(tmp_path / "docs")],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    saved = json.loads((tmp_path / "results" / "deadlines.json").read_text())
    assert saved["bench"] == "deadlines" and saved["quick"] is True and saved["n"] == 20000
    text = (tmp_path / "docs" / "performance.md").read_text()
    assert f"{saved['engine_per_s']:,}" in text
    assert "`bench/bench_pipeline.py` has not run." in text
