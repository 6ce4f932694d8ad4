"""Teacher demand, supply roll-forward and hiring need by area, level and year.

Public functions:
    staffing_ratios(standards, ...)          pupils per full-time teacher by level (stated shares)
    teacher_demand(enrol_df, ratios, method) demand by (a) standard ratio, (b) class-size caps,
                                             (c) the area's own pupil–teacher ratio
    base_teacher_supply(base_enrol, ratios, rule, ...)
                                             estimated teachers at the base (or a planner's counts)
    model_ratio_multipliers(obs, years, ...)  pupil–teacher ratio paths from a models/ forecast
                                             of an observed ratio series (ratio_path "model")
    base_stock_ratios(base, supply0, ratios) pupils per teacher of the base stock, primary share
    implied_attrition(plan_obs, ratios, ...) attrition implied by the plan's 2016–2020 hiring
    teacher_supply(demand_df, base_supply, attrition)
                                             roll-forward: supply, hires_needed, surplus
    hiring_need(teachers_df, region, ...)    cumulative hires over a period vs the plan's target

Teachers frame (DESIGN §4): area, year, level[, draw], enrolment, ratio, demand, supply,
hires_needed, surplus (persons; ratio in pupils per full-time teacher), method, quality.

References:
    中央编办 教育部 财政部《关于统一城乡中小学教职工编制标准的通知》(中央编办发〔2014〕72号):
    students per staff member 19 primary, 13.5 junior, 12.5 senior; provincial implementing
    text: non-teaching staff at most 9 / 12 / 15 % of staff. 《幼儿园教职工配备标准（暂行）》
    (2013): 7–9 children per teaching + care staff, 2 full-time teachers + 1 carer per class.
    Class caps: Neijiang 14th FYP education plan box 9 (45 primary, 50 junior).
    Supply roll-forward: teachers(t) = teachers(t−1) × (1 − attrition) + hires(t) (NCES
    *Projections of Education Statistics*, teacher model).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region, aggregate_to_parent
from ..models.paths import model_series_path
from .base import LEVEL_INDICATOR

#: Levels whose ratio the 2014 standard does not cover, and the level whose ratio they borrow
#: (named assumption: secondary vocational staffed like senior general — no national ratio in
#: the data).
VOCATIONAL_AS = "senior_general"

#: Teacher indicators in a planner's observations (README "Bringing your own county series").
TEACHER_INDICATOR = {"preschool": "kindergarten_teachers", "primary": "primary_teachers",
                     "junior": "junior_teachers", "senior_general": "senior_general_teachers",
                     "secondary_vocational": "vocational_secondary_teachers"}

#: Class caps for levels the plan does not cap (issue 4: 50 for secondary; kindergarten: the
#: mean of the 1987 standard's maxima for small/middle/large classes, (25 + 30 + 35) / 3).
DEFAULT_EXTRA_CAPS = {"senior_general": 50.0, "secondary_vocational": 50.0}


def _std(standards: pd.DataFrame, sid: str, col: str = "value_high") -> float:
    rows = standards[standards["standard_id"] == sid]
    if rows.empty:
        raise ValueError(f"staffing standards: row '{sid}' is missing; check "
                         "data/raw/standards/staffing_standards.csv")
    return float(rows[col].iloc[0])


def staffing_ratios(standards: pd.DataFrame, nonteaching_share: Mapping[str, float] | None = None,
                    vocational_as: str = VOCATIONAL_AS) -> pd.DataFrame:
    """Pupils per full-time teacher by level, from the staffing standards.

    Primary/junior/senior general: pupils per teacher = students per staff / (1 − n), where n
    is the non-teaching share of staff (default: the cap in the standard's provincial
    implementing text, 9 / 12 / 15 %, i.e. the fewest teachers the standard allows).
    Preschool: children per teaching + care staff (midpoint of 7–9 = 8) × 3 / 2 (two of the
    three teaching + care staff per class are teachers) = 12. Secondary vocational: the
    ``vocational_as`` level's ratio (named assumption).

    Returns:
        Columns level, students_per_staff, teacher_share (fraction), ratio (pupils per
        teacher), quality ("derived"; vocational "estimated"), source_note.
    """
    nonteaching_share = dict(nonteaching_share or {})
    rows = []
    for level, sid, cap in (("primary", "unified_2014_primary", "nonteaching_cap_primary"),
                            ("junior", "unified_2014_junior", "nonteaching_cap_junior"),
                            ("senior_general", "unified_2014_senior", "nonteaching_cap_senior")):
        per_staff = _std(standards, sid)
        n = nonteaching_share.get(level, _std(standards, cap) / 100.0)
        rows.append({S.LEVEL: level, "students_per_staff": per_staff, "teacher_share": 1 - n,
                     S.RATIO: per_staff / (1 - n), S.QUALITY: "derived",
                     S.SOURCE_NOTE: f"中央编办发〔2014〕72号 {per_staff:g} per staff; "
                                    f"non-teaching share {n:.0%}"})
    lo = _std(standards, "kindergarten_fullday_teaching_care", "value_low")
    hi = _std(standards, "kindergarten_fullday_teaching_care", "value_high")
    tpc = _std(standards, "kindergarten_class_teachers")
    care = (lo + hi) / 2
    share = tpc / (tpc + 1)
    rows.append({S.LEVEL: "preschool", "students_per_staff": care, "teacher_share": share,
                 S.RATIO: care / share, S.QUALITY: "derived",
                 S.SOURCE_NOTE: f"2013 kindergarten standard: {lo:g}-{hi:g} children per "
                                f"teaching+care staff (midpoint), {tpc:g} teachers + 1 carer"})
    src = next(r for r in rows if r[S.LEVEL] == vocational_as)
    rows.append({**src, S.LEVEL: "secondary_vocational", S.QUALITY: "estimated",
                 S.SOURCE_NOTE: f"assumption: no national ratio in the data; {vocational_as} "
                                "ratio used"})
    out = pd.DataFrame(rows)
    out["_o"] = out[S.LEVEL].map({lv: i for i, lv in enumerate(S.SCHOOL_LEVELS)})
    return out.sort_values("_o").drop(columns="_o").reset_index(drop=True)


def class_caps(standards: pd.DataFrame, extra: Mapping[str, float] | None = None) -> dict:
    """Maximum pupils per class by level (plan box 9; 50 for senior levels; kindergarten the
    mean of the 1987 maxima 25/30/35)."""
    caps = {"primary": _std(standards, "class_cap_primary"),
            "junior": _std(standards, "class_cap_junior"),
            "preschool": np.mean([_std(standards, f"kindergarten_class_{k}")
                                  for k in ("small", "middle", "large")])}
    caps.update(DEFAULT_EXTRA_CAPS)
    caps.update(dict(extra or {}))
    return caps


def teachers_per_class_by_level(std: Mapping[str, float], standard_caps: Mapping[str, float],
                       given: Mapping[str, float] | None = None) -> dict[str, float]:
    """Full-time teachers per class by level: ``given``, else a full class of the *standard*
    size staffed at the standard ratio, standard cap / standard pupils per teacher (e.g.
    primary 45 / 19 × teaching share); kindergarten 2 (2013 standard). A scenario's class cap
    changes the number of classes, not the teachers each class gets.

    Raises:
        ValueError: a level with a staffing ratio has neither a standard class size nor a
            given number of teachers per class.

    Args:
        std: pupils per full-time teacher by level (:func:`staffing_ratios`).
        standard_caps: the standard class sizes (:func:`class_caps` without overrides).
        given: teachers per class set by the user, by level.
    """
    tpc = {lv: float(standard_caps[lv]) / float(std[lv]) for lv in standard_caps if lv in std}
    missing = sorted(set(std.keys()) - set(tpc) - {"preschool"} - set(dict(given or {})))
    if missing:
        raise ValueError(f"teachers per class: no standard class size for level(s) {missing}; "
                         "give them in standard_caps or teachers_per_class")
    tpc["preschool"] = 2.0
    tpc.update({k: float(v) for k, v in dict(given or {}).items()})
    return tpc


def _draw_keys(df: pd.DataFrame) -> list[str]:
    return [S.DRAW] if S.DRAW in df.columns else []


def teacher_demand(enrol_df: pd.DataFrame, ratios: pd.DataFrame, method: str = "standard",
                   caps: Mapping[str, float] | None = None,
                   teachers_per_class: Mapping[str, float] | None = None,
                   area_ratio: pd.DataFrame | None = None, ratio_change: float = 0.0,
                   base_year: int | None = None,
                   ratio_multiplier: pd.DataFrame | None = None,
                   standard_caps: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Full-time teachers needed by area, level and year.

    Methods:
        * ``"standard"``: demand = enrolment / ratio(level) (:func:`staffing_ratios`).
        * ``"class_size"``: classes = ⌈enrolment / cap⌉, demand = classes × teachers per
          class (:func:`teachers_per_class_by_level`: given, else the standard class size
          ``standard_caps`` / standard ratio, so both methods agree at full classes of the
          standard size and a smaller cap means more classes and teachers); kindergarten 2
          (2013 standard). Pass ``standard_caps`` (:func:`class_caps` without overrides)
          whenever ``caps`` are not the standard's: without it ``caps`` stand for the standard
          and the cap cancels out of the demand.
        * ``"area_ratio"``: the area's own pupils per teacher at the base (``area_ratio``:
          area, level, ratio) held, or trended by ``ratio_change`` pupils per teacher a year:
          ratio(t) = ratio0 + ratio_change × (t − base_year); demand = enrolment / ratio(t).
          With ``ratio_multiplier`` (year, level[, draw], multiplier (unitless) — e.g.
          :func:`model_ratio_multipliers`) instead: ratio(t) = ratio0 × multiplier(t); levels
          or years it does not cover keep ratio0.

    Args:
        enrol_df: enrolment (area, year, level, enrolment[, draw]) — county rows; the city is
            recomputed by :func:`teacher_supply` / aggregation.

    Returns:
        Columns area, year, level[, draw], enrolment, ratio (pupils per teacher), demand
        (teachers), method.
    """
    keys = [S.AREA, S.YEAR, S.LEVEL, *_draw_keys(enrol_df)]
    out = enrol_df[keys + [S.ENROLMENT]].copy()
    std = ratios.set_index(S.LEVEL)[S.RATIO]
    missing = sorted(set(out[S.LEVEL]) - set(std.index))
    if missing:
        raise ValueError(f"teacher demand: no staffing ratio for level(s) {missing}")
    if method == "standard":
        out[S.RATIO] = out[S.LEVEL].map(std)
        out[S.DEMAND] = out[S.ENROLMENT] / out[S.RATIO]
    elif method == "class_size":
        if caps is None:
            raise ValueError("teacher demand 'class_size' needs class caps")
        tpc = teachers_per_class_by_level(std, standard_caps or caps, teachers_per_class)
        classes = np.ceil(out[S.ENROLMENT] / out[S.LEVEL].map(caps) - 1e-9)
        out[S.DEMAND] = classes * out[S.LEVEL].map(tpc)
        out[S.RATIO] = out[S.ENROLMENT] / out[S.DEMAND]
    elif method == "area_ratio":
        if area_ratio is None:
            raise ValueError("teacher demand 'area_ratio' needs the areas' base pupil-teacher "
                             "ratios (area, level, ratio)")
        r0 = area_ratio.set_index([S.AREA, S.LEVEL])[S.RATIO]
        idx = pd.MultiIndex.from_frame(out[[S.AREA, S.LEVEL]])
        base = r0.reindex(idx).to_numpy()
        if np.isnan(base).any():
            bad = out.loc[np.isnan(base), [S.AREA, S.LEVEL]].iloc[0].tolist()
            raise ValueError(f"teacher demand 'area_ratio': no base ratio for {bad}")
        t0 = base_year if base_year is not None else int(out[S.YEAR].min())
        if ratio_multiplier is not None and len(ratio_multiplier):
            on = [S.YEAR, S.LEVEL, *([S.DRAW] if S.DRAW in ratio_multiplier.columns
                                     and S.DRAW in out.columns else [])]
            mult = out[on].merge(ratio_multiplier[[*on, S.MULTIPLIER]], on=on, how="left")
            out[S.RATIO] = np.maximum(base * mult[S.MULTIPLIER].fillna(1.0).to_numpy(), 1e-9)
        else:
            out[S.RATIO] = np.maximum(base + ratio_change * (out[S.YEAR] - t0), 1e-9)
        out[S.DEMAND] = out[S.ENROLMENT] / out[S.RATIO]
    else:
        raise ValueError(f"teacher demand method must be 'standard', 'class_size' or "
                         f"'area_ratio', got {method!r}")
    out[S.METHOD] = method
    return out


def pupils_per_teacher_series(obs: pd.DataFrame, area: str, level: str
                              ) -> tuple[pd.Series, str | None, str | None]:
    """R(t) = enrolment(t) / teachers(t) of ``area`` at ``level`` (derived; year → pupils per
    teacher), with the two indicator names; empty where either count is missing."""
    e_ind, t_ind = LEVEL_INDICATOR.get(level), TEACHER_INDICATOR.get(level)
    sub = obs[obs[S.AREA].astype(str) == str(area)]
    e = sub[sub[S.INDICATOR] == e_ind].drop_duplicates(S.YEAR).set_index(S.YEAR)[S.VALUE]
    t = sub[sub[S.INDICATOR] == t_ind].drop_duplicates(S.YEAR).set_index(S.YEAR)[S.VALUE]
    r = (e.astype(float) / t[t > 0].astype(float)).dropna()
    r.index = r.index.astype(int)
    return r.sort_index(), e_ind, t_ind


def trend_ratio_multipliers(obs: pd.DataFrame, years, levels, area: str, damping: float,
                            draw_ids=None, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Pupil–teacher ratio multipliers (level, year, d) on the learned damped trend of
    ``area``'s observed ratio (:mod:`njforecast.education.learned`, years ≤ the first of
    ``years`` only), relative change: each area's own base ratio moves as the series' trend.

    This is the staffing path ``evaluate`` scored against held ratios (issue 15 part 4:
    mean teacher MAPE over the three bundled evaluations 12.1 % learned vs 13.4 % held), with
    the same spread (σ = max(the rule's, its inner-origin error)) and its draws centred so
    that the mean of teachers (enrolment ÷ ratio) is the mean path's.

    Returns:
        (array (level, year, d) of multipliers, 1 in the first year and for a level without a
        usable series; one note per level).
    """
    from .learned import learn_log_trend, learned_multipliers

    years = [int(y) for y in years]
    D = 1 if draw_ids is None else len(draw_ids)
    out = np.ones((len(levels), len(years), D))
    notes = []
    for i, lv in enumerate(levels):
        r, e_ind, t_ind = pupils_per_teacher_series(obs, area, lv)
        tr = learn_log_trend(r, years[0], damping, spread="inner") if len(r) else None
        if tr is None:
            notes.append(f"{lv}: no usable {e_ind}/{t_ind} series of area {area} up to "
                         f"{years[0]}; base ratio held")
            continue
        out[i] = learned_multipliers(tr, years, years[0], draw_ids, seed,
                                     f"pupils_per_teacher|{area}|{lv}", centre="reciprocal").T
        notes.append(f"{lv}: pupils per teacher of area {area} (derived: {e_ind}/{t_ind}), "
                     f"relative change; {tr.note}")
    return out, notes


def model_ratio_multipliers(obs: pd.DataFrame, years, levels, area: str, *,
                            model: str = "auto", draw_ids=None, seed: int = 0,
                            min_years: int = 8, model_options: Mapping | None = None
                            ) -> tuple[pd.DataFrame, list[str]]:
    """Pupil–teacher ratio paths, as multipliers of the base ratio, from a models/ forecast
    of an observed ratio series (NCES projects teachers from pupil–teacher ratio trends).

    For each level the series is R(t) = enrolment(t) / teachers(t) of ``area`` (derived from
    the observations :data:`njforecast.education.enrolment.LEVEL_INDICATOR` and
    :data:`TEACHER_INDICATOR`), continued by the model over ``years`` with per-draw whole
    paths (:func:`njforecast.education.enrolment.model_series_path`); multiplier_d(t) =
    R_d(t) / R_d(t0), t0 = the first year, so each area's own base ratio moves by the
    series' relative change.

    Args:
        obs: observations (area, year, indicator, value) with the enrolment and teacher counts
            (persons).
        years: the years of the paths (t0 first).
        levels: school levels (keys of LEVEL_INDICATOR / :data:`TEACHER_INDICATOR`).
        area: the series' area code (e.g. the province, 510000).
        model: registry name of the forecaster.
        draw_ids: draw ids (None: the mean path only).
        seed: seed of the per-draw z.
        min_years: fewest consecutive years before a series is extrapolated.
        model_options: extra keyword arguments of the model.

    Returns:
        (frame year, level[, draw], multiplier (unitless, 1 at t0); notes — one per level:
        what was fitted, or why the level keeps its base ratio).
    """
    from ..models import series_id

    years = sorted(int(y) for y in years)
    frames, notes = [], []
    for lv in levels:
        r, e_ind, t_ind = pupils_per_teacher_series(obs, area, lv)
        if r.empty:
            notes.append(f"{lv}: no {e_ind}/{t_ind} for area {area}; base ratio held")
            continue
        r.name = series_id(str(area), f"{lv}_pupils_per_teacher")
        path, note = model_series_path(r.sort_index(), years, model=model, draw_ids=draw_ids,
                                       seed=seed, min_years=min_years,
                                       model_options=model_options, need_first=True)
        if path is None or not np.all(path[:, 0] > 0):
            notes.append(f"{lv}: pupils per teacher ({area}, derived) {note or 'is 0'}; base "
                         "ratio held")
            continue
        m = path / path[:, [0]]
        part = pd.DataFrame({S.YEAR: np.tile(years, m.shape[0]), S.LEVEL: lv,
                             S.MULTIPLIER: m.ravel()})
        if draw_ids is not None:
            part[S.DRAW] = np.repeat(np.sort(np.unique(np.asarray(draw_ids, dtype=int))),
                                     len(years))
        frames.append(part.dropna(subset=[S.MULTIPLIER]))
        gaps = [y for j, y in enumerate(years) if np.isnan(m[0, j])]
        notes.append(f"{lv}: pupils per teacher of area {area} (derived: {e_ind}/{t_ind}), "
                     f"relative change; {note}"
                     + (f"; no value for {','.join(map(str, gaps))}: ratio0 kept" if gaps
                        else ""))
    cols = [S.YEAR, S.LEVEL, S.MULTIPLIER, *([S.DRAW] if draw_ids is not None else [])]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols),
            notes)


def base_teacher_supply(base_enrol: pd.DataFrame, ratios: pd.DataFrame, rule: str = "standard",
                        province_obs: pd.DataFrame | None = None, province: str = "510000",
                        observations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Teachers at the base year by area and level (county counts are not public).

    Rules (estimate, labelled "estimated"):
        * ``"standard"``: base enrolment / standard ratio (staffed exactly at the standard).
        * ``"province_ratio"``: base enrolment / the province's pupil–teacher ratio in the
          latest year ≤ base with both series (``<level>_enrolment`` / ``<level>_teachers``;
          vocational: ``vocational_secondary_institutions_*``); levels without provincial
          series fall back to the standard.
    A planner's own base-year teacher counts (:data:`TEACHER_INDICATOR`) replace the estimate
    (quality "observed").

    Args:
        base_enrol: enrolment in the base year (area, level, enrolment; county rows), without
            draws (the base does not vary across draws).

    Returns:
        Columns area, level, supply (teachers), ratio (pupils per teacher), quality,
        source_note.
    """
    out = base_enrol[[S.AREA, S.LEVEL, S.ENROLMENT]].copy()
    std = ratios.set_index(S.LEVEL)[S.RATIO]
    out[S.RATIO] = out[S.LEVEL].map(std)
    out[S.SOURCE_NOTE] = "base enrolment / staffing standard"
    if rule == "province_ratio":
        if province_obs is None:
            raise ValueError("base supply 'province_ratio' needs the provincial observations")
        base_year = int(base_enrol[S.YEAR].iloc[0]) if S.YEAR in base_enrol else 9999
        p = province_obs[province_obs[S.AREA].astype(str) == province]
        if S.PREFERRED in p.columns:
            p = p[p[S.PREFERRED].astype(bool)]
        w = p[p[S.YEAR] <= base_year].pivot_table(index=S.YEAR, columns=S.INDICATOR,
                                                  values=S.VALUE, aggfunc="first")
        series = {"primary": "primary", "junior": "junior", "senior_general": "senior_general",
                  "secondary_vocational": "vocational_secondary_institutions",
                  "preschool": "kindergarten"}
        for level, stem in series.items():
            e_col = f"{stem}_enrolment" if level != "preschool" else "kindergarten_children"
            t_col = f"{stem}_teachers"
            if e_col in w and t_col in w:
                both = w[[e_col, t_col]].dropna()
                if len(both):
                    y = int(both.index.max())
                    r = both.loc[y, e_col] / both.loc[y, t_col]
                    sel = out[S.LEVEL] == level
                    out.loc[sel, S.RATIO] = r
                    out.loc[sel, S.SOURCE_NOTE] = f"province {province} pupil-teacher ratio {y}"
    elif rule != "standard":
        raise ValueError(f"base supply rule must be 'standard' or 'province_ratio', got {rule!r}")
    out[S.SUPPLY] = out[S.ENROLMENT] / out[S.RATIO]
    out[S.QUALITY] = "estimated"
    if observations is not None and not observations.empty:
        obs = observations
        if S.PREFERRED in obs.columns:
            obs = obs[obs[S.PREFERRED].astype(bool)]
        base_year = int(base_enrol[S.YEAR].iloc[0]) if S.YEAR in base_enrol else None
        ind_level = {v: k for k, v in TEACHER_INDICATOR.items()}
        obs = obs[obs[S.INDICATOR].isin(ind_level) & (obs[S.YEAR] == base_year)]
        for _, r in obs.iterrows():
            sel = (out[S.AREA] == str(r[S.AREA])) & (out[S.LEVEL] == ind_level[r[S.INDICATOR]])
            out.loc[sel, S.SUPPLY] = float(r[S.VALUE])
            out.loc[sel, S.QUALITY] = "observed"
            out.loc[sel, S.SOURCE_NOTE] = "planner's observations"
        out[S.RATIO] = out[S.ENROLMENT] / out[S.SUPPLY]
    return out[[S.AREA, S.LEVEL, S.SUPPLY, S.RATIO, S.QUALITY, S.SOURCE_NOTE]]


def implied_attrition(plan_obs: pd.DataFrame, ratios: pd.DataFrame,
                      hires_indicator: str = "teachers_added_2016_2020",
                      primary_share: float = 6 / 9) -> float:
    """Annual attrition implied by the plan's 2016–2020 hiring (derived default).

    Teachers in post, N(y) = Σ_L E_L(y) / ratio_L, for y = 2015, 2020 from plan box 1, with
    ``ratios`` the pupils per teacher *of the stock the rate will be applied to* (in
    :func:`run_teachers`: the run's base ratios, base enrolment ÷ base supply by level — not
    the standard's, unless the base supply is staffed at the standard). The primary/junior
    split of compulsory enrolment is not published for 2015: both years use the baseline's
    primary share p of compulsory enrolment (``primary_share``; :func:`run_teachers` passes
    the base year's, i.e. the enrolment stage's GER split), primary = p × compulsory,
    junior = (1 − p) × compulsory (a stated approximation). With H teachers added over the
    five years and a stock moving linearly from N(2015) to N(2020):

        attrition = (H − (N2020 − N2015)) / (5 × (N2015 + N2020) / 2).

    Args:
        ratios: level, ratio (pupils per teacher) for preschool, primary, junior,
            senior_general, secondary_vocational.
        primary_share: p in (0, 1).

    Returns:
        The rate (fraction per year). Raises ValueError when it is not in [0, 0.2].
    """
    if not 0 < primary_share < 1:
        raise ValueError(f"implied attrition: primary share of compulsory enrolment must be in "
                         f"(0, 1), got {primary_share}")
    r = ratios.set_index(S.LEVEL)[S.RATIO]

    def need(year: int) -> float:
        def v(ind: str) -> float:
            rows = plan_obs[(plan_obs[S.INDICATOR] == ind) & (plan_obs[S.YEAR] == year)]
            return float(rows[S.VALUE].iloc[0])

        comp = v("compulsory_enrolment")
        senior, voc = v("senior_stage_enrolment"), v("secondary_vocational_enrolment")
        return (v("kindergarten_children") / r["preschool"]
                + comp * primary_share / r["primary"] + comp * (1 - primary_share) / r["junior"]
                + (senior - voc) / r["senior_general"] + voc / r["secondary_vocational"])

    rows = plan_obs[plan_obs[S.INDICATOR] == hires_indicator]
    if rows.empty:
        raise ValueError(f"plan indicators: '{hires_indicator}' is missing")
    h = float(rows[S.VALUE].iloc[0])
    n15, n20 = need(2015), need(2020)
    a = (h - (n20 - n15)) / (5 * (n15 + n20) / 2)
    if not 0 <= a <= 0.2:
        raise ValueError(f"implied attrition {a:.3f} is outside [0, 0.2]; set [teachers] "
                         "attrition explicitly")
    return a


def base_stock_ratios(base_enrol: pd.DataFrame, base_supply: pd.DataFrame,
                      ratios: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Pupils per teacher of the run's base stock, and the base primary share.

    ratio_L = Σ_areas E_L(base) / Σ_areas S_L(base) (base enrolment ÷ base supply, by level);
    levels without base enrolment keep ``ratios`` (the standard's). primary share
    p = E_primary / (E_primary + E_junior) at the base (the enrolment stage's split of the
    plan's compulsory count); 6/9 (grades) when either level is absent.

    Returns:
        (frame level, ratio; p).
    """
    e = base_enrol.groupby(S.LEVEL)[S.ENROLMENT].sum()
    sup = base_supply.groupby(S.LEVEL)[S.SUPPLY].sum()
    own = (e / sup.reindex(e.index)).dropna()
    own = own[np.isfinite(own) & (own > 0)]
    r = ratios.set_index(S.LEVEL)[S.RATIO].copy()
    r.loc[own.index] = own
    p = 6 / 9
    if e.get("primary", 0) > 0 and e.get("junior", 0) > 0:
        p = float(e["primary"] / (e["primary"] + e["junior"]))
    return r.rename(S.RATIO).rename_axis(S.LEVEL).reset_index(), p


def teacher_supply(demand_df: pd.DataFrame, base_supply: pd.DataFrame, attrition: float,
                   region: Region | None = None,
                   hires_per_year: float | None = None) -> pd.DataFrame:
    """Roll supply forward and compute hires needed and surplus.

    For t = t0: surviving = S0 (base supply). For t > t0: surviving(t) = S(t−1) × (1 − a).
    hires_needed(t) = max(0, demand(t) − surviving(t)). The base year t0 keeps the base stock
    as given: S(t0) = S0 and nobody is hired in it in any scenario (hires_needed(t0) is the shortfall at
    the base, hired from t0 + 1 on). Hiring policy for t > t0:
        * hire to need (default): hires(t) = hires_needed(t);
        * a fixed plan of H teachers a year (``hires_per_year``, all levels and areas):
          hires(t) = H × demand(t) / Σ demand(t) (shared by demand; a stated rule).
    S(t) = surviving(t) + hires(t); surplus(t) = S(t) − demand(t) (teachers beyond need are
    kept and reported, never clipped away; negative = shortage under a fixed plan).
    Each area and level is rolled separately (teachers do not move between counties); the
    city is the sum, draw by draw.

    Args:
        demand_df: :func:`teacher_demand` output (county rows).
        base_supply: :func:`base_teacher_supply` output (area, level, supply).
        attrition: a, the share of teachers leaving each year (fraction).
        region: when given, the city rows are appended (sum of areas).
        hires_per_year: H for the fixed-plan policy (None = hire to need).

    Returns:
        Teachers frame: area, year, level[, draw], enrolment, ratio, demand, supply,
        hires_needed, hires, surplus, method, quality.
    """
    if not 0 <= attrition < 1:
        raise ValueError(f"[teachers] attrition must be in [0, 1), got {attrition}")
    if hires_per_year is not None and hires_per_year < 0:
        raise ValueError(f"[teachers] hires_per_year must be >= 0, got {hires_per_year}")
    dk = _draw_keys(demand_df)
    gkeys = [S.AREA, S.LEVEL, *dk]
    wide = demand_df.pivot_table(index=gkeys, columns=S.YEAR, values=S.DEMAND, aggfunc="sum")
    years = list(wide.columns)
    d = wide.to_numpy(float)
    s0 = base_supply.set_index([S.AREA, S.LEVEL])[S.SUPPLY]
    idx = wide.index.droplevel(S.DRAW) if dk else wide.index
    start = s0.reindex(idx).to_numpy(float)
    if np.isnan(start).any():
        bad = list(idx[np.isnan(start)][0])
        raise ValueError(f"teacher supply: no base supply for area/level {bad}")
    sup, need, hires = np.empty_like(d), np.empty_like(d), np.empty_like(d)
    if hires_per_year is not None:
        # demand share of each cell within its draw (all areas and levels of that draw)
        draw_of = (wide.index.get_level_values(S.DRAW).to_numpy() if dk
                   else np.zeros(len(wide), dtype=int))
        totals = pd.DataFrame(d).groupby(draw_of).transform("sum").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(totals > 0, d / totals, 0.0)
    prev = start
    for j in range(len(years)):
        surviving = prev if j == 0 else prev * (1 - attrition)
        need[:, j] = np.maximum(0.0, d[:, j] - surviving)
        if j == 0:  # the base year is observed: its stock is S0 in every scenario
            hires[:, j] = 0.0
        elif hires_per_year is None:
            hires[:, j] = need[:, j]
        else:
            hires[:, j] = hires_per_year * share[:, j]
        sup[:, j] = surviving + hires[:, j]
        prev = sup[:, j]

    def long(arr, name):
        return pd.DataFrame(arr, index=wide.index, columns=years).stack().rename(name)

    roll = pd.concat([long(sup, S.SUPPLY), long(need, S.HIRES_NEEDED), long(hires, S.HIRES)],
                     axis=1).reset_index()
    roll = roll.rename(columns={roll.columns[len(gkeys)]: S.YEAR})
    out = demand_df.merge(roll, on=[*gkeys, S.YEAR], how="left")
    out[S.SURPLUS] = out[S.SUPPLY] - out[S.DEMAND]
    # supply set to demand by hiring leaves round-off (1e-13): report it as 0
    out.loc[np.isclose(out[S.SUPPLY], out[S.DEMAND], rtol=1e-12, atol=1e-9), S.SURPLUS] = 0.0
    out[S.QUALITY] = "estimated"
    if region is not None:
        method = out[S.METHOD].iloc[0] if S.METHOD in out else ""
        cols = [S.ENROLMENT, S.DEMAND, S.SUPPLY, S.HIRES_NEEDED, S.HIRES, S.SURPLUS]
        keys = [S.YEAR, S.LEVEL, *dk]
        out = aggregate_to_parent(out[[S.AREA, *keys, *cols]], region, cols, keys)
        out[S.RATIO] = out[S.ENROLMENT] / out[S.DEMAND]
        out[S.METHOD] = method
        out[S.QUALITY] = "estimated"
    cols = [S.AREA, S.YEAR, S.LEVEL, *dk, S.ENROLMENT, S.RATIO, S.DEMAND, S.SUPPLY,
            S.HIRES_NEEDED, S.HIRES, S.SURPLUS, S.METHOD, S.QUALITY]
    return out[cols].sort_values([S.AREA, S.LEVEL, S.YEAR, *dk], kind="stable").reset_index(
        drop=True)


def hiring_need(teachers_df: pd.DataFrame, region: Region, start: int = 2021, end: int = 2025,
                target: float | None = None) -> pd.DataFrame:
    """Cumulative hires needed over [start, end] by area (all levels), against a target. The
    frame's first (base) year is left out: nobody is hired in it, and its shortfall is part of
    the next year's need (:func:`teacher_supply`), so it is counted once.

    Returns:
        Columns area, period ("2021-2025")[, draw], hires_needed (teachers), target (the
        plan's figure on the city row, else NaN), plan_covers_need (target ≥ hires_needed:
        the plan's "4,000 or more" teachers cover the projected need; read the same way as
        ``p_meet`` of ``teachers_added_2021_2025`` in target_gaps, which is the share of
        draws where this is True; False where there is no target).
    """
    dk = _draw_keys(teachers_df)
    yr = teachers_df[S.YEAR]
    sel = teachers_df[(yr >= start) & (yr <= end) & (yr > yr.min())]
    out = sel.groupby([S.AREA, *dk])[S.HIRES_NEEDED].sum().reset_index()
    out.insert(1, S.PERIOD, f"{start}-{end}")
    out[S.TARGET] = np.where(out[S.AREA] == region.code, target if target is not None else np.nan,
                             np.nan)
    out[S.PLAN_COVERS_NEED] = out[S.TARGET] >= out[S.HIRES_NEEDED]
    return out
