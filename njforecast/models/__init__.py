"""Forecasters behind one protocol (DESIGN §5) and the registry the back-test uses.

Public names: the model classes, ``MODELS`` (name → class), ``AUTO_MEMBERS``,
``make_model(name, **kwargs)``, ``available_models()``.
Imports nothing above ``schema`` (DESIGN §3).
"""

from __future__ import annotations

from .base import Forecaster, series_id, split_series_id
from .baselines import Drift, Mean, Naive
from .cohort_flow import CohortFlow
from .ensemble import Auto, Combination
from .learned import GlobalRegressor
from .prophet_model import ProphetForecaster
from .statistical import Arima, AutoETS, DampedETS, Theta
from .structural import Structural

MODELS: dict[str, type[Forecaster]] = {
    "naive": Naive,
    "drift": Drift,
    "mean": Mean,
    "theta": Theta,
    "ets": DampedETS,
    "arima": Arima,
    "autoets": AutoETS,
    "prophet": ProphetForecaster,
    "global": GlobalRegressor,
    "structural": Structural,
    "cohortflow": CohortFlow,
    "combo": Combination,
    "auto": Auto,
}


def available_models() -> list[str]:
    """Model names accepted by :func:`make_model` (``all`` in the CLI means these)."""
    return list(MODELS)


def make_model(name: str, **kwargs) -> Forecaster:
    """A fresh model by registry name (alias = name unless given).

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)} or 'all'")
    return MODELS[name](**kwargs)


__all__ = ["MODELS", "Arima", "Auto", "AutoETS", "CohortFlow", "Combination", "DampedETS",
           "Drift", "Forecaster", "GlobalRegressor", "Mean", "Naive", "ProphetForecaster",
           "Structural", "Theta",
           "available_models", "make_model", "series_id", "split_series_id"]
