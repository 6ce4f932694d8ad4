"""The flow (grade-progression) method: entrants × progression ratios.

Public names:
    consolidation_rate(graduates, entrants), flow_ratios(obs_df, area), flow_enrolment(...),
    geometric_grades, stock_retention, flow_cohorts, latest_flow_ratios,
    project_enrolment_flow(pop_df, rates_df, ratios, region, ...), FLOW_DURATIONS, FLOW_CHAIN.

References: NCES *Projections of Education Statistics* (grade progression); California
Department of Finance, *K-12 enrollment projections methodology* (cohort progression).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region, aggregate_to_parent
from .base import _draw_keys


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

