"""The notify benchmark at a tiny size: it still starts its store and sink, sends every email of
both runs through notify and the baseline, signs letters, prints its figures and exits 0."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_notify_benchmark_measures_both_figures_at_a_tiny_size(monkeypatch, capsys) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench_notify = importlib.import_module("bench_notify")

    assert bench_notify.main(["--emails", "20", "--letters", "3", "--rounds", "2"]) == 0

    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "notify" and result["emails"] == 20
    for variant in ("plain", "slip"):
        figures = result[variant]
        # Every notification of the backlog delivered by notify's sender and held by the sink.
        assert figures["delivered"] == 20 and figures["in_sink"] == 20
        assert figures["notify_per_s"] > 0 and figures["baseline_per_s"] > 0
        assert figures["ratio"] == pytest.approx(
            figures["notify_per_s"] / figures["baseline_per_s"], rel=0.01
        )
        assert figures["cpu_ms_per_email"]["notify"]["store"] > 0  # the sender writes to the store
    # Signing is work on top of rendering: the signed rate is below the rendered one.
    assert 0 < result["letters_signed_per_s"] < result["letters_rendered_per_s"]
    assert 0 < result["letters_ratio"] < 1
    assert 40_000 < result["slip_bytes"] < 200_000  # a signed one-page slip
    assert "emails with the signed slip" in out and "WARNING" not in out
