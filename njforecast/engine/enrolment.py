"""Population, base calibration, rate paths, enrolment and indicators of one scenario, on arrays.

Public names:
    population_arrays, official_bands, calibration, plan_ger_targets, trend_inputs,
    rate_path_arrays, enrolment_arrays, flow_arrays, consolidation_arrays, indicator_arrays;
    LEVELS, BANDS, SEAT_LEVELS (the axes' labels).

Each function evaluates one education formula (named in its docstring, with the frame
version in ``njforecast.education`` that defines it) over whole arrays with the draw axis
last; ``njforecast.engine.project.project`` composes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import demography as dem
from .. import schema as S
from ..education import capacity as cap_mod
from ..education import enrolment as en
from .jumpoff import align_population
from .state import BaseState, planner_up_to, preferred_observations

LEVELS = tuple(S.SCHOOL_LEVELS)
BANDS = tuple(en.DEFAULT_BANDS)
SEAT_LEVELS = cap_mod.SEAT_LEVELS

# --- population -----------------------------------------------------------------------------


def population_arrays(state: BaseState, assumptions: dem.DemographicAssumptions, end_year: int,
                draws: int, seed: int) -> np.ndarray:
    """School-year population (county, sex, age 0..max_age, year, d) by the cohort-component
    core (:func:`njforecast.demography.project_arrays`, 1 Sep interpolation); after a jump-off
    year later than the census, the years up to it are the config's point path, aligned to a
    planner's resident population (:func:`njforecast.engine.jumpoff.align_population`)."""
    out = _cohort_component(state, assumptions, end_year, draws, seed)
    jump = state.jump_off
    if jump is None or jump.year <= state.base_year:
        return out

    def fixed():
        J = min(jump.year, end_year)
        path = _cohort_component(state, state.dem_assumptions, J, 0, seed)
        totals = [state.pop0.sum(axis=(1, 2))]
        for _, cur in dem.project_arrays(state.pop0, state.inputs, J - state.base_year,
                                         state.dem_assumptions, 0, seed):
            totals.append(cur.sum(axis=(1, 2)))
        return path, np.stack(totals, axis=1)

    path, totals = state.cached(("jump_population", end_year, seed), fixed)
    return align_population(out, path, totals, jump, state.codes, state.base_year)


def _cohort_component(state: BaseState, assumptions: dem.DemographicAssumptions, end_year: int,
                      draws: int, seed: int) -> np.ndarray:
    """:func:`population_arrays` from the census, without the jump-off."""
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


def official_bands(cfg: Mapping) -> dict[str, tuple[int, int]]:
    return en._check_bands({k: tuple(v) for k, v in cfg.get("bands", en.DEFAULT_BANDS).items()})


# --- base calibration at the jump-off year (the same for every scenario) ----------------------


def calibration(state: BaseState, enr: Mapping, pop: np.ndarray) -> dict:
    """Base enrolment, rates and GER factors by area and level
    (:func:`njforecast.education.enrolment.calibrate_base_rates`)."""
    bands = official_bands(enr)
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
                obs_all = pd.concat([planner_up_to(state), obs_all], ignore_index=True)
                obs_all = obs_all.drop(columns=[S.PREFERRED], errors="ignore")
            reg_ratio, ry = en.registered_ratio(obs_all, state.region.code, state.base_year)
            ger_basis = "registered"
            basis_note = (f"registered = resident × {reg_ratio:.4f} (city registered/resident, "
                          f"{ry}, all ages)")
        elif basis != "resident":
            raise ValueError(f"[enrolment] population_basis must be 'resident' or 'registered', "
                             f"got {basis!r}")
        if not (state.plan_obs[S.YEAR] == state.base_year).any():
            have = sorted(set(state.plan_obs[S.YEAR].astype(int)))
            raise ValueError(f"enrolment stage: region {state.region.slug} has no plan baselines "
                             f"for the base year {state.base_year} (years {have}"
                             f"{'; ' + '; '.join(state.skipped) if state.skipped else ''}); the "
                             "base year's enrolment by level and GERs calibrate every county: "
                             "name them in the region file ([plan] indicators)")
        baselines = en.plan_baselines(state.plan_obs, frame, state.region, bands,
                                      state.base_year, enr.get("split_rule", "ger"))
        rates = en.calibrate_base_rates(frame, baselines, state.region, bands, state.base_year,
                                        enr.get("distribution_rule", "age_structure"),
                                        state.planner, ger_basis, reg_ratio)
        idx = rates.set_index([S.AREA, S.LEVEL])
        codes = state.codes
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


def plan_ger_targets(state: BaseState, enr: Mapping) -> tuple[dict, int | None]:
    """The plan's GER targets {id: percent} and their year (``[enrolment] targets`` and
    ``target_year`` override the targets table); the year is None when there is none."""
    key = ("ger_targets", repr(enr.get("targets")), repr(enr.get("target_year")))
    return state.cached(key, lambda: _plan_ger_targets(state, enr))


def _plan_ger_targets(state: BaseState, enr: Mapping) -> tuple[dict, int | None]:
    t = state.targets
    # the region's own GER targets; a targets file may hold several years (or county rows):
    # the path reaches each GER's latest target
    t = t[t[S.INDICATOR].isin(list(en.BAND_GER.values()))
          & (t[S.AREA].astype(str) == state.region.code)]
    t = t.sort_values(S.TARGET_YEAR, kind="stable").drop_duplicates(S.INDICATOR, keep="last")
    tgt = t.set_index(S.INDICATOR)[S.TARGET]
    ger_targets = enr.get("targets") or {k: float(tgt[k]) for k in en.BAND_GER.values()
                                         if k in tgt.index and pd.notna(tgt[k])}
    tyears = t[S.TARGET_YEAR]
    target_year = enr.get("target_year", int(tyears.max()) if len(tyears) else None)
    return ger_targets, None if target_year is None else int(target_year)


def trend_inputs(state: BaseState, enr: Mapping) -> dict:
    key = ("trend", repr(sorted((k, str(v)) for k, v in enr.items())))
    return state.cached(key, lambda: en.trend_setup(
        enr, state.plan_obs, state.base_year, state.series_obs, planner_obs=planner_up_to(state),
        areas=[a.code for a in state.region.counties], province=state.region.province))


def rate_path_arrays(state: BaseState, enr: Mapping, calib: dict, years, draw_ids,
                      seed: int) -> tuple[en.RateMultipliers, list[str], dict | None]:
    """The scenario's rate path (:func:`njforecast.education.enrolment.rate_multipliers`)."""
    path = enr.get("rate_path", "hold")
    cpath = enr.get("consolidation_path", "hold")
    trend = trend_inputs(state, enr) if "trend" in (path, cpath) else None
    rates = calib["rates"]
    notes: list[str] = []
    if path == "model":
        series = preferred_observations(state).drop_duplicates([S.AREA, S.YEAR, S.INDICATOR])
        key = ("ger_model", repr(sorted((k, str(v)) for k, v in enr.items())), tuple(years),
               None if draw_ids is None else len(draw_ids), seed, calib["g0"]["preschool"])

        def build():
            return en.model_ger_path(
                series, years, calib["g0"], model=enr.get("rate_model", "auto"),
                area=str(enr.get("rate_series_area", en.NATIONAL_AREA)),
                change=enr.get("rate_change", "relative"),
                indicators=enr.get("rate_series_indicators"), draw_ids=draw_ids, seed=seed,
                model_options=enr.get("rate_model_options"),
                ceilings={**en.trend_ceilings(series, state.region.province),
                          **enr.get("ceilings", {})},
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
        ceilings = dict(trend["ceilings"])
        for b, top in trend["ceilings"].items():
            # a ceiling read from data (the province's highest observed GER) that the city
            # already exceeds caps the band at its base, as the consolidation ceiling and an
            # area's own path do; a ceiling set in the config below the base stays an error
            if b in calib["g0"] and b not in enr.get("ceilings", {}) and top < calib["g0"][b]:
                ceilings[b] = calib["g0"][b]
                notes.append(f"trend_ceiling_{b}: the data's {top:g} (the highest the "
                             f"province has reached in the series the run may read) is below "
                             f"the base GER {calib['g0'][b]:.2f}; the band is capped at its "
                             "base (its draws can only fall below it)")
        m = en.rate_multipliers(rates, years, state.region, path, g0=calib["g0"],
                                annual_change=trend["annual_change"],
                                max_ger=enr.get("max_ger"), damping=trend["damping"],
                                drift_sd=trend["drift_sd"], ceilings=ceilings,
                                voc_share_change=trend["voc_share_change"], draws=draw_ids,
                                seed=seed, area_change=trend["area_change"])
    else:
        ger_targets, target_year = plan_ger_targets(state, enr)
        m = en.rate_multipliers(rates, years, state.region, path, g0=calib["g0"], targets=ger_targets,
                                target_year=target_year, annual_change=enr.get("annual_change"),
                                max_ger=enr.get("max_ger"))
    return m, notes, trend


# --- enrolment --------------------------------------------------------------------------------


def enrolment_arrays(state: BaseState, calib: dict, mult: en.RateMultipliers, band_pop: np.ndarray,
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
    E[A:] = state.aggregate(E[:A])[A:]
    E[:, :, 0, :] = calib["e0"][:, :, None]
    return E


def flow_arrays(state: BaseState, enr: Mapping, E: np.ndarray, pop: np.ndarray, calib: dict
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
    E[A:] = state.aggregate(E[:A])[A:]
    rest = sorted(a.code for a in state.region.counties if a.code not in ratios)
    note = f"flow for {sorted(ratios)}; rate method for {rest}" if rest else "flow for all areas"
    return E, note


# --- indicators -------------------------------------------------------------------------------


def consolidation_arrays(state: BaseState, enr: Mapping, trend: dict | None, years, draw_ids,
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
        # the region's own consolidation target; of several years, the latest (as the GERs)
        t = state.targets
        t = t[(t[S.INDICATOR] == en.CONSOLIDATION) & t[S.TARGET].notna()
              & (t[S.AREA].astype(str) == state.region.code)]
        t = t.sort_values(S.TARGET_YEAR, kind="stable")
        if cpath == "target" and t.empty:
            raise ValueError(f"[enrolment] consolidation_path 'target' needs a "
                             f"{en.CONSOLIDATION} target and its year in the targets table")
        if cpath == "target":  # reached in [enrolment] target_year, else the target's own year
            year = enr.get("target_year")
            v = en.consolidation_values(c0, years, float(t[S.TARGET].iloc[-1]),
                                        int(t[S.TARGET_YEAR].iloc[-1]) if year is None
                                        else int(year))
        else:
            v = en.consolidation_values(c0, years)
    return np.broadcast_to(v.T, (len(years), D))


def indicator_arrays(state: BaseState, calib: dict, E: np.ndarray, band_pop: np.ndarray,
                pop: np.ndarray, eq: np.ndarray, cons: np.ndarray):
    """The plan's indicators (:func:`njforecast.education.enrolment.indicators`): GERs (UIS),
    resident-basis GERs, plan counts, apparent junior → senior transition, consolidation."""
    bands = calib["bands"]
    A = len(state.areas)
    codes = state.codes
    T = E.shape[2]
    li = {lv: i for i, lv in enumerate(LEVELS)}
    Pb = state.aggregate(band_pop)
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
        single = state.aggregate(single)
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
