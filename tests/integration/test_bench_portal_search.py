"""The portal search benchmark at a tiny size: it starts its store, indexes both corpora, runs
every query, finds something for each and prints its figures."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_search_benchmark_measures_both_sizes(monkeypatch, capsys) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("bench_portal_search")

    assert bench.main(["--sizes", "20,60", "--rounds", "1"]) == 0

    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "portal_search"
    small, large = result["sizes"]["20"], result["sizes"]["60"]
    assert small["documents"] == 45 and large["documents"] == 85  # with the 25 procedures
    for figures in (small, large):
        assert figures["all_found"] and figures["ms_per_query"] > 0 and figures["queries_per_s"] > 0
        # Every query asks the store something and reads what it finds, never a whole collection.
        assert 0 < figures["documents_read_per_query"] and figures["store_queries_per_query"] >= 1
    assert result["growth"]["time"] > 0 and result["growth"]["documents_read"] > 0
    assert "docs read" in out and "growth from 20 to 60 articles" in out
