"""Development-set study for the design of ``auto`` (issue 5 follow-up): candidate rules are
compared ONLY on series of the provinces file that the provinces back-test does not score.

Run from the repository root (a few minutes on 2 cores):

    PYTHONPATH=$PWD python benchmarks/auto_design_dev.py

Same protocol as the scored back-test (16 provinces, data 2000–2019, H = 5, W = 5, cutoffs = the
last five of each series, refit at each; the national series is available as data, not
scored). Candidates (all with the same seven members, inner validation and pooled
split-conformal intervals by lead, finite-sample quantile):

* ``sel3_mean``   — per lead, mean of the 3 members with the lowest inner MAPE (old design)
* ``sel3_median`` — per lead, median of those 3
* ``all_median``  — median of all members (no selection)
* ``all_mean``    — mean of all members (no selection)

Score: geometric mean over the development indicators of MAPE(h=5) / MAPE_naive(h=5).
Interval calibration: for every development forecast the factor c = |a/f − 1| / q that would
just cover the actual (q = relative half-width of the uncalibrated interval); the widening
factor for level l is the finite-sample l-quantile of c (one factor per level, and by lead
for information). Writes benchmarks/results/auto_design_dev.csv and .md.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pandas as pd

from njforecast import schema as S
from njforecast.evaluation.backtest import cross_validation, read_observations_file
from njforecast.config import raw_dir
from njforecast.evaluation.metrics import evaluate
from njforecast.models import MODELS, Auto

from _common import calibration_factors, markdown  # benchmarks/ helper

DEV = ["senior_general_teachers", "senior_general_entrants", "primary_entrants",
       "senior_general_graduates", "primary_graduates"]
VARIANTS = {"sel3_mean": {"top_k": 3, "combine": "mean", "interval_scale": 1.0},
            "sel3_median": {"top_k": 3, "combine": "median", "interval_scale": 1.0},
            "all_median": {"top_k": 0, "combine": "median", "interval_scale": 1.0},
            "all_mean": {"top_k": 0, "combine": "mean", "interval_scale": 1.0}}
MEMBERS = ["naive", "drift", "theta", "ets", "arima", "global", "structural"]
OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    for name, kw in VARIANTS.items():
        MODELS[name] = functools.partial(Auto, **kw)
    obs = read_observations_file(raw_dir() / "observed" / "china_provinces_education.csv")
    areas = sorted(a for a in obs[S.AREA].unique() if a != "100000")
    t0 = time.perf_counter()
    cv, fallbacks = cross_validation(obs, DEV, [*MEMBERS, *VARIANTS], 5, 5, areas=areas)
    secs = time.perf_counter() - t0
    cv = cv.dropna(subset=[S.ACTUAL])
    m = evaluate(cv, obs)
    OUT.mkdir(exist_ok=True)
    m.to_csv(OUT / "auto_design_dev.csv", index=False, float_format="%.6g")
    h5 = m[m[S.H] == "5"].pivot(index=S.MODEL, columns=S.INDICATOR, values="mape")
    rel = h5.div(h5.loc["naive"], axis=1)
    score = np.exp(np.log(rel).mean(axis=1)).rename("geo-mean MAPE5/naive")
    t5 = pd.concat([h5, score], axis=1).sort_values("geo-mean MAPE5/naive")
    allm = m[m[S.H] == "all"].pivot(index=S.MODEL, columns=S.INDICATOR, values="mape")
    lines = [f"# auto design — development series only ({', '.join(DEV)})", "",
             f"{len(cv)} forecasts; {secs:.0f} s; fallbacks {len(fallbacks)}.", "",
             "## MAPE at h = 5 (%) and score", "", markdown(t5.round(3)), "",
             "## MAPE all leads (%)", "", markdown(allm.round(3)), ""]
    cal = calibration_factors(cv, VARIANTS)
    cal.to_csv(OUT / "auto_design_dev_calibration.csv", float_format="%.6g")
    lines += ["## Interval calibration factors (finite-sample quantile of |a/f−1|/q)", "",
              markdown(cal.round(3)), ""]
    (OUT / "auto_design_dev.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
