"""Helpers shared by the benchmark scripts (not part of the package): a markdown table printer
and the interval-calibration factors of ``auto``'s design studies."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from njforecast import schema as S
from njforecast.evaluation.backtest import cross_validation, read_observations_file
from njforecast.config import raw_dir
from njforecast.evaluation.metrics import evaluate
from njforecast.models import MODELS, Auto
from njforecast.models.ensemble import conformal_quantile

OUT = Path(__file__).resolve().parent / "results"
PROVINCES_FILE = ("observed", "china_provinces_education.csv")
#: Indicators of the provinces file that the provinces back-test does not score.
DEV = ["senior_general_teachers", "senior_general_entrants", "primary_entrants",
       "senior_general_graduates", "primary_graduates"]
#: The scored indicators; used here only for the national (100000) series' later years.
FRESH = ["primary_enrolment", "senior_general_enrolment", "primary_teachers"]


def markdown(t: pd.DataFrame, fmt: str = ".3g") -> str:
    """A small markdown table (no tabulate dependency); floats formatted with ``fmt``."""
    cols = [t.index.name or "", *map(str, t.columns)]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in t.iterrows():
        out.append("| " + " | ".join([str(idx), *(format(v, fmt) if isinstance(v, float) else
                                                   str(v) for v in row)]) + " |")
    return "\n".join(out)


def calibration_factors(cv: pd.DataFrame, variants: Iterable[str]) -> pd.DataFrame:
    """Widening factors c(l, h) of uncalibrated intervals: the finite-sample l-quantile of
    |a/f − 1| / q over the forecasts (q = relative half-width), overall and by lead 1–5, with
    the uncalibrated coverage (percent), per variant and level."""
    rows = []
    for v in variants:
        sub = cv[cv[S.MODEL] == v]
        f, a = sub[S.FORECAST].to_numpy(), sub[S.ACTUAL].to_numpy()
        for lv, lo, hi in ((80, S.LO80, S.HI80), (95, S.LO95, S.HI95)):
            q = sub[hi].to_numpy() / f - 1
            cov = np.mean((a >= sub[lo].to_numpy()) & (a <= sub[hi].to_numpy())) * 100
            c = np.abs(a / f - 1) / q
            by = {f"c_h{k}": conformal_quantile(c[sub[S.H].to_numpy() == k], lv)
                  for k in range(1, 6)}
            rows.append({"variant": v, "level": lv, "coverage_uncal": cov,
                         "c_all": conformal_quantile(c, lv), **by})
    return pd.DataFrame(rows).set_index("variant")


def _design_job(job: tuple[list[str], list[str], list[str], dict]) -> pd.DataFrame:
    indicators, areas, members, variants = job
    for name, kw in variants.items():
        MODELS[name] = functools.partial(Auto, interval_scale=1.0, **kw)
    obs = read_observations_file(raw_dir().joinpath(*PROVINCES_FILE))
    cv, _ = cross_validation(obs, indicators, [*members, *variants], 5, 5, areas=areas)
    return cv


def design_study(variants: Mapping[str, dict], members: Iterable[str], stem: str,
                 title: str) -> None:
    """Run a development study of ``auto`` variants and write ``results/<stem>.csv``,
    ``<stem>_calibration.csv`` and ``<stem>.md``.

    Every variant and member is back-tested (H = 5, W = 5, refit at each cutoff) on the
    :data:`DEV` indicators of the 16 provinces and, for information, on the national series of
    the :data:`FRESH` indicators. The pre-registered decision rule: score = geometric mean over
    the development indicators of MAPE(h=5) / MAPE_naive(h=5); the lowest wins, except that a
    variant within 0.01 of one listed before it loses to that one (simpler / incumbent first).
    """
    variants = dict(variants)
    members = list(dict.fromkeys(members))
    obs = read_observations_file(raw_dir().joinpath(*PROVINCES_FILE))
    provinces = sorted(a for a in obs[S.AREA].unique() if a != "100000")
    jobs = [(DEV[:2], provinces, members, variants), (DEV[2:], provinces, members, variants),
            (FRESH, ["100000"], members, variants)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as ex:
        parts = list(ex.map(_design_job, jobs))
    secs = time.perf_counter() - t0
    dev = pd.concat(parts[:2], ignore_index=True).dropna(subset=[S.ACTUAL])
    fresh = parts[2].dropna(subset=[S.ACTUAL])
    m, mf = evaluate(dev, obs), evaluate(fresh, obs)
    OUT.mkdir(exist_ok=True)
    pd.concat([m.assign(set="dev"), mf.assign(set="fresh_national")]).to_csv(
        OUT / f"{stem}.csv", index=False, float_format="%.6g")
    h5 = m[m[S.H] == "5"].pivot(index=S.MODEL, columns=S.INDICATOR, values="mape")
    rel = h5.div(h5.loc["naive"], axis=1)
    score = np.exp(np.log(rel).mean(axis=1)).rename("score")
    t5 = pd.concat([h5, score], axis=1).sort_values("score")
    order = list(variants)
    best = min(order, key=lambda v: score[v])
    chosen = next(v for v in order if score[v] <= score[best] + 0.01)
    cal = calibration_factors(dev, variants)
    cal.to_csv(OUT / f"{stem}_calibration.csv", float_format="%.6g")
    fr = mf[mf[S.H].isin(["5", "all"])].pivot_table(index=S.MODEL, columns=[S.INDICATOR, S.H],
                                                    values="mape")
    fr.columns = [f"{i} h={h}" for i, h in fr.columns]
    cov = m[m[S.H] == "all"].pivot(index=S.MODEL, columns=S.INDICATOR, values="coverage80")
    lines = [f"# {title} — development series ({', '.join(DEV)})", "",
             f"{len(dev)} development and {len(fresh)} fresh-national forecasts; {secs:.0f} s.",
             "", f"**Chosen by the pre-registered rule: `{chosen}`** (score "
             f"{score[chosen]:.3f}; best {best} {score[best]:.3f}).", "",
             "## Development: MAPE at h = 5 (%) and score (geo-mean of MAPE5 / naive MAPE5)", "",
             markdown(t5.round(3)), "",
             "## Development: 80 % coverage, all leads (uncalibrated for the variants)", "",
             markdown(cov.round(1)), "",
             "## Fresh national hold-out (information only; 3 series, few points)", "",
             markdown(fr.round(2)), "",
             "## Interval calibration factors (finite-sample quantile of |a/f−1|/q)", "",
             markdown(cal.round(3)), ""]
    (OUT / f"{stem}.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
