"""The damped-trend rate paths' pieces: damping and drift spread from national histories,
ceilings, box-1 slopes, and the trend set-up of a run.

Public names:
    drift_ratios, damping_from_ratio, trend_parameters, trend_ceilings, consolidation_ceiling,
    consolidation_parameters, damped_trend, plan_slope, plan_voc_share_slope, area_slopes,
    trend_setup(cfg, plan_obs, base_year, observations, ...), plus the constants they use.

Reference: Gardner, E. S. & McKenzie, E. (1985), Forecasting trends in time series,
*Management Science* 31(10):1237–1246 (damped trend).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from .base import CONSOLIDATION, _plan_value



#: Box-1 GER indicators whose 2015→2020 change drives the "trend" path (primary and junior GER
#: have no 2015 value in box 1, so those bands are held).
TREND_GER = {"preschool": "preschool_ger_3y", "senior": "senior_stage_ger"}


#: Key of the secondary vocational share of the senior stage in trend parameters and draws.
VOC_SHARE = "secondary_vocational_share"


#: National rate series (observations, area 100000) from which damping and drift spread are
#: estimated: the only multi-decade rate histories bundled.
DRIFT_SERIES = ("preschool_ger_pct", "senior_stage_ger_pct", "compulsory_consolidation_pct")


NATIONAL_AREA, PROVINCE_AREA = "100000", "510000"


#: Years per drift window (box 1 spans 2015→2020, five years).
TREND_WINDOW = 5


#: A planner's own GER series (observations indicators, percent) that give an area its own
#: trend slope instead of the city's.
AREA_TREND_INDICATORS = {"preschool": "preschool_ger_pct", "senior": "senior_stage_ger_pct"}


#: Observation indicators (percent) that rate_path "model" forecasts, by band (the
#: observations file's names; the plan's ids are :data:`BAND_GER`).
MODEL_GER_INDICATORS = {"preschool": "preschool_ger_pct", "primary": "primary_ger_pct",
                        "junior": "junior_ger_pct", "senior": "senior_stage_ger_pct"}


#: Upper bounds (percent) of the trend paths; the preschool and consolidation ceilings are
#: read from data (:func:`trend_ceilings`), this one is definitional / stated.
FIXED_CEILINGS = {"senior": 100.0}


#: The consolidation-rate series its own damping and drift spread are estimated from
#: (:func:`consolidation_parameters`): national 2012, 2015–2025 (two 5-year window pairs).
CONSOLIDATION_SERIES = ("compulsory_consolidation_pct",)


#: Areas whose observed consolidation rates bound the consolidation path's mean
#: (:func:`consolidation_ceiling`): China and Sichuan.
CONSOLIDATION_CEILING_AREAS = (NATIONAL_AREA, PROVINCE_AREA)


def drift_ratios(obs_df: pd.DataFrame, area: str = NATIONAL_AREA,
                 indicators_: tuple[str, ...] = DRIFT_SERIES,
                 window: int = TREND_WINDOW) -> pd.DataFrame:
    """How the annual change of a rate carries over from one window to the next.

    For each series and each year t with values at t − w, t and t + w:
    b_past = (v_t − v_{t−w}) / w, b_next = (v_{t+w} − v_t) / w (points a year) and
    ratio = b_next / b_past (windows with b_past = 0 are skipped). Uses ``preferred`` rows.

    Returns:
        Columns indicator, year (t), past, next (points a year), ratio.
    """
    obs = obs_df[obs_df[S.AREA].astype(str) == str(area)]
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    rows = []
    for ind in indicators_:
        s = obs[obs[S.INDICATOR] == ind].groupby(S.YEAR)[S.VALUE].first().astype(float)
        for t in s.index:
            t = int(t)
            if t - window in s.index and t + window in s.index:
                past = (s[t] - s[t - window]) / window
                nxt = (s[t + window] - s[t]) / window
                if past != 0:
                    rows.append({S.INDICATOR: ind, S.YEAR: t, "past": past, "next": nxt,
                                 "ratio": nxt / past})
    return pd.DataFrame(rows, columns=[S.INDICATOR, S.YEAR, "past", "next", "ratio"])


def damping_from_ratio(ratio: float, window: int = TREND_WINDOW) -> float:
    """The damping φ whose next-window mean annual change is ``ratio`` × the current one.

    Solves (1/w) Σ_{h=1..w} φ^h = ratio for φ in [0, 1] (Gardner & McKenzie 1985 damped
    trend: the h-th future increment is φ^h × the current slope); ratio ≥ 1 gives φ = 1
    (no damping), ratio ≤ 0 gives φ = 0 (level held).
    """
    from scipy.optimize import brentq

    if not np.isfinite(ratio):
        raise ValueError(f"damping: ratio must be finite, got {ratio}")
    if ratio >= 1:
        return 1.0
    if ratio <= 0:
        return 0.0
    def gap(phi: float) -> float:
        return sum(phi ** h for h in range(1, window + 1)) / window - ratio

    return float(brentq(gap, 0.0, 1.0, xtol=1e-12))


def trend_parameters(obs_df: pd.DataFrame, area: str = NATIONAL_AREA,
                     window: int = TREND_WINDOW,
                     series: tuple[str, ...] = DRIFT_SERIES) -> dict[str, float]:
    """Damping and drift spread of the trend paths, estimated from national rate histories.

    From :func:`drift_ratios` over ``series`` (default :data:`DRIFT_SERIES`, pooled, all in
    percentage points; :func:`consolidation_parameters` passes the consolidation series), the
    least-squares regression through the origin of the next window's annual change on the
    past window's, next = β·past + e:  β = Σ past·next / Σ past², s_e = √(Σe² / (n − 1)).
    Damping φ = :func:`damping_from_ratio` (β) — on average the next five years' annual change
    was β × the last five years'. Drift spread σ = s_e / β (points a year): each draw's annual
    change is b + ε, ε ~ Normal(0, σ), so that the next window's mean change, β(b + ε), is as
    uncertain as the national record's residual e. The spread is additive (not proportional
    to b) so an indicator whose last five years barely moved still gets an uncertain path.

    Returns:
        dict damping (φ), drift_sd (σ, points a year), beta, residual_sd (s_e), ratio_mean
        (mean of next/past, for the record), n_windows.

    Raises:
        ValueError: fewer than two windows, or β ≤ 0 (the past trend does not carry over).
    """
    r = drift_ratios(obs_df, area, tuple(series), window)
    if len(r) < 2:
        raise ValueError(f"trend parameters: need at least two {window}-year windows of "
                         f"{list(series)} for area {area} in the observations; found "
                         f"{len(r)}. Give [enrolment] damping and drift_sd explicitly")
    past, nxt = r["past"].to_numpy(float), r["next"].to_numpy(float)
    beta = float(past @ nxt / (past @ past))
    if beta <= 0:
        raise ValueError(f"trend parameters: the {window}-year changes of {list(series)} "
                         f"do not carry over (β = {beta:.3f}); give [enrolment] damping and "
                         "drift_sd explicitly or use rate_path 'hold'")
    resid = nxt - beta * past
    s_e = float(np.sqrt(resid @ resid / (len(r) - 1)))
    return {"damping": damping_from_ratio(beta, window), "drift_sd": s_e / beta,
            "beta": beta, "residual_sd": s_e, "ratio_mean": float(r["ratio"].mean()),
            "n_windows": int(len(r))}


def trend_ceilings(obs_df: pd.DataFrame, province: str = PROVINCE_AREA) -> dict[str, float]:
    """Upper bounds of the trend paths (percent).

    Preschool GER: the highest preschool GER the province has reached in the observations
    (Sichuan 93.59 in 2025): a city that trailed the province in 2020 is not projected past the
    province's own latest level. Senior-stage GER: 100 (the stage universalised; a gross ratio
    above 100 would need net in-flows of pupils, and Neijiang exports pupils). Consolidation
    rate: :func:`consolidation_ceiling` (the highest rate China or Sichuan has reached in the
    observations, 96.84 — Sichuan 2025), a bound on the path's *mean* (see
    :func:`consolidation_path`).
    """
    obs = obs_df[(obs_df[S.AREA].astype(str) == str(province))
                 & (obs_df[S.INDICATOR] == "preschool_ger_pct")]
    if obs.empty:
        raise ValueError(f"trend ceilings: no preschool_ger_pct for area {province} in the "
                         "observations; give [enrolment] ceilings = {preschool = …} explicitly")
    return {"preschool": float(obs[S.VALUE].max()), **FIXED_CEILINGS,
            CONSOLIDATION: consolidation_ceiling(obs_df, (NATIONAL_AREA, str(province)))}


def consolidation_ceiling(obs_df: pd.DataFrame,
                          areas: tuple[str, ...] = CONSOLIDATION_CEILING_AREAS) -> float:
    """Highest nine-year consolidation rate observed for ``areas`` (percent; China, Sichuan).

    Why: the rate is bounded well below 100 in practice (deaths, emigration, unrecorded
    transfers); the national rate rose 91.8 (2012) → 96.1 (2025) ever more slowly and Sichuan
    stood at 96.84 in 2025. A damped trend fitted to Neijiang's 2015→2020 rise (+0.57 a year)
    heads for ~100 instead, so the path's mean is not allowed past the highest level any
    comparable population has been observed at; a city already above it is held at its base
    (:func:`consolidation_path`). Uses ``preferred`` rows.
    """
    obs = obs_df[obs_df[S.AREA].astype(str).isin([str(a) for a in areas])
                 & (obs_df[S.INDICATOR] == CONSOLIDATION_SERIES[0])]
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    if obs.empty:
        raise ValueError(f"consolidation ceiling: no {CONSOLIDATION_SERIES[0]} for areas "
                         f"{list(areas)} in the observations; give [enrolment] ceilings = "
                         f"{{{CONSOLIDATION} = …}} explicitly")
    return float(obs[S.VALUE].max())


def consolidation_parameters(obs_df: pd.DataFrame, area: str = NATIONAL_AREA,
                             window: int = TREND_WINDOW) -> dict[str, float]:
    """Damping and drift spread of the consolidation path from consolidation series only.

    :func:`trend_parameters` on :data:`CONSOLIDATION_SERIES` (the national rate, 2012 and
    2015–2025): two window pairs (2012→2017→2022, 2015→2020→2025), the fewest the estimator
    accepts; β ≈ 0.61 (the next five years' rise was ~0.6 × the last five years'), residual sd
    on one degree of freedom — thin, stated in the run's assumptions. Replaces the pooled
    preschool/senior/consolidation estimate (half of whose windows were preschool GER).
    """
    return trend_parameters(obs_df, area, window, CONSOLIDATION_SERIES)


def damped_trend(level0: float, slope, horizons, damping: float, lower: float = 0.0,
                 upper: float = np.inf) -> np.ndarray:
    """Damped-trend levels (Gardner & McKenzie 1985), bounded.

    L(h) = clip(L0 + b × Σ_{i=1..h} φ^i, lower, upper), with Σ φ^i = φ(1 − φ^h)/(1 − φ)
    (= h when φ = 1). The limit as h → ∞ is L0 + b φ/(1 − φ).

    Args:
        level0: level in the base year (percent or fraction).
        slope: annual change b (same unit per year); scalar or array of draws (n,).
        horizons: years after the base year (h ≥ 0), array (T,).
        damping: φ in [0, 1].
        lower, upper: bounds.

    Returns:
        Array (n, T) (n = 1 for a scalar slope).
    """
    if not 0 <= damping <= 1:
        raise ValueError(f"damping must be in [0, 1], got {damping}")
    if lower > upper:
        raise ValueError(f"trend bounds: lower {lower} > upper {upper}")
    h = np.asarray(horizons, dtype=float)
    if damping == 1:
        cum = h
    else:
        cum = damping * (1 - damping ** h) / (1 - damping)
    b = np.atleast_1d(np.asarray(slope, dtype=float))[:, None]
    return np.clip(level0 + b * cum[None, :], lower, upper)


def plan_slope(plan_obs: pd.DataFrame, indicator: str, base_year: int,
               window: int = TREND_WINDOW) -> float | None:
    """Box-1 annual change (v_base − v_{base−w}) / w of an indicator; None when a year is
    missing."""
    try:
        v1 = _plan_value(plan_obs, indicator, base_year)
        v0 = _plan_value(plan_obs, indicator, base_year - window)
    except ValueError:
        return None
    if not (np.isfinite(v0) and np.isfinite(v1)):
        return None
    return (v1 - v0) / window


def plan_voc_share_slope(plan_obs: pd.DataFrame, base_year: int,
                         window: int = TREND_WINDOW) -> float | None:
    """Annual change of the secondary vocational share of the senior stage (fraction a year),
    from box 1 (2015: 36,000 of 92,900; 2020: 35,000 of 96,100)."""
    try:
        s = [_plan_value(plan_obs, "secondary_vocational_enrolment", y)
             / _plan_value(plan_obs, "senior_stage_enrolment", y)
             for y in (base_year - window, base_year)]
    except (ValueError, ZeroDivisionError):
        return None
    if not all(np.isfinite(s)):
        return None
    return (s[1] - s[0]) / window


def area_slopes(observations: pd.DataFrame | None, areas, base_year: int,
                window: int = TREND_WINDOW) -> dict[str, dict[str, float]]:
    """A planner's own trend slopes by area: (G_base − G_{base−w}) / w points a year from the
    area's :data:`AREA_TREND_INDICATORS` observations (``preferred`` rows); areas or bands
    without both years are left out (they follow the city path)."""
    if observations is None or observations.empty:
        return {}
    obs = observations
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    obs = obs[obs[S.AREA].astype(str).isin([str(a) for a in areas])
              & obs[S.INDICATOR].isin(list(AREA_TREND_INDICATORS.values()))
              & obs[S.YEAR].isin([base_year - window, base_year])]
    out: dict[str, dict[str, float]] = {}
    for band, ind in AREA_TREND_INDICATORS.items():
        for area, g in obs[obs[S.INDICATOR] == ind].groupby(S.AREA):
            v = g.groupby(S.YEAR)[S.VALUE].first().astype(float)
            if base_year - window in v.index and base_year in v.index:
                out.setdefault(str(area), {})[band] = float(
                    (v[base_year] - v[base_year - window]) / window)
    return out


def trend_setup(cfg: Mapping, plan_obs: pd.DataFrame, base_year: int,
                observations: pd.DataFrame | None = None,
                planner_obs: pd.DataFrame | None = None, areas=None,
                province: str = PROVINCE_AREA) -> dict:
    """The trend paths' inputs for a run: box-1 slopes, damping, drift spread and ceilings.

    Config keys (``[enrolment]``, all optional): ``annual_change`` {band: GER points a year}
    (default: box 1, (G_2020 − G_2015)/5 for :data:`TREND_GER`), ``voc_share_change``
    (fraction a year; default box 1), ``consolidation_change`` (points a year; default box 1),
    ``damping`` and ``drift_sd`` (default :func:`trend_parameters` on the national series),
    ``ceilings`` {band or compulsory_consolidation_rate: percent} (default
    :func:`trend_ceilings`), ``consolidation_damping`` and ``consolidation_drift_sd`` (default
    :func:`consolidation_parameters`: the consolidation series only; the pooled national
    series when it has too few windows in ``observations``).

    ``observations``: the observed series (national and provincial rate histories; the bundled
    ones, :func:`njforecast.io.store.load_observations`), needed unless the config sets every
    parameter. ``planner_obs`` (a planner's own series) with ``preschool_ger_pct`` / ``senior_stage_ger_pct``
    for an area of ``areas`` in base − 5 and base gives that area its own slope
    (:func:`area_slopes`). ``province``: the region's province (its code in the
    observations), whose observed rates bound the paths (:func:`trend_ceilings`).

    Returns:
        dict annual_change, area_change, voc_share_change, consolidation_change, damping,
        drift_sd, ceilings, source (how damping and spread were set), consolidation_damping,
        consolidation_drift_sd, consolidation_source.
    """
    need_obs = ("damping" not in cfg or "drift_sd" not in cfg
                or not set(TREND_GER) | {CONSOLIDATION} <= set(cfg.get("ceilings", {}))
                or "consolidation_damping" not in cfg or "consolidation_drift_sd" not in cfg)
    if need_obs and observations is None:
        raise ValueError("trend set-up: the observed rate series are needed (observations) "
                         "unless [enrolment] sets damping, drift_sd, ceilings, "
                         "consolidation_damping and consolidation_drift_sd")
    if "damping" in cfg and "drift_sd" in cfg:
        params = {"damping": float(cfg["damping"]), "drift_sd": float(cfg["drift_sd"])}
        source = "[enrolment] damping and drift_sd (config)"
    else:
        params = trend_parameters(observations)
        source = (f"national rate series {list(DRIFT_SERIES)}: {params['n_windows']} "
                  f"{TREND_WINDOW}-year windows, next = β·past + e with β "
                  f"{params['beta']:.3f}, residual sd {params['residual_sd']:.3f} points a year")
        params = {k: float(cfg.get(k, params[k])) for k in ("damping", "drift_sd")}
    ceilings = dict(cfg.get("ceilings", {}))
    if need_obs and not set(TREND_GER) | {CONSOLIDATION} <= set(ceilings):
        ceilings = {**trend_ceilings(observations, province), **ceilings}
    change = cfg.get("annual_change")
    if not change:
        change = {b: v for b, ind in TREND_GER.items()
                  if (v := plan_slope(plan_obs, ind, base_year)) is not None}
    voc = cfg.get("voc_share_change", plan_voc_share_slope(plan_obs, base_year))
    cons = cfg.get("consolidation_change", plan_slope(plan_obs, CONSOLIDATION, base_year))
    if "consolidation_damping" in cfg and "consolidation_drift_sd" in cfg:
        c_par = {"damping": float(cfg["consolidation_damping"]),
                 "drift_sd": float(cfg["consolidation_drift_sd"])}
        c_source = "[enrolment] consolidation_damping and consolidation_drift_sd (config)"
    else:
        try:
            cp = consolidation_parameters(observations)
            c_source = (f"national consolidation series only ({cp['n_windows']} "
                        f"{TREND_WINDOW}-year window pairs, β {cp['beta']:.3f}, residual sd "
                        f"{cp['residual_sd']:.3f} points a year on {cp['n_windows'] - 1} df: "
                        "thin)")
        except ValueError as exc:  # too few consolidation windows (series cut at a jump-off)
            if "need at least" not in str(exc):
                raise
            cp = trend_parameters(observations)
            c_source = (f"national rate series, pooled ({cp['n_windows']} {TREND_WINDOW}-year "
                        "windows): the consolidation series alone has too few windows in the "
                        "observations the run may read")
        c_par = {"damping": float(cfg.get("consolidation_damping", cp["damping"])),
                 "drift_sd": float(cfg.get("consolidation_drift_sd", cp["drift_sd"]))}
    return {"annual_change": {b: float(v) for b, v in change.items()},
            "compulsory_evidence": compulsory_evidence(observations, base_year),
            "area_change": area_slopes(planner_obs, areas or [], base_year),
            "voc_share_change": None if voc is None else float(voc),
            "consolidation_change": None if cons is None else float(cons),
            **params, "ceilings": {k: float(v) for k, v in ceilings.items()},
            "source": source, "consolidation_damping": c_par["damping"],
            "consolidation_drift_sd": c_par["drift_sd"], "consolidation_source": c_source}


#: National series that show compulsory enrolment is universal (percent).
COMPULSORY_EVIDENCE = ("primary_net_enrolment_pct", "junior_ger_pct")


def compulsory_evidence(observations: pd.DataFrame | None, base_year: int,
                        years: int = 10) -> str:
    """Why the primary and junior GERs are held at their jump-off values, from the data: the
    range of the national primary net enrolment rate and junior GER over the ``years`` years to
    the base year (bundled MoE series; "no series" when the observations lack them)."""
    if observations is None or observations.empty:
        return "no national compulsory-enrolment series in the observations"
    obs = observations
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED]]
    obs = obs[(obs[S.AREA].astype(str) == NATIONAL_AREA)
              & obs[S.YEAR].between(base_year - years + 1, base_year)]
    parts = []
    for ind in COMPULSORY_EVIDENCE:
        v = obs[obs[S.INDICATOR] == ind].sort_values(S.YEAR)
        if len(v):
            parts.append(f"{ind} {v[S.VALUE].min():g}–{v[S.VALUE].max():g} "
                         f"({int(v[S.YEAR].min())}–{int(v[S.YEAR].max())}, {len(v)} years)")
    return "; ".join(parts) or "no national compulsory-enrolment series in the observations"


def trend_assumptions(trend: Mapping) -> list[tuple]:
    """The trend paths' named assumptions (name, value, quality, note) for logging."""
    return [
        ("trend_annual_change", trend["annual_change"], "estimated",
         "GER points a year, plan box 1 (2020 − 2015)/5 unless set in config"),
        ("trend_compulsory", "primary and junior GER held at the jump-off value", "estimated",
         "compulsory enrolment is universal, so it follows the school-age population (its "
         "spread is the population's): national " + trend.get(
             "compulsory_evidence", "series not given")),
        ("trend_area_change", trend["area_change"], "observed",
         "areas with their own GER series (points a year); the rest follow the city path"),
        ("trend_voc_share_change", trend["voc_share_change"], "estimated",
         "secondary vocational share of the senior stage, fraction a year, box 1"),
        ("trend_consolidation_change", trend["consolidation_change"], "estimated",
         "consolidation rate points a year, box 1"),
        ("trend_damping", trend["damping"], "estimated",
         "Gardner & McKenzie (1985) damped trend φ; " + trend["source"]),
        ("trend_drift_sd", trend["drift_sd"], "estimated",
         "sd of each draw's annual change (points a year; the vocational share in points of "
         "the senior stage), b + ε, ε ~ Normal(0, sd); " + trend["source"]),
        ("trend_ceilings", trend["ceilings"], "estimated",
         "upper bounds (percent): preschool = highest Sichuan preschool GER observed; "
         "senior stage 100; consolidation = highest rate observed for China or Sichuan, a "
         "bound on the path's mean (held at the base if the base is above it)"),
        ("trend_consolidation_damping", trend["consolidation_damping"], "estimated",
         "damped trend φ of the consolidation rate; " + trend["consolidation_source"]),
        ("trend_consolidation_drift_sd", trend["consolidation_drift_sd"], "estimated",
         "sd of each draw's annual change of the consolidation rate (points a year); "
         + trend["consolidation_source"]),
    ]

