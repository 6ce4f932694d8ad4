"""Benchmark: njforecast's back-test models vs statsforecast AutoETS / AutoTheta on the same
rolling-origin back-test of the bundled provinces series (real data, 16 provinces 2000–2019).

Run from the repository root (takes a few minutes on 2 cores):

    PYTHONPATH=$PWD python benchmarks/backtest_vs_statsforecast.py [--windows 5] [--horizon 5]

Writes benchmarks/results/backtest_vs_statsforecast.csv (metrics by indicator, model, lead) and
benchmarks/results/backtest_vs_statsforecast.md (MAPE at h = 1 and 5, 80 % coverage, seconds,
and how sure the h = 5 comparisons of ``auto`` are: the difference in MAPE against each
benchmark with a 95 % interval from a bootstrap over provinces — the 16 provinces are the
independent units; 5 overlapping cutoffs per province are not).
statsforecast runs its own ``cross_validation`` (same cutoffs: the last W windows of each series,
step 1, refit at each); both are scored by ``njforecast.evaluation.metrics.evaluate``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from njforecast import schema as S
from njforecast.evaluation.backtest import cross_validation, read_observations_file
from njforecast.config import raw_dir
from njforecast.evaluation.metrics import evaluate

from _common import markdown  # benchmarks/ helper

INDICATORS = ["primary_enrolment", "senior_general_enrolment", "primary_teachers"]
OURS = ["naive", "theta", "ets", "autoets", "arima", "structural", "global", "auto"]
OUT = Path(__file__).resolve().parent / "results"


def paired_bootstrap(cv: pd.DataFrame, h: int, against: list[str], reps: int = 2000,
                     seed: int = 20201101) -> pd.DataFrame:
    """MAPE(auto) − MAPE(benchmark) at lead h per indicator, with a 95 % percentile interval
    from resampling provinces with replacement (paired: the same resample for both models).

    Returns:
        Columns indicator, benchmark, n (paired forecasts), diff (percentage points; < 0
        means auto is better),
        lo95, hi95, share_auto_better (share of resamples with diff < 0).
    """
    rng = np.random.default_rng(seed)
    rows = []
    sub = cv[cv[S.H] == h].copy()
    sub["ape"] = (sub[S.FORECAST] - sub[S.ACTUAL]).abs() / sub[S.ACTUAL].abs() * 100
    for ind, g in sub.groupby(S.INDICATOR, sort=True):
        wide = g.pivot_table(index=[S.AREA, S.CUTOFF], columns=S.MODEL, values="ape")
        for b in against:
            # paired points (both models scored), summed by province: MAPE of a resample is
            # Σ APE / Σ n over the drawn provinces, as in the MAPE table
            pair = wide[["auto", b]].dropna()
            d = (pair["auto"] - pair[b]).groupby(level=S.AREA)
            tot, n = d.sum().to_numpy(), d.size().to_numpy()
            draws = rng.integers(0, len(n), size=(reps, len(n)))
            boot = tot[draws].sum(axis=1) / n[draws].sum(axis=1)
            rows.append({S.INDICATOR: ind, "benchmark": b, "n": int(n.sum()),
                         "diff": tot.sum() / n.sum(), "lo95": np.quantile(boot, 0.025),
                         "hi95": np.quantile(boot, 0.975),
                         "share_auto_better": float(np.mean(boot < 0))})
    return pd.DataFrame(rows)


def statsforecast_cv(obs: pd.DataFrame, areas, h: int, windows: int) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    df = obs[obs[S.INDICATOR].isin(INDICATORS) & obs[S.AREA].isin(areas)]
    df = pd.DataFrame({"unique_id": df[S.AREA] + "|" + df[S.INDICATOR], "ds": df[S.YEAR],
                       "y": df[S.VALUE]}).sort_values(["unique_id", "ds"])
    sf = StatsForecast(models=[AutoETS(season_length=1), AutoTheta(season_length=1)], freq=1,
                       n_jobs=1)
    cv = sf.cross_validation(df=df, h=h, n_windows=windows, step_size=1, level=[80, 95])
    rows = []
    for name in ("AutoETS", "AutoTheta"):
        part = pd.DataFrame({
            S.AREA: cv["unique_id"].str.split("|").str[0],
            S.INDICATOR: cv["unique_id"].str.split("|").str[1],
            S.YEAR: cv["ds"].astype(int), S.CUTOFF: cv["cutoff"].astype(int),
            S.ACTUAL: cv["y"], S.MODEL: f"sf_{name}", S.FORECAST: cv[name],
            S.LO80: cv[f"{name}-lo-80"], S.HI80: cv[f"{name}-hi-80"],
            S.LO95: cv[f"{name}-lo-95"], S.HI95: cv[f"{name}-hi-95"]})
        part[S.H] = part[S.YEAR] - part[S.CUTOFF]
        rows.append(part[list(S.CV_COLUMNS)])
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--horizon", type=int, default=5)
    args = ap.parse_args()
    obs = read_observations_file(raw_dir() / "observed" / "china_provinces_education.csv")
    areas = sorted(a for a in obs[S.AREA].unique() if a != "100000")
    t0 = time.perf_counter()
    ours, fallbacks = cross_validation(obs, INDICATORS, OURS, args.horizon, args.windows,
                                       areas=areas)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = statsforecast_cv(obs, areas, args.horizon, args.windows)
    t_sf = time.perf_counter() - t0
    # same evaluation points (series, cutoff, year) in both
    key = [S.AREA, S.INDICATOR, S.CUTOFF, S.YEAR]
    common = ours[key].drop_duplicates().merge(theirs[key].drop_duplicates(), on=key)
    cv = pd.concat([ours.merge(common, on=key), theirs.merge(common, on=key)],
                   ignore_index=True)
    m = evaluate(cv, obs)
    OUT.mkdir(exist_ok=True)
    m.to_csv(OUT / "backtest_vs_statsforecast.csv", index=False, float_format="%.6g")
    cv.to_csv(OUT / "backtest_vs_statsforecast_cv.csv.gz", index=False)  # not committed
    lines = [f"# njforecast vs statsforecast — provinces back-test (H={args.horizon}, "
             f"W={args.windows}, {len(areas)} provinces, {len(common)} evaluation points per "
             "model)", "",
             f"Time: njforecast {len(OURS)} models {t_ours:.0f} s (auto reuses member fits); "
             f"statsforecast AutoETS+AutoTheta {t_sf:.0f} s. Model fits replaced by naive after "
             f"an error: {len(fallbacks)}.", ""]
    for ind in INDICATORS:
        sub = m[m[S.INDICATOR] == ind]
        piv = sub.pivot(index=S.MODEL, columns=S.H, values="mape")
        cov = sub[sub[S.H] == "all"].set_index(S.MODEL)["coverage80"]
        t = pd.DataFrame({"MAPE h=1": piv["1"], f"MAPE h={args.horizon}": piv[str(args.horizon)],
                          "MAPE all": piv["all"], "coverage80 %": cov}).sort_values(
            f"MAPE h={args.horizon}")
        lines += [f"## {ind}", "", markdown(t, ".2f"), ""]
    sig = paired_bootstrap(cv, args.horizon, ["naive", "sf_AutoETS", "sf_AutoTheta"])
    lines += [f"## auto − benchmark, MAPE at h = {args.horizon} (points; bootstrap over "
              "provinces, 2000 resamples)", "",
              markdown(sig.set_index(sig[S.INDICATOR] + ": auto − " + sig["benchmark"])
                       .drop(columns=[S.INDICATOR, "benchmark"]).rename_axis(None), ".2f"), ""]
    (OUT / "backtest_vs_statsforecast.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
