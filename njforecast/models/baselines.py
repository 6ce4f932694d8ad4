"""Benchmark forecasters: naive (random walk), drift (random walk with drift), mean.

Public classes: Naive, Drift, Mean. Importing this module registers Naive as the default
fallback of every model (``base.set_default_fallback``).

Point forecasts and normal prediction intervals follow Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice* (3rd ed., 2021), §5.2 and §5.5 (table 5.2), with
σ̂ the residual standard deviation (denominator T − K − M: K estimated parameters,
M missing residuals):

* naive  ŷ_{T+h} = y_T,                         σ_h = σ̂ √h
* drift  ŷ_{T+h} = y_T + h (y_T − y_1)/(T − 1), σ_h = σ̂ √(h (1 + h/(T − 1)))
* mean   ŷ_{T+h} = ȳ,                           σ_h = σ̂ √(1 + 1/T)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .base import Forecaster, normal_intervals, set_default_fallback


class Naive(Forecaster):
    """Random walk: every lead equals the last observation (needs 1 value; σ̂ from ≥ 2).

    Attributes:
        last_: y_T; sigma_: residual sd of the one-step differences (0 with one observation).
    """

    name = "naive"
    min_length = 1

    def fallback_model(self):
        return None

    def _fit(self, y: pd.Series, X=None) -> None:
        v = y.to_numpy()
        self.last_ = float(v[-1])
        d = np.diff(v)
        self.sigma_ = float(np.sqrt(np.sum(d ** 2) / len(d))) if len(d) else 0.0

    def _predict(self, h: int, X, level: Sequence[int]):
        mean = np.full(h, self.last_)
        sd = self.sigma_ * np.sqrt(np.arange(1, h + 1))
        return mean, normal_intervals(mean, sd, level)


# the protocol's default fallback (``Forecaster.fallback_model``): naive, keeping the model's
# alias and bounds
set_default_fallback(lambda model: Naive(alias=model.alias, lower=model.lower, upper=model.upper))


class Drift(Forecaster):
    """Random walk with drift: the line from the first to the last observation, extended.

    Attributes:
        last_: y_T; slope_: (y_T − y_1)/(T − 1) per year; sigma_: residual sd (T − 2 d.f.).
    """

    name = "drift"
    min_length = 3

    def _fit(self, y: pd.Series, X=None) -> None:
        v = y.to_numpy()
        self.n_ = len(v)
        self.last_ = float(v[-1])
        self.slope_ = float((v[-1] - v[0]) / (len(v) - 1))
        e = np.diff(v) - self.slope_
        self.sigma_ = float(np.sqrt(np.sum(e ** 2) / (len(e) - 1)))

    def _predict(self, h: int, X, level: Sequence[int]):
        k = np.arange(1, h + 1)
        mean = self.last_ + k * self.slope_
        sd = self.sigma_ * np.sqrt(k * (1 + k / (self.n_ - 1)))
        return mean, normal_intervals(mean, sd, level)


class Mean(Forecaster):
    """Historical mean of the training series.

    Attributes:
        mean_: ȳ; sigma_: sample sd (ddof 1); n_: T.
    """

    name = "mean"
    min_length = 2

    def _fit(self, y: pd.Series, X=None) -> None:
        v = y.to_numpy()
        self.n_ = len(v)
        self.mean_ = float(v.mean())
        self.sigma_ = float(v.std(ddof=1))

    def _predict(self, h: int, X, level: Sequence[int]):
        mean = np.full(h, self.mean_)
        sd = np.full(h, self.sigma_ * np.sqrt(1 + 1 / self.n_))
        return mean, normal_intervals(mean, sd, level)
