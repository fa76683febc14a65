"""The processing benchmark at a tiny size: templates through processing's own handlers and
actions, both stores loaded in bulk (with the counts the workflow keeps, so the seed counts
nothing again), every call measured on both, accepts against the one-update endpoint."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = ["--large", "400", "--small", "120", "--open", "40", "--requests", "6", "--rounds", "1"]
TINY += [
    "--procedures-per-unit",
    "1",
    "--clients",
    "2",
    "--seconds",
    "1",
    "--warmup",
    "0.5",
    "--action-rounds",
    "1",
]


def test_the_processing_benchmark_measures_every_call_at_both_sizes(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("bench_processing")

    assert bench.main([*TINY, "--store-dir", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "processing_scale" and (result["small"], result["large"]) == (120, 400)
    calls = {name: v for name, v in result.items() if isinstance(v, dict) and "ratios" in v}
    assert len(calls) == 5, calls
    for figures in calls.values():
        assert all(ms > 0 for ms in figures["p50_ms"] + figures["p99_ms"])
    assert result["worst_ratio"] == max(max(v["ratios"]) for v in calls.values())
    assert result["accept_per_s"] > 0 and result["update_per_s"] > 0
