"""Accuracy study (not a test): sex-selective migration damps the school steps (issue 17).

Usage (from the repository root):
    /usr/bin/time -v python benchmarks/sex_ratio_study.py

Protocol (registered in :mod:`njforecast.demography.signals`, "Fourth study", and committed
before any score was computed): school_sex_damping κ_s in {0, 2.5, 5, 10, 20}, every other
weight at its default. Chosen on Sichuan half A (prefecture split, seed 20201101) together
with the provinces 11…37: lowest sum of the two median APEs of 2020 ages 15-19, ties to the
smaller κ_s. Shipping rule: the chosen κ_s becomes the default only if its median APE of ages
15-19 is below κ_s = 0's on half B *and* on the provinces 41…65. Writes
``benchmarks/results/sex_ratio_study.csv`` (every value, choice and held-out columns) and
prints the decision.
"""

from __future__ import annotations

import pandas as pd
from school_outflow_study import OUT, study

GRID = [0.0, 2.5, 5.0, 10.0, 20.0]
NAME = "school_sex_damping"


def main() -> None:
    study(NAME, GRID, "sex_ratio_study.csv", ascending=True)
    df = pd.read_csv(OUT / "sex_ratio_study.csv")
    chosen, zero = df[df["chosen"]].iloc[0], df[df[NAME] == 0.0].iloc[0]
    print("held-out columns (B, provinces 41-65):")
    print(df[[NAME, "B_15-19", "prov_second_15-19"]].round(3).to_string(index=False))
    ships = (chosen[NAME] != 0.0 and chosen["B_15-19"] < zero["B_15-19"]
             and chosen["prov_second_15-19"] < zero["prov_second_15-19"])
    print(f"chosen {NAME} = {chosen[NAME]:g}: B {zero['B_15-19']:.3f} -> "
          f"{chosen['B_15-19']:.3f}, provinces 41-65 {zero['prov_second_15-19']:.3f} -> "
          f"{chosen['prov_second_15-19']:.3f}; "
          f"{'ships (helps on both)' if ships else 'not shipped (default stays 0)'}")


if __name__ == "__main__":
    main()
