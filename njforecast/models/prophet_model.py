"""Prophet (Taylor & Letham 2018) for yearly series: piecewise-linear trend for counts,
logistic growth with a cap for rates; no seasonality (yearly data have none).

Public class: ProphetForecaster.

Prophet is slow (a CmdStan optimisation per fit) and its logging is chatty: the ``prophet`` and
``cmdstanpy`` loggers are set to WARNING on first use. Intervals come from
``predictive_samples`` (``uncertainty_samples`` draws, trend-change and noise uncertainty) as
empirical quantiles, so one fit gives every level. Deterministic: the Stan seed and the numpy
seed for the draws are fixed by ``seed``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .base import Forecaster, log


def _quiet_logs() -> None:
    # cmdstanpy installs its own INFO handler unless the logger already has one
    for name in ("prophet", "cmdstanpy", "prophet.models"):
        lg = logging.getLogger(name)
        if not any(isinstance(hd, logging.NullHandler) for hd in lg.handlers):
            lg.addHandler(logging.NullHandler())
        lg.setLevel(logging.WARNING)


def _dates(years) -> pd.Series:
    return pd.to_datetime([f"{int(y)}-07-01" for y in years])


class ProphetForecaster(Forecaster):
    """Prophet with linear growth (counts) or logistic growth capped at ``cap`` (rates).

    Args:
        cap: carrying capacity for logistic growth, in the series' unit (e.g. 100 for a rate in
            percent); ``None`` → linear growth. If the data reach the cap, the cap is raised to
            1.05 × max(y) and the change logged (GERs can exceed 100 %).
        floor: logistic floor (default 0).
        uncertainty_samples: draws for the intervals (modest by default: 200).
        changepoint_prior_scale: trend flexibility (Prophet's default 0.05).
        seed: Stan and numpy seed.

    Attributes:
        cap_: the cap used (None for linear); k_, m_: fitted growth rate and offset.
    """

    name = "prophet"
    min_length = 5

    def __init__(self, alias: str | None = None, cap: float | None = None, floor: float = 0.0,
                 uncertainty_samples: int = 200, changepoint_prior_scale: float = 0.05,
                 seed: int = 20201101, lower: float | None = 0.0, upper: float | None = None):
        super().__init__(alias, lower, upper)
        self.cap = cap
        self.floor = floor
        self.uncertainty_samples = uncertainty_samples
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seed = seed

    def fallback_model(self):
        from .baselines import Drift

        return Drift(alias=self.alias, lower=self.lower, upper=self.upper)

    def _frame(self, years) -> pd.DataFrame:
        df = pd.DataFrame({"ds": _dates(years)})
        if self.cap_ is not None:
            df["cap"] = self.cap_
            df["floor"] = self.floor
        return df

    def _fit(self, y: pd.Series, X=None) -> None:
        _quiet_logs()
        from prophet import Prophet


        self.cap_ = None
        if self.cap is not None:
            cap = float(self.cap)
            if y.max() >= cap:
                new = float(y.max()) * 1.05
                log.info("%s: data reach the cap %.4g; cap raised to %.4g", y.name, cap, new)
                cap = new
            self.cap_ = cap
        m = Prophet(growth="logistic" if self.cap_ is not None else "linear",
                    yearly_seasonality=False, weekly_seasonality=False, daily_seasonality=False,
                    uncertainty_samples=self.uncertainty_samples,
                    changepoint_prior_scale=self.changepoint_prior_scale)
        df = self._frame(y.index)
        df["y"] = y.to_numpy()
        m.fit(df, seed=self.seed)
        self._m = m
        self.k_ = float(np.ravel(m.params["k"])[0])
        self.m_ = float(np.ravel(m.params["m"])[0])

    def _predict(self, h: int, X, level: Sequence[int]):
        years = np.arange(self.cutoff_ + 1, self.cutoff_ + h + 1)
        future = self._frame(years)
        n = self._m.uncertainty_samples
        self._m.uncertainty_samples = 0
        try:
            mean = self._m.predict(future)["yhat"].to_numpy(float)
        finally:
            self._m.uncertainty_samples = n
        state = np.random.get_state()
        np.random.seed(self.seed)
        try:
            draws = self._m.predictive_samples(future)["yhat"]  # (h, samples)
        finally:
            np.random.set_state(state)
        out = {}
        for lv in level:
            lo, hi = np.quantile(draws, [0.5 - lv / 200, 0.5 + lv / 200], axis=1)
            out[lv] = (lo, hi)
        return mean, out
