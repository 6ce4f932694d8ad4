"""Forecast accuracy and interval metrics, and their evaluation over a back-test.

Public functions:
    ape(actual, forecast)                absolute percentage errors, %
    mape(actual, forecast), mdape(...)   mean / median APE, %
    mase(actual, forecast, scale)        mean absolute scaled error (Hyndman & Koehler 2006)
    naive_scale(history)                 in-sample mean |y_t − y_{t−1}| (the MASE denominator)
    coverage(actual, lo, hi)             share of actuals inside [lo, hi], %
    winkler(actual, lo, hi, level)       interval score (Winkler 1972; Gneiting & Raftery 2007)
    evaluate(cv_df, history_df)          metrics frame by indicator, model and lead
    mape_by_lead(metrics_df, indicator)  the NCES layout: rows lead 1..H, columns models

Definitions (a = actual, f = forecast, [l, u] a central (1 − α) interval):
    APE = |f − a| / |a| × 100;  MASE = mean |f − a| / s, s = mean_{t ≤ cutoff} |y_t − y_{t−1}|
    (scaled by the in-sample one-step naive error up to each cutoff);
    Winkler W_α = (u − l) + (2/α)(l − a)·1[a < l] + (2/α)(a − u)·1[a > u]  (lower is better).
In ``evaluate`` the Winkler score is reported scaled by s (as the M4 competition's MSIS,
Makridakis et al. 2020) so that it can be averaged across series of different size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S

METRIC_COLUMNS = ("n", "n_missing", "mape", "mdape", "mase", "coverage80", "coverage95", "winkler80",
                  "winkler95")


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def ape(actual, forecast) -> np.ndarray:
    """|f − a| / |a| × 100 (percent); NaN where a = 0."""
    a, f = _arr(actual), _arr(forecast)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.abs(f - a) / np.abs(a) * 100.0
    return np.where(a == 0, np.nan, out)


def _nan_stat(fn, x: np.ndarray) -> float:
    """``fn`` (nanmean/nanmedian) of x; NaN without a warning when every value is NaN."""
    x = np.asarray(x, dtype=float)
    return float(fn(x)) if np.isfinite(x).any() else float("nan")


def mape(actual, forecast) -> float:
    """Mean absolute percentage error, % (zeros in ``actual`` ignored)."""
    return _nan_stat(np.nanmean, ape(actual, forecast))


def mdape(actual, forecast) -> float:
    """Median absolute percentage error, %."""
    return _nan_stat(np.nanmedian, ape(actual, forecast))


def naive_scale(history) -> float:
    """Mean absolute one-step change of ``history`` (in-sample naive MAE); NaN if < 2 values."""
    v = _arr(history)
    return float(np.mean(np.abs(np.diff(v)))) if len(v) >= 2 else float("nan")


def mase(actual, forecast, scale) -> float:
    """Mean of |f − a| / scale (``scale`` a scalar or one value per forecast)."""
    a, f, s = _arr(actual), _arr(forecast), _arr(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _nan_stat(np.nanmean, np.abs(f - a) / s)


def coverage(actual, lo, hi) -> float:
    """Share of actuals with lo ≤ a ≤ hi, in percent."""
    a, lower, upper = _arr(actual), _arr(lo), _arr(hi)
    return float(np.mean((a >= lower) & (a <= upper)) * 100.0)


def winkler(actual, lo, hi, level: float) -> np.ndarray:
    """Winkler (interval) score of central ``level`` % intervals, per forecast (series unit)."""
    a, lower, upper = _arr(actual), _arr(lo), _arr(hi)
    alpha = 1.0 - level / 100.0
    return ((upper - lower) + (2.0 / alpha) * np.clip(lower - a, 0, None)
            + (2.0 / alpha) * np.clip(a - upper, 0, None))


def add_scale(cv_df: pd.DataFrame, history_df: pd.DataFrame) -> pd.Series:
    """MASE denominator for every cv row: naive_scale of the series up to the row's cutoff.

    Args:
        cv_df: back-test frame (area, indicator, cutoff, …).
        history_df: observations (area, year, indicator, value), one row per key.
    """
    keys = cv_df[[S.AREA, S.INDICATOR, S.CUTOFF]].drop_duplicates()
    hist = {k: g.sort_values(S.YEAR) for k, g in history_df.groupby([S.AREA, S.INDICATOR])}
    scales = {}
    for area, ind, cut in keys.itertuples(index=False):
        g = hist.get((area, ind))
        if g is None:
            scales[(area, ind, cut)] = np.nan
            continue
        g = g[g[S.YEAR] <= cut]
        scales[(area, ind, cut)] = naive_scale(g[S.VALUE])
    idx = pd.MultiIndex.from_frame(cv_df[[S.AREA, S.INDICATOR, S.CUTOFF]])
    return pd.Series([scales[k] for k in idx], index=cv_df.index, name="scale")


def _summary(g: pd.DataFrame) -> dict:
    a = g[S.ACTUAL]
    return {
        "n": len(g),
        # forecasts missing where an actual exists: every error metric skips them, so a
        # model cannot look better by failing on hard points unseen — this count shows it
        "n_missing": int((g[S.FORECAST].isna() & g[S.ACTUAL].notna()).sum()),
        "mape": mape(a, g[S.FORECAST]),
        "mdape": mdape(a, g[S.FORECAST]),
        "mase": mase(a, g[S.FORECAST], g["scale"]),
        "coverage80": coverage(a, g[S.LO80], g[S.HI80]),
        "coverage95": coverage(a, g[S.LO95], g[S.HI95]),
        "winkler80": float(np.nanmean(winkler(a, g[S.LO80], g[S.HI80], 80) / g["scale"])),
        "winkler95": float(np.nanmean(winkler(a, g[S.LO95], g[S.HI95], 95) / g["scale"])),
    }


def evaluate(cv_df: pd.DataFrame, history_df: pd.DataFrame) -> pd.DataFrame:
    """Metrics by indicator, model and lead, plus an ``all``-leads row per indicator and model.

    Args:
        cv_df: back-test frame with columns area, indicator, year, cutoff, h, actual, model,
            forecast, lo80, hi80, lo95, hi95.
        history_df: the observations the back-test used (for the MASE scale).

    Returns:
        Columns indicator, model, h (1..H or "all"), n, n_missing (forecasts that are NaN
        where an actual exists; excluded from the error metrics), mape (%), mdape (%), mase,
        coverage80 (%), coverage95 (%), winkler80, winkler95 (scaled by the naive MAE).
    """
    cv = cv_df.copy()
    cv["scale"] = add_scale(cv, history_df)
    rows = []
    for (ind, model), g in cv.groupby([S.INDICATOR, S.MODEL], sort=True):
        for h, gh in g.groupby(S.H, sort=True):
            rows.append({S.INDICATOR: ind, S.MODEL: model, S.H: str(int(h)), **_summary(gh)})
        rows.append({S.INDICATOR: ind, S.MODEL: model, S.H: "all", **_summary(g)})
    return pd.DataFrame(rows, columns=[S.INDICATOR, S.MODEL, S.H, *METRIC_COLUMNS])


def mape_by_lead(metrics_df: pd.DataFrame, indicator: str, value: str = "mape") -> pd.DataFrame:
    """NCES layout: rows lead 1..H, columns models, cells ``value`` (MAPE, %)."""
    m = metrics_df[(metrics_df[S.INDICATOR] == indicator) & (metrics_df[S.H] != "all")].copy()
    m["_h"] = m[S.H].astype(int)
    models = list(dict.fromkeys(m[S.MODEL]))
    t = m.pivot(index="_h", columns=S.MODEL, values=value)[models]
    t.index.name = "lead"
    t.columns.name = None
    return t
