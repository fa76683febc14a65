"""The portal benchmark at a tiny size: it starts its store and servers, loads both stores, serves
every lookup and search over HTTP and prints its figures."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_portal_benchmark_measures_lookup_and_search_at_both_sizes(monkeypatch, capsys) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("bench_portal")

    argv = ["--small", "30,5", "--large", "120,20", "--clients", "2", "--seconds", "1", "--warmup", "0.3"]
    assert bench.main([*argv, "--rounds", "1"]) == 0

    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "portal"
    assert result["sizes"]["small"]["dossiers"] == 30 and result["sizes"]["large"]["articles"] == 20
    assert result["baseline"]["per_s"] > 0 and result["baseline"]["failures"] == 0
    for case in ("lookup", "search"):
        figures = result[case]
        for size in ("small", "large"):
            # Every request answered as expected: the dossier's status, a list of results.
            assert figures[size]["per_s"] > 0 and figures[size]["failures"] == 0
            assert figures[size]["p99_ms"] >= figures[size]["p50_ms"] > 0
            assert figures[size]["cpu_ms_store"] > 0  # served from the store, not a cache
        assert figures["growth"] == max(figures["growth_throughput"], figures["growth_p99"])
        assert figures["ratio_small"] == pytest.approx(
            figures["small"]["per_s"] / result["baseline"]["per_s"], rel=0.01
        )
    assert 0 < result["hash_ms"] < 50
    assert "secret hash check" in out and "first failure" not in out
