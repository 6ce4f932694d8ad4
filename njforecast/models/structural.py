"""Structural (driver-ratio) forecasters: a series as a ratio to a driver series of the same
area, where the driver is known at the forecast origin (lagged) or forecast itself.

Public names: Structural, RULES, derive_births(obs_df).

Method (the enrolment-flow/ratio methods of NCES *Projections of Education Statistics*,
appendix A, and the cohort logic of DESIGN §5): for a target y with rule (driver d, lags a..b)

    D_t = Σ_{l=a..b} d_{t−l},   r_t = y_t / D_t,   ŷ_{T+h} = r̂_{T+h} · D_{T+h}

with r̂ the last observed ratio (naive; or ``ratio="drift"``). Driver values after the cutoff
come from the driver's own structural rule (recursively, e.g. teachers ← enrolment ←
entrants ← births 6 years earlier) or, without a rule, are held at their last value (logged).
Intervals: the ratio's random-walk error σ_r √h (relative), combined in quadrature with the
relative error of a forecast driver.

Rules (first usable one wins; each needs ≥ ``min_ratio_points`` overlapping years, and the
driver's every year from T+1−b to the cutoff T — those a forecast reads — without gaps):
    primary_enrolment ← primary_entrants (lags 0–5) | births (lags 6–11)
    primary_entrants ← births (lag 6); primary_graduates ← primary_entrants (lag 5)
    junior_entrants ← primary_graduates (lag 0); junior_enrolment ← junior_entrants (0–2)
    junior_graduates ← junior_entrants (lag 2)
    senior_general_entrants ← junior_graduates (lag 0);
    senior_general_enrolment ← senior_general_entrants (0–2)
    <level>_teachers ← <level>_enrolment (lag 0)  (pupil–teacher ratio held)

Births: observed ``births`` where given, else *derived* as
``birth_rate_permille / 1000 × mean(population_year_end_{t−1}, population_year_end_t)``
(mid-year population; year-end when the previous year is missing); see :func:`derive_births`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from .base import Forecaster, log, series_id, split_series_id

RULES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "primary_enrolment": (("primary_entrants", 0, 5), ("births", 6, 11)),
    "primary_entrants": (("births", 6, 6),),
    "primary_graduates": (("primary_entrants", 5, 5),),
    "junior_entrants": (("primary_graduates", 0, 0),),
    "junior_enrolment": (("junior_entrants", 0, 2),),
    "junior_graduates": (("junior_entrants", 2, 2),),
    "senior_general_entrants": (("junior_graduates", 0, 0),),
    "senior_general_enrolment": (("senior_general_entrants", 0, 2),),
    "primary_teachers": (("primary_enrolment", 0, 0),),
    "junior_teachers": (("junior_enrolment", 0, 0),),
    "senior_general_teachers": (("senior_general_enrolment", 0, 0),),
}


def derive_births(obs_df: pd.DataFrame) -> pd.DataFrame:
    """Births derived from crude birth rate × mid-year population, for area-years without
    observed ``births``.

    Args:
        obs_df: observations (area, year, indicator, value) with ``birth_rate_permille``
            (births per 1000 population) and ``population_year_end`` (persons).

    Returns:
        Observations rows (area, year, indicator="births", value in persons, unit "persons",
        quality "derived", source naming the formula); empty when nothing can be derived.
    """
    cols = [S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.UNIT, S.SOURCE, S.QUALITY]
    rate = obs_df[obs_df[S.INDICATOR] == "birth_rate_permille"]
    pop = obs_df[obs_df[S.INDICATOR] == "population_year_end"]
    if rate.empty or pop.empty:
        return pd.DataFrame(columns=cols)
    p = pop.drop_duplicates([S.AREA, S.YEAR]).set_index([S.AREA, S.YEAR])[S.VALUE]
    r = rate.drop_duplicates([S.AREA, S.YEAR]).set_index([S.AREA, S.YEAR])[S.VALUE]
    have = set(map(tuple, obs_df.loc[obs_df[S.INDICATOR] == "births", [S.AREA, S.YEAR]]
                   .itertuples(index=False)))
    rows = []
    for (area, year), rv in r.items():
        if (area, year) in have or (area, year) not in p.index:
            continue
        prev = p.get((area, year - 1))
        mid = (p[(area, year)] + prev) / 2 if prev is not None and np.isfinite(prev) \
            else p[(area, year)]
        rows.append({S.AREA: area, S.YEAR: int(year), S.INDICATOR: "births",
                     S.VALUE: float(rv) / 1000.0 * float(mid), S.UNIT: "persons",
                     S.SOURCE: "derived: birth_rate_permille/1000 × mid-year population",
                     S.QUALITY: "derived"})
    return pd.DataFrame(rows, columns=cols)


def _area_series(X: pd.DataFrame, area: str, indicator: str, cutoff: int) -> pd.Series:
    d = X[(X[S.AREA] == area) & (X[S.INDICATOR] == indicator) & (X[S.YEAR] <= cutoff)]
    d = d.drop_duplicates(S.YEAR)
    return pd.Series(d[S.VALUE].to_numpy(float), index=d[S.YEAR].to_numpy(int)).sort_index()


class Structural(Forecaster):
    """Target = ratio × driver sum (see module docstring for the rules and formula).

    Args:
        ratio: "naive" (hold the last ratio) or "drift" (extend the ratio's average change).
        min_ratio_points: years with both target and driver needed to use a rule.
        rules: rule table (default :data:`RULES`).

    Attributes:
        driver_: the rule used, e.g. "births[6-11]"; driver_quality_: "observed" or "derived";
        ratio_: last observed ratio; sigma_: sd of the ratio's yearly changes, relative to it.
    """

    name = "structural"
    uses_X = True

    def __init__(self, alias: str | None = None, ratio: str = "naive", min_ratio_points: int = 3,
                 rules: dict | None = None, lower: float | None = 0.0,
                 upper: float | None = None, _depth: int = 0):
        super().__init__(alias, lower, upper)
        if ratio not in ("naive", "drift"):
            raise ValueError(f"structural: ratio must be 'naive' or 'drift', got {ratio!r}")
        self.ratio = ratio
        self.min_ratio_points = min_ratio_points
        self.rules = rules
        self._depth = _depth

    def fallback_model(self):
        from .baselines import Drift

        return Drift(alias=self.alias, lower=self.lower, upper=self.upper)

    def _use_fallback(self, y, X, why: str) -> None:
        fb = self.fallback_model()
        if self._depth == 0:
            log.info("%s: structural model not usable (%s); using %s", y.name, why, fb.name)
        self.fallback_ = fb.name
        self._fallback_model = fb.fit(y, X) if len(y) >= fb.min_length else \
            _naive(self.alias).fit(y, X)

    def _fit(self, y: pd.Series, X=None) -> None:
        area, indicator = split_series_id(y.name) if y.name else ("", "")
        rules = (self.rules or RULES).get(indicator)
        if X is None or not rules or self._depth > 4:
            self._use_fallback(y, X, "no driver rule or no X")
            return
        cutoff = self.cutoff_
        X = X[X[S.YEAR] <= cutoff]
        for driver, a, b in rules:
            d = _area_series(X, area, driver, cutoff)
            quality = "observed"
            if driver == "births":
                extra = derive_births(X[X[S.AREA] == area])
                if len(extra):
                    dv = pd.Series(extra[S.VALUE].to_numpy(float),
                                   index=extra[S.YEAR].to_numpy(int))
                    d = pd.concat([d, dv[~dv.index.isin(d.index)]]).sort_index()
                    quality = "derived" if len(d) == len(dv) else "observed+derived"
            if d.empty:
                continue
            D = pd.Series({t: sum(d.get(t - lag, np.nan) for lag in range(a, b + 1))
                           for t in y.index}, dtype=float)
            ratio = (y / D).dropna()
            ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
            # the ratio's last years must be consecutive up to the cutoff for a clean rw
            if len(ratio) < self.min_ratio_points or ratio.index[-1] != cutoff:
                continue
            run = ratio.index.to_numpy()
            br = np.flatnonzero(np.diff(run) != 1)
            if len(br):
                ratio = ratio.iloc[br[-1] + 1:]
            if len(ratio) < self.min_ratio_points:
                continue
            # every driver year a forecast may read at or before the cutoff, T+1−b … T, must be
            # there (no silent gaps: a missing year would make D, hence ŷ, NaN)
            missing = [t for t in range(cutoff + 1 - b, cutoff + 1)
                       if not np.isfinite(d.get(t, np.nan))]
            if missing:
                log.info("%s: driver %s[%d-%d] lacks %s before the cutoff; rule skipped",
                         y.name, driver, a, b, ",".join(map(str, missing)))
                continue
            self._driver = (driver, a, b, d)
            self.driver_ = f"{driver}[{a}-{b}]"
            self.driver_quality_ = quality
            self._area = area
            self._X = X
            rv = ratio.to_numpy()
            self.ratio_ = float(rv[-1])
            steps = np.diff(rv)
            self._slope = float((rv[-1] - rv[0]) / (len(rv) - 1)) if self.ratio == "drift" else 0.0
            e = steps - self._slope
            self.sigma_ = float(np.sqrt(np.mean(e ** 2)) / abs(self.ratio_))
            return
        self._use_fallback(y, X, f"no usable driver among {[r[0] for r in rules]}")

    def _driver_path(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Driver sums D_{T+1..T+h} and their relative sd (0 where the driver is known)."""
        driver, a, b, d = self._driver
        T = self.cutoff_
        need_to = T + h - a
        future, fsd = {}, {}
        if need_to > T:
            k = need_to - T
            sub_y = d.copy()
            sub_y.name = series_id(self._area, driver)
            # keep the last consecutive run of the driver
            idx = sub_y.index.to_numpy()
            br = np.flatnonzero(np.diff(idx) != 1)
            if len(br):
                sub_y = sub_y.iloc[br[-1] + 1:]
            if sub_y.index[-1] == T and driver in (self.rules or RULES):
                sub = Structural(alias="d", ratio=self.ratio, rules=self.rules,
                                 min_ratio_points=self.min_ratio_points, _depth=self._depth + 1)
                fc = sub.fit(sub_y, self._X).predict(k)
            else:
                if sub_y.index[-1] != T:
                    log.debug("%s: driver %s ends %d before the cutoff %d", self._area, driver,
                              sub_y.index[-1], T)
                fc = _naive("d").fit(sub_y).predict(T + k - int(sub_y.index[-1]))
                fc = fc[fc[S.YEAR] > T]
            for r in fc.itertuples(index=False):
                yr, m, lo95, hi95 = int(r[0]), float(r[1]), float(r[4]), float(r[5])
                future[yr] = m
                fsd[yr] = (hi95 - lo95) / (2 * 1.96) / m if m > 0 else 0.0
        sums, sds = np.empty(h), np.empty(h)
        for i in range(h):
            t = T + i + 1
            vals, var = [], 0.0
            for lag in range(a, b + 1):
                yr = t - lag
                if yr <= T:
                    vals.append(d.get(yr, np.nan))
                else:
                    v = future.get(yr, np.nan)
                    vals.append(v)
                    var += (fsd.get(yr, 0.0) * v) ** 2
            s = float(np.sum(vals))
            sums[i] = s
            sds[i] = np.sqrt(var) / s if s > 0 else 0.0
        return sums, sds

    def _predict(self, h: int, X, level: Sequence[int]):
        from scipy import stats

        k = np.arange(1, h + 1)
        D, dsd = self._driver_path(h)
        r = self.ratio_ + self._slope * k
        mean = r * D
        rel = np.sqrt((self.sigma_ * np.sqrt(k)) ** 2 + dsd ** 2)
        out = {}
        for lv in level:
            z = stats.norm.ppf(0.5 + lv / 200)
            out[lv] = (mean * (1 - z * rel), mean * (1 + z * rel))
        return mean, out


def _naive(alias: str):
    from .baselines import Naive

    return Naive(alias=alias)
