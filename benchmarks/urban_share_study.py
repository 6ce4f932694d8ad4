"""Accuracy study (not a test): the urban share as a children's migration signal (issue 17).

Usage (from the repository root):
    /usr/bin/time -v python benchmarks/urban_share_study.py

Protocol (registered in :mod:`njforecast.demography.signals`, "Fifth study", and committed
before any score was computed): urban_share_weight w_u in {0, 0.05, 0.1, 0.2, 0.4}, every
other weight at its default. Chosen on Sichuan half A (prefecture split, seed 20201101)
together with the provinces 11…37: lowest sum of the four median APEs (2020 ages 10-14 and
15-19 on each), ties to the smaller w_u. Shipping rule: the chosen w_u becomes the default
only if, on half B and on the provinces 41…65 each, its median APE of ages 10-14 is below
w_u = 0's and that of 15-19 not above. Writes ``benchmarks/results/urban_share_study.csv``
(every value, choice and held-out columns) and prints the decision.
"""

from __future__ import annotations

import pandas as pd
from school_outflow_study import OUT, half_scores

from njforecast.evaluation import census_backtest as cb

GRID = [0.0, 0.05, 0.1, 0.2, 0.4]
NAME = "urban_share_weight"
GROUPS = ("10-14", "15-19")


def main() -> None:
    df = pd.DataFrame([{NAME: w, **half_scores(cb.backtest_assumptions(**{NAME: w}), GROUPS)}
                       for w in GRID])
    df["choice_score"] = sum(df[f"{s}_{g}"] for s in ("A", "prov_first") for g in GROUPS)
    best = df.sort_values(["choice_score", NAME], kind="stable").iloc[0][NAME]
    df["chosen"] = df[NAME] == best
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "urban_share_study.csv", index=False)
    choice = [NAME, *(f"{s}_{g}" for s in ("A", "prov_first") for g in GROUPS), "choice_score"]
    print("choice columns (A, provinces 11-37):")
    print(df[choice].round(2).to_string(index=False))
    held = [NAME, *(f"{s}_{g}" for s in ("B", "prov_second") for g in GROUPS)]
    print("held-out columns (B, provinces 41-65):")
    print(df[held].round(3).to_string(index=False))
    chosen, zero = df[df["chosen"]].iloc[0], df[df[NAME] == 0.0].iloc[0]
    ships = chosen[NAME] != 0.0 and all(
        chosen[f"{s}_10-14"] < zero[f"{s}_10-14"] and chosen[f"{s}_15-19"] <= zero[f"{s}_15-19"]
        for s in ("B", "prov_second"))
    print(f"chosen {NAME} = {chosen[NAME]:g}; "
          f"{'ships (helps on both held-out halves)' if ships else 'not shipped (default 0)'}")


if __name__ == "__main__":
    main()
