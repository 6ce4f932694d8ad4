"""Plan targets against projections: the gap and the probability of meeting each target.

Public names:
    compare_to_targets(series_df, targets_df, ...) -> target-gaps frame (DESIGN §4),
    prob_meet(values, target, comparison, tolerance) -> share of draws meeting a target,
    status_of(p_meet, on_track, off_track) -> "on_track" / "at_risk" / "off_track",
    summary_counts(gaps_df, year) -> rows per status,
    target_indicators(plan_targets_df) -> the ids a targets file may use (unit, meaning),
    known_target_units(plan_targets_df) -> {id: unit} for njforecast.io.targets,
    OBSERVED_TO_TARGET, target_actuals(planner_df, observations_df) -> observed values under
    target ids (ex-post), ex_post(gaps_df, actuals_df) -> the ex-post columns,
    ON_TRACK_P, OFF_TRACK_P, ABOUT_TOLERANCE, COUNTY_TARGETS, GAP_COLUMNS.

Method. The engine's draws (fertility and migration uncertainty, DESIGN §5) give, for every
area, year and target indicator, a sample of projected values ``v_1 … v_n``. For a target ``T``:

* projected mean = mean(v), 80 % interval = 10th–90th percentiles, 95 % = 2.5th–97.5th;
* gap = projected mean − T (same unit as the target; positive means above the target);
* p_meet = share of draws that meet the target: ``v ≥ T`` (``at_least``), ``v ≤ T``
  (``at_most``), ``|v − T| ≤ ABOUT_TOLERANCE·|T|`` (``about``) — a Monte Carlo estimate of
  P(meet), as in probabilistic population projections (Raftery et al. 2012, PNAS 109:13915;
  the UN World Population Prospects report the share of trajectories above a threshold);
* status = on track when p_meet ≥ ``ON_TRACK_P`` (0.8), off track when p_meet < ``OFF_TRACK_P``
  (0.2), at risk in between. The thresholds are stated in every output (``note``) and can be
  changed per call.
* Targets projected as a need (``NEED_TARGETS``: teachers added 2021–2025 — the engine projects
  hires *needed*, the plan sets a hiring commitment): p_meet = share of draws where the plan's
  number covers the need, status ``target_above_need`` ("the plan's 4,000 exceeds projected
  need", surplus in the note) / ``at_risk`` / ``target_below_need`` (shortfall in the note).

Every target in the plan table gets a row: quantified targets the engine cannot project get
status ``not_projectable`` with the reason, qualitative ones (``基本消除``) ``not_quantified``.
Rates that the plan sets for the city are also compared for each county (``scope`` says so):
the plan does not give county targets, so the city target is applied as the county's own.
``basis`` says what a row's projection rests on. Where a county's values equal the city's in
every draw (no county series: county rates are the city rate on the same path, consolidation
is the city's), the county gets no row of its own: one row per target and year, scope "city
assumption applied to counties" and status ``city_assumption``, lists those counties and says
that their values and P(meet) are the city's — said once, not repeated as if independent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..education.base import BAND_GER, CONSOLIDATION, PLAN_COUNTS, TRANSITION

#: p_meet at or above this → on track (stated in outputs).
ON_TRACK_P = 0.8
#: p_meet below this → off track; in between → at risk.
OFF_TRACK_P = 0.2
#: ``about`` targets are met within ± this share of the target (5 %).
ABOUT_TOLERANCE = 0.05
#: A value within this relative distance of the target counts as equal (floating-point
#: rounding: a rate path set to reach 92.09 % may land on 92.0899999…).
EQUAL_RTOL = 1e-9
#: Rate and class-size targets that also apply to each county (the city's value as the
#: county's target). Count targets (enrolment totals, teachers added) stay city-only.
COUNTY_TARGETS = ("preschool_ger_3y", "compulsory_consolidation_rate", "senior_stage_ger",
                  "primary_class_size_max", "junior_class_size_max")
#: Why the engine cannot project a target (anything not listed gets the generic reason).
NOT_PROJECTABLE_REASONS = {
    "share": "needs teacher qualification or school-type data, which the bundled data lack",
    "class_size": "needs class counts by county, which the bundled data lack "
                  "(the class-size-cap scenarios use the caps for teacher demand instead)",
    "generic": "not projectable from available data: the engine projects population, "
               "enrolment by level, GER, consolidation, teachers and capacity only",
}

#: Targets the engine projects as a *need*, not as an outcome: ``teachers_added_2021_2025`` is
#: projected as the hires needed to keep staffing ratios, while the plan's "≥ 4,000" is a
#: hiring commitment. For these the question is whether the plan's number covers the need:
#: p_meet = share of draws with need ≤ target; status ``target_above_need`` (p_meet ≥ on-track
#: threshold: the plan's number exceeds projected need, the note gives the surplus),
#: ``target_below_need`` (p_meet < off-track threshold: need exceeds the plan's number, the note
#: gives the shortfall), ``at_risk`` in between. When the series says the value is actual hires
#: (a fixed hiring plan: ``series_df.attrs["projected_as"][id] == "hires"``) the ordinary
#: reading applies.
#: The ids are matched by pattern (``teachers_added_<first year>_<last year>``): the plan period
#: comes from the targets table, never from code.
NEED_TARGETS = re.compile(r"^teachers_added_(\d{4})_(\d{4})$")

#: Targets about a period (``teachers_added_2021_2025``) are compared in their own year only:
#: holding them to a later year would compare a different period.
PERIOD_TARGET = re.compile(r"_(\d{4})_(\d{4})$")

GAP_COLUMNS = [S.AREA, S.INDICATOR, S.INDICATOR_ZH, S.TARGET_YEAR, S.YEAR, S.TARGET, S.COMPARISON,
               S.UNIT, S.PROJECTED_MEAN, S.PROJECTED_LO80, S.PROJECTED_HI80, S.PROJECTED_LO95,
               S.PROJECTED_HI95, S.GAP, S.P_MEET, S.STATUS, S.N_DRAWS, S.SCOPE, S.BASIS,
               S.QUALITY, S.NOTE, *S.EX_POST_COLUMNS]

#: ``basis`` of a row: the target area's own projection, a county's own projection, or a
#: county row whose values are the city's (the engine had no county data for it: rates are the
#: city's rate × the same path, consolidation is the city's) — not an independent county figure.
BASIS_OWN = "projected"
BASIS_COUNTY = "county projection"
BASIS_CITY_COPY = "city rate applied; no county data"
#: ``scope`` of the one row that stands for every county copying the city (see
#: :func:`compare_to_targets`): said once, not repeated per county as if independent.
SCOPE_CITY_APPLIED = "city assumption applied to counties"


def prob_meet(values: np.ndarray, target: float, comparison: str,
              tolerance: float = ABOUT_TOLERANCE) -> float:
    """Share of draws meeting a target (a Monte Carlo estimate of P(meet), in [0, 1]).

    Args:
        values: projected values over draws (same unit as ``target``); NaNs are ignored.
        target: the plan target.
        comparison: ``at_least`` (v ≥ T), ``at_most`` (v ≤ T) or ``about`` (|v − T| ≤ tol·|T|);
            equality is judged within ``EQUAL_RTOL`` (floating-point rounding).
        tolerance: relative tolerance for ``about``.

    Returns:
        The share of non-missing draws that meet the target; NaN when there are none.
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan")
    eps = EQUAL_RTOL * max(abs(target), 1.0)
    if comparison == "at_least":
        met = v >= target - eps
    elif comparison == "at_most":
        met = v <= target + eps
    elif comparison == "about":
        met = np.abs(v - target) <= tolerance * abs(target)
    else:
        raise ValueError(f"comparison {comparison!r} is not one of {S.COMPARISONS}")
    return float(met.mean())


def need_status(p_cover: float, on_track: float = ON_TRACK_P,
                off_track: float = OFF_TRACK_P) -> str:
    """Status of a need target from p_cover = share of draws with need ≤ the plan's number."""
    st = status_of(p_cover, on_track, off_track)
    return {"on_track": "target_above_need", "off_track": "target_below_need"}.get(st, st)


#: How a need target's note begins (:func:`need_note`); the reports read a row as a need
#: comparison by it (a fixed hiring plan's row reads as an ordinary outcome).
NEED_NOTE_HEAD = "projection = hires needed to keep staffing ratios (not an outcome); "


def need_note(values: np.ndarray, target: float, unit: str = "") -> str:
    """Plain reading of a plan number against projected need (surplus or shortfall, 80 %)."""
    lo, hi = np.quantile(values, [0.1, 0.9])
    mean = float(np.mean(values))
    unit = f" {unit}" if unit and unit != "persons" else ""
    head = NEED_NOTE_HEAD
    if mean <= target:
        return (head + f"the plan's {target:,.0f}{unit} exceeds projected need "
                f"(surplus of {target - mean:,.0f}; 80 %: {target - hi:,.0f} to "
                f"{target - lo:,.0f})")
    return (head + f"projected need exceeds the plan's {target:,.0f}{unit} "
            f"(shortfall of {mean - target:,.0f}; 80 %: {lo - target:,.0f} to "
            f"{hi - target:,.0f})")


def status_of(p_meet: float, on_track: float = ON_TRACK_P, off_track: float = OFF_TRACK_P) -> str:
    """Status from the probability of meeting a target (thresholds stated in module docs)."""
    if not 0 <= off_track <= on_track <= 1:
        raise ValueError(f"thresholds must satisfy 0 <= off_track ({off_track}) <= on_track "
                         f"({on_track}) <= 1")
    if np.isnan(p_meet):
        return "not_projectable"
    if p_meet >= on_track:
        return "on_track"
    if p_meet < off_track:
        return "off_track"
    return "at_risk"


def _reason(indicator: str) -> str:
    if indicator.endswith("_share") or "qualified" in indicator or "postgrad" in indicator:
        return NOT_PROJECTABLE_REASONS["share"]
    if "class_size" in indicator:
        return NOT_PROJECTABLE_REASONS["class_size"]
    return NOT_PROJECTABLE_REASONS["generic"]


def _summarise(values: np.ndarray) -> dict[str, float]:
    q = np.quantile(values, [0.1, 0.9, 0.025, 0.975])
    return {S.PROJECTED_MEAN: float(values.mean()), S.PROJECTED_LO80: float(q[0]),
            S.PROJECTED_HI80: float(q[1]), S.PROJECTED_LO95: float(q[2]),
            S.PROJECTED_HI95: float(q[3])}


def _worst_quality(qualities: Iterable[str]) -> str:
    order = {q: i for i, q in enumerate(S.QUALITIES)}  # observed < derived < estimated
    qs = [q for q in qualities if q in order]
    return max(qs, key=order.__getitem__) if qs else "estimated"


def compare_to_targets(series_df: pd.DataFrame, targets_df: pd.DataFrame,
                       years: Iterable[int] | None = None,
                       county_targets: Iterable[str] = COUNTY_TARGETS,
                       area_order: list[str] | None = None,
                       on_track: float = ON_TRACK_P, off_track: float = OFF_TRACK_P,
                       tolerance: float = ABOUT_TOLERANCE,
                       need_targets: Iterable[str] | re.Pattern = NEED_TARGETS,
                       actuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare projected target indicators with the plan targets, draw by draw.

    Args:
        series_df: projected target indicators, long: ``area, year, indicator, value[, draw]
            [, quality]``; ``indicator`` uses the plan's target ids (e.g. ``senior_stage_ger``)
            and ``value`` the target's unit (percent, persons, pupils per class). Without a
            ``draw`` column each row is a single (point) projection and p_meet is 0 or 1.
        targets_df: ``data.load_plan_targets()`` (area, indicator, indicator_zh, unit,
            target_year, target, comparison, kind, ...).
        years: years to compare (default: each target's own year). A 2025 target compared in a
            later year (e.g. 2035) is the 2025 target held constant — a reference for the next
            plan, stated in ``note``; years before a target's year are skipped for it. Period
            targets (id ending ``_YYYY_YYYY``) are compared in their target year only.
        county_targets: target ids that also apply to every other area in ``series_df``.
        area_order: optional area order for the output (default: target area first, then
            sorted codes).
        on_track, off_track: p_meet thresholds for the status.
        tolerance: relative tolerance for ``about`` targets.
        need_targets: ``at_least`` targets projected as a need, ids or a pattern of ids (see
            :data:`NEED_TARGETS`):
            p_meet = share of draws where the plan's number covers the need, status
            ``target_above_need`` / ``at_risk`` / ``target_below_need``, the note gives the
            surplus or shortfall. Ignored for an id that ``series_df.attrs["projected_as"]``
            marks as ``"hires"``.
        actuals: observed values under target ids (:func:`target_actuals`: area, year,
            indicator, value); rows compared in their target year gain them (:func:`ex_post`).

    Returns:
        Target gaps (``GAP_COLUMNS``, the ex-post columns last and empty where nothing is
        observed): one row per target × area × year for projectable
        targets, one row per target (its target year, city area) for the others. Units are the
        target's (``unit``); gap = projected_mean − target.

    Raises:
        ValueError: a required column is missing (the message names it).
    """
    need = {S.AREA, S.YEAR, S.INDICATOR, S.VALUE}
    missing = need - set(series_df.columns)
    if missing:
        raise ValueError(f"target series: missing column(s) {sorted(missing)}; expected "
                         f"area, year, indicator, value[, draw]")
    need_t = {S.AREA, S.INDICATOR, S.TARGET_YEAR, S.TARGET, S.COMPARISON}
    missing = need_t - set(targets_df.columns)
    if missing:
        raise ValueError(f"targets: missing column(s) {sorted(missing)}; load them with "
                         f"njforecast.io.plan.load_plan_targets()")
    status_note = (f"status: on track if p_meet >= {on_track:g}, off track if p_meet < "
                   f"{off_track:g}, else at risk; p_meet = share of draws meeting the target")
    county_targets = set(county_targets)
    projected_as = dict(series_df.attrs.get("projected_as", {}))
    if isinstance(need_targets, re.Pattern):
        need_targets = {i for i in targets_df[S.INDICATOR].astype(str) if need_targets.match(i)}
    need_targets = {i for i in need_targets if projected_as.get(i, "need") == "need"}
    need_status_note = (f"p_meet = share of draws where the plan's number covers projected "
                        f"need; target above need if p_meet >= {on_track:g}, below need if "
                        f"p_meet < {off_track:g}, else at risk")
    groups = {k: g for k, g in series_df.groupby([S.INDICATOR, S.AREA, S.YEAR], sort=False)}
    areas_by_ind: dict[str, list[str]] = {}
    for ind, area, _ in groups:
        areas_by_ind.setdefault(ind, [])
        if area not in areas_by_ind[ind]:
            areas_by_ind[ind].append(area)
    rows: list[dict] = []
    for t in targets_df.itertuples(index=False):
        t = t._asdict()
        ind, home, tyear = t[S.INDICATOR], str(t[S.AREA]), int(t[S.TARGET_YEAR])
        base = {S.INDICATOR: ind, S.INDICATOR_ZH: t.get(S.INDICATOR_ZH, ""),
                S.TARGET_YEAR: tyear, S.TARGET: t[S.TARGET], S.COMPARISON: t[S.COMPARISON],
                S.UNIT: t.get(S.UNIT, "")}
        if pd.isna(t[S.TARGET]):
            rows.append({**base, S.AREA: home, S.YEAR: tyear, S.STATUS: "not_quantified",
                         S.N_DRAWS: 0, S.SCOPE: "plan (city)",
                         S.NOTE: f"qualitative target ({t.get('target_text', '')}); "
                                 "no number to compare"})
            continue
        areas = [a for a in areas_by_ind.get(ind, []) if a == home or ind in county_targets]
        if home not in areas:
            rows.append({**base, S.AREA: home, S.YEAR: tyear, S.STATUS: "not_projectable",
                         S.N_DRAWS: 0, S.SCOPE: "plan (city)", S.NOTE: _reason(ind)})
            continue
        own_year_only = years is None or PERIOD_TARGET.search(ind) is not None
        # a target is compared in its own year and later years, never before it
        cmp_years = (tyear,) if own_year_only else [y for y in years if int(y) >= tyear]
        if not cmp_years:  # every year compared lies before the target's: said, not dropped
            last = max((int(y) for y in years), default=None)
            rows.append({**base, S.AREA: home, S.YEAR: tyear, S.STATUS: "not_projectable",
                         S.N_DRAWS: 0, S.SCOPE: "plan (city)",
                         S.NOTE: f"target year {tyear} is after the last year compared"
                                 + (f" ({last})" if last is not None else "")
                                 + "; project to it (end_year) to compare"})
            continue
        first_row = len(rows)
        for area in areas:
            for year in cmp_years:
                g = groups.get((ind, area, int(year)))
                scope = "plan (city)" if area == home else "county (city target applied)"
                if g is None:
                    rows.append({**base, S.AREA: area, S.YEAR: int(year),
                                 S.STATUS: "not_projectable", S.N_DRAWS: 0, S.SCOPE: scope,
                                 S.NOTE: f"no projection for {year}"})
                    continue
                v = g[S.VALUE].to_numpy(dtype=float)
                v = v[~np.isnan(v)]
                if v.size == 0:
                    rows.append({**base, S.AREA: area, S.YEAR: int(year),
                                 S.STATUS: "not_projectable", S.N_DRAWS: 0, S.SCOPE: scope,
                                 S.NOTE: f"projection for {year} is missing (NaN)"})
                    continue
                basis = BASIS_OWN
                if area != home:
                    basis = BASIS_COUNTY
                    hg = groups.get((ind, home, int(year)))
                    if hg is not None:
                        hv = hg[S.VALUE].to_numpy(dtype=float)
                        hv = hv[~np.isnan(hv)]
                        if hv.size == v.size and np.allclose(np.sort(v), np.sort(hv),
                                                             rtol=1e-9, atol=0):
                            basis = BASIS_CITY_COPY
                is_need = ind in need_targets and t[S.COMPARISON] == "at_least"
                if is_need:
                    p = prob_meet(v, float(t[S.TARGET]), "at_most", tolerance)
                    status = need_status(p, on_track, off_track)
                    note = (need_note(v, float(t[S.TARGET]), str(t.get(S.UNIT, "")))
                            + "; " + need_status_note)
                else:
                    p = prob_meet(v, float(t[S.TARGET]), t[S.COMPARISON], tolerance)
                    status = status_of(p, on_track, off_track)
                    note = status_note
                if int(year) != tyear:
                    note = f"{tyear} target held constant to {year} (reference only); " + note
                if basis == BASIS_CITY_COPY:
                    note = ("county value = the city's projected rate (no county data; not an "
                            "independent county projection); " + note)
                rows.append({**base, S.AREA: area, S.YEAR: int(year), **_summarise(v),
                             S.GAP: float(v.mean()) - float(t[S.TARGET]), S.P_MEET: p,
                             S.STATUS: status, S.N_DRAWS: int(v.size),
                             S.SCOPE: scope, S.BASIS: basis,
                             S.QUALITY: _worst_quality(g[S.QUALITY]) if S.QUALITY in g
                             else "estimated",
                             S.NOTE: note})
        rows[first_row:] = _collapse_city_copies(rows[first_row:], home)
    out = pd.DataFrame(rows).reindex(columns=GAP_COLUMNS)
    out[S.QUALITY] = out[S.QUALITY].fillna("")
    out[S.BASIS] = out[S.BASIS].fillna("")
    out[S.AREA] = out[S.AREA].astype(str)
    homes = set(targets_df[S.AREA].astype(str))
    order = area_order or [*sorted(homes), *sorted(set(out[S.AREA]) - homes)]
    rank = {a: i for i, a in enumerate(order)}
    tgt_rank = {ind: i for i, ind in enumerate(targets_df[S.INDICATOR])}
    out = out.assign(_a=out[S.AREA].map(rank).fillna(len(rank)),
                     _t=out[S.INDICATOR].map(tgt_rank))
    out = out.sort_values(["_t", "_a", S.YEAR], kind="stable").drop(columns=["_a", "_t"])
    return ex_post(out.reset_index(drop=True), actuals, tolerance)


def _collapse_city_copies(rows: list[dict], home: str) -> list[dict]:
    """One target's rows with the county rows that only repeat the city's draws (basis
    :data:`BASIS_CITY_COPY`) replaced by one row per year: scope :data:`SCOPE_CITY_APPLIED`,
    area = the target's area, no numbers of its own (they are the city row's), status
    ``city_assumption``, the counties listed in the note."""
    copies: dict[int, list[dict]] = {}
    kept = []
    for r in rows:
        if r.get(S.BASIS) == BASIS_CITY_COPY:
            copies.setdefault(r[S.YEAR], []).append(r)
        else:
            kept.append(r)
    for year, group in copies.items():
        first = group[0]
        codes = ", ".join(str(r[S.AREA]) for r in group)
        kept.append({**{c: first.get(c) for c in (S.INDICATOR, S.INDICATOR_ZH, S.TARGET_YEAR,
                                                  S.TARGET, S.COMPARISON, S.UNIT, S.QUALITY)},
                     S.AREA: home, S.YEAR: year, S.STATUS: "city_assumption", S.N_DRAWS: 0,
                     S.SCOPE: SCOPE_CITY_APPLIED, S.BASIS: BASIS_CITY_COPY,
                     S.NOTE: (f"{len(group)} counties ({codes}) have" if len(group) > 1
                              else f"1 county ({codes}) has")
                     + f" no series of {'their' if len(group) > 1 else 'its'} own: the city's "
                       f"projected rate is applied, so the "
                       f"values and P(meet) are the {home} row's, not independent county "
                       "findings (give county series with --observations to project them)"})
    return kept


def summary_counts(gaps_df: pd.DataFrame, year: int | None = None) -> Mapping[str, int]:
    """Number of target rows per status (optionally for one year), city scope only."""
    df = gaps_df[gaps_df[S.SCOPE] == "plan (city)"]
    if year is not None:
        df = df[df[S.YEAR] == year]
    return {s: int((df[S.STATUS] == s).sum()) for s in S.STATUSES}


# ------------------------------------------------------------------------------------------
# the ids a targets file may use, and what was observed (ex-post)

#: English meanings of the ids the engine projects (the plan table gives the Chinese).
_MEANINGS = {
    "preschool_ger_3y": "preschool gross enrolment rate, ages 3-5",
    "primary_ger": "primary gross enrolment rate, ages 6-11",
    "junior_ger": "junior secondary gross enrolment rate, ages 12-14",
    "senior_stage_ger": "senior-stage gross enrolment rate (general + vocational), ages 15-17",
    "compulsory_consolidation_rate": "nine-year consolidation rate: junior graduates / primary "
                                     "entrants nine years earlier",
    "junior_senior_transition": "senior-stage first-year pupils / junior graduates",
    "kindergarten_children": "children in kindergarten",
    "compulsory_enrolment": "pupils in primary and junior secondary",
    "senior_stage_enrolment": "pupils in the senior stage (general + vocational)",
    "secondary_vocational_enrolment": "pupils in secondary vocational schools",
    "teachers_added_YYYY_YYYY": "teachers hired over a plan period (first_last year), city",
}
_ZH = {"primary_ger": "小学毛入学率", "junior_ger": "初中毛入学率",
       "junior_senior_transition": "初中升高中阶段比例", "kindergarten_children": "在园幼儿",
       "compulsory_enrolment": "义务教育在校生", "senior_stage_enrolment": "高中阶段在校生",
       "teachers_added_YYYY_YYYY": "规划期补充教师（累计）"}

#: Observation ids (README "Bringing your own county series") → the target id they measure.
#: The one place where observed GER ids (``*_pct``) meet the plan's target ids; a target id
#: observed under its own name is taken as it is.
OBSERVED_TO_TARGET = {
    "preschool_ger_pct": "preschool_ger_3y",
    "primary_ger_pct": "primary_ger",
    "junior_ger_pct": "junior_ger",
    "senior_stage_ger_pct": "senior_stage_ger",
    "compulsory_consolidation_pct": "compulsory_consolidation_rate",
    "vocational_secondary_enrolment": "secondary_vocational_enrolment",
}


def target_indicators(plan_targets_df: pd.DataFrame) -> pd.DataFrame:
    """The indicator ids a targets file may use: the engine's projected ids, then the other
    ids of the region's bundled plan table (accepted; compared as ``not_projectable``).

    Args:
        plan_targets_df: the region's bundled targets (``io.plan.load_plan_targets``).

    Returns:
        Columns indicator, unit (percent, persons, …), projected (bool), indicator_zh,
        meaning (English). ``teachers_added_YYYY_YYYY`` stands for any plan period.
    """
    units = {ind: "percent" for ind in (*BAND_GER.values(), CONSOLIDATION, TRANSITION)}
    units |= {ind: "persons" for ind in PLAN_COUNTS}
    units["teachers_added_YYYY_YYYY"] = "persons"
    rows = [{S.INDICATOR: k, S.UNIT: u, "projected": True} for k, u in units.items()]
    zh = dict(_ZH)
    for t in plan_targets_df.drop_duplicates(S.INDICATOR).itertuples(index=False):
        t = t._asdict()
        ind = NEED_TARGETS.sub("teachers_added_YYYY_YYYY", str(t[S.INDICATOR]))
        if ind == str(t[S.INDICATOR]) and NEED_TARGETS.match(ind) is None:
            zh.setdefault(ind, str(t.get(S.INDICATOR_ZH, "")))
        if ind not in units:
            units[ind] = str(t[S.UNIT])
            rows.append({S.INDICATOR: ind, S.UNIT: units[ind], "projected": False})
    out = pd.DataFrame(rows)
    out[S.INDICATOR_ZH] = out[S.INDICATOR].map(zh).fillna("")
    out["meaning"] = out[S.INDICATOR].map(_MEANINGS).fillna(
        "plan indicator (accepted; the engine cannot project it)")
    return out


def known_target_units(plan_targets_df: pd.DataFrame) -> dict[str, str]:
    """{indicator id: unit} of :func:`target_indicators` (for ``io.targets.load_targets``)."""
    t = target_indicators(plan_targets_df)
    return dict(zip(t[S.INDICATOR], t[S.UNIT], strict=True))


def target_actuals(planner_df: pd.DataFrame | None,
                   observations_df: pd.DataFrame | None) -> pd.DataFrame:
    """Observed values under target ids, the planner's series preferred over the bundled ones.

    Args:
        planner_df: a planner's observations (``[data] observations``) or None.
        observations_df: the bundled observations (``preferred`` rows are used when the column
            exists).

    Returns:
        Columns area, year, indicator (target id, :data:`OBSERVED_TO_TARGET`), value (the
        observation's unit), source ("planner" or "bundled"); one row per area/year/indicator.
    """
    parts = []
    for name, df in (("planner", planner_df), ("bundled", observations_df)):
        if df is None or df.empty:
            continue
        if S.PREFERRED in df.columns:
            df = df[df[S.PREFERRED].astype(bool)]
        d = df[[S.AREA, S.YEAR, S.INDICATOR, S.VALUE]].copy()
        d[S.INDICATOR] = d[S.INDICATOR].astype(str).replace(OBSERVED_TO_TARGET)
        d[S.AREA] = d[S.AREA].astype(str)
        d[S.SOURCE] = name
        parts.append(d)
    cols = [S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.SOURCE]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True).dropna(subset=[S.VALUE])
    out[S.YEAR] = out[S.YEAR].astype(int)
    return out.drop_duplicates([S.AREA, S.YEAR, S.INDICATOR]).reset_index(drop=True)[cols]


def ex_post(gaps_df: pd.DataFrame, actuals: pd.DataFrame | None,
            tolerance: float = ABOUT_TOLERANCE) -> pd.DataFrame:
    """Add the ex-post columns (``schema.EX_POST_COLUMNS``) to a target-gaps frame.

    For a row compared in its target year whose area and indicator are observed in that year:
    ``actual`` = the observed value (target's unit), ``met`` = the actual meets the target by
    its comparison (:func:`prob_meet` on the single value), ``in_80`` / ``in_95`` = the actual
    lies inside the projection's 80 % / 95 % interval (inclusive). Elsewhere the columns are
    empty (NaN / None), so the layout is the same whether or not anything is observed.
    """
    out = gaps_df.copy()
    out[S.ACTUAL] = np.nan
    for c in (S.MET, S.IN_80, S.IN_95):
        out[c] = pd.Series([None] * len(out), index=out.index, dtype=object)
    if actuals is None or actuals.empty or out.empty:
        return out
    obs = {(str(a), int(y), str(i)): float(v) for a, y, i, v in
           actuals[[S.AREA, S.YEAR, S.INDICATOR, S.VALUE]].itertuples(index=False)}
    for ix, r in out.iterrows():
        if int(r[S.YEAR]) != int(r[S.TARGET_YEAR]) or r[S.SCOPE] == SCOPE_CITY_APPLIED:
            continue
        a = obs.get((str(r[S.AREA]), int(r[S.YEAR]), str(r[S.INDICATOR])))
        if a is None:
            continue
        out.at[ix, S.ACTUAL] = a
        if pd.notna(r[S.TARGET]):
            out.at[ix, S.MET] = prob_meet(np.array([a]), float(r[S.TARGET]), r[S.COMPARISON],
                                          tolerance) == 1.0
        if pd.notna(r[S.PROJECTED_LO80]):
            out.at[ix, S.IN_80] = bool(r[S.PROJECTED_LO80] <= a <= r[S.PROJECTED_HI80])
            out.at[ix, S.IN_95] = bool(r[S.PROJECTED_LO95] <= a <= r[S.PROJECTED_HI95])
    return out
