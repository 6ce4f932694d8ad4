"""The frame-based pipeline of f13f3a3, kept as the slow, obviously-correct reference for the
array engine (tests/engine/test_golden.py, tests/reporting/test_reporting.py): long pandas
frames, one stage function after another.
Not part of the package."""
# ruff: noqa
from __future__ import annotations

from njforecast.education.enrolment import *  # noqa: F401,F403  (stage helpers)
from njforecast.education.enrolment import (_apply_flow, _base_ger, _check_bands, _plan_value,
                                            trend_assumptions)
from njforecast.io.ger_path import read_ger_path



import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from njforecast import schema as S
from njforecast.areas import Region, load_region
from njforecast.config import RunConfig, raw_dir
from njforecast.demography.error_bands import error_columns
from njforecast.engine.results import quality_table  # shared with the engine
from njforecast.engine.state import (data_hash, planner_observations,  # shared with the engine
                                     planner_observations_path, sources_table, stage_configs)
from njforecast.io.processed import read_processed

#: Years whose hires add up to the plan's "teachers added 2021–2025" target.
TEACHERS_ADDED = ("teachers_added_2021_2025", 2021, 2025)


def summarise(df: pd.DataFrame, value_col: str, by: list[str]) -> pd.DataFrame:
    """Mean and 80 %/95 % intervals over draws (10/90 and 2.5/97.5 percentiles).

    Args:
        df: long frame with ``by`` columns, ``value_col`` and optionally ``draw``.
        value_col: the quantity (its unit is kept).
        by: grouping columns (``draw`` must not be among them).

    Returns:
        ``by`` + mean, lo80, hi80, lo95, hi95 (equal to the value when there are no draws).
    """
    g = df.groupby(by, sort=True, dropna=False)[value_col]
    out = g.mean().rename(S.MEAN).to_frame()
    for col, q in ((S.LO80, 0.1), (S.HI80, 0.9), (S.LO95, 0.025), (S.HI95, 0.975)):
        out[col] = g.quantile(q)
    return out.reset_index()


def target_series(indicators_df: pd.DataFrame, teachers_df: pd.DataFrame | None,
                  target_ids: Iterable[str], city: str,
                  teachers_added: tuple[str, int, int] = TEACHERS_ADDED,
                  fixed_hiring: bool = False) -> pd.DataFrame:
    """The projected plan-target indicators (area, year, indicator, value[, draw], quality).

    * Rates and counts the enrolment stage reports under the plan's ids (preschool_ger_3y,
      senior_stage_ger, compulsory_consolidation_rate, secondary_vocational_enrolment, …) are
      taken as they are.
    * ``teachers_added_2021_2025`` = Σ_{2021 ≤ t ≤ 2025} hires(t) over levels, city (persons):
      the teachers added in the plan period — ``hires`` when the teachers frame has it (a
      fixed hiring plan), else ``hires_needed`` (hiring to need). It is dated 2025 and also
      reported for later years as the running five-year sum.

    Args:
        indicators_df: enrolment stage indicators (area, year, indicator, value[, draw],
            [quality]).
        teachers_df: area, year, level, hires_needed[, hires][, draw] (teachers per year) or
            None.
        target_ids: the plan's target ids (only these are returned).
        city: the region's code (teacher additions are a city target).
        fixed_hiring: the teachers follow a fixed hiring plan (``hires_per_year``): the
            additions are an outcome, else a need.
    """
    ids = set(target_ids)
    keep = [c for c in (S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.DRAW, S.QUALITY)
            if c in indicators_df.columns]
    parts = [indicators_df.loc[indicators_df[S.INDICATOR].isin(ids), keep]]
    name, y0, y1 = teachers_added
    if teachers_df is not None and len(teachers_df) and name in ids:
        h = teachers_df[teachers_df[S.AREA] == city] if city in set(teachers_df[S.AREA]) else \
            teachers_df.assign(**{S.AREA: city})
        dk = [S.DRAW] if S.DRAW in h.columns else []
        col = S.HIRES if S.HIRES in h.columns else S.HIRES_NEEDED  # actual hires when planned
        per_year = h.groupby([S.YEAR, *dk])[col].sum().reset_index().rename(
            columns={col: S.HIRES_NEEDED})
        rows = []
        for end in sorted(y for y in per_year[S.YEAR].unique() if y >= y1):
            win = per_year[(per_year[S.YEAR] > end - (y1 - y0 + 1)) & (per_year[S.YEAR] <= end)]
            if win[S.YEAR].nunique() < y1 - y0 + 1:
                continue
            s = win.groupby(dk)[S.HIRES_NEEDED].sum().reset_index() if dk else \
                pd.DataFrame({S.HIRES_NEEDED: [win[S.HIRES_NEEDED].sum()]})
            rows.append(s.assign(**{S.YEAR: int(end)}))
        if rows:
            t = pd.concat(rows, ignore_index=True).rename(columns={S.HIRES_NEEDED: S.VALUE})
            t[S.AREA] = city
            t[S.INDICATOR] = name
            t[S.QUALITY] = "estimated"
            parts.append(t[[c for c in keep if c in t.columns]])
    out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    out[S.YEAR] = out[S.YEAR].astype(int)
    out = out.sort_values([S.INDICATOR, S.AREA, S.YEAR, *([S.DRAW] if S.DRAW in out else [])],
                          kind="stable").reset_index(drop=True)
    # hiring to need (hires == hires_needed) → the value is a need (plan_targets.NEED_TARGETS)
    # the policy as configured: hires differ from the need also where a planner's teacher
    # count sets them, so they cannot tell a fixed plan from hiring to need
    if teachers_df is not None and len(teachers_df) and name in ids:
        out.attrs["projected_as"] = {name: "hires" if fixed_hiring else "need"}
    return out


@dataclass(frozen=True, eq=False)
class Results:
    """Everything one run produced (frames follow DESIGN §4; draws kept where stages give them).

    Attributes:
        config: the run's config (scenario applied).
        region: the region.
        data_hash: sha256 of the bundled input files (``data_hash()``).
        scenario: scenario name ("baseline" when none).
        population: area, year, sex, age, population[, draw] (persons).
        enrolment: area, year, level, enrolment[, draw] (persons), quality.
        indicators: area, year, indicator, value[, draw], unit, quality (percent / persons).
        teachers: area, year, level, enrolment, ratio, demand, supply, hires_needed, surplus
            (teachers; ratio pupils per teacher) or None.
        capacity: area, year, level, seats, enrolment, utilisation or None.
        target_series: plan-target indicators (area, year, indicator, value[, draw]).
        observations: observed series for overlays (area, year, indicator, value, quality).
        assumptions: name, value, quality, note — every named assumption of the run.
        sources: ``sources_table()``.
        quality: area, indicator, quality — which outputs rest on estimated inputs.
        extra: other stage frames (rates, hiring, capacity_years, ...).
    """

    config: RunConfig
    region: Region
    data_hash: str
    scenario: str
    population: pd.DataFrame
    enrolment: pd.DataFrame
    indicators: pd.DataFrame
    teachers: pd.DataFrame | None
    capacity: pd.DataFrame | None
    target_series: pd.DataFrame
    observations: pd.DataFrame
    assumptions: pd.DataFrame
    sources: pd.DataFrame
    quality: pd.DataFrame
    extra: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def jump_off_year(self) -> int:
        """The frame pipeline always jumps off at the census (base) year."""
        return int(self.config.base_year)

    def indicator_summary(self) -> pd.DataFrame:
        """Indicators over draws: area, year, indicator, unit, quality, mean, lo80 … hi95."""
        by = [c for c in (S.AREA, S.YEAR, S.INDICATOR, S.UNIT, S.QUALITY)
              if c in self.indicators.columns]
        return summarise(self.indicators, S.VALUE, by)

    def target_summary(self) -> pd.DataFrame:
        """Plan-target indicators over draws: area, year, indicator[, quality], mean … hi95."""
        return summarise(self.target_series, S.VALUE, _with_quality(
            self.target_series, [S.AREA, S.YEAR, S.INDICATOR]))

    def observed_targets(self) -> pd.DataFrame:
        """Observed values of the plan-target indicators (for overlays on fan charts)."""
        ids = set(self.target_series[S.INDICATOR])
        o = self.observations
        return o[o[S.INDICATOR].isin(ids)][[S.AREA, S.YEAR, S.INDICATOR, S.VALUE]]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tidy output tables (summaries over draws), name → frame, for CSV and Excel."""
        pop = self.population
        by = [S.AREA, S.YEAR, S.AGE]
        if S.DRAW in pop.columns:
            pop = pop.groupby([*by, S.DRAW], as_index=False)[S.POPULATION].sum()
        school = summarise(pop[pop[S.AGE] <= 22], S.POPULATION, by)
        # base year: census graduated to single ages (derived); later years: projections
        school[S.QUALITY] = np.where(school[S.YEAR] == self.config.base_year, "derived",
                                     "estimated")
        school = pd.concat([school, error_columns(school[S.AREA], school[S.AGE])], axis=1)
        out = {"population_school_age": school,
               "enrolment": summarise(self.enrolment, S.ENROLMENT, _with_quality(
                   self.enrolment, [S.AREA, S.YEAR, S.LEVEL])),
               "indicators": self.indicator_summary()}
        if self.teachers is not None and len(self.teachers):
            out["teachers"] = summarise_teachers(self.teachers)
        if self.capacity is not None and len(self.capacity):
            from njforecast.education.capacity import summarise_capacity
            out["capacity"] = summarise_capacity(self.capacity)
        out["quality_flags"] = self.quality
        return out

    def projection_summary(self) -> pd.DataFrame:
        """The served/compared projection: area, year, indicator, unit, mean, lo80 … hi95,
        quality (observed/derived/estimated: the flag of the values summarised).

        Indicators: the plan-target series (their units), ``enrolment_<level>`` (persons),
        ``teacher_demand`` and ``hires_needed`` (teachers, all levels).
        """
        parts = [self.target_summary().merge(
            self.indicators[[S.INDICATOR, S.UNIT]].drop_duplicates(S.INDICATOR),
            on=S.INDICATOR, how="left")]
        e = self.enrolment.assign(**{S.INDICATOR: "enrolment_" + self.enrolment[S.LEVEL]})
        parts.append(summarise(e, S.ENROLMENT, _with_quality(e, [S.AREA, S.YEAR, S.INDICATOR]))
                     .assign(**{S.UNIT: "persons"}))
        if self.teachers is not None and len(self.teachers):
            dk = [S.DRAW] if S.DRAW in self.teachers.columns else []
            t = self.teachers.groupby([S.AREA, S.YEAR, *dk], as_index=False)[
                [S.DEMAND, S.HIRES_NEEDED]].sum()
            for col, name in ((S.DEMAND, "teacher_demand"), (S.HIRES_NEEDED, "hires_needed")):
                parts.append(summarise(t.assign(**{S.INDICATOR: name}), col,
                                       [S.AREA, S.YEAR, S.INDICATOR]).assign(
                    **{S.UNIT: "teachers", S.QUALITY: "estimated"}))
        out = pd.concat(parts, ignore_index=True)
        out[S.UNIT] = out[S.UNIT].fillna("persons")
        out[S.QUALITY] = out[S.QUALITY].fillna("estimated") if S.QUALITY in out else "estimated"
        cols = [S.AREA, S.YEAR, S.INDICATOR, S.UNIT, *S.SUMMARY_COLUMNS, S.QUALITY]
        return out[cols].sort_values([S.INDICATOR, S.AREA, S.YEAR], kind="stable").reset_index(
            drop=True)

    def key_metrics(self, years: Iterable[int] = (2025, 2030, 2035)) -> dict[str, float]:
        """City mean of each target indicator in ``years`` (for MLflow metrics and summaries)."""
        ts = self.target_summary()
        ts = ts[(ts[S.AREA] == self.region.code) & ts[S.YEAR].isin(list(years))]
        return {f"{r.indicator}.{r.year}": float(r.mean) for r in ts.itertuples()}


def _with_quality(df: pd.DataFrame, by: list[str]) -> list[str]:
    """``by`` plus ``quality`` when the frame flags its values (kept in every output)."""
    return [*by, S.QUALITY] if S.QUALITY in df.columns else by


def summarise_teachers(teachers_df: pd.DataFrame) -> pd.DataFrame:
    """The teachers frame over draws (``teachers.csv``): means by area, year and level, 80 %
    bands of demand and hires needed, and ratio = mean enrolment / mean demand (pupils per
    teacher of the summarised values, not a mean of per-draw ratios)."""
    t = _summarise_wide(teachers_df, [S.AREA, S.YEAR, S.LEVEL])
    if {S.ENROLMENT, S.DEMAND, S.RATIO} <= set(t.columns):
        with np.errstate(divide="ignore", invalid="ignore"):
            t[S.RATIO] = np.where(t[S.DEMAND] > 0, t[S.ENROLMENT] / t[S.DEMAND], np.nan)
    return t


def _summarise_wide(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean over draws of every numeric column (teachers), plus the 80 % band of demand and
    hires needed when draws exist. Non-numeric columns are kept only when they are constant
    within each group (e.g. method, quality); a label that varies by draw is dropped rather
    than taken from one draw (the summary of such a label must be recomputed from the
    summarised values, as :func:`njforecast.education.capacity.summarise_capacity` does for status)."""
    num = [c for c in df.columns if c not in (*by, S.DRAW) and pd.api.types.is_numeric_dtype(df[c])]
    if S.DRAW not in df.columns:
        return df.copy()
    g = df.groupby(by, sort=True)
    out = g[num].mean()
    for c in (S.DEMAND, S.HIRES_NEEDED, S.UTILISATION):
        if c in num:
            out[f"{c}_lo80"] = g[c].quantile(0.1)
            out[f"{c}_hi80"] = g[c].quantile(0.9)
    other = [c for c in df.columns if c not in (*by, S.DRAW, *num)]
    const = [c for c in other if (g[c].nunique(dropna=False) <= 1).all()]
    if const:
        out = out.join(g[const].first())
    return out.reset_index()


# ------------------------------------------------------------------------------------------
# the run


def project_base_population(census_df: pd.DataFrame, region: Region, cfg: RunConfig,
                            section: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The census base at single ages projected with draws (demography stage).

    Returns:
        (population: area, year, sex, age, population[, draw] for the region's census areas,
        years base_year…end_year, ages 0..``max_age`` (default 24); assumptions frame).
    """
    from njforecast import demography as dem
    from njforecast.areas import census_codes

    sec = dict(section)
    max_age = int(sec.pop("max_age", 24))
    codes = census_codes(region, cfg.base_year)
    base = census_df[(census_df[S.CENSUS_YEAR] == cfg.base_year)
                     & census_df[S.AREA].isin(codes)]
    if base.empty:
        raise ValueError(f"no {cfg.base_year} census rows for region {cfg.region}; base_year "
                         "must be a census year in data/raw/census")
    single = dem.graduate_single_ages(base)
    assumptions = dem.DemographicAssumptions.from_config(sec)
    pop = dem.project_population(single, assumptions, start_year=cfg.base_year,
                                 end_year=cfg.end_year, draws=cfg.draws, seed=cfg.seed,
                                 ages=range(0, max_age + 1))
    # fix (engine and reference alike): the jump-off year does not depend on a scenario's
    # migration multiplier; it is the back step at the config's own migration
    own = {k: v for k, v in cfg.section("demography").items() if k != "max_age"}
    first = dem.project_population(single, dem.DemographicAssumptions.from_config(own),
                                   start_year=cfg.base_year, end_year=cfg.base_year,
                                   draws=cfg.draws, seed=cfg.seed, ages=range(0, max_age + 1))
    pop = pd.concat([first, pop[pop[S.YEAR] > cfg.base_year]], ignore_index=True)
    a = pd.DataFrame([(k, v, "estimated", "demography assumption")
                      for k, v in assumptions.to_params().items()],
                     columns=["name", S.VALUE, S.QUALITY, "note"])
    return pop, a


def run(cfg: RunConfig, scenario=None, progress=None) -> Results:
    """Run the engine for one config (and optional ``scenarios.Scenario``).

    Args:
        cfg: the run config.
        scenario: a ``Scenario``; its overrides are applied to the stage assumptions.
        progress: optional callable(str) told each stage as it starts (for a progress display).

    Returns:
        Results. Same config + data + seed → identical numbers.
    """
    from njforecast.io.plan import load_plan_targets

    say = progress or (lambda _msg: None)
    name = "baseline"
    if scenario is not None:
        from njforecast.planning.scenarios import apply_to_config

        cfg = apply_to_config(cfg, scenario)
        name = scenario.name
    overrides = scenario.overrides() if scenario is not None else {}
    stages = stage_configs(cfg, overrides)
    region = load_region(cfg.region)
    say("data")
    census = read_processed("census_population")
    obs = read_processed("observations")
    targets = load_plan_targets()
    say("population")
    pop, dem_assumptions = project_base_population(census, region, cfg, stages["demography"])
    say("enrolment, teachers, capacity")
    planner, planner_note = planner_observations(cfg)
    st = run_enrolment_stage(pop, stages["enrolment"], region,
                                     teachers_cfg=stages["teachers"],
                                     capacity_cfg=stages["capacity"], targets=targets,
                                     seed=cfg.seed, observations=planner)
    hpy = stages["teachers"].get("hires_per_year")
    series = target_series(st["indicators"], st.get("teachers"), targets[S.INDICATOR],
                           region.code, fixed_hiring=hpy is not None and float(hpy) > 0)
    scen = pd.DataFrame([(f"scenario.{k}", v, "estimated", "scenario override")
                         for k, v in overrides.items()]
                        + ([("planner_observations", cfg.section("data")["observations"],
                             "observed", planner_note)] if planner is not None else []),
                        columns=dem_assumptions.columns)
    assumptions = pd.concat([dem_assumptions, st["assumptions"], scen], ignore_index=True)
    assumptions[S.VALUE] = assumptions[S.VALUE].map(str)
    extra = {k: v for k, v in st.items() if k not in ("enrolment", "indicators", "teachers",
                                                       "capacity", "assumptions")}
    dh = data_hash(extra=[planner_observations_path(cfg)] if planner is not None else ())
    return Results(config=cfg, region=region, data_hash=dh, scenario=name,
                   population=pop, enrolment=st["enrolment"], indicators=st["indicators"],
                   teachers=st.get("teachers"), capacity=st.get("capacity"),
                   target_series=series, observations=obs, assumptions=assumptions,
                   sources=sources_table(),
                   quality=quality_table(st["indicators"], st["enrolment"]), extra=extra)



def run_enrolment_stage(pop_df: pd.DataFrame, cfg_section: Mapping | None, region: Region,
                        observations: pd.DataFrame | None = None,
                        teachers_cfg: Mapping | None = None,
                        capacity_cfg: Mapping | None = None,
                        plan_obs: pd.DataFrame | None = None,
                        standards: pd.DataFrame | None = None,
                        seats: pd.DataFrame | None = None,
                        targets: pd.DataFrame | None = None,
                        seed: int | None = None) -> dict[str, pd.DataFrame]:
    """Enrolment, indicators, teachers and capacity from a population frame, in one call.

    Config keys (``[enrolment]``; all optional, defaults in brackets):
        base_year [first year of pop_df], bands [DEFAULT_BANDS], split_rule ["ger"],
        distribution_rule ["age_structure"], ger_basis ["plan" | "resident"], population_basis
        ["resident": the census population, the only one published by age; "registered":
        resident × the city's registered/resident ratio (:func:`registered_ratio`), which
        sets ger_basis "registered"], method ["rate" | "flow"], rate_path ["hold"; or "target",
        "trend", the baseline's: damped box-1 trend with drift draws, see :func:`rate_path`
        and :func:`trend_setup` for its keys annual_change, voc_share_change, damping,
        drift_sd, ceilings], target_year [the plan targets' year, 2025], targets [the plan's
        GER targets: preschool_ger_3y 92.09, senior_stage_ger 95 from plan_targets_2025.csv],
        max_ger, consolidation_path ["hold", "target" (97 by 2025 from the plan) or "trend"
        (damped box-1 trend, key consolidation_change)], seed [the run's seed; drift draws].
    ``teachers_cfg`` (``[teachers]``) and ``capacity_cfg`` (``[capacity]``): see
    :func:`njforecast.education.teachers.run_teachers` and :func:`njforecast.education.capacity.run_capacity`.

    Args:
        pop_df: population (area, year, sex, age, population[, draw]) for the census areas,
            base year included.
        cfg_section: the ``[enrolment]`` table.
        region: the region.
        observations: a planner's own series (observations format); replace estimates.
        plan_obs, standards, seats, targets: override the bundled plan tables (tests).

    Returns:
        dict with frames ``rates``, ``rate_path``, ``enrolment``, ``indicators``,
        ``teachers``, ``hiring`` (per year: area, year, level[, draw], hires_needed, hires),
        ``hiring_summary`` (cumulative 2021–2025 vs the plan's ≥ 4,000), ``staffing_ratios``,
        ``capacity``, ``capacity_years`` and ``assumptions`` (name, value, quality, note —
        every named assumption of the run, for logging).
    """
    from njforecast.education import capacity as cap_mod
    from njforecast.io import store as data_mod
    from njforecast.io import plan as plan_io
    from njforecast.education import teachers as tch_mod

    cfg = dict(cfg_section or {})
    base_year = int(cfg.get("base_year", int(pop_df[S.YEAR].min())))
    years = sorted(int(y) for y in pop_df[S.YEAR].unique() if y >= base_year)
    bands = _check_bands({k: tuple(v) for k, v in cfg.get("bands", DEFAULT_BANDS).items()})
    basis = cfg.get("population_basis", "resident")
    ger_basis = cfg.get("ger_basis", "plan")
    reg_ratio, basis_note = None, "resident census population"
    if basis == "registered":
        obs_all = data_mod.load_observations()
        if observations is not None and not observations.empty:
            obs_all = pd.concat([observations, obs_all], ignore_index=True)
            obs_all = obs_all.drop(columns=[S.PREFERRED], errors="ignore")
        reg_ratio, ry = registered_ratio(obs_all, region.code, base_year)
        ger_basis = "registered"
        basis_note = (f"registered = resident × {reg_ratio:.4f} (city registered/resident, "
                      f"{ry}, all ages)")
    elif basis != "resident":
        raise ValueError(f"[enrolment] population_basis must be 'resident' or 'registered', "
                         f"got {basis!r}")
    plan_obs = plan_obs if plan_obs is not None else plan_io.load_plan_indicators()
    if not (plan_obs[S.YEAR] == base_year).any() or not (pop_df[S.YEAR] == base_year).any():
        raise ValueError(f"enrolment stage: base year {base_year} must be in both the population "
                         f"frame (years {int(pop_df[S.YEAR].min())}–{int(pop_df[S.YEAR].max())}) "
                         "and the plan baselines (years "
                         f"{sorted(set(plan_obs[S.YEAR].astype(int)))}); the stage calibrates to "
                         "the plan's base-year figures, so pass the base-year population too")
    targets = targets if targets is not None else plan_io.load_plan_targets()
    baselines = plan_baselines(plan_obs, pop_df, region, bands, base_year,
                               cfg.get("split_rule", "ger"))
    rates = calibrate_base_rates(pop_df, baselines, region, bands, base_year,
                                 cfg.get("distribution_rule", "age_structure"), observations,
                                 ger_basis, reg_ratio)
    path = cfg.get("rate_path", "hold")
    tgt = targets.set_index(S.INDICATOR)[S.TARGET]
    ger_targets = cfg.get("targets") or {k: float(tgt[k]) for k in BAND_GER.values()
                                         if k in tgt.index and pd.notna(tgt[k])}
    tyears = targets.loc[targets[S.INDICATOR].isin(list(BAND_GER.values())), S.TARGET_YEAR]
    target_year = int(cfg.get("target_year", int(tyears.max()) if len(tyears) else 2025))
    cpath = cfg.get("consolidation_path", "hold")
    if cpath not in ("hold", "target", "trend"):
        raise ValueError(f"[enrolment] consolidation_path must be 'hold', 'target' or 'trend', "
                         f"got {cpath!r}")
    seed = int(seed if seed is not None else cfg.get("seed", 0))
    draw_ids = np.sort(pop_df[S.DRAW].unique()) if S.DRAW in pop_df.columns else None
    trend = (trend_setup(cfg, plan_obs, base_year, data_mod.load_observations(),
                         planner_obs=observations,
                         areas=[a.code for a in region.counties])
             if "trend" in (path, cpath) else None)
    model_notes: list[str] = []
    if path == "model":
        # a models/ forecast of an observed GER series (the planner's own first, then the
        # bundled national/provincial series); see model_ger_path
        series_obs = data_mod.preferred(data_mod.load_observations())
        if observations is not None and not observations.empty:
            series_obs = pd.concat([observations, series_obs], ignore_index=True)
        series_obs = series_obs.drop_duplicates([S.AREA, S.YEAR, S.INDICATOR])
        ger_path, model_notes = model_ger_path(
            series_obs, years, _base_ger(rates, region.code),
            model=cfg.get("rate_model", "auto"),
            area=str(cfg.get("rate_series_area", NATIONAL_AREA)),
            change=cfg.get("rate_change", "relative"),
            indicators=cfg.get("rate_series_indicators"), draw_ids=draw_ids, seed=seed,
            model_options=cfg.get("rate_model_options"),
            ceilings={**trend_ceilings(series_obs), **cfg.get("ceilings", {})},
            min_years=int(cfg.get("rate_series_min_years", 8)))
        paths = rate_path(rates, years, region, path, ger_path=ger_path,
                          max_ger=cfg.get("max_ger"), draws=draw_ids)
    elif path == "external":
        ger_path = read_ger_path(cfg, BAND_GER.values())
        if S.DRAW in ger_path.columns:
            from njforecast.io.store import DataError

            have = set(ger_path[S.DRAW].astype(int))
            need = set() if draw_ids is None else {int(d) for d in draw_ids}
            if not need or need - have:
                raise DataError(f"{cfg['ger_path']}: column draw has {len(have)} draw(s) but "
                                f"the run's draws are {sorted(need)[:5]}"
                                f"{' …' if len(need) > 5 else ''}; give every draw of the run "
                                "or drop the draw column (one path for all draws)")
        paths = rate_path(rates, years, region, path, ger_path=ger_path,
                          max_ger=cfg.get("max_ger"), draws=draw_ids)
    elif path == "trend":
        paths = rate_path(rates, years, region, path, annual_change=trend["annual_change"],
                          max_ger=cfg.get("max_ger"), damping=trend["damping"],
                          drift_sd=trend["drift_sd"], ceilings=trend["ceilings"],
                          voc_share_change=trend["voc_share_change"], draws=draw_ids,
                          seed=seed, area_change=trend["area_change"])
    else:
        paths = rate_path(rates, years, region, path, targets=ger_targets,
                          target_year=target_year, annual_change=cfg.get("annual_change"),
                          max_ger=cfg.get("max_ger"))
    enrol = project_enrolment(pop_df, rates, paths, region, bands)
    method = cfg.get("method", "rate")
    flow_note = ""
    if method == "flow":
        enrol, flow_note = _apply_flow(enrol, pop_df, rates, region, observations, base_year,
                                       int(cfg.get("flow_ratio_years", 3)))
    elif method != "rate":
        raise ValueError(f"[enrolment] method must be 'rate' or 'flow', got {method!r}")
    enrol[S.METHOD] = method
    c0 = _plan_value(plan_obs, CONSOLIDATION, base_year)
    if cpath == "trend":
        if trend["consolidation_change"] is None:
            raise ValueError("[enrolment] consolidation_path 'trend' needs the consolidation "
                             f"rate for {base_year - TREND_WINDOW} and {base_year} in the plan "
                             "indicators, or consolidation_change (points a year)")
        cons = consolidation_path(
            c0, years, slope=trend["consolidation_change"],
            damping=trend["consolidation_damping"],
            ceiling=trend["ceilings"].get(CONSOLIDATION, 100.0), draw_ids=draw_ids,
            shocks=None if draw_ids is None else drift_shocks(
                draw_ids, trend["consolidation_drift_sd"], seed, CONSOLIDATION))
    else:
        cons = consolidation_path(c0, years, float(tgt[CONSOLIDATION]) if cpath == "target"
                                  else None, target_year)
    ind = indicators(enrol, pop_df, rates, region, bands, cons, plan_obs)
    ind[S.RATE_PATH] = path
    tch = run_teachers(enrol, {"seed": seed, **dict(teachers_cfg or {})}, region,
                               observations=observations,
                               standards=standards, plan_obs=plan_obs, targets=targets)
    capf = run_capacity(enrol, capacity_cfg, region, seats=seats)
    f = rates.drop_duplicates(S.BAND).set_index(S.BAND)[S.GER_FACTOR]
    assumptions = [
        ("base_year", base_year, "observed",
         f"population at 1 Sep {base_year} (start of school year {base_year}): the 1 Nov "
         f"census taken back one step by demography"),
        ("population_basis", basis, "estimated", f"GER denominators: {basis_note}"),
        ("ger_basis", ger_basis, "estimated",
         {"plan": "denominators scaled so the base GERs equal the plan's",
          "resident": "resident population as is",
          "registered": "resident population × registered/resident ratio"}[ger_basis]),
        *((f"ger_factor_{b}", float(f[b]), "estimated", "GER denominator / resident population")
          for b in bands),
        ("bands", {b: list(v) for b, v in bands.items()}, "observed", "official ages"),
        ("split_rule", cfg.get("split_rule", "ger"), "estimated",
         "primary/junior split of the plan's compulsory count"),
        ("distribution_rule", cfg.get("distribution_rule", "age_structure"), "estimated",
         "county values from the city baseline"),
        ("enrolment_method", method, "estimated", flow_note),
        ("rate_path", path, "estimated", f"targets {ger_targets} by {target_year}"
         if path == "target" else ("damped trend of plan box 1 2015→2020 with drift draws"
                                   if path == "trend" else
                                   (f"city GER path from file {cfg.get('ger_path')}"
                                    if path == "external" else ""))),
        *((f"rate_model_{n.split(':', 1)[0]}", cfg.get("rate_model", "auto"), "estimated",
           n.split(": ", 1)[1]) for n in model_notes),
        ("consolidation_path", cpath, "estimated", ""),
        *(trend_assumptions(trend) if trend is not None else []),
        *tch["assumptions"], *capf["assumptions"],
    ]
    return {"rates": rates, "rate_path": paths, "enrolment": enrol, "indicators": ind,
            "teachers": tch["teachers"], "hiring": tch["hiring"],
            "hiring_summary": tch["hiring_summary"], "staffing_ratios": tch["ratios"],
            "capacity": capf["capacity"],
            "capacity_years": capf["capacity_years"],
            "assumptions": pd.DataFrame(assumptions, columns=["name", S.VALUE, S.QUALITY, "note"])}




# --- the teacher and capacity steps as the frame pipeline composed them ----------------
from njforecast.education.teachers import *  # noqa: F401,F403
from njforecast.education.capacity import *  # noqa: F401,F403
from njforecast.education.capacity import _allocation  # noqa: F401


def run_teachers(enrol_df: pd.DataFrame, cfg: Mapping | None, region: Region,
                 observations: pd.DataFrame | None = None,
                 standards: pd.DataFrame | None = None, plan_obs: pd.DataFrame | None = None,
                 targets: pd.DataFrame | None = None) -> dict:
    """Teacher step for the enrolment stage.

    Config keys (``[teachers]``, all optional): method ["standard" | "class_size" |
    "area_ratio"; when absent: "class_size" if a class cap is set, else ``standard``
    "unified_2014" → "standard", "current" → "area_ratio" (each area's base ratio held), else
    "standard"], class_size_cap_primary / class_size_cap_junior [pupils], hires_per_year
    [fixed hiring plan, all levels; default hire to need], nonteaching_share [{level: fraction};
    default the standard's caps],
    vocational_as ["senior_general"], base_supply ["standard" | "province_ratio"],
    attrition [default: :func:`implied_attrition` from the plan], ratio_change [0.0],
    ratio_path ["linear" (ratio_change a year) | "model": each area's base ratio moves by the
    relative change of a models/ forecast of an observed pupil-teacher ratio series,
    :func:`model_ratio_multipliers`; with ratio_model ["auto"], ratio_series_area [the
    region's province], ratio_series_min_years [8], ratio_model_options; method area_ratio],
    class_caps [{level: pupils}], teachers_per_class [{level: teachers}],
    hiring_period [the years of the plan's ``teachers_added_YYYY_YYYY`` target, else
    [2021, 2025]].

    Returns:
        dict: ``teachers`` (teachers frame incl. city), ``hiring`` (per year: area, year,
        level[, draw], hires_needed, hires, quality), ``hiring_summary`` (:func:`hiring_need`:
        cumulative over the period vs the plan's target), ``ratios`` (:func:`staffing_ratios`),
        ``assumptions`` (list of (name, value, quality, note)).
    """
    from njforecast.io import store as data_mod
    from njforecast.io import plan as plan_io

    cfg = dict(cfg or {})
    standards = standards if standards is not None else data_mod.load_standards()
    plan_obs = plan_obs if plan_obs is not None else plan_io.load_plan_indicators()
    ratios = staffing_ratios(standards, cfg.get("nonteaching_share"),
                             cfg.get("vocational_as", VOCATIONAL_AS))
    counties = enrol_df[enrol_df[S.AREA] != region.code]
    t0 = int(counties[S.YEAR].min())
    base = counties[counties[S.YEAR] == t0]
    if S.DRAW in base.columns:
        base = base.groupby([S.AREA, S.YEAR, S.LEVEL])[S.ENROLMENT].mean().reset_index()
    rule = cfg.get("base_supply", "standard")
    prov = None
    if rule == "province_ratio":
        prov = data_mod.load_observations()
    supply0 = base_teacher_supply(base, ratios, rule, prov, region.province, observations)
    if "attrition" in cfg:
        attrition, a_q, a_note = float(cfg["attrition"]), "estimated", "set in config"
    else:
        stock_ratios, p_share = base_stock_ratios(base, supply0, ratios)
        attrition = implied_attrition(plan_obs, stock_ratios, primary_share=p_share)
        h = plan_obs.loc[plan_obs[S.INDICATOR] == "teachers_added_2016_2020", S.VALUE].iloc[0]
        a_q, a_note = "derived", (f"implied by the plan's {h:,.0f} teachers added 2016-2020 "
                                  f"at the base supply's pupil-teacher ratios ({rule}), "
                                  f"primary share {p_share:.3f} of compulsory")
    cap_over = dict(cfg.get("class_caps", {}))
    for lv in ("primary", "junior"):
        if f"class_size_cap_{lv}" in cfg:
            cap_over[lv] = float(cfg[f"class_size_cap_{lv}"])
    if "method" in cfg:
        method = cfg["method"]
    elif cap_over:
        method = "class_size"
    elif "standard" in cfg:
        std_map = {"current": "area_ratio", "unified_2014": "standard"}
        if cfg["standard"] not in std_map:
            raise ValueError(f"[teachers] standard must be one of {sorted(std_map)}, got "
                             f"{cfg['standard']!r}")
        method = std_map[cfg["standard"]]
    else:
        method = "standard"
    caps = class_caps(standards, cap_over)
    mult, ratio_notes = None, []
    if cfg.get("ratio_path", "linear") == "model":
        if method != "area_ratio":
            raise ValueError(f"[teachers] ratio_path 'model' moves each area's own pupil-teacher "
                             f"ratio; it needs method = 'area_ratio', got {method!r}")
        series = data_mod.preferred(data_mod.load_observations())
        if observations is not None and not observations.empty:
            series = pd.concat([observations, series], ignore_index=True)
        draw_ids = (np.sort(counties[S.DRAW].unique()) if S.DRAW in counties.columns
                    else None)
        mult, ratio_notes = model_ratio_multipliers(
            series, sorted(counties[S.YEAR].unique()), sorted(counties[S.LEVEL].unique()),
            str(cfg.get("ratio_series_area", region.province)),
            model=cfg.get("ratio_model", "auto"), draw_ids=draw_ids,
            seed=int(cfg.get("seed", 0)), min_years=int(cfg.get("ratio_series_min_years", 8)),
            model_options=cfg.get("ratio_model_options"))
    elif cfg.get("ratio_path", "linear") == "trend":
        from njforecast.education.learned import damping_for
        from njforecast.education.teachers import trend_ratio_multipliers

        series = data_mod.preferred(data_mod.load_observations())
        if observations is not None and not observations.empty:
            series = pd.concat([observations, series], ignore_index=True)
        series = series[series[S.YEAR] <= t0]
        phi = damping_for(series)
        years = sorted(int(y) for y in counties[S.YEAR].unique())
        levels = sorted(counties[S.LEVEL].unique())
        draw_ids = (np.sort(counties[S.DRAW].unique()) if S.DRAW in counties.columns
                    else None)
        arr, ratio_notes = trend_ratio_multipliers(
            series, years, levels, str(cfg.get("ratio_series_area", region.province)), phi,
            draw_ids, int(cfg.get("seed", 0)))
        parts = []
        for i, lv in enumerate(levels):
            for j, y in enumerate(years):
                part = pd.DataFrame({S.YEAR: y, S.LEVEL: lv, S.MULTIPLIER: arr[i, j]})
                if draw_ids is not None:
                    part[S.DRAW] = draw_ids
                parts.append(part)
        mult = pd.concat(parts, ignore_index=True)
    elif cfg.get("ratio_path", "linear") != "linear":
        raise ValueError(f"[teachers] ratio_path must be 'linear' (ratio_change a year), "
                         f"'trend' or 'model', got {cfg['ratio_path']!r}")
    demand = teacher_demand(counties, ratios, method, caps, cfg.get("teachers_per_class"),
                            supply0[[S.AREA, S.LEVEL, S.RATIO]], float(cfg.get("ratio_change", 0)),
                            t0, ratio_multiplier=mult, standard_caps=class_caps(standards))
    hpy = cfg.get("hires_per_year")
    hpy = float(hpy) if hpy is not None and float(hpy) > 0 else None
    tch = teacher_supply(demand, supply0, attrition, region, hpy)
    period, tgt = [2021, 2025], None
    if targets is not None:
        t = targets[targets[S.INDICATOR].str.match(r"^teachers_added_\d{4}_\d{4}$")]
        if len(t):
            tgt = float(t[S.TARGET].iloc[0])
            period = [int(x) for x in t[S.INDICATOR].iloc[0].split("_")[-2:]]
    period = cfg.get("hiring_period", period)
    hiring_summary = hiring_need(tch, region, int(period[0]), int(period[1]), tgt)
    hiring = tch[[c for c in (S.AREA, S.YEAR, S.LEVEL, S.DRAW, S.HIRES_NEEDED, S.HIRES,
                              S.QUALITY) if c in tch.columns]]
    r = ratios.set_index(S.LEVEL)[S.RATIO]
    assumptions = [
        ("teacher_method", method, "estimated", "demand method"),
        *((f"pupils_per_teacher_{lv}", float(r[lv]), "derived" if lv != "secondary_vocational"
           else "estimated", "staffing standard / teacher share") for lv in r.index),
        ("base_supply", rule, "estimated", "county teacher counts are not public"),
        ("attrition", attrition, a_q, a_note),
        ("hiring_policy", "to need" if hpy is None else f"fixed {hpy:g} a year, shared by "
         "demand", "estimated", ""),
        *((f"class_cap_{lv}", float(v), "observed" if lv in ("primary", "junior") else
           "estimated", "pupils per class") for lv, v in caps.items() if method == "class_size"),
        *((f"ratio_model_{n.split(':', 1)[0]}", cfg.get("ratio_model", "auto"), "estimated",
           n.split(": ", 1)[1]) for n in ratio_notes if cfg.get("ratio_path") == "model"),
        *((f"ratio_trend_{n.split(':', 1)[0]}", "learned damped trend", "estimated",
           n.split(": ", 1)[1]) for n in ratio_notes if cfg.get("ratio_path") == "trend"),
    ]
    return {"teachers": tch, "hiring": hiring, "hiring_summary": hiring_summary,
            "ratios": ratios, "assumptions": assumptions}


def run_capacity(enrol_df: pd.DataFrame, cfg: Mapping | None, region: Region,
                 seats: pd.DataFrame | None = None) -> dict:
    """Capacity step for the enrolment stage.

    Config keys (``[capacity]``, all optional): base_rule ["enrolment"], base_utilisation
    [100.0 percent], phase_in ["linear" | "end"], period [the seats table's ``period``,
    e.g. "2021-2025"], allocation
    [{kind: "city" | "own"}; default the region file's].

    Returns:
        dict: ``capacity`` (capacity frame), ``capacity_years``, ``assumptions``.
    """
    from njforecast.io import store as data_mod
    from njforecast.io import plan as plan_io

    cfg = dict(cfg or {})
    seats = seats if seats is not None else plan_io.load_seats()
    counties = enrol_df[enrol_df[S.AREA] != region.code]
    t0 = int(counties[S.YEAR].min())
    base = counties[counties[S.YEAR] == t0]
    if S.DRAW in base.columns:
        base = base.groupby([S.AREA, S.LEVEL])[S.ENROLMENT].mean().reset_index()
    u0 = float(cfg.get("base_utilisation", 100.0))
    cap0 = base_capacity(base, cfg.get("base_rule", "enrolment"), u0)
    default = (2021, 2025)
    if "period" in seats.columns and seats["period"].nunique() == 1:
        default = tuple(int(x) for x in str(seats["period"].iloc[0]).split("-"))
    period = tuple(cfg.get("period", default))
    phase = cfg.get("phase_in", "linear")
    cap = compare_capacity(enrol_df, seats, cap0, region, period, phase, cfg.get("allocation"))
    alloc = _allocation(region, cfg.get("allocation"))
    assumptions = [
        ("base_capacity", f"{cfg.get('base_rule', 'enrolment')} at {u0:g}% utilisation",
         "estimated", "base places are not published"),
        ("seat_phase_in", f"{phase} {period[0]}-{period[1]}", "estimated",
         "plan box 6 new places"),
        ("seat_allocation", alloc, "estimated", "units without population"),
    ]
    return {"capacity": cap, "capacity_years": capacity_years(cap), "assumptions": assumptions}


