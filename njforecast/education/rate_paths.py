"""Enrolment-rate paths to the horizon (a named assumption) and the consolidation-rate path.

Public names:
    RateMultipliers, rate_multipliers(rates_df, years, region, path, ...) (arrays),
    rate_path(...) (the same as a long frame), model_ger_path(series_obs, years, g0, ...)
    (rate_path "model": a models/ forecast of an observed GER series),
    consolidation_values(...) (array) and consolidation_path(...) (frame).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region
from .base import BAND_GER, LEVEL_BAND
from ..models.paths import drift_shocks, model_series_path
from .trend import MODEL_GER_INDICATORS, NATIONAL_AREA, VOC_SHARE, damped_trend


def _area_ger(rates_df: pd.DataFrame, area: str, band: str) -> float:
    r = rates_df[(rates_df[S.AREA] == area) & (rates_df[S.BAND] == band)]
    if r.empty:
        raise ValueError(f"rate path 'trend': area {area} has no base rates for band {band!r}")
    return float(r[S.ENROLMENT].sum() / (r[S.POPULATION].iloc[0] * r[S.GER_FACTOR].iloc[0])
                 * 100.0)


def _base_ger(rates_df: pd.DataFrame, region_code: str) -> dict[str, float]:
    city = rates_df[rates_df[S.AREA] == region_code]
    g = city.groupby(S.BAND).agg(e=(S.ENROLMENT, "sum"), p=(S.POPULATION, "first"),
                                 f=(S.GER_FACTOR, "first"))
    return (g["e"] / (g["p"] * g["f"]) * 100.0).to_dict()


def model_ger_path(series_obs: pd.DataFrame, years, g0: Mapping[str, float], *,
                   model: str = "auto", area: str = NATIONAL_AREA, change: str = "relative",
                   indicators: Mapping[str, str] | None = None, draw_ids=None, seed: int = 0,
                   model_options: Mapping | None = None,
                   ceilings: Mapping[str, float] | None = None,
                   min_years: int = 8) -> tuple[pd.DataFrame, list[str]]:
    """City GER paths forecast by a models/ forecaster from an observed rate series — how a
    back-test's winner feeds the projection (DESIGN §5: rate paths come from models/).

    For each band with a series ``indicators[band]`` (percent) for ``area`` in
    ``series_obs``: the model is fitted on the series' last run of consecutive years (up to
    its last year T; other areas' series of the indicator are passed as X for pooled models)
    and forecasts T+1 … max(years); years ≤ T keep the observed values. Per draw d the path is
    F_d(t) = F̂(t) + z_d · s(t), s(t) = (hi80(t) − lo80(t)) / (2 · 1.2816) (normal reading of
    the model's 80 % interval; z_d ~ Normal(0, 1) seeded by (seed, indicator) and indexed by
    draw id, :func:`drift_shocks`; one z per draw for all years, i.e. the draws are whole
    paths, fully correlated over years — a stated simplification).

    ``change="relative"`` (default) applies the series' relative change to the city's base
    GER: G_d(t) = G0 · F_d(t) / F_d(t0), t0 = the base year (for a reference series on another
    basis or area — e.g. the national GER); ``change="level"`` uses G_d(t) = F_d(t) (the series
    must be the city's own, on the plan's basis). In both modes the base year keeps the
    calibrated G0; a year ≤ T missing from the series holds the previous year (noted); a band
    with a ceiling c (as the trend path's, :func:`trend_ceilings`) is capped at max(c, G0) —
    yearly models extrapolate a rising rate's trend without any notion of saturation.

    Args:
        series_obs: observations (area, year, indicator, value).
        years: school years, base year first.
        g0: the city's base GER by band (percent).
        model: registry name of the forecaster (``auto``, ``theta``, …).
        area: the series' area code.
        change: "relative" or "level".
        indicators: {band: observation indicator}; default :data:`MODEL_GER_INDICATORS`.
        draw_ids: draw ids (None: the mean path only).
        seed: seed of the per-draw z.
        model_options: extra keyword arguments of the model.
        ceilings: {band: percent} upper bounds of the paths.
        min_years: fewest consecutive years a series needs before it is extrapolated past its
            end (a shorter one leaves the band held, noted — three points do not make a
            fifteen-year path).

    Returns:
        (ger_path with columns year, indicator (plan GER id), value (percent)[, draw];
        notes — one line per band saying what was fitted, or why the band is held).

    Raises:
        ValueError: unknown change mode, or no band has a series.
    """
    from ..models import series_id

    if change not in ("relative", "level"):
        raise ValueError(f"rate path 'model': rate_change must be 'relative' or 'level', got "
                         f"{change!r}")
    years = sorted(int(y) for y in years)
    ind_map = dict(indicators or MODEL_GER_INDICATORS)
    z_ids = None if draw_ids is None else np.sort(np.unique(np.asarray(draw_ids, dtype=int)))
    frames, notes = [], []
    for band, ind in ind_map.items():
        if band not in g0:
            continue
        sub = series_obs[(series_obs[S.INDICATOR] == ind) & (series_obs[S.AREA] == str(area))]
        sub = sub.drop_duplicates(S.YEAR).sort_values(S.YEAR)
        if sub.empty:
            notes.append(f"{band}: no {ind} series for area {area}; held at the base GER")
            continue
        obs = pd.Series(sub[S.VALUE].to_numpy(float), index=sub[S.YEAR].to_numpy(int),
                        name=series_id(str(area), ind))
        X = series_obs.loc[series_obs[S.INDICATOR] == ind,
                           [S.AREA, S.YEAR, S.INDICATOR, S.VALUE]]
        path, fitted = model_series_path(obs, years, model=model, draw_ids=z_ids, seed=seed,
                                         X=X, min_years=min_years, model_options=model_options,
                                         need_first=change == "relative")
        if path is None:
            notes.append(f"{band}: {ind} ({area}) {fitted}; held at the base GER")
            continue
        path = np.clip(path, 0.0, None)
        if change == "relative":
            base = path[:, [0]]
            if not np.all(base > 0):
                notes.append(f"{band}: {ind} ({area}) is 0 at the base year; held")
                continue
            path = g0[band] * path / base
        path[:, 0] = g0[band]  # the base year stays calibrated to the plan
        if ceilings and band in ceilings:
            top = max(float(ceilings[band]), g0[band])
            if np.nanmax(path) > top:
                fitted += f"; capped at {top:.2f}"
            path = np.minimum(path, top)
        gaps = [t for j, t in enumerate(years) if np.isnan(path[0, j])]
        if gaps:
            fitted += f"; no value for {','.join(map(str, gaps))}: the previous year's held"
        n = path.shape[0]
        part = pd.DataFrame({S.YEAR: np.tile(years, n), S.INDICATOR: BAND_GER[band],
                             S.VALUE: path.ravel()})
        if z_ids is not None:
            part[S.DRAW] = np.repeat(z_ids, len(years))
        frames.append(part.dropna(subset=[S.VALUE]))
        notes.append(f"{band}: {ind} of area {area}, {change} change; {fitted}")
    if not frames:
        raise ValueError(f"rate path 'model': no band has a usable series among "
                         f"{sorted(ind_map.values())} for area {area}; " + "; ".join(notes))
    return pd.concat(frames, ignore_index=True), notes


def rate_path(rates_df: pd.DataFrame, years, region: Region, path: str = "hold",
              **kwargs) -> pd.DataFrame:
    """Enrolment-rate paths as a long frame: :func:`rate_multipliers` × the base rates.

    Returns:
        Columns area, year, level[, draw], rate (fraction), rate_path (the path name).
    """
    years = sorted(int(y) for y in years)
    m = rate_multipliers(rates_df, years, region, path, **kwargs)
    draw_ids = m.draw_ids
    n = 1 if draw_ids is None else len(draw_ids)
    frames = []
    for level, lm in m.level.items():
        part = {S.LEVEL: level, S.YEAR: np.tile(years, n), "_m": lm.ravel()}
        if draw_ids is not None:
            part[S.DRAW] = np.repeat(draw_ids, len(years))
        frames.append(pd.DataFrame(part))
    mf = pd.concat(frames, ignore_index=True)
    out = rates_df[[S.AREA, S.LEVEL, S.RATE]].merge(mf, on=S.LEVEL)
    dk = [S.DRAW] if draw_ids is not None else []
    if m.area:
        own = []
        for (area, level), mm in m.area.items():
            part = {S.AREA: area, S.LEVEL: level, S.YEAR: np.tile(years, n), "_own": mm.ravel()}
            if dk:
                part[S.DRAW] = np.repeat(draw_ids, len(years))
            own.append(pd.DataFrame(part))
        out = out.merge(pd.concat(own, ignore_index=True), on=[S.AREA, S.LEVEL, S.YEAR, *dk],
                        how="left")
        out["_m"] = out["_own"].fillna(out["_m"])
    out[S.RATE] = out[S.RATE] * out["_m"]
    out[S.RATE_PATH] = path
    return out[[S.AREA, S.YEAR, S.LEVEL, *dk, S.RATE, S.RATE_PATH]].sort_values(
        [S.AREA, S.LEVEL, S.YEAR, *dk], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class RateMultipliers:
    """Multipliers of the base enrolment rates, rate(a, L, t, d) = rate0(a, L) × m.

    Attributes:
        level: level → array (n, T) (n = draws, or 1 without draws), the city path.
        area: (area, level) → array (n, T) for areas with their own path (a planner's slope).
        draw_ids: the draw ids (None without draws).
        path: the path's name.
    """

    level: dict
    area: dict
    draw_ids: np.ndarray | None
    path: str


def rate_multipliers(rates_df: pd.DataFrame, years, region: Region, path: str = "hold",
                     targets: Mapping[str, float] | None = None, target_year: int | None = None,
                     annual_change: Mapping[str, float] | None = None,
                     ger_path: pd.DataFrame | None = None, max_ger: float | None = None, *,
                     damping: float = 1.0, drift_sd: float = 0.0,
                     ceilings: Mapping[str, float] | None = None,
                     voc_share_change: float | None = None, draws=None,
                     seed: int = 0,
                     area_change: Mapping[str, Mapping[str, float]] | None = None,
                     g0: Mapping[str, float] | None = None) -> RateMultipliers:
    """Enrolment-rate paths from the base year to the horizon (a named assumption).

    Paths (every level in a band moves by the same multiplier m_band(t); rate(t) = rate_base × m):
        * ``"hold"``: m = 1 (status quo).
        * ``"target"``: the city GER of a band reaches ``targets[GER indicator]`` (percent) in
          ``target_year`` linearly and is held after: m(t) = 1 + (G*/G0 − 1) × min(1, (t − t0) /
          (target_year − t0)); bands without a target are held.
        * ``"trend"``: damped trend (Gardner & McKenzie 1985) of each band's city GER from its
          annual change b = ``annual_change[band]`` (points a year; the run derives it from
          plan box 1, 2015→2020):
          G(t) = clip(G0 + (b + ε_d)·Σ_{i=1..t−t0} φ^i, 0, ceiling_band), m(t) = G(t)/G0,
          with φ = ``damping`` and, per draw d, ε_d ~ Normal(0, ``drift_sd``) points a year
          (:func:`drift_shocks`; ε = 0 without draws). ``max_ger`` caps every band.
          With ``voc_share_change`` (fraction a year) the secondary vocational share of the
          senior stage follows the same damped trend (its shock ε_d / 100: the same spread in
          percentage points of the share), bounded to [0, 1], and splits the senior
          stage: m_voc = m_senior × s(t)/s0, m_general = m_senior × (1 − s(t))/(1 − s0)
          (the stage total is unchanged by the split). Bands without a change are held.
        * ``"external"`` / ``"model"``: ``ger_path`` (year, indicator, value = city GER in
          percent[, draw]; e.g. :func:`model_ger_path`, a models/ forecast) gives
          m(t) = G(t)/G0; years not given hold the last value; with a draw column each draw
          gets its own path.

    Counties follow the city multipliers (their base rates are estimated from the city), unless
    ``area_change`` {area: {band: points a year}} gives an area its own slope (a planner's own
    series, :func:`area_slopes`): that area's GER G_a follows the same damped trend from its
    own base GER with its own slope (same φ, bounds and per-draw shock ε_d as the city).

    Args:
        rates_df: :func:`calibrate_base_rates` output.
        years: the school years to cover (base year first).
        region: the region.
        path: "hold", "target", "trend" or "external".
        damping, drift_sd, ceilings, voc_share_change, draws, seed, area_change: trend path
            only, except ``draws``: the draw ids (e.g. the population frame's) — given, the
            output has a draw column; a ``ger_path`` with draws must cover every one of them.
        g0: the city's base GER by band (percent), when the caller has it already.

    Returns:
        :class:`RateMultipliers` (arrays draws × years by level, and by area where an area has
        its own path).
    """
    years = sorted(int(y) for y in years)
    t0 = int(rates_df[S.YEAR].iloc[0])
    g0 = dict(g0) if g0 is not None else _base_ger(rates_df, region.code)
    yrs = np.array(years, dtype=float)
    mult: dict[str, np.ndarray] = {b: np.ones((1, len(years))) for b in g0}
    level_extra: dict[str, np.ndarray] = {}
    area_mult: dict[tuple[str, str], np.ndarray] = {}
    draw_ids = None
    if path == "hold":
        pass
    elif path == "target":
        if not targets or target_year is None:
            raise ValueError("rate path 'target' needs targets {GER indicator: percent} and "
                             "target_year")
        if target_year <= t0:
            raise ValueError(f"rate path 'target': target_year {target_year} must be after the "
                             f"base year {t0}")
        ind_band = {v: k for k, v in BAND_GER.items()}
        for ind, value in targets.items():
            if ind not in ind_band:
                raise ValueError(f"rate path 'target': unknown GER indicator {ind!r}; use one "
                                 f"of {sorted(ind_band)}")
            b = ind_band[ind]
            frac = np.clip((yrs - t0) / (target_year - t0), 0, 1)
            mult[b] = (1 + (float(value) / g0[b] - 1) * frac)[None, :]
    elif path == "trend":
        if not annual_change and voc_share_change is None:
            raise ValueError("rate path 'trend' needs annual_change {band: GER points per year}")
        if draws is not None:
            draw_ids = np.sort(np.unique(np.asarray(draws, dtype=int)))
        h = np.clip(yrs - t0, 0, None)
        ceilings = dict(ceilings or {})

        def eps(key: str) -> np.ndarray:
            if draw_ids is None:
                return np.zeros(1)
            return drift_shocks(draw_ids, drift_sd, seed, key)

        for b, d in (annual_change or {}).items():
            if b not in g0:
                raise ValueError(f"rate path 'trend': unknown band {b!r}; use one of {sorted(g0)}")
            top = min(float(ceilings.get(b, np.inf)), np.inf if max_ger is None else max_ger)
            if top < g0[b]:
                raise ValueError(f"rate path 'trend': ceiling {top:g} for band {b!r} is below "
                                 f"its base GER {g0[b]:.2f}; raise [enrolment] ceilings/max_ger")
            g = damped_trend(g0[b], float(d) + eps(BAND_GER[b]), h, damping, 0.0, top)
            mult[b] = g / g0[b]
        for area, changes in (area_change or {}).items():
            for b, d in changes.items():
                if b not in g0:
                    raise ValueError(f"rate path 'trend': unknown band {b!r} for area {area}; "
                                     f"use one of {sorted(g0)}")
                top = min(float(ceilings.get(b, np.inf)),
                          np.inf if max_ger is None else max_ger)
                ga0 = _area_ger(rates_df, str(area), b)
                top = max(top, ga0)  # an area already above the ceiling is held, not cut
                g = damped_trend(ga0, float(d) + eps(BAND_GER[b]), h, damping, 0.0, top)
                area_mult[(str(area), b)] = g / ga0
        if voc_share_change is not None:
            city = rates_df[rates_df[S.AREA] == region.code].set_index(S.LEVEL)[S.ENROLMENT]
            s0 = float(city["secondary_vocational"]
                       / (city["secondary_vocational"] + city["senior_general"]))
            if not 0 < s0 < 1:
                raise ValueError(f"rate path 'trend': base secondary vocational share {s0} must "
                                 "be strictly between 0 and 1")
            # the share in fractions, drift_sd in points: ε / 100
            sh = damped_trend(s0, float(voc_share_change) + eps(VOC_SHARE) / 100.0, h, damping,
                              0.0, 1.0)
            level_extra["secondary_vocational"] = sh / s0
            level_extra["senior_general"] = (1 - sh) / (1 - s0)
    elif path in ("external", "model"):
        if ger_path is None or ger_path.empty:
            raise ValueError(f"rate path {path!r} needs ger_path (year, indicator, value"
                             "[, draw])")
        if S.DRAW in ger_path.columns:
            if draws is None:
                raise ValueError(f"rate path {path!r}: ger_path has a draw column but the run "
                                 "has no draws; drop the column or run with draws")
            draw_ids = np.sort(np.unique(np.asarray(draws, dtype=int)))
            missing = sorted(set(draw_ids.tolist()) - set(ger_path[S.DRAW].astype(int)))
            if missing:
                raise ValueError(f"rate path {path!r}: ger_path lacks draw(s) {missing[:5]}"
                                 f"{' …' if len(missing) > 5 else ''} of the run's "
                                 f"{len(draw_ids)}; give every draw or drop the draw column")
        for b, ind in BAND_GER.items():
            gp = ger_path[ger_path[S.INDICATOR] == ind]
            if gp.empty or b not in g0:
                continue
            if S.DRAW in gp.columns:
                w = gp.pivot_table(index=S.DRAW, columns=S.YEAR, values=S.VALUE)
                w = w.reindex(index=draw_ids, columns=years).ffill(axis=1).fillna(g0[b])
            else:
                w = gp.set_index(S.YEAR)[S.VALUE].sort_index().reindex(years).ffill().fillna(
                    g0[b]).to_frame().T
            g = w.to_numpy(float)
            if max_ger is not None:
                g = np.minimum(g, max_ger)
            mult[b] = np.clip(g, 0.0, None) / g0[b]
    else:
        raise ValueError(f"rate path must be 'hold', 'target', 'trend', 'external' or 'model', "
                         f"got {path!r}")
    n = 1 if draw_ids is None else len(draw_ids)
    level_m = {level: np.broadcast_to(mult[band] * level_extra.get(level, 1.0), (n, len(years)))
               for level, band in LEVEL_BAND.items() if band in mult}
    own = {}
    for (area, band), am in area_mult.items():
        for level in (lv for lv, bd in LEVEL_BAND.items() if bd == band):
            own[(area, level)] = np.broadcast_to(am * level_extra.get(level, 1.0),
                                                 (n, len(years)))
    return RateMultipliers(level=level_m, area=own, draw_ids=draw_ids, path=path)


def consolidation_path(base_value: float, years, target: float | None = None,
                       target_year: int | None = None, *, slope: float | None = None,
                       damping: float = 1.0, ceiling: float = 100.0,
                       shocks: np.ndarray | None = None, draw_ids=None) -> pd.DataFrame:
    """Consolidation-rate path as a frame (:func:`consolidation_values`).

    Returns columns year[, draw], value (percent), quality ("estimated"; the base year
    "observed").
    """
    years = sorted(int(y) for y in years)
    v = consolidation_values(base_value, years, target, target_year, slope=slope,
                             damping=damping, ceiling=ceiling, shocks=shocks, draw_ids=draw_ids)
    q = np.where(np.asarray(years) == years[0], "observed", "estimated")
    if slope is not None and draw_ids is not None:
        ids = np.asarray(draw_ids, dtype=int)
        out = pd.DataFrame({S.YEAR: np.tile(years, len(ids)),
                            S.DRAW: np.repeat(ids, len(years)), S.VALUE: v.ravel()})
        out[S.QUALITY] = np.tile(q, len(ids))
        return out
    return pd.DataFrame({S.YEAR: years, S.VALUE: v[0], S.QUALITY: q})


def consolidation_values(base_value: float, years, target: float | None = None,
                         target_year: int | None = None, *, slope: float | None = None,
                         damping: float = 1.0, ceiling: float = 100.0,
                         shocks: np.ndarray | None = None, draw_ids=None) -> np.ndarray:
    """Consolidation-rate path: held, moved linearly to a target, or a damped trend.

    * held: C(t) = C0; target: C0 + (C* − C0) × min(1, (t − t0)/(target_year − t0));
    * trend (``slope`` given, points a year), with c(h) = Σ_{i=1..h} φ^i and the mean path
      bounded by the ceiling K (:func:`consolidation_ceiling`; held at C0 when C0 ≥ K):

          m(t) = min(C0 + b·c(h), max(K, C0)),   C_d(t) = clip(m(t) + ε_d·c(h), 0, 100),

      one row per draw when ``draw_ids`` (with ``shocks`` ε_d, same order) are given. The
      ceiling bounds the mean, not the draws: each draw keeps its drift deviation ε_d·c(h)
      (so P(C ≥ target) reflects the drift uncertainty around a bounded mean, not a
      drift heading to 100); 100 is the definitional bound of every draw.

    Returns:
        Array (n, T) in percent: n = the number of draws for a trend with ``draw_ids``, else 1.
    """
    years = sorted(int(y) for y in years)
    t0 = years[0]
    if slope is not None:
        if not 0 <= damping <= 1:
            raise ValueError(f"damping must be in [0, 1], got {damping}")
        h = np.array(years, dtype=float) - t0
        cum = h if damping == 1 else damping * (1 - damping ** h) / (1 - damping)
        mean = np.minimum(base_value + float(slope) * cum, max(float(ceiling), base_value))
        if draw_ids is None:
            return np.clip(mean, 0.0, 100.0)[None, :]
        ids = np.asarray(draw_ids, dtype=int)
        e = np.zeros(len(ids)) if shocks is None else np.asarray(shocks, float)
        return np.clip(mean[None, :] + e[:, None] * cum[None, :], 0.0, 100.0)
    vals = []
    for y in years:
        if target is None or target_year is None or target_year <= t0:
            vals.append(base_value)
        else:
            vals.append(base_value + (target - base_value) * min(1.0, (y - t0) / (target_year - t0)))
    return np.asarray(vals, dtype=float)[None, :]

