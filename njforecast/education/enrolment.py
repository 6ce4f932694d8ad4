"""Enrolment by level and the plan's indicators, from a (projected) population.

Public functions:
    band_population(pop_df, bands)                      population of each official age band
    registered_ratio(obs_df, area, base_year)           registered / resident population
    plan_baselines(plan_obs, pop_base, bands, ...)      the plan's city baselines by level
                                                        (compulsory split by a stated rule)
    calibrate_base_rates(pop_base, baselines, region, ...)
                                                        base enrolment and rates by area and level
    rate_path(rates_df, years, path, ...)               rate paths to the horizon (named
                                                        assumption): hold / target / trend
                                                        (damped, drift draws) / external
    model_ger_path(series_obs, years, g0, ...)          a GER path forecast by a models/
                                                        forecaster (rate_path "model")
    damped_trend(...), drift_ratios(...), trend_parameters(...), trend_ceilings(...),
    drift_shocks(...), trend_setup(cfg, plan_obs, base_year)
                                                        the trend path's pieces and inputs
    project_enrolment(pop_df, rates_df, path_df, region)
                                                        enrolment-rate method, city = Σ areas
    indicators(enrol_df, pop_df, rates_df, region, ...) GERs, plan counts, consolidation, transition
    flow_ratios(obs_df, area), flow_enrolment(...), consolidation_rate(...),
    stock_retention(...), flow_cohorts(...), project_enrolment_flow(...)
                                                        flow (entrants × progression) method
    base_year_table(region, observations, ...)          the calibrated base year by area and level
                                                        (``njforecast enrolment base``)

Conventions (DESIGN §4, §5):
    * ``year`` is the school year starting that autumn. Population frames from demography are
      dated 1 September of *t* (the school-year start) in every year, the base year included:
      demography takes the 1 November census back one step and interpolates (see
      ``demography.back_step``), so population at age *a* in year *t* is the population of age
      *a* at the start of school year *t*.
    * Age bands (parameters, defaults = the plan's and UIS's official ages): preschool 3–5,
      primary 6–11, junior 12–14, senior stage 15–17 (senior stage = senior general +
      secondary vocational).
    * Rates are fractions of the band population (enrolment per resident person of official
      age, any-age enrolment in the numerator); GERs are percent.
    * Every function works with or without a ``draw`` column; the city row is the sum of its
      areas draw by draw (:func:`njforecast.areas.aggregate_to_parent`).

References:
    UNESCO Institute for Statistics, *Gross enrolment ratio* (indicator definition), for GER.
    Gardner, E. S. & McKenzie, E. (1985), Forecasting trends in time series, *Management
    Science* 31(10):1237–1246, for the damped trend of the "trend" rate path.
    NCES *Projections of Education Statistics* (grade-progression / enrolment-rate methods) and
    California Department of Finance, *K-12 enrollment projections methodology* (cohort
    progression), for the flow method. Plan baselines: Neijiang 14th Five-Year education plan,
    box 1 (``data/raw/plan/plan_indicators_2015_2020.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region, aggregate_to_parent

# --- vocabularies ---------------------------------------------------------------------------

#: Official age bands (first, last age, inclusive) — parameters; defaults per the plan / UIS.
DEFAULT_BANDS: dict[str, tuple[int, int]] = {
    "preschool": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}

#: Which band each level's GER uses (secondary vocational counts in the senior stage).
LEVEL_BAND = {"preschool": "preschool", "primary": "primary", "junior": "junior",
              "senior_general": "senior", "secondary_vocational": "senior"}

#: Plan indicator ids (plan box 1) for each band's GER.
BAND_GER = {"preschool": "preschool_ger_3y", "primary": "primary_ger", "junior": "junior_ger",
            "senior": "senior_stage_ger"}

#: Observation indicators (README "Bringing your own county series") that give a level's count.
LEVEL_INDICATOR = {"preschool": "kindergarten_children", "primary": "primary_enrolment",
                   "junior": "junior_enrolment", "senior_general": "senior_general_enrolment",
                   "secondary_vocational": "vocational_secondary_enrolment"}

#: The plan's count indicators and the levels they add up.
PLAN_COUNTS = {"kindergarten_children": ("preschool",),
               "compulsory_enrolment": ("primary", "junior"),
               "senior_stage_enrolment": ("senior_general", "secondary_vocational"),
               "secondary_vocational_enrolment": ("secondary_vocational",)}

CONSOLIDATION = "compulsory_consolidation_rate"
TRANSITION = "junior_senior_transition"
RESIDENT_SUFFIX = "_resident_basis"


def _draw_keys(df: pd.DataFrame) -> list[str]:
    return [S.DRAW] if S.DRAW in df.columns else []


def _check_columns(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; expected {list(cols)}")


def _check_bands(bands: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    out = {}
    for name in DEFAULT_BANDS:
        if name not in bands:
            raise ValueError(f"age bands: band '{name}' is missing; give all of "
                             f"{list(DEFAULT_BANDS)} as [first age, last age]")
        lo, hi = (int(x) for x in bands[name])
        if not 0 <= lo <= hi:
            raise ValueError(f"age bands: band '{name}' = {bands[name]} must be [first, last] "
                             "with 0 <= first <= last")
        out[name] = (lo, hi)
    return out


# --- population by band ---------------------------------------------------------------------


def band_population(pop_df: pd.DataFrame,
                    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS) -> pd.DataFrame:
    """Population of each official age band.

    Args:
        pop_df: population frame (area, year, sex, age, population[, draw]); persons.
        bands: band name → (first age, last age), inclusive.

    Returns:
        Columns area, year[, draw], band, population (persons, both sexes):
        P_band(a, t) = Σ_{age in band} Σ_sex pop(a, t, sex, age).
    """
    _check_columns(pop_df, [S.AREA, S.YEAR, S.AGE, S.POPULATION], "population frame")
    bands = _check_bands(bands)
    keys = [S.AREA, S.YEAR, *_draw_keys(pop_df)]
    frames = []
    for name, (lo, hi) in bands.items():
        part = pop_df[(pop_df[S.AGE] >= lo) & (pop_df[S.AGE] <= hi)]
        g = part.groupby(keys, sort=True)[S.POPULATION].sum().reset_index()
        g[S.BAND] = name
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    return out[[*keys, S.BAND, S.POPULATION]]


def _base_band_population(pop_base: pd.DataFrame, bands, base_year: int) -> pd.DataFrame:
    """Band population in the base year, averaged over draws (draws agree at the base)."""
    if S.YEAR in pop_base.columns:
        pop_base = pop_base[pop_base[S.YEAR] == base_year]
        if pop_base.empty:
            raise ValueError(f"population frame has no rows for base year {base_year}")
    else:
        pop_base = pop_base.assign(**{S.YEAR: base_year})
    bp = band_population(pop_base, bands)
    if S.DRAW in bp.columns:
        bp = bp.groupby([S.AREA, S.YEAR, S.BAND], sort=True)[S.POPULATION].mean().reset_index()
    return bp


# --- plan baselines -------------------------------------------------------------------------


def _plan_value(plan_obs: pd.DataFrame, indicator: str, year: int) -> float:
    rows = plan_obs[(plan_obs[S.INDICATOR] == indicator) & (plan_obs[S.YEAR] == year)]
    if rows.empty:
        raise ValueError(f"plan indicators: no value for '{indicator}' in {year}; check "
                         "data/raw/plan/plan_indicators_2015_2020.csv")
    return float(rows[S.VALUE].iloc[0])


def plan_baselines(plan_obs: pd.DataFrame, pop_base: pd.DataFrame, region: Region,
                   bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS, base_year: int = 2020,
                   split_rule: str = "ger") -> pd.DataFrame:
    """The plan's city baselines by level (box 1), with the compulsory split by a stated rule.

    Published (observed): kindergarten children 85,600; compulsory 320,200 (primary + junior);
    senior stage 96,100, of which secondary vocational 35,000. Derived:
    senior general = senior stage − secondary vocational (61,100). Estimated (the split is not
    published): with ``split_rule="ger"``

        w_primary = GER_primary × P_6–11,   w_junior = GER_junior × P_12–14   (city, base year)
        primary = round(compulsory × w_primary / (w_primary + w_junior)),
        junior = compulsory − primary          (so the two add up to 320,200 exactly)

    ``split_rule="population"`` uses w = P_band alone.

    Args:
        plan_obs: plan box 1 as observations (:func:`njforecast.io.store.load_plan_indicators`).
        pop_base: population frame including the base year (single ages).
        region: the region (its code is the city).
        bands: official age bands.
        base_year: the baseline year (2020).
        split_rule: "ger" (default) or "population".

    Returns:
        Columns area (city), year, level, enrolment (persons), quality, source_note; one row per
        school level. Also the plan's base GERs as attribute ``attrs["ger"]``
        (band → percent).
    """
    bp = _base_band_population(pop_base, bands, base_year)
    city = bp[bp[S.AREA].isin([a.code for a in region.counties])].groupby(S.BAND)[
        S.POPULATION].sum()
    def v(ind: str) -> float:
        return _plan_value(plan_obs, ind, base_year)

    kinder, comp = v("kindergarten_children"), v("compulsory_enrolment")
    senior, voc = v("senior_stage_enrolment"), v("secondary_vocational_enrolment")
    ger = {band: v(ind) for band, ind in BAND_GER.items()}
    if split_rule == "ger":
        wp, wj = ger["primary"] * city["primary"], ger["junior"] * city["junior"]
        note = ("compulsory split by the plan's primary and junior GER × base population of "
                "the primary and junior bands, rounded so the parts add up exactly")
    elif split_rule == "population":
        wp, wj = city["primary"], city["junior"]
        note = "compulsory split by base population of the primary and junior bands"
    else:
        raise ValueError(f"enrolment split_rule must be 'ger' or 'population', got {split_rule!r}")
    primary = float(round(comp * wp / (wp + wj)))
    rows = [
        ("preschool", kinder, "observed", "plan box 1: kindergarten children"),
        ("primary", primary, "estimated", note),
        ("junior", comp - primary, "estimated", note),
        ("senior_general", senior - voc, "derived",
         "plan box 1: senior stage minus secondary vocational"),
        ("secondary_vocational", voc, "observed", "plan box 1: secondary vocational"),
    ]
    out = pd.DataFrame([{S.AREA: region.code, S.YEAR: base_year, S.LEVEL: lvl, S.ENROLMENT: n,
                         S.QUALITY: q, S.SOURCE_NOTE: note_} for lvl, n, q, note_ in rows])
    out.attrs["ger"] = ger
    return out


# --- calibration ----------------------------------------------------------------------------


def _user_counts(observations: pd.DataFrame | None, base_year: int, areas: list[str]) -> pd.DataFrame:
    """A planner's own base-year counts by area and level (area, level, enrolment)."""
    if observations is None or observations.empty:
        return pd.DataFrame(columns=[S.AREA, S.LEVEL, S.ENROLMENT])
    _check_columns(observations, [S.AREA, S.YEAR, S.INDICATOR, S.VALUE], "observations")
    obs = observations
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    ind_level = {v: k for k, v in LEVEL_INDICATOR.items()}
    obs = obs[(obs[S.YEAR] == base_year) & obs[S.INDICATOR].isin(ind_level)
              & obs[S.AREA].astype(str).isin(areas)]
    dup = obs.duplicated([S.AREA, S.INDICATOR])
    if dup.any():
        r = obs[dup].iloc[0]
        raise ValueError(f"observations: area {r[S.AREA]} has more than one '{r[S.INDICATOR]}' "
                         f"for {base_year}; keep one row (or mark one preferred)")
    return pd.DataFrame({S.AREA: obs[S.AREA].astype(str).values,
                         S.LEVEL: obs[S.INDICATOR].map(ind_level).values,
                         S.ENROLMENT: obs[S.VALUE].astype(float).values})


def calibrate_base_rates(pop_base: pd.DataFrame, baselines: pd.DataFrame, region: Region,
                         bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
                         base_year: int = 2020, rule: str = "age_structure",
                         observations: pd.DataFrame | None = None,
                         ger_basis: str = "plan",
                         registered_ratio: float | None = None) -> pd.DataFrame:
    """Base enrolment and enrolment rates by area and level, adding up to the city baselines.

    County values are not published. Rule ``"age_structure"`` (the only one implemented):
    the city's base rate r_L = E_L(city) / P_band(L)(city) is applied to each area's census
    band population, E_L(a) = r_L × P_band(L)(a) — the areas add up to the city exactly.
    Where a planner's own base-year count exists (``observations``, indicators
    :data:`LEVEL_INDICATOR`), it replaces the estimate (quality "observed"); the rest of the
    city total is shared among the other areas by band population. If every area is observed
    the city becomes their sum.

    GER basis: the plan does not state its denominators. The population basis is the
    resident (census) population. ``ger_basis="plan"`` scales each band's denominator by
    f_band = (Σ_{L in band} E_L(city) / GER_band^plan × 100) / P_band(city), so the base GERs
    equal the plan's (f absorbs the unstated basis — resident vs registered —, age graduation
    error and cross-border pupils; it is held constant and labelled estimated);
    ``ger_basis="resident"`` uses f = 1; ``ger_basis="registered"`` uses f = the area's
    registered (户籍) / resident population ratio (all ages; ``registered_ratio``, see
    :func:`registered_ratio`) for every band — registered population by age is not published,
    so this assumes the ratio is the same at school ages.

    Args:
        pop_base: population including the base year (area, [year,] sex, age, population[, draw]).
        baselines: :func:`plan_baselines` output (city enrolment by level; ``attrs["ger"]``).
        region: the region.
        bands: official age bands.
        base_year: base school year.
        rule: distribution rule for county values ("age_structure").
        observations: optional planner's observations (area, year, indicator, value).
        ger_basis: "plan" (default), "resident" or "registered".
        registered_ratio: registered / resident population (for ``ger_basis="registered"``).

    Returns:
        Rates frame: area (each census area, plus the city), level, band, population (base band
        population, persons), enrolment (base, persons), rate (enrolment / population,
        fraction), ger_factor (f_band), quality (observed/derived/estimated), year (base).

    Raises:
        ValueError: unknown rule/basis, or a planner's counts exceeding the city baseline.
    """
    if rule != "age_structure":
        raise ValueError(f"enrolment distribution rule must be 'age_structure', got {rule!r}")
    if ger_basis not in ("plan", "resident", "registered"):
        raise ValueError(f"ger_basis must be 'plan', 'resident' or 'registered', got "
                         f"{ger_basis!r}")
    if ger_basis == "registered" and not (registered_ratio and registered_ratio > 0):
        raise ValueError("ger_basis 'registered' needs registered_ratio > 0 (registered / "
                         "resident population)")
    bands = _check_bands(bands)
    bp = _base_band_population(pop_base, bands, base_year)
    areas = [a.code for a in region.counties if a.code in set(bp[S.AREA])]
    if not areas:
        raise ValueError(f"population frame has none of the areas of region {region.slug}")
    bp = bp[bp[S.AREA].isin(areas)]
    pop = bp.set_index([S.AREA, S.BAND])[S.POPULATION]
    base = baselines.set_index(S.LEVEL)
    user = _user_counts(observations, base_year, areas).set_index([S.AREA, S.LEVEL])[S.ENROLMENT]
    rows = []
    for level in S.SCHOOL_LEVELS:
        band = LEVEL_BAND[level]
        total = float(base.loc[level, S.ENROLMENT])
        qual_city = str(base.loc[level, S.QUALITY])
        p = pop.xs(band, level=S.BAND).reindex(areas)
        seen = {a: float(user[(a, level)]) for a in areas if (a, level) in user.index}
        rest_areas = [a for a in areas if a not in seen]
        if rest_areas:
            rest = total - sum(seen.values())
            if rest < 0:
                raise ValueError(f"observations: {LEVEL_INDICATOR[level]} {base_year} for areas "
                                 f"{sorted(seen)} add up to {sum(seen.values()):,.0f}, more "
                                 f"than the city baseline {total:,.0f}; give every area or fix "
                                 "the counts")
            share = p[rest_areas] / p[rest_areas].sum()
        else:
            total = sum(seen.values())
            qual_city = "observed"
        for a in areas:
            if a in seen:
                e, q = seen[a], "observed"
            else:
                e, q = rest * float(share[a]), "estimated"
            rows.append({S.AREA: a, S.LEVEL: level, S.BAND: band, S.POPULATION: float(p[a]),
                         S.ENROLMENT: e, S.QUALITY: q})
        rows.append({S.AREA: region.code, S.LEVEL: level, S.BAND: band,
                     S.POPULATION: float(p.sum()), S.ENROLMENT: total, S.QUALITY: qual_city})
    out = pd.DataFrame(rows)
    out[S.RATE] = out[S.ENROLMENT] / out[S.POPULATION]
    ger = baselines.attrs.get("ger", {})
    city = out[out[S.AREA] == region.code]
    factors = {}
    for band in bands:
        if ger_basis in ("resident", "registered"):
            factors[band] = 1.0 if ger_basis == "resident" else float(registered_ratio)
            continue
        if band not in ger:
            raise ValueError(f"ger_basis 'plan' needs the plan's base GER for band '{band}' "
                             "(baselines.attrs['ger']); use ger_basis='resident'")
        c = city[city[S.BAND] == band]
        factors[band] = (c[S.ENROLMENT].sum() / (ger[band] / 100.0)) / c[S.POPULATION].iloc[0]
    out[S.GER_FACTOR] = out[S.BAND].map(factors)
    out[S.YEAR] = base_year
    return out[[S.AREA, S.YEAR, S.LEVEL, S.BAND, S.POPULATION, S.ENROLMENT, S.RATE,
                S.GER_FACTOR, S.QUALITY]]


def registered_ratio(obs_df: pd.DataFrame, area: str, base_year: int) -> tuple[float, int]:
    """Registered (户籍) / resident (常住) population of an area, all ages.

    Uses the ``registered_population`` and ``resident_population`` observations of the latest
    year ≤ ``base_year`` with both (else the earliest year after it); ``preferred`` rows.

    Returns:
        (ratio, year used).

    Raises:
        ValueError: no year has both figures for the area.
    """
    obs = obs_df[obs_df[S.AREA].astype(str) == str(area)]
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    w = obs.pivot_table(index=S.YEAR, columns=S.INDICATOR, values=S.VALUE, aggfunc="first")
    cols = ["registered_population", "resident_population"]
    if not set(cols) <= set(w.columns) or w[cols].dropna().empty:
        raise ValueError(f"population basis 'registered': area {area} has no year with both "
                         "registered_population and resident_population; add them to your "
                         "observations or use population_basis = 'resident'")
    both = w[cols].dropna()
    before = both[both.index <= base_year]
    year = int(before.index.max()) if len(before) else int(both.index.min())
    return float(both.loc[year, cols[0]] / both.loc[year, cols[1]]), year


# --- rate paths -----------------------------------------------------------------------------


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
#: z of the central 80 % interval (its half-width / 1.2816 = the forecast's sd, normal).
_Z80 = 1.2815515655446004
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
            CONSOLIDATION: consolidation_ceiling(obs_df)}


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
    from ..models import make_model  # the small models/ interface (DESIGN §3)

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


# --- projection -----------------------------------------------------------------------------


def project_enrolment(pop_df: pd.DataFrame, rates_df: pd.DataFrame, path_df: pd.DataFrame,
                      region: Region,
                      bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS) -> pd.DataFrame:
    """Enrolment-rate method: E(a, t, L) = rate(a, t, L) × P_band(L)(a, t).

    (NCES enrolment-rate method; rates per band population, any-age pupils.) The base-year rows
    keep the calibration's quality (observed where a planner's count was used); every other
    row is "estimated". The city is the sum of its areas, draw by draw.

    Args:
        pop_df: population (area, year, sex, age, population[, draw]) for the census areas.
        rates_df: :func:`calibrate_base_rates` output (for levels, bands and base quality).
        path_df: :func:`rate_path` output (area, year, level, rate, rate_path).
        region: the region.
        bands: official age bands.

    Returns:
        Columns area, year, level[, draw], enrolment (persons), quality, rate_path.
    """
    _check_columns(path_df, [S.AREA, S.YEAR, S.LEVEL, S.RATE], "rate path frame")
    areas = [a.code for a in region.counties]
    pop_df = pop_df[pop_df[S.AREA].isin(areas)]
    bp = band_population(pop_df, bands)
    lb = pd.DataFrame({S.LEVEL: list(LEVEL_BAND), S.BAND: list(LEVEL_BAND.values())})
    on = [S.AREA, S.YEAR, S.LEVEL]
    if S.DRAW in path_df.columns and S.DRAW in bp.columns:
        on.append(S.DRAW)  # rate draws paired with population draws, draw by draw
    e = bp.merge(lb, on=S.BAND).merge(path_df[path_df[S.AREA].isin(areas)], on=on,
                                      how="inner")
    if e.empty:
        raise ValueError("project_enrolment: population and rate path share no (area, year); "
                         "check the years and area codes")
    e[S.ENROLMENT] = e[S.RATE] * e[S.POPULATION]
    keys = [S.AREA, S.YEAR, S.LEVEL, *_draw_keys(e)]
    out = e[[*keys, S.ENROLMENT]]
    out = aggregate_to_parent(out, region, [S.ENROLMENT])
    t0 = int(rates_df[S.YEAR].iloc[0])
    base = rates_df.set_index([S.AREA, S.LEVEL])
    out[S.QUALITY] = "estimated"
    at_base = out[S.YEAR] == t0
    idx = pd.MultiIndex.from_frame(out.loc[at_base, [S.AREA, S.LEVEL]])
    out.loc[at_base, S.QUALITY] = base[S.QUALITY].reindex(idx).fillna("estimated").to_numpy()
    # the base year carries the calibrated counts themselves (no rate × population round-off),
    # so the city equals the published baseline to the digit
    if S.ENROLMENT in base.columns and len(idx):
        calib = base[S.ENROLMENT].reindex(idx).to_numpy(float)
        keep = out.loc[at_base, S.ENROLMENT].to_numpy(float)
        out.loc[at_base, S.ENROLMENT] = np.where(np.isnan(calib), keep, calib)
    out[S.RATE_PATH] = path_df[S.RATE_PATH].iloc[0] if S.RATE_PATH in path_df else "custom"
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


# --- indicators -----------------------------------------------------------------------------


def indicators(enrol_df: pd.DataFrame, pop_df: pd.DataFrame, rates_df: pd.DataFrame,
               region: Region, bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
               consolidation: pd.DataFrame | None = None,
               plan_obs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The plan's indicators by area and year (and draw).

    * GER_band = Σ_{L in band} E_L / (f_band × P_band) × 100 (UIS), f from the calibration
      (``ger_factor``); indicator ids as in the plan (preschool_ger_3y, primary_ger,
      junior_ger, senior_stage_ger). The same ratio on the plain resident basis (f = 1) is
      reported as ``<id>_resident_basis``.
    * Plan counts: kindergarten_children, compulsory_enrolment (primary + junior),
      senior_stage_enrolment (general + vocational), secondary_vocational_enrolment (persons).
    * junior_senior_transition (apparent, percent): senior-stage first-year pupils in t over
      junior final-year pupils in t−1, each approximated by the stage's enrolment times the
      share of its band population at the entry / final age:
      T(t) = E_senior(t)·P_15(t)/P_15–17(t) ÷ [E_junior(t−1)·P_14(t−1)/P_12–14(t−1)] × 100.
    * compulsory_consolidation_rate: taken from ``consolidation`` (year, value; a path — it
      needs graduates and entrants, see :func:`consolidation_rate` for the flow definition).

    City indicators are ratios of city sums (never averages of county rates). Where a value
    equals a published figure in ``plan_obs`` (same area, year and indicator — the calibrated
    base year), it is flagged "observed".

    Returns:
        Columns area, year, indicator[, draw], value, unit ("percent"/"persons"), quality
        ("estimated"; plan counts are "observed" only where every level in them is).
    """
    bands = _check_bands(bands)
    dk = _draw_keys(enrol_df)
    pop_df = pop_df[pop_df[S.AREA].isin([a.code for a in region.counties])]
    bp = band_population(pop_df, bands)
    bp = aggregate_to_parent(bp, region, [S.POPULATION])
    e = enrol_df.copy()
    e[S.BAND] = e[S.LEVEL].map(LEVEL_BAND)
    keys = [S.AREA, S.YEAR, *dk]
    eb = e.groupby([*keys, S.BAND])[S.ENROLMENT].sum().rename("e").reset_index()
    eb = eb.merge(bp, on=[*keys, S.BAND], how="left")
    f = rates_df.drop_duplicates(S.BAND).set_index(S.BAND)[S.GER_FACTOR]
    eb["f"] = eb[S.BAND].map(f)
    frames = []
    ger = eb.assign(**{S.INDICATOR: eb[S.BAND].map(BAND_GER),
                       S.VALUE: eb["e"] / (eb["f"] * eb[S.POPULATION]) * 100.0,
                       S.UNIT: "percent", S.QUALITY: "estimated"})
    frames.append(ger)
    res = ger.assign(**{S.INDICATOR: ger[S.INDICATOR] + RESIDENT_SUFFIX,
                        S.VALUE: ger["e"] / ger[S.POPULATION] * 100.0})
    frames.append(res)
    ew = e.pivot_table(index=keys, columns=S.LEVEL, values=S.ENROLMENT, aggfunc="sum")
    qw = e.assign(_obs=e[S.QUALITY] == "observed").pivot_table(
        index=keys, columns=S.LEVEL, values="_obs", aggfunc="all")
    for ind, levels in PLAN_COUNTS.items():
        present = [lv for lv in levels if lv in ew.columns]
        if len(present) < len(levels):
            continue
        allobs = qw[present].all(axis=1)
        frames.append(pd.DataFrame({
            **{k: ew.index.get_level_values(k) for k in keys},
            S.INDICATOR: ind, S.VALUE: ew[present].sum(axis=1).to_numpy(), S.UNIT: "persons",
            S.QUALITY: np.where(allobs.to_numpy(), "observed", "estimated")}))
    # apparent transition
    single = pop_df[pop_df[S.AGE].isin([bands["senior"][0], bands["junior"][1]])]
    single = single.groupby([*keys, S.AGE])[S.POPULATION].sum().unstack(S.AGE)
    single = aggregate_to_parent(single.reset_index(), region,
                                 [bands["senior"][0], bands["junior"][1]]).set_index(keys)
    bpw = bp.pivot_table(index=keys, columns=S.BAND, values=S.POPULATION)
    ebw = eb.pivot_table(index=keys, columns=S.BAND, values="e")
    entr = ebw["senior"] * single[bands["senior"][0]] / bpw["senior"]
    fin = ebw["junior"] * single[bands["junior"][1]] / bpw["junior"]
    prev = fin.reset_index()
    prev[S.YEAR] = prev[S.YEAR] + 1
    prev = prev.set_index(keys)[0]
    tr = (entr / prev.reindex(entr.index) * 100.0).dropna()
    frames.append(pd.DataFrame({**{k: tr.index.get_level_values(k) for k in keys},
                                S.INDICATOR: TRANSITION, S.VALUE: tr.to_numpy(),
                                S.UNIT: "percent", S.QUALITY: "estimated"}))
    if consolidation is not None and not consolidation.empty:
        base = eb[keys].drop_duplicates()
        on = [S.YEAR] + ([S.DRAW] if S.DRAW in consolidation and S.DRAW in base else [])
        cols = [*on, S.VALUE] + ([S.QUALITY] if S.QUALITY in consolidation else [])
        c = base.merge(consolidation[cols], on=on)
        c[S.INDICATOR] = CONSOLIDATION
        c[S.UNIT] = "percent"
        if S.QUALITY not in c:
            c[S.QUALITY] = "estimated"
        frames.append(c)
    out = pd.concat([fr[[*keys, S.INDICATOR, S.VALUE, S.UNIT, S.QUALITY]] for fr in frames],
                    ignore_index=True)
    if plan_obs is not None and not plan_obs.empty:
        pub = plan_obs.set_index([S.AREA, S.YEAR, S.INDICATOR])[S.VALUE]
        pub = pub[~pub.index.duplicated()]
        idx = pd.MultiIndex.from_frame(out[[S.AREA, S.YEAR, S.INDICATOR]].astype(
            {S.AREA: str, S.YEAR: int}))
        ref = pub.reindex(idx).to_numpy(float)
        same = np.isclose(out[S.VALUE].to_numpy(float), ref, rtol=1e-9, atol=1e-9)
        out.loc[same, S.QUALITY] = "observed"
    return out.sort_values([S.AREA, S.INDICATOR, S.YEAR, *dk], kind="stable").reset_index(
        drop=True)


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


# --- flow method ----------------------------------------------------------------------------


def consolidation_rate(graduates: pd.Series, entrants: pd.Series, lag: int = 9) -> pd.Series:
    """Nine-year consolidation rate C(t) = junior graduates(t) / primary entrants(t − lag) × 100.

    Args:
        graduates: junior graduates indexed by year (persons).
        entrants: primary entrants indexed by year (persons).
        lag: years between entry and graduation (9 for a 6 + 3 system).

    Returns:
        Percent by year (years where both terms exist). No adjustment for transfers or deaths
        (the published national figure adjusts for them, so it runs higher).
    """
    e = entrants.copy()
    e.index = e.index + lag
    return (graduates / e * 100.0).dropna()


def flow_ratios(obs_df: pd.DataFrame, area: str,
                durations: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Flow ratios from entrants / graduates series (national, provincial or a planner's).

    For a stage of duration D (primary 6, junior 3, senior general 3):
        completion(t) = graduates(t) / entrants(t − D);
        annual retention s(t) = completion(t) ** (1 / (D − 1)) (the grade-to-grade progression
        ratio, assumed equal across grades);
    graduates are dated by the summer of graduation (the convention of the transitions below
    and of :func:`consolidation_rate`): pupils entering in autumn t − D reach the last grade in
    school year t − 1 and graduate in summer t. (National check: primary graduates / entrants
    at t − 6 are 0.993–0.998, at t − 5 0.944–1.029; junior at t − 3 0.990–0.996.)
    transitions: primary→junior(t) = junior entrants(t) / primary graduates(t) (graduates of
    the summer before school year t); junior→senior(t) = senior general entrants(t) /
    junior graduates(t). Uses the ``preferred`` rows.

    Returns:
        Columns area, year, indicator (``<stage>_completion``, ``<stage>_retention``,
        ``primary_junior_transition``, ``junior_senior_general_transition``), value (ratio).
    """
    durations = dict(durations or {"primary": 6, "junior": 3, "senior_general": 3})
    obs = obs_df[obs_df[S.AREA].astype(str) == str(area)]
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    w = obs.pivot_table(index=S.YEAR, columns=S.INDICATOR, values=S.VALUE, aggfunc="first")
    series: dict[str, pd.Series] = {}
    for stage, d in durations.items():
        ent, grad = f"{stage}_entrants", f"{stage}_graduates"
        if ent in w and grad in w:
            e = w[ent].copy()
            e.index = e.index + d
            comp = (w[grad] / e).dropna()
            series[f"{stage}_completion"] = comp
            series[f"{stage}_retention"] = comp ** (1.0 / (d - 1))
    if "junior_entrants" in w and "primary_graduates" in w:
        series["primary_junior_transition"] = (w["junior_entrants"] / w["primary_graduates"]).dropna()
    if "senior_general_entrants" in w and "junior_graduates" in w:
        series["junior_senior_general_transition"] = (
            w["senior_general_entrants"] / w["junior_graduates"]).dropna()
    if not series:
        raise ValueError(f"flow_ratios: area {area} has no entrants/graduates pairs; the flow "
                         "method needs e.g. primary_entrants and primary_graduates")
    rows = [pd.DataFrame({S.AREA: str(area), S.YEAR: s.index.astype(int), S.INDICATOR: k,
                          S.VALUE: s.to_numpy(float)}) for k, s in series.items()]
    return pd.concat(rows, ignore_index=True)


def flow_enrolment(entrants: pd.Series, retention: float, duration: int) -> pd.Series:
    """Stage enrolment from entrants by grade progression.

    E(t) = Σ_{k=0}^{D−1} entrants(t − k) × s^k, with s the grade-to-grade progression ratio
    (NCES grade-progression method with one ratio for every grade). Years without all D
    cohorts of entrants are dropped.

    Args:
        entrants: first-grade entrants indexed by year (persons).
        retention: s, pupils in grade g+1 at t+1 per pupil in grade g at t.
        duration: D, number of grades.

    Returns:
        Enrolment by year (persons).
    """
    if duration < 1:
        raise ValueError(f"flow_enrolment: duration must be >= 1, got {duration}")
    e = entrants.sort_index()
    e = e.reindex(range(int(e.index.min()), int(e.index.max()) + 1))
    total = sum(e.shift(k) * retention ** k for k in range(duration))
    return total.dropna()


def flow_entrants(pop_entry: pd.Series, intake_ratio: float) -> pd.Series:
    """First-grade entrants = population at the entry age × intake ratio (persons)."""
    return pop_entry * intake_ratio


#: Grades per level for the flow method (6 + 3 + 3 system).
FLOW_DURATIONS = {"primary": 6, "junior": 3, "senior_general": 3}
#: The chain of levels the flow method follows: level → (previous level, transition name).
FLOW_CHAIN = {"junior": ("primary", "primary_junior_transition"),
              "senior_general": ("junior", "junior_senior_general_transition")}


def geometric_grades(total, retention: float, duration: int) -> np.ndarray:
    """Split a stage total over its grades as a steady state: grade k ∝ s^(k−1).

    (With constant entrants and progression ratio s, grade k holds entrants × s^(k−1).)
    Returns an array (..., duration) summing to ``total``.
    """
    w = retention ** np.arange(duration, dtype=float)
    return np.asarray(total, float)[..., None] * (w / w.sum())


def stock_retention(entrants: pd.Series, enrolment: float, year: int, duration: int,
                    bracket: tuple[float, float] = (0.3, 1.7)) -> float:
    """Progression ratio s consistent with the stage's stock: Σ_{k<D} entrants(t−k) s^k = E(t).

    Solved with :func:`scipy.optimize.brentq`. Using the stock rather than graduates /
    entrants keeps repeaters and transfers in, so the base year is reproduced exactly.

    Raises:
        ValueError: entrants missing for a year t−D+1..t, or no s in ``bracket``.
    """
    from scipy.optimize import brentq

    need = [year - k for k in range(duration)]
    missing = [y for y in need if y not in entrants.index or pd.isna(entrants.get(y))]
    if missing:
        raise ValueError(f"flow method: entrants missing for {missing}")
    e = np.array([float(entrants[y]) for y in need])

    def f(x: float) -> float:
        return float(np.sum(e * x ** np.arange(duration))) - float(enrolment)

    lo, hi = bracket
    if f(lo) * f(hi) > 0:
        raise ValueError(f"flow method: no progression ratio in {bracket} makes entrants "
                         f"{e.round().tolist()} add up to enrolment {enrolment:,.0f} in {year}; "
                         "check the entrants and enrolment series")
    return float(brentq(f, lo, hi, xtol=1e-12))


def flow_cohorts(entry_pop: np.ndarray, base_grades: Mapping[str, np.ndarray],
                 intake: np.ndarray | float, retention: Mapping[str, float],
                 transition: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Grade-progression (cohort-flow) projection of primary → junior → senior general.

    For t ≥ 1 (t = 0 is the base):
        primary grade 1 (t) = intake × entry_pop(t)                (entrants)
        grade k+1 (t)       = grade k (t − 1) × s_level             (progression)
        junior grade 1 (t)  = primary final grade (t − 1) × τ_pj   (transition)
        senior grade 1 (t)  = junior final grade (t − 1) × τ_js
    (NCES grade-progression method; California DOF cohort progression.)

    Args:
        entry_pop: population at the entry age, shape (..., T) (persons).
        base_grades: level → base-year pupils by grade, shape (..., D_level).
        intake: first-grade entrants per person of entry age (scalar or shape (...)).
        retention: level → s (pupils in grade k+1 next year per pupil in grade k).
        transition: "primary_junior_transition", "junior_senior_general_transition" → τ.

    Returns:
        level → pupils by year and grade, shape (..., T, D_level), for each level in
        ``base_grades`` (following the chain primary → junior → senior_general).
    """
    entry_pop = np.asarray(entry_pop, float)
    T = entry_pop.shape[-1]
    out: dict[str, np.ndarray] = {}
    for level in ("primary", "junior", "senior_general"):
        if level not in base_grades:
            continue
        g0 = np.asarray(base_grades[level], float)
        arr = np.empty(g0.shape[:-1] + (T, g0.shape[-1]))
        arr[..., 0, :] = g0
        s = float(retention[level])
        for t in range(1, T):
            if level == "primary":
                arr[..., t, 0] = np.asarray(intake) * entry_pop[..., t]
            else:
                prev, name = FLOW_CHAIN[level]
                if prev not in out:
                    raise ValueError(f"flow method: level {level} needs {prev} in base_grades")
                arr[..., t, 0] = out[prev][..., t - 1, -1] * float(transition[name])
            arr[..., t, 1:] = arr[..., t - 1, :-1] * s
        out[level] = arr
    return out


def latest_flow_ratios(ratios_df: pd.DataFrame, years: int = 3) -> dict[str, float]:
    """Mean of the last ``years`` values of each ratio from :func:`flow_ratios` (a stated rule:
    recent average, held constant)."""
    out = {}
    for ind, g in ratios_df.groupby(S.INDICATOR):
        out[ind] = float(g.sort_values(S.YEAR)[S.VALUE].tail(years).mean())
    return out


def project_enrolment_flow(pop_df: pd.DataFrame, rates_df: pd.DataFrame,
                           ratios: Mapping[str, Mapping[str, float]], region: Region,
                           entry_age: int = 6, intake_obs: Mapping[str, float] | None = None,
                           entrants_hist: Mapping[str, Mapping[str, pd.Series]] | None = None
                           ) -> pd.DataFrame:
    """Flow method by area for primary, junior and senior general (other levels: rate method).

    The base year is the calibration's (so the base still reproduces the plan). Where an
    area's entrants of the last D years are given (``entrants_hist``: area → level → series),
    s is the stock-consistent ratio (:func:`stock_retention`) and base grade k+1 =
    entrants(t0 − k) × s^k; otherwise s comes from ``ratios`` and the base grades are the
    steady-state split (:func:`geometric_grades`). The intake ratio is the base
    first grade over the base entry-age population, or a planner's ``primary_entrants`` at the
    base year over that population (``intake_obs``: area → entrants). Ratios per area come
    from :func:`flow_ratios` on the area's own series (see :func:`latest_flow_ratios`).

    Args:
        pop_df: population (area, year, sex, age, population[, draw]).
        rates_df: :func:`calibrate_base_rates` output (base enrolment by area and level).
        ratios: area → {``<level>_retention``, ``primary_junior_transition``,
            ``junior_senior_general_transition``}.
        region: the region.
        entry_age: official primary entry age (6).

    Returns:
        Columns area, year, level, grade[, draw], enrolment (persons), quality ("estimated";
        base year as calibrated), method ("flow"). County rows only.
    """
    dk = _draw_keys(pop_df)
    t0 = int(rates_df[S.YEAR].iloc[0])
    frames = []
    for area, r in ratios.items():
        need = [f"{lv}_retention" for lv in FLOW_DURATIONS] + [
            n for _, n in FLOW_CHAIN.values()]
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"flow method: area {area} lacks ratios {missing}; give its "
                             "entrants and graduates series or use the rate method")
        p = pop_df[(pop_df[S.AREA] == area) & (pop_df[S.AGE] == entry_age)]
        if dk:
            w = p.groupby([*dk, S.YEAR])[S.POPULATION].sum().unstack(S.YEAR)
        else:
            w = p.groupby(S.YEAR)[S.POPULATION].sum().to_frame().T
        w = w.sort_index(axis=1)
        years = [int(y) for y in w.columns]
        if not years or years[0] != t0:
            raise ValueError(f"flow method: population of area {area} must start in the base "
                             f"year {t0}")
        entry = w.to_numpy(float)  # (draws or 1, T)
        base = rates_df[rates_df[S.AREA] == area].set_index(S.LEVEL)
        grades, ret = {}, {}
        for lv, d in FLOW_DURATIONS.items():
            e0 = float(base.loc[lv, S.ENROLMENT])
            hist = (entrants_hist or {}).get(area, {}).get(lv)
            if hist is not None and all(t0 - k in hist.index for k in range(d)):
                ret[lv] = stock_retention(hist, e0, t0, d)
                grades[lv] = np.array([float(hist[t0 - k]) * ret[lv] ** k for k in range(d)])
            else:
                ret[lv] = float(r[f"{lv}_retention"])
                grades[lv] = geometric_grades(e0, ret[lv], d)
        if intake_obs and area in intake_obs:
            first = float(intake_obs[area])
        else:
            first = float(grades["primary"][0])
        intake = first / entry[:, 0]
        grades_b = {lv: np.broadcast_to(g, (entry.shape[0], len(g))) for lv, g in grades.items()}
        res = flow_cohorts(entry, grades_b, intake, ret, r)
        for lv, arr in res.items():
            n_d, T, D = arr.shape
            df = pd.DataFrame({S.AREA: area, S.YEAR: np.tile(np.repeat(years, D), n_d),
                               S.LEVEL: lv, S.GRADE: np.tile(np.arange(1, D + 1), n_d * T),
                               S.ENROLMENT: arr.ravel()})
            if dk:
                df[S.DRAW] = np.repeat(w.index.to_numpy(), T * D)
            frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out[S.QUALITY] = "estimated"
    out[S.METHOD] = "flow"
    return out


# --- the whole stage ------------------------------------------------------------------------


def _apply_flow(enrol: pd.DataFrame, pop_df: pd.DataFrame, rates: pd.DataFrame, region: Region,
                observations: pd.DataFrame | None, base_year: int,
                ratio_years: int) -> tuple[pd.DataFrame, str]:
    """Replace primary/junior/senior general by the flow method in areas with flow series."""
    if observations is None or observations.empty:
        raise ValueError("[enrolment] method 'flow' needs your own county series (entrants and "
                         "graduates by level) passed as observations")
    ratios, intake, hist = {}, {}, {}
    obs = observations
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    for a in region.counties:
        try:
            fr = flow_ratios(observations, a.code)
        except ValueError:
            continue
        r = latest_flow_ratios(fr, ratio_years)
        if all(f"{lv}_retention" in r for lv in FLOW_DURATIONS) and all(
                n in r for _, n in FLOW_CHAIN.values()):
            ratios[a.code] = r
            e = observations[(observations[S.AREA].astype(str) == a.code)
                             & (observations[S.INDICATOR] == "primary_entrants")
                             & (observations[S.YEAR] == base_year)]
            if len(e):
                intake[a.code] = float(e[S.VALUE].iloc[0])
            mine = obs[obs[S.AREA].astype(str) == a.code]
            hist[a.code] = {lv: mine[mine[S.INDICATOR] == f"{lv}_entrants"].set_index(S.YEAR)[
                S.VALUE].astype(float) for lv in FLOW_DURATIONS}
    if not ratios:
        raise ValueError("[enrolment] method 'flow': no area has entrants and graduates for "
                         "primary, junior and senior general (indicators <level>_entrants, "
                         "<level>_graduates); use method 'rate'")
    flow = project_enrolment_flow(pop_df, rates, ratios, region, intake_obs=intake,
                                  entrants_hist=hist)
    dk = _draw_keys(enrol)
    totals = flow.groupby([S.AREA, S.YEAR, S.LEVEL, *_draw_keys(flow)])[S.ENROLMENT].sum()
    totals = totals.reset_index()
    if dk and S.DRAW not in totals:
        totals = totals.merge(pd.DataFrame({S.DRAW: np.sort(enrol[S.DRAW].unique())}),
                              how="cross")
    keys = [S.AREA, S.YEAR, S.LEVEL, *dk]
    counties = enrol[enrol[S.AREA] != region.code].set_index(keys)
    t = totals.set_index(keys)[S.ENROLMENT]
    later = t[t.index.get_level_values(S.YEAR) > base_year]
    counties.loc[later.index, S.ENROLMENT] = later
    out = aggregate_to_parent(counties.reset_index()[[*keys, S.ENROLMENT]], region,
                              [S.ENROLMENT])
    q = enrol.set_index(keys)[[S.QUALITY, S.RATE_PATH]]
    out = out.join(q, on=keys)
    rest = sorted(a.code for a in region.counties if a.code not in ratios)
    note = f"flow for {sorted(ratios)}; rate method for {rest}" if rest else "flow for all areas"
    return out.sort_values(keys, kind="stable").reset_index(drop=True), note




def _read_ger_path(cfg: Mapping) -> pd.DataFrame:
    """``[enrolment] ger_path``: a CSV with columns year, indicator (plan GER id, e.g.
    preschool_ger_3y), value (city GER, percent) and optionally draw."""
    from ..io.store import DataError

    f = cfg.get("ger_path")
    if not f:
        raise ValueError("[enrolment] rate_path 'external' needs ger_path = \"FILE.csv\" (columns "
                         "year, indicator, value[, draw]; indicator one of "
                         f"{sorted(BAND_GER.values())})")
    try:
        df = pd.read_csv(f)
    except (OSError, ValueError) as exc:
        raise DataError(f"{f}: cannot read the GER path ({exc}); give a CSV with columns year, "
                        "indicator, value[, draw]") from exc
    miss = [c for c in (S.YEAR, S.INDICATOR, S.VALUE) if c not in df.columns]
    if miss:
        raise DataError(f"{f}: missing column(s) {miss}; the GER path needs year, indicator, "
                        "value[, draw]")
    bad = sorted(set(df[S.INDICATOR]) - set(BAND_GER.values()))
    if bad:
        raise DataError(f"{f}: column indicator has {bad}; use plan GER ids "
                        f"{sorted(BAND_GER.values())}")
    v = pd.to_numeric(df[S.VALUE], errors="coerce")
    if v.isna().any() or (v < 0).any():
        row = int(np.flatnonzero(v.isna() | (v < 0))[0]) + 2
        raise DataError(f"{f}: row {row}, column value: must be a GER in percent ≥ 0")
    return df.assign(**{S.VALUE: v})


def trend_setup(cfg: Mapping, plan_obs: pd.DataFrame, base_year: int,
                observations: pd.DataFrame | None = None,
                planner_obs: pd.DataFrame | None = None, areas=None) -> dict:
    """The trend paths' inputs for a run: box-1 slopes, damping, drift spread and ceilings.

    Config keys (``[enrolment]``, all optional): ``annual_change`` {band: GER points a year}
    (default: box 1, (G_2020 − G_2015)/5 for :data:`TREND_GER`), ``voc_share_change``
    (fraction a year; default box 1), ``consolidation_change`` (points a year; default box 1),
    ``damping`` and ``drift_sd`` (default :func:`trend_parameters` on the national series),
    ``ceilings`` {band or compulsory_consolidation_rate: percent} (default
    :func:`trend_ceilings`), ``consolidation_damping`` and ``consolidation_drift_sd`` (default
    :func:`consolidation_parameters`: the consolidation series only).

    ``planner_obs`` (a planner's own series) with ``preschool_ger_pct`` / ``senior_stage_ger_pct``
    for an area of ``areas`` in base − 5 and base gives that area its own slope
    (:func:`area_slopes`).

    Returns:
        dict annual_change, area_change, voc_share_change, consolidation_change, damping,
        drift_sd, ceilings, source (how damping and spread were set), consolidation_damping,
        consolidation_drift_sd, consolidation_source.
    """
    need_obs = ("damping" not in cfg or "drift_sd" not in cfg
                or not set(TREND_GER) | {CONSOLIDATION} <= set(cfg.get("ceilings", {})))
    if need_obs and observations is None:
        from ..io import store as data_mod

        observations = data_mod.load_observations()
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
        ceilings = {**trend_ceilings(observations), **ceilings}
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
        if observations is None:
            from ..io import store as data_mod

            observations = data_mod.load_observations()
        cp = consolidation_parameters(observations)
        c_source = (f"national consolidation series only ({cp['n_windows']} "
                    f"{TREND_WINDOW}-year window pairs, β {cp['beta']:.3f}, residual sd "
                    f"{cp['residual_sd']:.3f} points a year on {cp['n_windows'] - 1} df: thin)")
        c_par = {"damping": float(cfg.get("consolidation_damping", cp["damping"])),
                 "drift_sd": float(cfg.get("consolidation_drift_sd", cp["drift_sd"]))}
    return {"annual_change": {b: float(v) for b, v in change.items()},
            "area_change": area_slopes(planner_obs, areas or [], base_year),
            "voc_share_change": None if voc is None else float(voc),
            "consolidation_change": None if cons is None else float(cons),
            **params, "ceilings": {k: float(v) for k, v in ceilings.items()},
            "source": source, "consolidation_damping": c_par["damping"],
            "consolidation_drift_sd": c_par["drift_sd"], "consolidation_source": c_source}


def _trend_assumptions(trend: Mapping) -> list[tuple]:
    """The trend paths' named assumptions (name, value, quality, note) for logging."""
    return [
        ("trend_annual_change", trend["annual_change"], "estimated",
         "GER points a year, plan box 1 (2020 − 2015)/5 unless set in config"),
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


def base_year_table(region: Region, observations: pd.DataFrame | None = None,
                    cfg_section: Mapping | None = None, census_path=None) -> pd.DataFrame:
    """The calibrated base year (census 2020 → plan box 1) by area and level, for display.

    The census is graduated to single ages with
    :func:`njforecast.demography.graduate_single_ages`; the base is then calibrated as in
    :func:`njforecast.engine.project.project`.

    Returns:
        Columns area, area_name, level, band, population (band, persons), enrolment (persons),
        rate (percent of the resident band population), ger (percent, on the run's GER
        basis), quality.
    """
    from ..io import store as data_mod
    from ..demography import graduate_single_ages

    cfg = dict(cfg_section or {})
    path = census_path or data_mod.raw_dir() / "census" / "census_county_2020_sichuan.csv"
    census = data_mod.load_census(path)
    census = census[census[S.AREA].isin([a.code for a in region.counties])]
    if census.empty:
        raise ValueError(f"{path}: no census rows for the areas of region {region.slug}")
    pop = graduate_single_ages(census).rename(columns={S.CENSUS_YEAR: S.YEAR})
    base_year = int(pop[S.YEAR].iloc[0])
    bands = _check_bands({k: tuple(v) for k, v in cfg.get("bands", DEFAULT_BANDS).items()})
    plan_obs = data_mod.load_plan_indicators()
    baselines = plan_baselines(plan_obs, pop, region, bands, base_year,
                               cfg.get("split_rule", "ger"))
    rates = calibrate_base_rates(pop, baselines, region, bands, base_year,
                                 cfg.get("distribution_rule", "age_structure"), observations,
                                 cfg.get("ger_basis", "plan"))
    out = rates.copy()
    out["area_name"] = out[S.AREA].map(region.names("en"))
    out[S.RATE] = out[S.RATE] * 100.0
    out["ger"] = out[S.RATE] / out[S.GER_FACTOR]
    return out[[S.AREA, "area_name", S.LEVEL, S.BAND, S.POPULATION, S.ENROLMENT, S.RATE, "ger",
                S.QUALITY]]
