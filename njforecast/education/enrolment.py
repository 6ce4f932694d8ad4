"""Enrolment by level and the plan's indicators from a (projected) population, on frames.

Public names:
    project_enrolment(pop_df, rates_df, path_df, region) enrolment-rate method, city = Σ areas;
    indicators(enrol_df, pop_df, rates_df, region, ...) GERs, plan counts, consolidation,
    transition; base_year_table(region, census_df, plan_obs, ...) the calibrated base year.

The engine (``njforecast.engine.project``) evaluates the same formulas on arrays; these frame
versions are the documented definitions, tested on hand-computed cases. The names of the
sibling modules (base, trend, rate_paths, flow) are re-exported here for callers that import
them from ``njforecast.education.enrolment``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region, aggregate_to_parent

# names of the sibling modules, re-exported for callers of njforecast.education.enrolment
from .base import (  # noqa: F401
    BAND_GER,
    CONSOLIDATION,
    DEFAULT_BANDS,
    LEVEL_BAND,
    LEVEL_INDICATOR,
    PLAN_COUNTS,
    RESIDENT_SUFFIX,
    TRANSITION,
    _base_band_population,
    _check_bands,
    _check_columns,
    _draw_keys,
    _plan_value,
    _user_counts,
    band_population,
    calibrate_base_rates,
    plan_baselines,
    registered_ratio,
)
from .trend import (  # noqa: F401
    AREA_TREND_INDICATORS,
    CONSOLIDATION_CEILING_AREAS,
    CONSOLIDATION_SERIES,
    DRIFT_SERIES,
    FIXED_CEILINGS,
    MODEL_GER_INDICATORS,
    NATIONAL_AREA,
    PROVINCE_AREA,
    TREND_GER,
    TREND_WINDOW,
    VOC_SHARE,
    trend_assumptions,
    area_slopes,
    consolidation_ceiling,
    consolidation_parameters,
    damped_trend,
    damping_from_ratio,
    drift_ratios,
    plan_slope,
    plan_voc_share_slope,
    trend_ceilings,
    trend_parameters,
    trend_setup,
)
from .rate_paths import (  # noqa: F401
    RateMultipliers,
    _area_ger,
    _base_ger,
    consolidation_path,
    consolidation_values,
    model_ger_path,
    rate_multipliers,
    rate_path,
)
from .flow import (  # noqa: F401
    FLOW_CHAIN,
    FLOW_DURATIONS,
    _apply_flow,
    consolidation_rate,
    flow_cohorts,
    flow_enrolment,
    flow_ratios,
    geometric_grades,
    latest_flow_ratios,
    project_enrolment_flow,
    stock_retention,
)
from ..models.paths import (  # noqa: F401
    _Z80,
    drift_shocks,
    model_series_path,
)


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


def base_year_table(region: Region, census_df: pd.DataFrame, plan_obs: pd.DataFrame,
                    observations: pd.DataFrame | None = None,
                    cfg_section: Mapping | None = None) -> pd.DataFrame:
    """The calibrated base year (census → plan box 1) by area and level, for display.

    The census is graduated to single ages with
    :func:`njforecast.demography.graduate_single_ages`; the base is then calibrated as in
    :func:`njforecast.engine.project.project` (at the census moment, without the back step).

    Args:
        region: the region.
        census_df: census groups of one census year (``njforecast.io.store.load_census``).
        plan_obs: plan box 1 (``njforecast.io.plan.load_plan_indicators``).
        observations: a planner's own series (base-year counts replace the estimates).
        cfg_section: the ``[enrolment]`` table (bands, split_rule, distribution_rule, ger_basis).

    Returns:
        Columns area, area_name, level, band, population (band, persons), enrolment (persons),
        rate (percent of the resident band population), ger (percent, on the run's GER
        basis), quality.
    """
    from ..demography import graduate_single_ages

    cfg = dict(cfg_section or {})
    census = census_df[census_df[S.AREA].isin([a.code for a in region.counties])]
    if census.empty:
        raise ValueError(f"census table: no rows for the areas of region {region.slug}")
    pop = graduate_single_ages(census).rename(columns={S.CENSUS_YEAR: S.YEAR})
    base_year = int(pop[S.YEAR].iloc[0])
    bands = _check_bands({k: tuple(v) for k, v in cfg.get("bands", DEFAULT_BANDS).items()})
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
