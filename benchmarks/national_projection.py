"""Benchmark (not a test): every county of the 2010 census table projected to 2035 with draws.

Usage (from the repository root):
    /usr/bin/time -v python benchmarks/national_projection.py --draws 1000
    /usr/bin/time -v python benchmarks/national_projection.py --draws 100

Projects all county-level rows of ``data/raw/census/census_county_2010.xlsx`` (default
assumptions, seeded draws) year by year to 2035 in area chunks, keeping only the draw summaries
(mean, 80 % and 95 % intervals) of the school-age bands 3-5, 6-11, 12-14, 15-17, and appends
one line (date, machine, draws, areas, wall seconds, peak resident memory) to
``benchmarks/results/national_projection.csv``. The summary frame goes to
``benchmarks/results/national_projection_<draws>.csv.gz`` (not committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from njforecast import demography as dm  # noqa: E402
from njforecast import schema as S  # noqa: E402
from njforecast.io.store import load_census  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--to", type=int, default=2035)
    ap.add_argument("--seed", type=int, default=20201101)
    ap.add_argument("--chunk-size", type=int, default=50)
    args = ap.parse_args()

    t0 = time.perf_counter()
    cen = load_census(ROOT / "data" / "raw" / "census" / "census_county_2010.xlsx")
    cen = cen[~cen[S.AREA].str.endswith("00")]
    t_load = time.perf_counter() - t0
    base = dm.graduate_single_ages(cen)
    inputs = dm.prepare_inputs(base, dm.DemographicAssumptions(), args.to)
    t_prep = time.perf_counter() - t0 - t_load
    out = dm.project_population_summary(base, None, None, args.to, args.draws, args.seed,
                                        groups=dm.SCHOOL_BANDS, chunk_size=args.chunk_size,
                                        inputs=inputs)
    wall = time.perf_counter() - t0
    t_proj = wall - t_load - t_prep
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    out.to_csv(res / f"national_projection_{args.draws}.csv.gz", index=False)
    row = pd.DataFrame([{
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.python_version()}",
        "draws": args.draws, "areas": base[S.AREA].nunique(),
        "years": f"{inputs.census_year + 1}-{args.to}", "chunk_size": args.chunk_size,
        "load_s": round(t_load, 1), "prepare_s": round(t_prep, 1),
        "project_s": round(t_proj, 1), "wall_s": round(wall, 1),
        "peak_rss_mb": round(peak_mb)}])
    log = res / "national_projection.csv"
    row.to_csv(log, mode="a", header=not log.exists(), index=False)
    print(row.to_string(index=False))


if __name__ == "__main__":
    main()
