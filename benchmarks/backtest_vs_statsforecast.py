"""Benchmark: njforecast's back-test models vs statsforecast AutoETS / AutoTheta on the same
rolling-origin back-test of the bundled provinces series (real data, 16 provinces 2000–2019).

Run from the repository root (takes a few minutes on 2 cores):

    PYTHONPATH=$PWD python benchmarks/backtest_vs_statsforecast.py [--windows 5] [--horizon 5]

Writes benchmarks/results/backtest_vs_statsforecast.csv (metrics by indicator, model, lead) and
benchmarks/results/backtest_vs_statsforecast.md (MAPE at h = 1 and 5, 80 % coverage, seconds).
statsforecast runs its own ``cross_validation`` (same cutoffs: the last W windows of each series,
step 1, refit at each); both are scored by ``njforecast.metrics.evaluate``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from njforecast import schema as S
from njforecast.backtest import cross_validation, read_observations_file
from njforecast.config import raw_dir
from njforecast.metrics import evaluate

INDICATORS = ["primary_enrolment", "senior_general_enrolment", "primary_teachers"]
OURS = ["naive", "theta", "ets", "arima", "structural", "global", "auto"]
OUT = Path(__file__).resolve().parent / "results"


def markdown(t: pd.DataFrame) -> str:
    """A small markdown table (no tabulate dependency)."""
    cols = [t.index.name or "", *map(str, t.columns)]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in t.iterrows():
        out.append("| " + " | ".join([str(idx), *(f"{v:.2f}" for v in row)]) + " |")
    return "\n".join(out)


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
        lines += [f"## {ind}", "", markdown(t), ""]
    (OUT / "backtest_vs_statsforecast.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
