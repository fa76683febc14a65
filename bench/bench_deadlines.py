"""Throughput of ``processing.deadlines.due_at`` against plain ``datetime + timedelta(days=n)``.

Run from the repository root (PYTHONPATH as for the tests)::

    PYTHONPATH=libs/eventkit:tools:services/intake:services/processing:services/notify:services/portal:. \
        .local/venv/bin/python bench/bench_deadlines.py [--n 100000] [--repeat 3] [--seed 20231027]

100,000 seeded random receipt instants over 2019-2027 with random legal times of 0-20 working
days, on the calendar seeded for 2019-2027. Each loop is timed ``--repeat`` times; the best run
counts. Prints a small table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from processing.calendar_seed import SEED_YEARS, calendar_from_years, default_year
from processing.deadlines import TZ, LegalTime, TimeUnit, due_at


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20231027)
    args = parser.parse_args(argv)

    calendar = calendar_from_years(default_year(year) for year in SEED_YEARS)
    rng = random.Random(args.seed)
    first = datetime(SEED_YEARS[0], 1, 1, tzinfo=TZ)
    seconds = int((datetime(SEED_YEARS[-1], 12, 31, 23, 59, tzinfo=TZ) - first).total_seconds())
    receipts = [first + timedelta(seconds=rng.randrange(seconds)) for _ in range(args.n)]
    amounts = [rng.randint(0, 20) for _ in range(args.n)]
    legal_times = {n: LegalTime(n, TimeUnit.WORKING_DAYS) for n in range(21)}
    work = [(r, legal_times[a]) for r, a in zip(receipts, amounts, strict=True)]
    plain = list(zip(receipts, amounts, strict=True))

    def engine() -> None:
        for received, legal in work:
            due_at(calendar, received, legal)

    def baseline() -> None:
        for received, n in plain:
            received + timedelta(days=n)

    def best(loop: Callable[[], None]) -> float:
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            loop()
            timings.append(time.perf_counter() - start)
        return min(timings)

    engine_s = best(engine)
    baseline_s = best(baseline)
    engine_per_s = args.n / engine_s
    baseline_per_s = args.n / baseline_s
    result: dict[str, object] = {
        "bench": "deadlines",
        "n": args.n,
        "engine_per_s": round(engine_per_s),
        "baseline_per_s": round(baseline_per_s),
        "ratio": round(engine_per_s / baseline_per_s, 4),
    }
    out = sys.stdout
    out.write(f"{'loop':<34}{'seconds':>10}{'dueDates/s':>14}\n")
    out.write(f"{'due_at (working days, calendar)':<34}{engine_s:>10.4f}{engine_per_s:>14,.0f}\n")
    out.write(f"{'datetime + timedelta(days=n)':<34}{baseline_s:>10.4f}{baseline_per_s:>14,.0f}\n")
    out.write(f"{'ratio engine/baseline':<34}{'':>10}{engine_per_s / baseline_per_s:>14.4f}\n")
    out.write(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
