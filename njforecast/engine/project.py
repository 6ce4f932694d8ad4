"""One scenario projected on arrays: population → enrolment → indicators → teachers → capacity.

Public names:
    Projection (frozen: the arrays and their coordinates), project(state, scenario=None).

Arrays carry the draw axis last. Counties come first on the area axis and the region (city)
last: the city is the sum of its areas, draw by draw (bottom-up coherence, DESIGN §5). Shapes:

=============  =====================================  ======================================
array          shape                                  unit
=============  =====================================  ======================================
population     (area, sex, age 0..max_age, year, d)   persons at 1 September of the year
enrolment      (area + city, level, year, d)          pupils (any age)
indicators     name → (area + city, year, d)          percent or persons (``units``)
teachers       field → (area + city, level, year, d)  teachers; ratio in pupils per teacher
capacity       field → (unit, seat level, year, d)    places, pupils; utilisation percent
=============  =====================================  ======================================

The formulas are those of the education stage functions (each named below with its
reference); this module evaluates them over whole arrays so a scenario costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import demography as dem
from .. import schema as S
from ..education import capacity as cap_mod
from ..education import enrolment as en
from ..education import teachers as tm
from .state import BaseState, stage_configs

LEVELS = tuple(S.SCHOOL_LEVELS)
BANDS = tuple(en.DEFAULT_BANDS)
SEAT_LEVELS = cap_mod.SEAT_LEVELS


@dataclass(frozen=True, eq=False)
class Projection:
    """The arrays of one scenario and their coordinates (see the module table).

    Attributes:
        scenario: scenario name.
        overrides: the scenario's overrides (field → value).
        stages: the stage config tables in force (scenario applied).
        years: school years, jump-off first (int array).
        draws: number of draws (0 = one point path, stored as one draw).
        codes: area codes on the area axis (counties, then the city).
        population, band_population: (county, sex, age, year, d), (county + city, band, year, d).
        enrolment: (county + city, level, year, d); enrolment_quality: (county + city, level)
            quality of the jump-off year's values (later years are "estimated").
        indicators, indicator_units, indicator_quality, indicator_first: name → values,
            unit, quality by (area, year), first valid year index.
        teachers: field → (county + city, level, year, d); teacher_method: the method.
        hiring_period: (first, last) year of the plan's teachers-added target.
        capacity: field → (unit, seat level, year, d); capacity_codes: units on its axis;
            capacity_nopop: units without population (no utilisation).
        rates, rate_mult: the calibrated base (frame) and the rate-path multipliers.
        assumptions: (name, value, quality, note) rows of the stage assumptions.
    """

    scenario: str
    overrides: dict
    stages: dict
    years: np.ndarray
    draws: int
    codes: tuple[str, ...]
    population: np.ndarray
    band_population: np.ndarray
    enrolment: np.ndarray
    enrolment_quality: np.ndarray
    indicators: dict
    indicator_units: dict
    indicator_quality: dict
    indicator_first: dict
    teachers: dict
    teacher_method: str
    hiring_period: tuple[int, int]
    hiring_target: float | None
    capacity: dict
    capacity_codes: tuple[str, ...]
    capacity_nopop: np.ndarray
    rates: pd.DataFrame
    rate_mult: Any
    assumptions: list
    dem_assumptions: dem.DemographicAssumptions
    end_year: int
    seed: int

    @property
    def city(self) -> str:
        return self.codes[-1]


# --- population -----------------------------------------------------------------------------


def _population(state: BaseState, assumptions: dem.DemographicAssumptions, end_year: int,
                draws: int, seed: int) -> np.ndarray:
    """School-year population (county, sex, age 0..max_age, year, d) by the cohort-component
    core (:func:`njforecast.demography.project_arrays`, 1 Sep interpolation)."""
    inputs = state.inputs
    fm = assumptions.fertility_multiplier
    if fm != 1.0:
        inputs = replace(inputs, fertility_index={y: v * fm
                                                  for y, v in inputs.fertility_index.items()})
    T = end_year - state.base_year + 1
    nA = state.max_age + 1
    D = max(draws, 1)
    out = np.empty((len(state.areas), 2, nA, T, D))
    w = dem.SEPT_WEIGHT
    pop0 = state.pop0
    # 1 Sep of the census year: between the back-stepped year and the census (no draw spread).
    # The back step uses the config's migration, never a scenario's: the jump-off year is the
    # observed past, the same in every scenario.
    back = dem.back_step(pop0, inputs, state.dem_assumptions)
    out[:, :, :, 0, :] = (w * pop0[:, :, :nA] + (1 - w) * back[:, :, :nA])[..., None]
    prev = pop0[:, :, :nA, None]
    if inputs.base_factor is not None:  # later years start from the corrected base
        prev = prev * inputs.base_factor[:, :, :nA, None]
    # Ages above the oldest mother and the oldest age kept never feed back: project ages
    # 0..K only, K + 1 = max(last fertile age, max_age) + 1 acting as the open group (exact for
    # every age ≤ K; the stand-in open group itself is not used).
    K = min(max(int(np.flatnonzero(inputs.fertility_weights).max()), nA - 1) + 2,
            pop0.shape[2])
    if K < pop0.shape[2]:
        inputs = replace(inputs, survival=inputs.survival[:, :K],
                         migration=inputs.migration[:, :, :K],
                         fertility_weights=inputs.fertility_weights[:K],
                         base_factor=None if inputs.base_factor is None
                         else inputs.base_factor[:, :, :K])
        pop0 = pop0[:, :, :K]
    for j, (_, cur) in enumerate(dem.project_arrays(pop0, inputs, T - 1, assumptions, draws,
                                                    seed), start=1):
        cur = cur[:, :, :nA] if draws else cur[:, :, :nA, None]
        out[:, :, :, j, :] = w * cur + (1 - w) * prev
        prev = cur
    return out


def _bands(cfg: Mapping) -> dict[str, tuple[int, int]]:
    return en._check_bands({k: tuple(v) for k, v in cfg.get("bands", en.DEFAULT_BANDS).items()})


# --- base calibration at the jump-off year (the same for every scenario) ----------------------


def _calibration(state: BaseState, enr: Mapping, pop: np.ndarray) -> dict:
    """Base enrolment, rates and GER factors by area and level
    (:func:`njforecast.education.enrolment.calibrate_base_rates`)."""
    bands = _bands(enr)
    key = ("calibration", repr(sorted((k, str(v)) for k, v in enr.items()
                                           if k in ("bands", "split_rule", "distribution_rule",
                                                    "ger_basis", "population_basis"))))

    def build():
        A, _, nA = pop.shape[:3]
        base = pop[:, :, :, 0, 0]
        frame = pd.DataFrame({
            S.AREA: np.repeat(np.asarray(state.areas, dtype=object), 2 * nA),
            S.YEAR: state.base_year,
            S.SEX: np.tile(np.repeat(np.asarray(S.SEXES, dtype=object), nA), A),
            S.AGE: np.tile(np.arange(nA), 2 * A),
            S.POPULATION: base.reshape(-1)})
        basis = enr.get("population_basis", "resident")
        ger_basis = enr.get("ger_basis", "plan")
        reg_ratio, basis_note = None, "resident census population"
        if basis == "registered":
            obs_all = state.series_obs
            if state.planner is not None and not state.planner.empty:
                obs_all = pd.concat([state.planner, obs_all], ignore_index=True)
                obs_all = obs_all.drop(columns=[S.PREFERRED], errors="ignore")
            reg_ratio, ry = en.registered_ratio(obs_all, state.region.code, state.base_year)
            ger_basis = "registered"
            basis_note = (f"registered = resident × {reg_ratio:.4f} (city registered/resident, "
                          f"{ry}, all ages)")
        elif basis != "resident":
            raise ValueError(f"[enrolment] population_basis must be 'resident' or 'registered', "
                             f"got {basis!r}")
        if not (state.plan_obs[S.YEAR] == state.base_year).any():
            raise ValueError(f"enrolment stage: base year {state.base_year} must be in the plan "
                             f"baselines (years {sorted(set(state.plan_obs[S.YEAR].astype(int)))})")
        baselines = en.plan_baselines(state.plan_obs, frame, state.region, bands,
                                      state.base_year, enr.get("split_rule", "ger"))
        rates = en.calibrate_base_rates(frame, baselines, state.region, bands, state.base_year,
                                        enr.get("distribution_rule", "age_structure"),
                                        state.planner, ger_basis, reg_ratio)
        idx = rates.set_index([S.AREA, S.LEVEL])
        codes = (*state.areas, state.region.code)
        e0 = np.array([[idx.loc[(a, lv), S.ENROLMENT] for lv in LEVELS] for a in codes], float)
        r0 = np.array([[idx.loc[(a, lv), S.RATE] for lv in LEVELS] for a in state.areas], float)
        q0 = np.array([[idx.loc[(a, lv), S.QUALITY] for lv in LEVELS] for a in codes],
                      dtype=object)
        f = rates.drop_duplicates(S.BAND).set_index(S.BAND)[S.GER_FACTOR]
        return {"rates": rates, "e0": e0, "r0": r0, "q0": q0,
                "f": np.array([float(f[b]) for b in BANDS]), "basis": basis,
                "ger_basis": ger_basis, "basis_note": basis_note, "bands": bands,
                "g0": en._base_ger(rates, state.region.code)}

    return state.cached(key, build)


# --- rate paths -------------------------------------------------------------------------------


def _targets(state: BaseState, enr: Mapping) -> tuple[dict, int | None]:
    """The plan's GER targets {id: percent} and their year (``[enrolment] targets`` and
    ``target_year`` override the targets table); the year is None when there is none."""
    tgt = state.targets.set_index(S.INDICATOR)[S.TARGET]
    ger_targets = enr.get("targets") or {k: float(tgt[k]) for k in en.BAND_GER.values()
                                         if k in tgt.index and pd.notna(tgt[k])}
    tyears = state.targets.loc[state.targets[S.INDICATOR].isin(list(en.BAND_GER.values())),
                               S.TARGET_YEAR]
    target_year = enr.get("target_year", int(tyears.max()) if len(tyears) else None)
    return ger_targets, None if target_year is None else int(target_year)


def _trend(state: BaseState, enr: Mapping) -> dict:
    key = ("trend", repr(sorted((k, str(v)) for k, v in enr.items())))
    return state.cached(key, lambda: en.trend_setup(
        enr, state.plan_obs, state.base_year, state.series_obs, planner_obs=state.planner,
        areas=[a.code for a in state.region.counties]))


def store_preferred(state: BaseState) -> pd.DataFrame:
    """Bundled observations (preferred rows) with a planner's own series first."""
    from ..io.store import preferred

    def build():
        obs = preferred(state.series_obs)
        if state.planner is not None and not state.planner.empty:
            obs = pd.concat([state.planner, obs], ignore_index=True)
        return obs

    return state.cached(("preferred_obs",), build)


def _rate_multipliers(state: BaseState, enr: Mapping, calib: dict, years, draw_ids,
                      seed: int) -> tuple[en.RateMultipliers, list[str], dict | None]:
    """The scenario's rate path (:func:`njforecast.education.enrolment.rate_multipliers`)."""
    path = enr.get("rate_path", "hold")
    cpath = enr.get("consolidation_path", "hold")
    trend = _trend(state, enr) if "trend" in (path, cpath) else None
    rates = calib["rates"]
    notes: list[str] = []
    if path == "model":
        series = store_preferred(state).drop_duplicates([S.AREA, S.YEAR, S.INDICATOR])
        key = ("ger_model", repr(sorted((k, str(v)) for k, v in enr.items())), tuple(years),
               None if draw_ids is None else len(draw_ids), seed, calib["g0"]["preschool"])

        def build():
            return en.model_ger_path(
                series, years, calib["g0"], model=enr.get("rate_model", "auto"),
                area=str(enr.get("rate_series_area", en.NATIONAL_AREA)),
                change=enr.get("rate_change", "relative"),
                indicators=enr.get("rate_series_indicators"), draw_ids=draw_ids, seed=seed,
                model_options=enr.get("rate_model_options"),
                ceilings={**en.trend_ceilings(series), **enr.get("ceilings", {})},
                min_years=int(enr.get("rate_series_min_years", 8)))

        ger_path, notes = state.cached(key, build)
        m = en.rate_multipliers(rates, years, state.region, path, g0=calib["g0"], ger_path=ger_path,
                                max_ger=enr.get("max_ger"), draws=draw_ids)
    elif path == "external":
        if state.ger_path is None:
            raise ValueError("[enrolment] rate_path 'external' needs ger_path = \"FILE.csv\" "
                             "in the experiment config (a scenario cannot set it)")
        ger_path = state.ger_path
        if S.DRAW in ger_path.columns:
            from ..io.store import DataError

            have = set(ger_path[S.DRAW].astype(int))
            need = set() if draw_ids is None else {int(d) for d in draw_ids}
            if not need or need - have:
                raise DataError(f"{enr['ger_path']}: column draw has {len(have)} draw(s) but "
                                f"the run's draws are {sorted(need)[:5]}"
                                f"{' …' if len(need) > 5 else ''}; give every draw of the run "
                                "or drop the draw column (one path for all draws)")
        m = en.rate_multipliers(rates, years, state.region, path, g0=calib["g0"], ger_path=ger_path,
                                max_ger=enr.get("max_ger"), draws=draw_ids)
    elif path == "trend":
        m = en.rate_multipliers(rates, years, state.region, path, g0=calib["g0"],
                                annual_change=trend["annual_change"],
                                max_ger=enr.get("max_ger"), damping=trend["damping"],
                                drift_sd=trend["drift_sd"], ceilings=trend["ceilings"],
                                voc_share_change=trend["voc_share_change"], draws=draw_ids,
                                seed=seed, area_change=trend["area_change"])
    else:
        ger_targets, target_year = _targets(state, enr)
        m = en.rate_multipliers(rates, years, state.region, path, g0=calib["g0"], targets=ger_targets,
                                target_year=target_year, annual_change=enr.get("annual_change"),
                                max_ger=enr.get("max_ger"))
    return m, notes, trend


# --- enrolment --------------------------------------------------------------------------------


def _enrolment(state: BaseState, calib: dict, mult: en.RateMultipliers, band_pop: np.ndarray,
               D: int) -> np.ndarray:
    """E(a, L, t) = rate0(a, L) × m(a, L, t) × P_band(L)(a, t) (NCES enrolment-rate method);
    the jump-off year carries the calibrated counts; the city is the sum of its areas."""
    A = len(state.areas)
    T = band_pop.shape[2]
    E = np.empty((A + 1, len(LEVELS), T, D))
    for li, level in enumerate(LEVELS):
        bi = BANDS.index(en.LEVEL_BAND[level])
        for ai, area in enumerate(state.areas):
            m = mult.area.get((area, level), mult.level[level])  # (n, T)
            E[ai, li] = (calib["r0"][ai, li] * m).T * band_pop[ai, bi]
    E[A] = E[:A].sum(axis=0)
    E[:, :, 0, :] = calib["e0"][:, :, None]
    return E


def _flow(state: BaseState, enr: Mapping, E: np.ndarray, pop: np.ndarray, calib: dict
          ) -> tuple[np.ndarray, str]:
    """Primary, junior and senior general by grade progression in areas with entrants and
    graduates series (:func:`njforecast.education.enrolment.project_enrolment_flow`; NCES,
    California DOF); other areas and levels keep the rate method. City = Σ areas."""
    obs = state.planner
    if obs is None or obs.empty:
        raise ValueError("[enrolment] method 'flow' needs your own county series (entrants and "
                         "graduates by level) passed as observations")
    ratio_years = int(enr.get("flow_ratio_years", 3))

    def build():
        ratios, intake, hist = {}, {}, {}
        pref = obs[obs[S.PREFERRED].astype(bool)] if S.PREFERRED in obs.columns else obs
        for a in state.region.counties:
            try:
                fr = en.flow_ratios(obs, a.code)
            except ValueError:
                continue
            r = en.latest_flow_ratios(fr, ratio_years)
            if all(f"{lv}_retention" in r for lv in en.FLOW_DURATIONS) and all(
                    n in r for _, n in en.FLOW_CHAIN.values()):
                ratios[a.code] = r
                e = obs[(obs[S.AREA].astype(str) == a.code)
                        & (obs[S.INDICATOR] == "primary_entrants")
                        & (obs[S.YEAR] == state.base_year)]
                if len(e):
                    intake[a.code] = float(e[S.VALUE].iloc[0])
                mine = pref[pref[S.AREA].astype(str) == a.code]
                hist[a.code] = {lv: mine[mine[S.INDICATOR] == f"{lv}_entrants"].set_index(
                    S.YEAR)[S.VALUE].astype(float) for lv in en.FLOW_DURATIONS}
        return ratios, intake, hist

    ratios, intake, hist = state.cached(("flow", ratio_years), build)
    if not ratios:
        raise ValueError("[enrolment] method 'flow': no area has entrants and graduates for "
                         "primary, junior and senior general (indicators <level>_entrants, "
                         "<level>_graduates); use method 'rate'")
    t0 = state.base_year
    E = E.copy()
    A = len(state.areas)
    for area, r in ratios.items():
        ai = state.areas.index(area)
        entry = pop[ai, :, 6].sum(axis=0).T  # (d, T): persons at the entry age 6
        grades, ret = {}, {}
        for lv, d in en.FLOW_DURATIONS.items():
            e0 = float(calib["e0"][ai, LEVELS.index(lv)])
            h = hist.get(area, {}).get(lv)
            if h is not None and all(t0 - k in h.index for k in range(d)):
                ret[lv] = en.stock_retention(h, e0, t0, d)
                grades[lv] = np.array([float(h[t0 - k]) * ret[lv] ** k for k in range(d)])
            else:
                ret[lv] = float(r[f"{lv}_retention"])
                grades[lv] = en.geometric_grades(e0, ret[lv], d)
        first = float(intake[area]) if area in intake else float(grades["primary"][0])
        ik = first / entry[:, 0]
        gb = {lv: np.broadcast_to(g, (entry.shape[0], len(g))) for lv, g in grades.items()}
        res = en.flow_cohorts(entry, gb, ik, ret, r)
        for lv, arr in res.items():
            E[ai, LEVELS.index(lv), 1:, :] = arr.sum(axis=-1).T[1:]
    E[A] = E[:A].sum(axis=0)
    rest = sorted(a.code for a in state.region.counties if a.code not in ratios)
    note = f"flow for {sorted(ratios)}; rate method for {rest}" if rest else "flow for all areas"
    return E, note


# --- indicators -------------------------------------------------------------------------------


def _consolidation(state: BaseState, enr: Mapping, trend: dict | None, years, draw_ids,
                   seed: int, D: int) -> np.ndarray:
    """Consolidation-rate path (:func:`njforecast.education.enrolment.consolidation_values`),
    (year, d) in percent."""
    cpath = enr.get("consolidation_path", "hold")
    if cpath not in ("hold", "target", "trend"):
        raise ValueError(f"[enrolment] consolidation_path must be 'hold', 'target' or 'trend', "
                         f"got {cpath!r}")
    c0 = en._plan_value(state.plan_obs, en.CONSOLIDATION, state.base_year)
    if cpath == "trend":
        if trend["consolidation_change"] is None:
            raise ValueError("[enrolment] consolidation_path 'trend' needs the consolidation "
                             f"rate for {state.base_year - en.TREND_WINDOW} and "
                             f"{state.base_year} in the plan indicators, or consolidation_change "
                             "(points a year)")
        v = en.consolidation_values(
            c0, years, slope=trend["consolidation_change"],
            damping=trend["consolidation_damping"],
            ceiling=trend["ceilings"].get(en.CONSOLIDATION, 100.0), draw_ids=draw_ids,
            shocks=None if draw_ids is None else en.drift_shocks(
                draw_ids, trend["consolidation_drift_sd"], seed, en.CONSOLIDATION))
    else:
        tgt = state.targets.set_index(S.INDICATOR)[S.TARGET]
        _, target_year = _targets(state, enr)
        if cpath == "target" and (target_year is None or en.CONSOLIDATION not in tgt.index
                                  or pd.isna(tgt[en.CONSOLIDATION])):
            raise ValueError(f"[enrolment] consolidation_path 'target' needs a "
                             f"{en.CONSOLIDATION} target and its year in the targets table")
        v = en.consolidation_values(c0, years, float(tgt[en.CONSOLIDATION])
                                    if cpath == "target" else None, target_year)
    return np.broadcast_to(v.T, (len(years), D))


def _indicators(state: BaseState, calib: dict, E: np.ndarray, band_pop: np.ndarray,
                pop: np.ndarray, eq: np.ndarray, cons: np.ndarray):
    """The plan's indicators (:func:`njforecast.education.enrolment.indicators`): GERs (UIS),
    resident-basis GERs, plan counts, apparent junior → senior transition, consolidation."""
    bands = calib["bands"]
    A = len(state.areas)
    codes = (*state.areas, state.region.code)
    T = E.shape[2]
    li = {lv: i for i, lv in enumerate(LEVELS)}
    Pb = np.concatenate([band_pop, band_pop.sum(axis=0, keepdims=True)], axis=0)
    Eb = np.stack([E[:, li["preschool"]], E[:, li["primary"]], E[:, li["junior"]],
                   E[:, li["senior_general"]] + E[:, li["secondary_vocational"]]], axis=1)
    vals, units, qual, first = {}, {}, {}, {}
    est = np.full((A + 1, T), "estimated", dtype=object)
    with np.errstate(divide="ignore", invalid="ignore"):
        for bi, band in enumerate(BANDS):
            ind = en.BAND_GER[band]
            vals[ind] = Eb[:, bi] / (calib["f"][bi] * Pb[:, bi]) * 100.0
            vals[ind + en.RESIDENT_SUFFIX] = Eb[:, bi] / Pb[:, bi] * 100.0
        for ind, levels in en.PLAN_COUNTS.items():
            vals[ind] = sum(E[:, li[lv]] for lv in levels)
            units[ind] = "persons"
            allobs = np.all([eq[:, li[lv]] == "observed" for lv in levels], axis=0)  # (A+1,)
            q = est.copy()
            q[allobs, 0] = "observed"
            qual[ind] = q
        s_age, j_age = bands["senior"][0], bands["junior"][1]
        single = pop[:, :, [s_age, j_age]].sum(axis=1)  # (A, 2 ages, T, d)
        single = np.concatenate([single, single.sum(axis=0, keepdims=True)], axis=0)
        entr = Eb[:, 3] * single[:, 0] / Pb[:, 3]
        fin = Eb[:, 2] * single[:, 1] / Pb[:, 2]
        tr = np.full_like(entr, np.nan)
        tr[:, 1:] = entr[:, 1:] / fin[:, :-1] * 100.0
    vals[en.TRANSITION] = tr
    first[en.TRANSITION] = 1
    cq = est.copy()
    cq[:, 0] = "observed"
    vals[en.CONSOLIDATION] = np.broadcast_to(cons[None], (A + 1, *cons.shape))
    qual[en.CONSOLIDATION] = cq
    for ind in vals:
        units.setdefault(ind, "percent")
        qual.setdefault(ind, est.copy())
        first.setdefault(ind, 0)
    # values equal to a published figure (the calibrated base year) are flagged observed
    pub = state.plan_obs
    for r in pub.itertuples(index=False):
        ind, area, year = getattr(r, S.INDICATOR), str(getattr(r, S.AREA)), int(getattr(r, S.YEAR))
        if ind in vals and area in codes:
            j = year - int(state.base_year)
            if 0 <= j < T:
                ai = codes.index(area)
                if np.isclose(vals[ind][ai, j, 0], float(getattr(r, S.VALUE)), rtol=1e-9,
                              atol=1e-9):
                    qual[ind][ai, j] = "observed"
    return vals, units, qual, first


# --- teachers ---------------------------------------------------------------------------------


def _teacher_base(state: BaseState, tch: Mapping, calib: dict) -> dict:
    """Base supply, staffing ratios and attrition (:func:`njforecast.education.teachers`
    base_teacher_supply, implied_attrition, staffing_ratios)."""
    key = ("teacher_base", id(calib), repr(sorted((k, str(v)) for k, v in tch.items()
                                                       if k in ("nonteaching_share",
                                                                "vocational_as", "base_supply",
                                                                "attrition"))))

    def build():
        ratios = tm.staffing_ratios(state.standards, tch.get("nonteaching_share"),
                                    tch.get("vocational_as", tm.VOCATIONAL_AS))
        A = len(state.areas)
        base = pd.DataFrame({S.AREA: np.repeat(np.asarray(state.areas, dtype=object),
                                               len(LEVELS)),
                             S.YEAR: state.base_year,
                             S.LEVEL: np.tile(np.asarray(LEVELS, dtype=object), A),
                             S.ENROLMENT: calib["e0"][:A].reshape(-1)})
        rule = tch.get("base_supply", "standard")
        prov = state.series_obs if rule == "province_ratio" else None
        supply0 = tm.base_teacher_supply(base, ratios, rule, prov, state.region.province,
                                         state.planner)
        if "attrition" in tch:
            attrition, a_q, a_note = float(tch["attrition"]), "estimated", "set in config"
        else:
            stock_ratios, p_share = tm.base_stock_ratios(base, supply0, ratios)
            attrition = tm.implied_attrition(state.plan_obs, stock_ratios, primary_share=p_share)
            h = state.plan_obs.loc[state.plan_obs[S.INDICATOR] == "teachers_added_2016_2020",
                                   S.VALUE].iloc[0]
            a_q, a_note = "derived", (f"implied by the plan's {h:,.0f} teachers added 2016-2020 "
                                      f"at the base supply's pupil-teacher ratios ({rule}), "
                                      f"primary share {p_share:.3f} of compulsory")
        sidx = supply0.set_index([S.AREA, S.LEVEL])
        s0 = np.array([[sidx.loc[(a, lv), S.SUPPLY] for lv in LEVELS] for a in state.areas])
        r0 = np.array([[sidx.loc[(a, lv), S.RATIO] for lv in LEVELS] for a in state.areas])
        return {"ratios": ratios, "supply0": supply0, "s0": s0, "r0": r0, "rule": rule,
                "attrition": attrition, "a_q": a_q, "a_note": a_note}

    return state.cached(key, build)


def _teacher_method(tch: Mapping) -> tuple[str, dict]:
    cap_over = dict(tch.get("class_caps", {}))
    for lv in ("primary", "junior"):
        if f"class_size_cap_{lv}" in tch:
            cap_over[lv] = float(tch[f"class_size_cap_{lv}"])
    if "method" in tch:
        return tch["method"], cap_over
    if cap_over:
        return "class_size", cap_over
    if "standard" in tch:
        std_map = {"current": "area_ratio", "unified_2014": "standard"}
        if tch["standard"] not in std_map:
            raise ValueError(f"[teachers] standard must be one of {sorted(std_map)}, got "
                             f"{tch['standard']!r}")
        return std_map[tch["standard"]], cap_over
    return "standard", cap_over


def _ratio_multiplier(state: BaseState, tch: Mapping, years, draw_ids, seed: int, D: int,
                      method: str):
    """Pupil–teacher ratio multipliers (level, year, d) from a models/ forecast
    (:func:`njforecast.education.teachers.model_ratio_multipliers`), or None."""
    rp = tch.get("ratio_path", "linear")
    if rp == "linear":
        return None, []
    if rp != "model":
        raise ValueError(f"[teachers] ratio_path must be 'linear' (ratio_change a year) or "
                         f"'model', got {rp!r}")
    if method != "area_ratio":
        raise ValueError(f"[teachers] ratio_path 'model' moves each area's own pupil-teacher "
                         f"ratio; it needs method = 'area_ratio', got {method!r}")
    key = ("ratio_model", repr(sorted((k, str(v)) for k, v in tch.items())), tuple(years),
           None if draw_ids is None else len(draw_ids), seed)

    def build():
        mult, notes = tm.model_ratio_multipliers(
            store_preferred(state), list(years), sorted(LEVELS),
            str(tch.get("ratio_series_area", state.region.province)),
            model=tch.get("ratio_model", "auto"), draw_ids=draw_ids,
            seed=int(tch.get("seed", seed)),
            min_years=int(tch.get("ratio_series_min_years", 8)),
            model_options=tch.get("ratio_model_options"))
        arr = np.ones((len(LEVELS), len(years), D))
        if len(mult):
            yi = {int(y): j for j, y in enumerate(years)}
            for r in mult.itertuples(index=False):
                m = getattr(r, S.MULTIPLIER)
                d = int(getattr(r, S.DRAW)) if S.DRAW in mult.columns else slice(None)
                arr[LEVELS.index(getattr(r, S.LEVEL)), yi[int(getattr(r, S.YEAR))], d] = \
                    1.0 if pd.isna(m) else m
        return arr, notes

    return state.cached(key, build)


def _teachers(state: BaseState, tch: Mapping, base: dict, E: np.ndarray, years, draw_ids,
              seed: int) -> tuple[dict, str, dict, list]:
    """Demand by method, supply rolled forward, hires and surplus
    (:func:`njforecast.education.teachers.teacher_demand`, ``teacher_supply``; NCES teacher
    model: S(t) = S(t−1)(1 − a) + hires(t))."""
    A = len(state.areas)
    Ec = E[:A]
    D = Ec.shape[-1]
    method, cap_over = _teacher_method(tch)
    caps = state.cached(("class_caps", repr(sorted(cap_over.items()))),
                        lambda: tm.class_caps(state.standards, cap_over))
    std = base["ratios"].set_index(S.LEVEL)[S.RATIO]
    std_arr = np.array([float(std[lv]) for lv in LEVELS])[None, :, None, None]
    yrs = np.asarray(years, dtype=float)
    t0 = int(years[0])
    mult, notes = _ratio_multiplier(state, tch, years, draw_ids, seed, D, method)
    if method == "standard":
        ratio = np.broadcast_to(std_arr, Ec.shape)
        demand = Ec / std_arr
    elif method == "class_size":
        tpc = {lv: caps[lv] / std[lv] for lv in caps if lv in std.index}
        tpc["preschool"] = 2.0
        tpc.update(dict(tch.get("teachers_per_class") or {}))
        cap_a = np.array([caps[lv] for lv in LEVELS])[None, :, None, None]
        tpc_a = np.array([tpc[lv] for lv in LEVELS])[None, :, None, None]
        demand = np.ceil(Ec / cap_a - 1e-9) * tpc_a
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = Ec / demand
    elif method == "area_ratio":
        r0 = base["r0"][:, :, None, None]
        if mult is not None:
            ratio = np.maximum(r0 * mult[None], 1e-9)
        else:
            ratio = np.maximum(r0 + float(tch.get("ratio_change", 0)) * (yrs - t0)[None, None, :,
                                                                                 None], 1e-9)
        ratio = np.broadcast_to(ratio, Ec.shape)
        demand = Ec / ratio
    else:
        raise ValueError(f"teacher demand method must be 'standard', 'class_size' or "
                         f"'area_ratio', got {method!r}")
    attrition = base["attrition"]
    if not 0 <= attrition < 1:
        raise ValueError(f"[teachers] attrition must be in [0, 1), got {attrition}")
    hpy = tch.get("hires_per_year")
    hpy = float(hpy) if hpy is not None and float(hpy) > 0 else None
    T = Ec.shape[2]
    sup, need, hires = (np.empty_like(demand) for _ in range(3))
    if hpy is not None:
        totals = demand.sum(axis=(0, 1), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(totals > 0, demand / totals, 0.0)
    prev = np.broadcast_to(base["s0"][:, :, None], (A, len(LEVELS), D))
    for j in range(T):
        surviving = prev if j == 0 else prev * (1 - attrition)
        need[:, :, j] = np.maximum(0.0, demand[:, :, j] - surviving)
        if hpy is None:
            hires[:, :, j] = need[:, :, j]
        else:
            hires[:, :, j] = 0.0 if j == 0 else hpy * share[:, :, j]
        sup[:, :, j] = surviving + hires[:, :, j]
        prev = sup[:, :, j]
    surplus = sup - demand
    surplus[np.isclose(sup, demand, rtol=1e-12, atol=1e-9)] = 0.0

    def with_city(x):
        return np.concatenate([x, x.sum(axis=0, keepdims=True)], axis=0)

    out = {S.ENROLMENT: with_city(Ec), S.DEMAND: with_city(demand), S.SUPPLY: with_city(sup),
           S.HIRES_NEEDED: with_city(need), S.HIRES: with_city(hires),
           S.SURPLUS: with_city(surplus)}
    with np.errstate(divide="ignore", invalid="ignore"):
        out[S.RATIO] = np.concatenate([np.broadcast_to(ratio, Ec.shape),
                                       out[S.ENROLMENT][A:] / out[S.DEMAND][A:]], axis=0)
    r = base["ratios"].set_index(S.LEVEL)[S.RATIO]
    assumptions = [
        ("teacher_method", method, "estimated", "demand method"),
        *((f"pupils_per_teacher_{lv}", float(r[lv]), "derived" if lv != "secondary_vocational"
           else "estimated", "staffing standard / teacher share") for lv in r.index),
        ("base_supply", base["rule"], "estimated", "county teacher counts are not public"),
        ("attrition", attrition, base["a_q"], base["a_note"]),
        ("hiring_policy", "to need" if hpy is None else f"fixed {hpy:g} a year, shared by "
         "demand", "estimated", ""),
        *((f"class_cap_{lv}", float(v), "observed" if lv in ("primary", "junior") else
           "estimated", "pupils per class") for lv, v in caps.items() if method == "class_size"),
        *((f"ratio_model_{n.split(':', 1)[0]}", tch.get("ratio_model", "auto"), "estimated",
           n.split(": ", 1)[1]) for n in notes),
    ]
    return out, method, caps, assumptions


def hiring_period(state: BaseState, tch: Mapping) -> tuple[tuple[int, int], float | None]:
    """The plan period of the teachers-added target (``teachers_added_YYYY_YYYY`` in the
    targets table) and its value; ``[teachers] hiring_period`` overrides the period."""
    t = state.targets[state.targets[S.INDICATOR].str.match(r"^teachers_added_\d{4}_\d{4}$")]
    period, target = None, None
    if len(t):
        target = float(t[S.TARGET].iloc[0])
        period = tuple(int(x) for x in t[S.INDICATOR].iloc[0].split("_")[-2:])
    period = tuple(tch.get("hiring_period", period or (state.base_year + 1,
                                                       state.base_year + 5)))
    return (int(period[0]), int(period[1])), target


# --- capacity ---------------------------------------------------------------------------------


def _capacity(state: BaseState, capc: Mapping, E: np.ndarray, years) -> tuple[dict, tuple,
                                                                              np.ndarray, list]:
    """Places against enrolment by unit and seat level
    (:func:`njforecast.education.capacity.compare_capacity`): seats(t) = seats0 + new × φ(t);
    utilisation = enrolment / seats × 100."""
    A = len(state.areas)
    D = E.shape[-1]
    region = state.region
    seats = state.seats
    alloc = cap_mod._allocation(region, capc.get("allocation"))
    unknown = sorted(set(seats[S.AREA]) - set(state.areas) - set(alloc))
    if unknown:
        raise ValueError(f"planned seats: unknown area(s) {unknown} for region {region.slug}")
    u0 = float(capc.get("base_utilisation", 100.0))
    rule = capc.get("base_rule", "enrolment")
    if rule != "enrolment":
        raise ValueError(f"[capacity] base rule must be 'enrolment', got {rule!r}")
    if not u0 > 0:
        raise ValueError(f"[capacity] base_utilisation must be > 0 percent, got {u0}")
    default = None
    if "period" in seats.columns and seats["period"].nunique() == 1:
        default = tuple(int(x) for x in str(seats["period"].iloc[0]).split("-"))
    period = tuple(capc.get("period", default or hiring_period(state, {})[0]))
    phase = capc.get("phase_in", "linear")
    yrs = np.asarray(years)
    start, end = int(period[0]), int(period[1])
    if phase == "linear":
        phi = np.clip((yrs - start + 1) / (end - start + 1), 0, 1)
    elif phase == "end":
        phi = (yrs >= end).astype(float)
    else:
        raise ValueError(f"[capacity] phase_in must be 'linear' or 'end', got {phase!r}")
    li = {lv: i for i, lv in enumerate(LEVELS)}
    es = np.stack([E[:A, li["preschool"]], E[:A, li["primary"]] + E[:A, li["junior"]],
                   E[:A, li["senior_general"]], E[:A, li["secondary_vocational"]]], axis=1)
    seats0 = es[:, :, 0, 0] / (u0 / 100.0)  # base places: base enrolment at u0 % use
    units = list(state.areas) + sorted(set(seats[S.AREA]) - set(state.areas))
    new = seats.groupby([S.AREA, S.LEVEL])[S.SEATS].sum()
    U = len(units)
    base_u = np.zeros((U, len(SEAT_LEVELS)))
    base_u[:A] = seats0
    new_u = np.zeros((U, len(SEAT_LEVELS)))
    for (area, level), v in new.items():
        new_u[units.index(area), SEAT_LEVELS.index(level)] = v
    st = base_u[:, :, None] + new_u[:, :, None] * phi[None, None, :]  # (U, 4, T)
    st = np.broadcast_to(st[..., None], (U, len(SEAT_LEVELS), len(years), D))
    enr_u = np.zeros_like(st)
    enr_u[:A] = es
    city_seats = st.sum(axis=0, keepdims=True)
    city_enr = enr_u.sum(axis=0, keepdims=True)
    keep = [i for i, u in enumerate(units) if alloc.get(u) != "city"]
    codes = tuple([units[i] for i in keep] + [region.code])
    seats_a = np.concatenate([st[keep], city_seats], axis=0)
    enr_a = np.concatenate([enr_u[keep], city_enr], axis=0)
    nopop = np.array([c in alloc for c in codes])
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(seats_a > 0, enr_a / seats_a * 100.0,
                     np.where(enr_a > 0, np.inf, np.nan))
    u[nopop] = np.nan
    assumptions = [
        ("base_capacity", f"{rule} at {u0:g}% utilisation", "estimated",
         "base places are not published"),
        ("seat_phase_in", f"{phase} {period[0]}-{period[1]}", "estimated",
         "plan box 6 new places"),
        ("seat_allocation", alloc, "estimated", "units without population"),
    ]
    return ({S.SEATS: seats_a, S.ENROLMENT: enr_a, S.UTILISATION: u}, codes, nopop,
            assumptions)


# --- the projection ---------------------------------------------------------------------------


def project(state: BaseState, scenario=None) -> Projection:
    """Project one scenario from the base state (numpy only; no file is read).

    Args:
        state: :func:`njforecast.engine.state.build_state` output.
        scenario: a :class:`njforecast.planning.scenarios.Scenario` (None = the config's
            assumptions); its end_year, draws and seed replace the config's.

    Returns:
        :class:`Projection`. Same state + scenario + seed → identical numbers.
    """
    cfg = state.config
    overrides = scenario.overrides() if scenario is not None else {}
    end_year = int(overrides.get("end_year", cfg.end_year))
    draws = int(overrides.get("draws", cfg.draws))
    seed = int(overrides.get("seed", cfg.seed))
    if end_year < state.base_year:
        raise ValueError(f"end_year {end_year} is before the base year {state.base_year}")
    stages = stage_configs(cfg, overrides)
    sec = dict(stages["demography"])
    sec.pop("max_age", None)
    assumptions = dem.DemographicAssumptions.from_config(sec)
    enr, tch, capc = stages["enrolment"], stages["teachers"], stages["capacity"]
    years = np.arange(state.base_year, end_year + 1)
    D = max(draws, 1)
    draw_ids = np.arange(draws) if draws else None
    pop = _population(state, assumptions, end_year, draws, seed)
    calib = _calibration(state, enr, pop)
    bands = calib["bands"]
    bp = np.stack([pop[:, :, lo:hi + 1].sum(axis=(1, 2)) for lo, hi in bands.values()], axis=1)
    mult, model_notes, trend = _rate_multipliers(state, enr, calib, list(years), draw_ids, seed)
    E = _enrolment(state, calib, mult, bp, D)
    method = enr.get("method", "rate")
    flow_note = ""
    if method == "flow":
        E, flow_note = _flow(state, enr, E, pop, calib)
    elif method != "rate":
        raise ValueError(f"[enrolment] method must be 'rate' or 'flow', got {method!r}")
    cons = _consolidation(state, enr, trend, list(years), draw_ids, seed, D)
    ind, units, iq, first = _indicators(state, calib, E, bp, pop, calib["q0"], cons)
    tbase = _teacher_base(state, tch, calib)
    teachers, t_method, _, t_assumptions = _teachers(state, {"seed": seed, **tch}, tbase, E,
                                                     list(years), draw_ids, seed)
    period, htarget = hiring_period(state, tch)
    capacity, cap_codes, nopop, c_assumptions = _capacity(state, capc, E, list(years))
    path = enr.get("rate_path", "hold")
    ger_targets, target_year = _targets(state, enr)
    stage_assumptions = [
        ("base_year", state.base_year, "observed",
         f"population at 1 Sep {state.base_year} (start of school year {state.base_year}): the "
         "1 Nov census taken back one step by demography"),
        ("population_basis", calib["basis"], "estimated",
         f"GER denominators: {calib['basis_note']}"),
        ("ger_basis", calib["ger_basis"], "estimated",
         {"plan": "denominators scaled so the base GERs equal the plan's",
          "resident": "resident population as is",
          "registered": "resident population × registered/resident ratio"}[calib["ger_basis"]]),
        *((f"ger_factor_{b}", float(calib["f"][i]), "estimated",
           "GER denominator / resident population") for i, b in enumerate(BANDS)),
        ("bands", {b: list(v) for b, v in bands.items()}, "observed", "official ages"),
        ("split_rule", enr.get("split_rule", "ger"), "estimated",
         "primary/junior split of the plan's compulsory count"),
        ("distribution_rule", enr.get("distribution_rule", "age_structure"), "estimated",
         "county values from the city baseline"),
        ("enrolment_method", method, "estimated", flow_note),
        ("rate_path", path, "estimated", f"targets {ger_targets} by {target_year}"
         if path == "target" else ("damped trend of plan box 1 2015→2020 with drift draws"
                                   if path == "trend" else
                                   (f"city GER path from file {enr.get('ger_path')}"
                                    if path == "external" else ""))),
        *((f"rate_model_{n.split(':', 1)[0]}", enr.get("rate_model", "auto"), "estimated",
           n.split(": ", 1)[1]) for n in model_notes),
        ("consolidation_path", enr.get("consolidation_path", "hold"), "estimated", ""),
        *(en._trend_assumptions(trend) if trend is not None else []),
        *t_assumptions, *c_assumptions,
    ]
    return Projection(
        scenario=scenario.name if scenario is not None else "baseline", overrides=overrides,
        stages=stages, years=years, draws=draws, codes=(*state.areas, state.region.code),
        population=pop, band_population=np.concatenate([bp, bp.sum(axis=0, keepdims=True)]),
        enrolment=E, enrolment_quality=calib["q0"], indicators=ind, indicator_units=units,
        indicator_quality=iq, indicator_first=first, teachers=teachers, teacher_method=t_method,
        hiring_period=period, hiring_target=htarget, capacity=capacity,
        capacity_codes=cap_codes, capacity_nopop=nopop, rates=calib["rates"], rate_mult=mult,
        assumptions=stage_assumptions, dem_assumptions=assumptions, end_year=end_year,
        seed=seed)
