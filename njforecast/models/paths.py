"""Paths from models/ forecasters: one observed yearly series continued over a horizon, per draw.

Public names:
    model_series_path(obs, years, model, ...) → (draws × years array, note);
    drift_shocks(draw_ids, sd, seed, key) seeded per-draw normal shocks.

The interface the education stage uses to turn a back-tested forecaster into a rate or ratio
path (DESIGN §5: rate paths come from models/).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S


#: z of the central 80 % interval (its half-width / 1.2816 = the forecast's sd, normal).
_Z80 = 1.2815515655446004


def drift_shocks(draw_ids, drift_sd: float, seed: int, key: str) -> np.ndarray:
    """Per-draw shocks ε ~ Normal(0, drift_sd) to an indicator's annual change.

    Seeded by (seed, crc32(key)) and indexed by draw id, so a draw's value depends only on the
    seed, the indicator and the draw id — not on area order, on the other indicators or on
    which draws are requested.
    """
    import zlib

    ids = np.asarray(draw_ids, dtype=int)
    if ids.size == 0:
        return np.zeros(0)
    if ids.min() < 0:
        raise ValueError("draw ids must be >= 0")
    if not drift_sd >= 0:
        raise ValueError(f"drift_sd must be >= 0, got {drift_sd}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(key.encode())]))
    z = rng.standard_normal(int(ids.max()) + 1)
    return drift_sd * z[ids]


def model_series_path(obs: pd.Series, years, *, model: str = "auto", draw_ids=None,
                      seed: int = 0, X: pd.DataFrame | None = None, min_years: int = 8,
                      model_options: Mapping | None = None,
                      need_first: bool = False) -> tuple[np.ndarray | None, str]:
    """One observed yearly series continued by a models/ forecaster over ``years``, per draw
    — the core of every "model" path (GER paths here, pupil–teacher ratios in teachers).

    The model is fitted on the last run of consecutive years of ``obs`` (up to its last year
    T; ``X`` — observations of the same indicator for other areas, cut at T — feeds pooled
    models) and forecasts T+1 … max(years); years ≤ T keep the observed values (NaN where the
    series has no value). Per draw d: F_d(t) = F̂(t) + z_d·s(t), s(t) = (hi80 − lo80)/(2·1.2816)
    (the model's 80 % interval read as normal), z_d ~ Normal(0, 1) seeded by (seed, series
    name) and indexed by draw id (:func:`drift_shocks`) — whole paths, fully correlated over
    years (a stated simplification). Values are clipped at 0.

    Args:
        obs: the series (index year, values), named ``area|indicator``.
        years: the years of the path (sorted).
        model: registry name of the forecaster.
        draw_ids: draw ids (None: one mean path).
        seed: seed of the per-draw z.
        X: pooled observations (area, year, indicator, value) for models that use them.
        min_years: fewest consecutive years before the series is extrapolated.
        model_options: extra keyword arguments of the model.
        need_first: the first year's value is needed (relative change): no path when it lies
            before the run and is not observed.

    Returns:
        (array draws × years, or None when the series cannot be used; a note saying what was
        fitted, or why not).
    """
    from . import make_model

    years = sorted(int(y) for y in years)
    t_end = years[-1]
    z_ids = None if draw_ids is None else np.sort(np.unique(np.asarray(draw_ids, dtype=int)))
    obs = obs.dropna().sort_index()
    T = int(obs.index[-1])
    yrs = obs.index.to_numpy()
    br = np.flatnonzero(np.diff(yrs) != 1)
    run = obs.iloc[br[-1] + 1:] if len(br) else obs
    if need_first and years[0] < int(run.index[0]) and years[0] not in obs.index:
        return None, f"has no value at {years[0]}"
    if t_end > T and len(run) < min_years:
        return None, (f"has only {len(run)} consecutive years ({int(run.index[0])}–{T}) < "
                      f"{min_years}")
    n = 1 if z_ids is None else len(z_ids)
    path = np.full((n, len(years)), np.nan)
    for j, t in enumerate(years):
        if t <= T and t in obs.index:
            path[:, j] = obs[t]
    note = "observed, no forecast needed"
    if t_end > T:
        h = t_end - T
        Xt = None if X is None else X[X[S.YEAR] <= T]
        m = make_model(model, alias="m", lower=0.0, **dict(model_options or {}))
        fc = m.fit(run, Xt).predict(h, Xt, (80,))
        sd = (fc["m-hi-80"].to_numpy(float) - fc["m-lo-80"].to_numpy(float)) / (2 * _Z80)
        z = np.zeros(1) if z_ids is None else drift_shocks(z_ids, 1.0, seed,
                                                            f"model:{obs.name}")
        f = fc["m"].to_numpy(float)[None, :] + z[:, None] * sd[None, :]
        for j, t in enumerate(years):
            if t > T:
                path[:, j] = f[:, t - T - 1]
        used = getattr(m, "fallback_", None) or getattr(m, "predict_fallback_", None)
        fb = f" (fell back to {used})" if used else ""
        note = f"{model}{fb} on {int(run.index[0])}–{T} ({len(run)} years), forecast {T + 1}–{t_end}"
    return np.clip(path, 0.0, None), note

