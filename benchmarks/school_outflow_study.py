"""Accuracy studies (not tests): 15-19 outflows and damped inflows in the school signal (issue 17).

Usage (from the repository root):
    /usr/bin/time -v python benchmarks/school_outflow_study.py

Protocol (registered in :mod:`njforecast.demography.signals`, "Second study" and "Third
study"): school_outflow_weight in {0, 0.25, 0.5, 0.75, 1}, then school_inflow_damping in
{0, 0.5, 1, 2, 4}, every other weight at its default. Each chosen on
Sichuan half A (prefecture split, seed 20201101) together with the first half of the provinces
by code (11…37): lowest sum of the two median APEs of 2020 ages 15-19. Scored on half B and
the provinces 41…65. Writes ``benchmarks/results/school_outflow_study.csv`` and
``benchmarks/results/school_inflow_damping_study.csv``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from njforecast import schema as S  # noqa: E402
from njforecast.config import raw_dir  # noqa: E402
from njforecast.evaluation import census_backtest as cb  # noqa: E402

GRID = [0.0, 0.25, 0.5, 0.75, 1.0]
DAMPING = [0.0, 0.5, 1.0, 2.0, 4.0]
OUT = ROOT / "benchmarks" / "results"


def _median(rows: pd.DataFrame, mask, group: str = "15-19") -> float:
    r = rows[mask & (rows[S.AGE_GROUP] == group)]
    return float(np.median(np.abs(r["projected"] - r["actual"]) / r["actual"] * 100))


def half_scores(ass, groups=("15-19",)) -> dict[str, float]:
    """Median APE (%) of ``ass`` per group on half A, provinces 11-37, half B, provinces 41-65
    (keys ``A_<g>``, ``prov_first_<g>``, ``B_<g>``, ``prov_second_<g>``)."""
    cen = raw_dir() / "census"
    county = cb.census_backtest(cen / "census_county_2010.xlsx",
                                cen / "census_county_2020_sichuan.csv", assumptions=ass).rows
    prov = cb.province_backtest(cen / "census_county_2010.xlsx",
                                cen / "census_province_2020.csv", assumptions=ass).rows
    half = cb.prefecture_halves(county["area_code"])
    first = prov["area_code"].str[:2].astype(int) <= 37
    out = {}
    for subset, rows, mask in (("A", county, half == "A"), ("prov_first", prov, first),
                               ("B", county, half == "B"), ("prov_second", prov, ~first)):
        out.update({f"{subset}_{g}": _median(rows, mask, g) for g in groups})
    return out


def main() -> None:
    study("school_outflow_weight", GRID, "school_outflow_study.csv", ascending=False)
    study("school_inflow_damping", DAMPING, "school_inflow_damping_study.csv", ascending=True)


def study(name: str, grid, file: str, ascending: bool) -> None:
    """Choose ``name`` from ``grid`` on half A + provinces 11-37 (ties: toward the old value)."""
    out = [{name: w, **half_scores(cb.backtest_assumptions(**{name: w}))} for w in grid]
    df = pd.DataFrame(out)
    df["choice_score"] = df["A_15-19"] + df["prov_first_15-19"]
    best = df.sort_values(["choice_score", name], ascending=[True, ascending],
                          kind="stable").iloc[0][name]
    df["chosen"] = df[name] == best
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / file, index=False)
    print("choice columns (A, provinces 11-37):")
    print(df[[name, "A_15-19", "prov_first_15-19", "choice_score",
              "chosen"]].round(2).to_string(index=False))
    print(f"chosen {name} = {best}")


if __name__ == "__main__":
    main()
