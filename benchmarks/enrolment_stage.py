"""Enrolment-stage benchmark on Neijiang: time and memory, plus the headline figures it gives.

    PYTHONPATH=. python benchmarks/enrolment_stage.py --draws 200 [--rate-path target]

What is measured:
    * ``project_s``: demography.project_population of the graduated 2020 census (ages 0–19,
      school years 2020–2035, ``--draws`` draws, seed 20201101) — the stage's input;
    * ``stage_s``: enrollment.run_enrolment_stage on that frame (enrolment, indicators,
      teachers, capacity, city = Σ areas draw by draw);
    * ``peak_rss_mb``: peak resident memory of the process (resource.getrusage).
Appends one row to ``benchmarks/results/enrolment_stage.csv`` and writes the city headline
figures (mean and 80 % interval over draws) to ``benchmarks/results/enrolment_headlines_<rate_path>.csv``.
Numbers are estimates under the stage's default named assumptions (see README).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd

from njforecast.io import store as data
from njforecast import schema as S
from njforecast.areas import load_region
from njforecast.demography import graduate_single_ages, project_population
from njforecast.education.enrolment import run_enrolment_stage

RESULTS = HERE / "results"


def _q(x: pd.Series) -> dict:
    return {"mean": x.mean(), "lo80": x.quantile(0.1), "hi80": x.quantile(0.9)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--rate-path", default="hold", choices=["hold", "target"])
    args = ap.parse_args()
    region = load_region("neijiang")
    census = data.load_census(data.raw_dir() / "census" / "census_county_2020_sichuan.csv")
    census = census[census[S.AREA].isin([a.code for a in region.counties])]
    base = graduate_single_ages(census)
    t = time.perf_counter()
    pop = project_population(base, start_year=2020, end_year=2035, draws=args.draws,
                             seed=20201101, ages=range(20))
    project_s = time.perf_counter() - t
    t = time.perf_counter()
    out = run_enrolment_stage(pop, {"rate_path": args.rate_path}, region)
    stage_s = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    RESULTS.mkdir(exist_ok=True)
    row = pd.DataFrame([{"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                         "host_cpus": os.cpu_count(),
                         "python": platform.python_version(), "draws": args.draws,
                         "rate_path": args.rate_path, "population_rows": len(pop),
                         "project_s": round(project_s, 2), "stage_s": round(stage_s, 2),
                         "peak_rss_mb": round(rss)}])
    path = RESULTS / "enrolment_stage.csv"
    row.to_csv(path, mode="a", header=not path.exists(), index=False)
    print(row.to_string(index=False))

    city = region.code
    rows = []
    hs = out["hiring_summary"]
    h = hs[hs[S.AREA] == city]
    rows.append({"item": f"teachers hired to need {h[S.PERIOD].iloc[0]} (plan: >= "
                         f"{h[S.TARGET].iloc[0]:,.0f})", **_q(h[S.HIRES_NEEDED])})
    ind = out["indicators"]
    for name in ("kindergarten_children", "compulsory_enrolment", "senior_stage_enrolment",
                 "preschool_ger_3y", "senior_stage_ger"):
        for year in (2025, 2030, 2035):
            v = ind[(ind[S.AREA] == city) & (ind[S.YEAR] == year) & (ind[S.INDICATOR] == name)]
            rows.append({"item": f"{name} {year}", **_q(v[S.VALUE])})
    tch = out["teachers"]
    for year in (2025, 2035):
        v = tch[(tch[S.AREA] == city) & (tch[S.YEAR] == year)].groupby(S.DRAW)[S.SURPLUS].sum()
        rows.append({"item": f"teacher surplus (all levels) {year}", **_q(v)})
    cy = out["capacity_years"]
    over = cy[cy["n_years_over"] > 0]
    heads = pd.DataFrame(rows)
    heads["rate_path"], heads["draws"] = args.rate_path, args.draws
    heads.to_csv(RESULTS / f"enrolment_headlines_{args.rate_path}.csv", index=False,
                 float_format="%.2f")
    print(heads.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print("areas/levels over capacity in some year (mean over draws):")
    print(over[[S.AREA, S.LEVEL, "years_over", "max_utilisation"]].to_string(index=False)
          if len(over) else "  none")


if __name__ == "__main__":
    main()
