"""In-process latency of the served scenario engine, for this checkout or another (before/after).

Usage (from the repository root):
    python benchmarks/serve_latency.py [--code DIR] [--label NAME] [--requests 20]

Creates ``njforecast.tracking.ScenarioEngine`` (what ``mlflow.pyfunc.load_model`` builds) on the
bundled Neijiang config and times ``predict`` for distinct one-row requests (200 draws to 2035,
other lever values each time, so no answer is reused): the engine's creation, the first request
and the median of the rest. ``--code DIR`` runs the same measurement on another checkout (e.g. a
worktree of an older commit) in a subprocess with that tree first on the path. Appends a row to
``benchmarks/results/serve_latency.csv`` (label, date, load average, milliseconds).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = r'''
import os, statistics, sys, time
import pandas as pd
from njforecast.tracking import ScenarioEngine
n = int(sys.argv[1])
t = time.perf_counter(); eng = ScenarioEngine("experiments/neijiang-baseline/config.toml")
init = time.perf_counter() - t
def req(i):
    names = ["baseline", "low_fertility", "high_out_migration", "class_caps_45_50"]
    return pd.DataFrame([{"scenario": names[i % 4], "draws": 200, "end_year": 2035,
                          "fertility_multiplier": round(0.6 + 0.003 * i, 4),
                          "migration_multiplier": round(0.8 + 0.002 * i, 4)}])
t = time.perf_counter(); eng.predict(req(0)); first = time.perf_counter() - t
ts = []
for i in range(1, n + 1):
    t = time.perf_counter(); eng.predict(req(i)); ts.append(time.perf_counter() - t)
print(f"{init * 1000:.0f} {first * 1000:.0f} {statistics.median(ts) * 1000:.0f}")
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout to measure")
    ap.add_argument("--label", default="this checkout")
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    code = args.code.resolve()
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(args.requests)], cwd=code, env=env,
                         capture_output=True, text=True, check=True)
    init, first, median = (float(x) for x in out.stdout.split()[-3:])
    row = {"label": args.label, "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
           "load_1min": round(os.getloadavg()[0], 1), "create_ms": init, "first_ms": first,
           f"median_of_{args.requests}_ms": median}
    path = ROOT / "benchmarks" / "results" / "serve_latency.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)
    print(row)


if __name__ == "__main__":
    main()
