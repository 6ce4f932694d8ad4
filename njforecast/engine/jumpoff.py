"""The jump-off year: a planner's series observed after the census year (launch-year adjustment).

Public names:
    JumpOff (frozen), jump_off_from(planner, codes, census_year, end_year, setting, where),
    anchor_factor(x, values, census_year), align_population(pop, fixed, totals, jump, codes,
    census_year), adjust_enrolment(E, jump, codes, census_year, aggregate),
    adjust_indicators(values, quality, jump, codes, census_year, enrolment_mask),
    anchor_teachers(demand, jump, areas, census_year, …), teacher_mask(jump, codes,
    census_year, T), jump_off_assumptions(jump, notes).

When a planner's observations (``[data] observations``) hold values after the census year,
each series is calibrated at the latest year it is observed (by area and level for enrolment;
by area for the GERs; the region for the consolidation rate), up to the config's ``jump_off``
(``"latest"``: the latest observed year ≤ ``end_year``; a year: nothing after it is used). The
projection still starts at the census year; for a series observed up to year J_s:

    x'(t) = obs(t)                                  t an observed year (quality "observed")
    x'(t) = x(t) · obs(J_s) / x(J_s)                t > J_s (draw by draw)
    x'(t) = x(t)                                    unobserved years before J_s (estimated)

For a rate-method enrolment x(t) = r0 · m(t) · P(t) this is the rate re-calibrated at J_s,
r(J_s) = obs(J_s) / P(J_s), moved on by the rate path's relative change m(t) / m(J_s) (the
launch-year adjustment of NCES *Projections of Education Statistics* and the California DOF
enrolment projections, which re-base every edition on the latest observed year). A GER series
re-calibrates its denominator factor the same way (enrolment unchanged unless counts are
observed); the consolidation rate is shifted by the difference at J_s (a percentage bounded by
100). Observations after the jump-off year are not read here: they remain actuals for the
ex-post columns (``planning.targets.target_actuals``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from ..education import enrolment as en
from ..education.teachers import TEACHER_INDICATOR
from ..io.store import DataError
from ..planning.targets import OBSERVED_TO_TARGET

LEVELS = tuple(S.SCHOOL_LEVELS)

#: observation indicator → (series kind, item): counts by level, GERs, consolidation, the
#: resident population (all ages).
SERIES = {"resident_population": ("population", "resident_population"),
          **{ind: ("enrolment", lv) for lv, ind in en.LEVEL_INDICATOR.items()},
          **{ind: ("teachers", lv) for lv, ind in TEACHER_INDICATOR.items()},
          **{o: ("ger", t) for o, t in OBSERVED_TO_TARGET.items()
             if t in en.BAND_GER.values()},
          **{o: ("consolidation", t) for o, t in OBSERVED_TO_TARGET.items()
             if t == en.CONSOLIDATION}}


@dataclass(frozen=True)
class JumpOff:
    """The jump-off of one base state.

    Attributes:
        year: the run's jump-off year (the latest series jump-off; the census year when no
            series is observed after it; the configured year when ``jump_off`` is a year).
        census_year: the census (base) year.
        setting: the config's ``jump_off`` ("latest" or a year).
        values: (kind, area, item) → {year: observed value} for census_year < year ≤ the
            series' jump-off year (kind: enrolment [persons], ger [percent], consolidation
            [percent]).
    """

    year: int
    census_year: int
    setting: int | str = "latest"
    values: dict = field(default_factory=dict)

    @property
    def series(self) -> dict[tuple[str, str, str], int]:
        """(kind, area, item) → the year the series is calibrated at."""
        return {k: max(v) for k, v in self.values.items()}


def jump_off_from(planner: pd.DataFrame | None, codes: Sequence[str], census_year: int,
                  end_year: int, setting: int | str = "latest", where: str = "observations"
                  ) -> JumpOff:
    """The series of a planner's observations to calibrate after the census year.

    Args:
        planner: the planner's observations (``preferred`` rows) or None.
        codes: the run's output units (census areas and the region).
        census_year: the census year.
        end_year: the last projected year.
        setting: ``"latest"`` or a year (census_year ≤ year ≤ end_year).
        where: the file's name for messages.

    Returns:
        :class:`JumpOff` (``year`` = census year and no series without a planner).

    Raises:
        DataError: observations for years after ``end_year``.
    """
    fixed = setting if isinstance(setting, int) else None
    if planner is None or planner.empty:
        return JumpOff(year=fixed or census_year, census_year=census_year, setting=setting)
    late = planner[planner[S.YEAR].astype(int) > end_year]
    if len(late):
        r = late.iloc[0]
        raise DataError(f"{where}: {len(late)} observation(s) after the end year {end_year} "
                        f"(e.g. area {r[S.AREA]}, {int(r[S.YEAR])}, {r[S.INDICATOR]}); drop "
                        f"them or set end_year to {int(late[S.YEAR].max())} or later")
    cap = fixed if fixed is not None else end_year
    obs = planner[(planner[S.YEAR].astype(int) > census_year)
                  & (planner[S.YEAR].astype(int) <= cap)
                  & planner[S.INDICATOR].isin(list(SERIES))
                  & planner[S.AREA].astype(str).isin(list(codes))]
    values: dict = {}
    for r in obs.sort_values([S.AREA, S.INDICATOR, S.YEAR], kind="stable").itertuples(
            index=False):
        kind, item = SERIES[getattr(r, S.INDICATOR)]
        area = str(getattr(r, S.AREA))
        if kind == "consolidation" and area != codes[-1]:
            continue  # the consolidation rate is projected for the region only
        values.setdefault((kind, area, item), {})[int(getattr(r, S.YEAR))] = float(
            getattr(r, S.VALUE))
    latest = max((max(v) for v in values.values()), default=census_year)
    return JumpOff(year=fixed if fixed is not None else latest, census_year=census_year,
                   setting=setting, values=values)


def anchor_factor(x: np.ndarray, values: dict[int, float], census_year: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Factors g (year, d) with x · g = the observed values in observed years and
    x(t) · obs(J) / x(J) after the series' jump-off year J (module formula); 1 elsewhere.

    Args:
        x: a projected series (year, d) starting at the census year.
        values: {year: observed value (a number, or one per draw)} after the census year.
        census_year: the year of ``x[0]``.

    Returns:
        (g (year, d), observed (year,) bool).
    """
    T = x.shape[0]
    g = np.ones_like(x, dtype=float)
    seen = np.zeros(T, bool)
    last = max(values)
    for y, v in values.items():
        j = y - census_year
        if not 0 < j < T:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            g[j] = np.where(x[j] > 0, v / x[j], 1.0)
        seen[j] = True
    jl = last - census_year
    if 0 < jl < T - 1:
        g[jl + 1:] = g[jl]
    return g, seen


def align_population(pop: np.ndarray, fixed: np.ndarray, totals: np.ndarray, jump: JumpOff,
                     codes: Sequence[str], census_year: int) -> np.ndarray:
    """The population of a scenario with the years up to the jump-off year J fixed.

    Years ≤ J: ``fixed`` (the config's demographic assumptions, one point path: the observed
    past is the same in every scenario and draw). Years t > J: the scenario's own projection
    P_s, ratio-adjusted along cohorts so each cohort starts from its fixed size at J:
    P(t, a) = P_s(t, a) · F(J, a − k) / P_s(J, a − k), k = t − J (cohorts born after J: as
    projected). Where a planner gives an area's resident population R(y) (all ages, y ≤ J),
    every age of the area from y on is scaled by R(y) / N(y), N(y) the projected total at
    1 November of y (a ratio adjustment, the same at every age: the age structure is the
    projection's). A region figure scales the areas without their own.

    Args:
        pop: the scenario's population (area, sex, age, year, d) from the census year.
        fixed: the config's point path to J (area, sex, age, year ≤ J, 1).
        totals: projected all-age totals (area, year ≤ J) at 1 November.
        jump: :class:`JumpOff`; codes: areas then the region; census_year: the first year.
    """
    A = len(codes) - 1
    TJ = fixed.shape[3]
    out = pop.copy()
    k = np.ones((A, TJ))
    region = jump.values.get(("population", codes[A], "resident_population"), {})
    own = [ai for ai in range(A) if ("population", codes[ai], "resident_population")
           in jump.values]
    for ai in range(A):
        vals = jump.values.get(("population", codes[ai], "resident_population"))
        for y, v in sorted((vals or {}).items()):
            k[ai, y - census_year:] = v / totals[ai, y - census_year]
    rest = [ai for ai in range(A) if ai not in own]
    for y, v in sorted(region.items()) if rest else ():  # no rest: the areas' own values rule
        j = y - census_year
        mine = sum(totals[ai, j] * k[ai, j] for ai in own)
        if v < mine:
            raise DataError(f"your observations: resident_population of {codes[A]} in {y} "
                            f"({v:,.0f}) is below the sum of its areas' own values ({mine:,.0f});"
                            " the region total must be at least that sum")
        k[rest, j:] = (v - mine) / totals[rest, j].sum()
    out[:, :, :, :TJ] = fixed * k[:, None, None, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(pop[:, :, :, TJ - 1] > 0, out[:, :, :, TJ - 1] / pop[:, :, :, TJ - 1], 1.0)
    nA = pop.shape[2]
    for t in range(TJ, pop.shape[3]):
        s = t - (TJ - 1)
        out[:, :, s:, t] = pop[:, :, s:, t] * r[:, :, :nA - s]
    return out


def adjust_enrolment(E: np.ndarray, jump: JumpOff, codes: Sequence[str], census_year: int,
                     aggregate: Callable[[np.ndarray], np.ndarray]
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Enrolment re-based on a planner's counts (module formula), area by area and level by
    level; a region series scales the areas without their own series (so the region total
    equals the observation); the region stays the sum of its areas.

    Args:
        E: enrolment (area + region, level, year, d), persons.
        jump: :class:`JumpOff`.
        codes: the area axis (areas, then the region).
        census_year: the first year of the year axis.
        aggregate: areas → every unit (``BaseState.aggregate``).

    Returns:
        (adjusted enrolment, observed mask (area + region, level, year), notes).
    """
    A = len(codes) - 1
    T = E.shape[2]
    mask = np.zeros(E.shape[:3], bool)
    notes: list[str] = []
    if not any(k[0] == "enrolment" for k in jump.values):
        return E, mask, notes
    E = E.copy()
    for li, lv in enumerate(LEVELS):
        own = []
        for ai, a in enumerate(codes[:A]):
            vals = jump.values.get(("enrolment", a, lv))
            if vals:
                g, seen = anchor_factor(E[ai, li], vals, census_year)
                E[ai, li] *= g
                mask[ai, li] = seen
                own.append(ai)
        vals = jump.values.get(("enrolment", codes[A], lv))
        rest = [ai for ai in range(A) if ai not in own]
        if vals and rest:
            fixed = E[own, li].sum(axis=0) if own else np.zeros((T, E.shape[3]))
            target = {y: v - fixed[y - census_year] for y, v in vals.items()
                      if 0 < y - census_year < T}
            short = {y: float(t.min()) for y, t in target.items() if (t < 0).any()}
            if short:
                y = min(short)
                raise DataError(f"your observations: {lv} enrolment of {codes[A]} in {y} "
                                f"({vals[y]:,.0f}) is below the sum of its areas' own series "
                                f"({vals[y] - short[y]:,.0f}); the region total must be at "
                                "least that sum")
            g, seen = anchor_factor(E[rest, li].sum(axis=0), target, census_year)
            E[rest, li] *= g[None]
            mask[A, li] = seen
        elif vals:
            notes.append(f"{codes[A]} {lv}: the region total is the sum of the areas' own "
                         "series (its own series is not used)")
        if own and not rest:
            mask[A, li] = mask[:A, li].all(axis=0)
    E[A:] = aggregate(E[:A])[A:]
    return E, mask, notes


def adjust_indicators(values: dict, quality: dict, jump: JumpOff, codes: Sequence[str],
                      census_year: int, enrolment_mask: np.ndarray) -> None:
    """GERs and the consolidation rate re-based on a planner's series (in place), and the
    plan counts flagged observed in years whose levels are all observed.

    GER: the denominator factor is re-calibrated at the series' jump-off year
    (GER'(t) = GER(t) · obs(J) / GER(J), enrolment unchanged). Consolidation:
    c'(t) = min(100, c(t) + obs(J) − c(J)) after J, obs(t) in observed years (the same value
    for every area, as the region's rate is).
    """
    li = {lv: i for i, lv in enumerate(LEVELS)}
    for ind, levels in en.PLAN_COUNTS.items():
        if ind in quality:
            seen = np.all([enrolment_mask[:, li[lv]] for lv in levels], axis=0)
            quality[ind][seen] = "observed"
    for (kind, area, item), vals in jump.values.items():
        if kind not in ("ger", "consolidation") or item not in values:
            continue
        ai = list(codes).index(area)
        x = np.array(values[item][ai], float)
        if kind == "ger":
            g, seen = anchor_factor(x, vals, census_year)
            values[item] = np.array(values[item], float)
            values[item][ai] = x * g
            quality[item][ai, seen] = "observed"
            continue
        shift = np.zeros_like(x)
        seen = np.zeros(x.shape[0], bool)
        for y, v in vals.items():
            j = y - census_year
            if 0 < j < x.shape[0]:
                shift[j] = v - x[j]
                seen[j] = True
        jl = max(vals) - census_year
        if 0 < jl < x.shape[0] - 1:
            shift[jl + 1:] = shift[jl]
        new = np.minimum(x + shift, np.maximum(100.0, x))
        values[item] = np.broadcast_to(new[None], values[item].shape).copy()
        quality[item][:, seen] = "observed"


def anchor_teachers(demand: np.ndarray, jump: JumpOff, areas: Sequence[str], census_year: int,
                    calibrate_ratio: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A planner's teacher counts after the census year, by area and level.

    With ``calibrate_ratio`` (demand by the areas' own pupil–teacher ratios) the demand is
    re-based like enrolment (module formula: the ratio is re-calibrated at the series'
    jump-off year, ratio(J) = E(J) / T_obs(J), and moves on by the ratio path's relative
    change); the supply takes the observed stock in observed years (:func:`roll_supply`).

    Args:
        demand: teacher demand (area, level, year, d).
        jump, areas, census_year: the jump-off, the areas (no region) and the first year.
        calibrate_ratio: re-base the demand (method "area_ratio").

    Returns:
        (demand, observed stock (area, level, year) — NaN where not observed, observed mask).
    """
    stock = np.full(demand.shape[:3], np.nan)
    demand = demand.copy()
    for (kind, area, lv), vals in jump.values.items():
        if kind != "teachers" or area not in areas:
            continue
        ai, li = list(areas).index(area), LEVELS.index(lv)
        g, seen = anchor_factor(demand[ai, li], vals, census_year)
        if calibrate_ratio:
            demand[ai, li] *= g
        for y, v in vals.items():
            if 0 < y - census_year < demand.shape[2]:
                stock[ai, li, y - census_year] = v
    return demand, stock, ~np.isnan(stock)


def teacher_mask(jump: JumpOff, codes: Sequence[str], census_year: int, T: int) -> np.ndarray:
    """(area + region, level, year) True where a planner's teacher count is used (the region
    where every area's is)."""
    mask = np.zeros((len(codes), len(LEVELS), T), bool)
    for (kind, area, lv), vals in jump.values.items():
        if kind == "teachers" and area in codes[:-1]:
            for y in vals:
                if 0 < y - census_year < T:
                    mask[list(codes).index(area), LEVELS.index(lv), y - census_year] = True
    mask[-1] = mask[:-1].all(axis=0)
    return mask


def jump_off_assumptions(jump: JumpOff, notes: Sequence[str] = ()) -> list[tuple]:
    """Assumption rows: the jump-off year and each series' calibration year."""
    series = jump.series
    text = "; ".join(f"{k} {a} {i}: {y}" for (k, a, i), y in sorted(series.items()))
    rows = [("jump_off", jump.year, "observed",
             f"setting {jump.setting!r}; census {jump.census_year}; "
             + (f"series calibrated at their latest observed year ({text}); after it each "
                "series continues by the projection's relative change (launch-year "
                "adjustment); unobserved years before it stay estimated"
                if series else "no planner series after the census year"))]
    rows += [("jump_off_note", "", "estimated", n) for n in notes]
    return rows
