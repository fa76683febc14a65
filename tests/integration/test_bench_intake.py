"""The intake benchmark at a tiny size: it starts its store and three servers, files through the
floor and intake, inserts through the baseline, prints its figures and exits 0."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_intake_benchmark_measures_the_three_servers(monkeypatch, capsys) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("bench_intake")

    assert bench.main(["--clients", "2", "--seconds", "1.5", "--warmup", "0.5", "--rounds", "2"]) == 0

    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "intake_filing"
    assert result["intake_per_s"] > 0 and result["floor_per_s"] > 0 and result["baseline_per_s"] > 0
    assert result["intake_of_floor"] == pytest.approx(
        result["intake_per_s"] / result["floor_per_s"], rel=0.01
    )
    assert len(result["intake_of_floor_per_round"]) == 2
    # Every server writes to the store; intake checks more than the floor, on the server's side.
    for name in ("baseline", "floor", "intake"):
        assert result["cpu_ms_per_op"][name]["store"] > 0
    assert "failures in" not in out
