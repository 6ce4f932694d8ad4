"""A scikit-learn pooled ("global") regressor trained across series.

Public class: GlobalRegressor.

Method (direct multi-horizon strategy, Taieb et al. 2012; global models across series,
Montero-Manso & Hyndman 2021): for every series in the pool and every origin t, the features
are the last ``lags`` log growth rates g_{t−j} = ln(y_{t−j}/y_{t−j−1}), j = 0..lags−1, and the
target for lead k is ln(y_{t+k}/y_t). One ridge regression per lead (standardised features,
penalty chosen by leave-one-out CV, ``RidgeCV``) is fitted on the pooled rows, so short series
borrow strength from the others; the forecast is ŷ_{T+k} = y_T · exp(ĝ_k). Being scale-free,
series of different size pool well.

Intervals: empirical quantiles of the pooled training residuals per lead on the log scale
(in-sample, so somewhat narrow for a flexible learner; ridge keeps that small).

The pool is read from ``X`` (long observations: area, year, indicator, value), which the
back-test truncates at the cutoff: by default the series of the same indicator in every area.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from .base import Forecaster, TooLittleData, split_series_id


def _rows(v: np.ndarray, lags: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(features, targets) for lead k from one positive series ``v``."""
    lv = np.log(v)
    g = np.diff(lv)
    feats, targ = [], []
    # origin index t (in v) needs t-lags >= 0 and t+k <= len(v)-1
    for t in range(lags, len(v) - k):
        feats.append(g[t - lags:t][::-1])
        targ.append(lv[t + k] - lv[t])
    if not feats:
        return np.empty((0, lags)), np.empty(0)
    return np.asarray(feats), np.asarray(targ)


class GlobalRegressor(Forecaster):
    """Pooled ridge regression on log growth rates, one model per lead.

    Args:
        lags: number of past growth rates used as features.
        max_h: leads trained (longer horizons extrapolate the last lead's growth linearly).
        pool: "indicator" (same indicator, all areas) or "all" (every positive series in X).

    Attributes:
        n_series_: series in the pool; n_rows_: training rows for lead 1; alphas_: penalties.
    """

    name = "global"
    uses_X = True

    def __init__(self, alias: str | None = None, lags: int = 3, max_h: int = 10,
                 pool: str = "indicator", lower: float | None = 0.0, upper: float | None = None):
        super().__init__(alias, lower, upper)
        if pool not in ("indicator", "all"):
            raise ValueError(f"global: pool must be 'indicator' or 'all', got {pool!r}")
        self.lags = lags
        self.max_h = max_h
        self.pool = pool
        self.min_length = lags + 1

    def fallback_model(self):
        from .baselines import Drift

        return Drift(alias=self.alias, lower=self.lower, upper=self.upper)

    def _pool(self, y: pd.Series, X: pd.DataFrame | None) -> list[np.ndarray]:
        series = [y.to_numpy()]
        if X is None or len(X) == 0:
            return series
        own_area, own_ind = split_series_id(y.name) if y.name else ("", "")
        df = X
        if self.pool == "indicator" and own_ind:
            df = df[df[S.INDICATOR] == own_ind]
        df = df[df[S.YEAR] <= int(y.index[-1])]
        for (area, ind), g in df.groupby([S.AREA, S.INDICATOR], sort=True):
            if area == own_area and ind == own_ind:
                continue
            g = g.sort_values(S.YEAR)
            v = g[S.VALUE].to_numpy(float)
            yrs = g[S.YEAR].to_numpy()
            # keep the last run of consecutive years
            breaks = np.flatnonzero(np.diff(yrs) != 1)
            if len(breaks):
                v = v[breaks[-1] + 1:]
            if len(v) > self.lags + 1 and np.all(v > 0) and np.all(np.isfinite(v)):
                series.append(v)
        return series

    def _fit(self, y: pd.Series, X=None) -> None:
        from sklearn.linear_model import RidgeCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if np.any(y.to_numpy() <= 0):
            raise ValueError(f"{y.name}: the global model needs positive values (log growth)")
        pool = self._pool(y, X)
        self.n_series_ = len(pool)
        self._models, self._resid = [], []
        alphas = []
        for k in range(1, self.max_h + 1):
            parts = [_rows(v, self.lags, k) for v in pool]
            F = np.vstack([p[0] for p in parts])
            T = np.concatenate([p[1] for p in parts])
            if len(T) < max(2 * self.lags, 5):
                break
            m = make_pipeline(StandardScaler(), RidgeCV(alphas=(0.1, 1.0, 10.0, 100.0)))
            m.fit(F, T)
            self._models.append(m)
            self._resid.append(T - m.predict(F))
            alphas.append(float(m[-1].alpha_))
            if k == 1:
                self.n_rows_ = len(T)
        if not self._models:
            raise TooLittleData(f"{y.name}: too few pooled rows for the global model")
        self.alphas_ = ",".join(f"{a:g}" for a in alphas)
        v = y.to_numpy()
        self._x = np.diff(np.log(v))[-self.lags:][::-1].reshape(1, -1)
        self._last = float(v[-1])

    def _predict(self, h: int, X, level: Sequence[int]):
        n = len(self._models)
        g = np.empty(h)
        res = []
        for k in range(1, h + 1):
            j = min(k, n) - 1
            g[k - 1] = float(self._models[j].predict(self._x)[0]) * (k / (j + 1))
            res.append(self._resid[j] * np.sqrt(k / (j + 1)))
        mean = self._last * np.exp(g)
        out = {}
        for lv in level:
            lo = np.array([np.quantile(r, 0.5 - lv / 200) for r in res])
            hi = np.array([np.quantile(r, 0.5 + lv / 200) for r in res])
            out[lv] = (mean * np.exp(lo), mean * np.exp(hi))
        return mean, out
