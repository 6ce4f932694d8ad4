"""Accuracy study (not a test): the county-signal weights of issue 17, chosen on half A only.

Usage (from the repository root):
    /usr/bin/time -v python benchmarks/county_signals_grid.py

Protocol (pre-registered in :mod:`njforecast.demography.signals` before any score was seen):
the Sichuan counties of the 2010 → 2020 census back-test (the same counties and exclusions as
:func:`njforecast.evaluation.census_backtest.census_backtest`) are split by prefecture into
halves A and B (``prefecture_halves``, seed 20201101). Every combination of the grid below is
scored on half A only: median APE of 2020 ages 10-14 plus that of 15-19, ties to the smaller
weights (sum of |weights|, then ε). Only the chosen combination and the pre-issue rule are
then scored on half B, on all counties and on the province table
(:func:`census_backtest.province_backtest`); a weight that does not help on both B and the
province table goes back to its pre-issue value (done by hand in the package defaults, and
recorded in benchmarks/README.md).

Writes ``benchmarks/results/county_signals_grid_A.csv`` (every combination, half A) and
``benchmarks/results/county_signals_chosen.csv`` (chosen vs before on A, B, all, provinces).
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from njforecast import schema as S  # noqa: E402
from njforecast.config import raw_dir  # noqa: E402
from njforecast.evaluation import census_backtest as cb  # noqa: E402
from njforecast.io.store import load_census  # noqa: E402

GRID = {"structure": [0.5, 0.75, 1.0], "school": [0.0, 0.5, 1.0], "stock": [0.0, 0.5, 1.0],
        "gap": [-0.25, 0.0, 0.25, 0.5], "eps": [0.0, 0.1, 0.15, 0.2]}
BEFORE = {"structure": 1.0, "school": 1.0, "stock": 1.0, "gap": 0.0, "eps": 0.15}
OUT = ROOT / "benchmarks" / "results"


def _median_ape(pred: np.ndarray, act: np.ndarray) -> np.ndarray:
    return np.median(np.abs(pred - act) / act * 100, axis=0)


def main() -> None:
    t0 = time.time()
    cen = raw_dir() / "census"
    ref = cb.census_backtest(cen / "census_county_2010.xlsx",
                             cen / "census_county_2020_sichuan.csv")
    act = ref.rows.pivot(index="area_code", columns=S.AGE_GROUP, values="actual")
    act = act[list(cb.BACKTEST_GROUPS)]
    codes = list(act.index)
    c10 = load_census(cen / "census_county_2010.xlsx")
    run = cb.county_signal_run(c10[c10[S.AREA].isin(codes)], cb.backtest_assumptions())
    half = cb.prefecture_halves(codes)
    a_mask = half == "A"
    actual = act.to_numpy()
    rows = []
    for combo in itertools.product(*GRID.values()):
        w = dict(zip(GRID, combo, strict=True))
        weights = {k: w[k] for k in ("structure", "school", "stock", "gap")}
        pred = run.groups({**weights, "school_out": w["school"]}, w["eps"])
        m = _median_ape(pred[a_mask], actual[a_mask])
        rows.append({**w, "A_10-14": m[2], "A_15-19": m[3], "A_score": m[2] + m[3],
                     "size": sum(abs(w[k]) for k in ("structure", "school", "stock", "gap"))})
    grid = pd.DataFrame(rows).sort_values(["A_score", "size", "eps"], kind="stable")
    OUT.mkdir(exist_ok=True)
    grid.to_csv(OUT / "county_signals_grid_A.csv", index=False)
    chosen = grid.iloc[0][list(GRID)].to_dict()
    print("chosen on half A:", chosen)
    print(grid.head(10).round(3).to_string(index=False))
    print(f"grid {len(grid)} combinations in {time.time() - t0:.1f} s")
    both = pd.concat([score(BEFORE).assign(rule="before"), score(chosen).assign(rule="chosen")],
                     ignore_index=True)
    both.to_csv(OUT / "county_signals_chosen.csv", index=False)
    print(both.pivot_table(index=["subset", S.AGE_GROUP], columns=["rule", "method"],
                           values="median_ape").round(2).to_string())


def score(weights: dict[str, float]) -> pd.DataFrame:
    """Median APE of one weight set on halves A, B, all counties and the province table."""
    cen = raw_dir() / "census"
    ass = cb.backtest_assumptions(structure_weight=weights["structure"],
                                  school_flow_weight=weights["school"],
                                  internal_stock_weight=weights["stock"],
                                  registration_gap_weight=weights["gap"],
                                  child_coverage_elasticity=weights["eps"])
    res = cb.census_backtest(cen / "census_county_2010.xlsx",
                             cen / "census_county_2020_sichuan.csv", assumptions=ass)
    county = cb.backtest_summary(res.rows)
    prov = cb.province_backtest(cen / "census_county_2010.xlsx",
                                cen / "census_province_2020.csv", assumptions=ass)
    prov = prov.summary.assign(subset="provinces")
    out = pd.concat([county, prov], ignore_index=True)
    return out[out[S.AGE_GROUP].isin(["10-14", "15-19"])]


if __name__ == "__main__":
    main()
