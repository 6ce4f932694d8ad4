"""Accuracy benchmark (not a test): Sichuan counties projected 2010 → 2020 and scored.

Usage (from the repository root):
    /usr/bin/time -v python benchmarks/census_backtest.py

Runs :func:`njforecast.evaluation.census_backtest.census_backtest` on the bundled 2010 county table (launch)
and the 2020 Sichuan county table (score only), and writes
``benchmarks/results/census_backtest_summary.csv`` (age group × method: n, median and mean
absolute percentage error), ``benchmarks/results/census_backtest_rows.csv`` (county × age
group), ``benchmarks/results/census_backtest_excluded.csv`` and
``benchmarks/results/census_backtest_summary_halves.csv`` (the same errors on halves A and B of
the prefecture split of :func:`njforecast.evaluation.census_backtest.prefecture_halves`, seed
``HOLDOUT_SEED``, and on all counties); prints the tables. The same
numbers come from ``njforecast demography backtest --base … --actual … --output …``.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from njforecast.evaluation import census_backtest as cb  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    census = ROOT / "data" / "raw" / "census"
    res = cb.census_backtest(census / "census_county_2010.xlsx",
                             census / "census_county_2020_sichuan.csv")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    res.summary.round(2).to_csv(out / "census_backtest_summary.csv", index=False)
    res.rows.round(1).to_csv(out / "census_backtest_rows.csv", index=False)
    res.excluded.to_csv(out / "census_backtest_excluded.csv", index=False)
    halves = cb.backtest_summary(res.rows)
    halves.round(2).to_csv(out / "census_backtest_summary_halves.csv", index=False)
    for rule in res.rules:
        print("rule:", rule)
    print(f"excluded: {len(res.excluded)}; scored counties: {res.summary['n'].max()}")
    table = res.summary.pivot(index="age_group", columns="method",
                              values=["median_ape", "mean_ape"]).round(1)
    print(table.reindex(list(cb.BACKTEST_GROUPS)).to_string())
    print(f"by half of the prefecture split (seed {cb.HOLDOUT_SEED}), median / mean APE:")
    ht = halves[halves["method"].isin(["projected", "naive"])].pivot(
        index=["subset", "method"], columns="age_group", values=["median_ape", "mean_ape"])
    print(ht.reindex(columns=[(v, g) for v in ("median_ape", "mean_ape")
                              for g in cb.BACKTEST_GROUPS]).round(1).to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall {time.perf_counter() - t0:.1f} s, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
