"""Cohort-flow (grade-progression) forecaster of enrolment counts, and of teachers through it.

Public names: CohortFlow, FLOW_LEVELS, TEACHER_LEVELS, ENTRANT_RULES.

Design (fixed before the model was run on any scored year of the provinces back-test;
issue 15 part 2). Reference: the enrolment methods of NCES *Projections of Education
Statistics* (grade progression, appendix A) and the cohort-survival method of school-enrolment
projections (e.g. California DOF's K-12 projections); DESIGN §5 "Enrolment: cohort flow".

**Flow identity.** For a school level with duration D years (primary 6, junior 3, senior
general 3; :data:`FLOW_LEVELS`), enrolment E, entrants N (pupils entering the level's first
grade in year t) and leavers L (graduates, drop-outs and net migration out, implied):

    E_t = E_{t−1} + N_t − L_t,            L_t = s_t · N_{t−D}

so the survival ratio observed in year t is s_t = (E_{t−1} + N_t − E_t) / N_{t−D}
(pupils leaving in t per pupil who entered D years earlier; > 1 when others leave too). The
forecast from the cutoff T is, for k = 1…h,

    Ê_{T+k} = Ê_{T+k−1} + N̂_{T+k} − s̄ · N_{T+k−D}      (Ê_T = E_T)

with N_{T+k−D} observed while T+k−D ≤ T and forecast after.

**Entrants.** N̂_{T+j} = ī · d_{T+j−lag}: an intake/transition ratio ī times a lagged driver
(:data:`ENTRANT_RULES`, from the age structure of a 6-3-3 system):
primary entrants ← births six years earlier (entry age 6); junior entrants ← primary
graduates of the same year | primary entrants six years earlier; senior general entrants ←
junior graduates of the same year | primary graduates three years earlier | primary entrants
nine years earlier; graduates ← entrants one duration earlier. The first rule (in that
order, shortest lag first) whose ratio and driver chain work is used; a driver value needed
after T comes from the driver's own rule recursively (e.g. senior entrants ← primary
graduates ← primary entrants); births after T, which have no rule, are held at their last
value (logged). So for h ≤ the lag the entrants are already born/enrolled. Births are the
observed ``births`` where given, else **derived** (crude birth rate ‰ / 1000 × mid-year
population, :func:`njforecast.models.structural.derive_births`; recorded in
``entrants_driver_`` as "(derived)"). Where the file lacks entrants for a province's
forecast years, this is exactly the fall-back: entrants = intake ratio × (derived) births.

**Smoothing.** Every ratio (s, ī, and the teacher ratio below) is the **mean of its last
``ratio_window`` observed yearly values** (all of them needed, ending at the cutoff); the
default ``ratio_window = 1`` holds the last observed ratio (NCES's and the structural model's
"naive" ratio). Development evidence, national series only (not scored): h = 5 MAPE of the
flow with the mean of the last 3 ratios vs the last ratio, cutoffs 2006–2020: primary
enrolment 7.8 vs 6.5 %, senior general 12.8 vs 10.1 %, junior 7.3 vs 7.3 %, primary teachers
9.4 vs 6.7 % (naive 6.3 / 6.5 / 14.7 / 5.6 %) — ratios of a system in transition trend, and
a 3-year mean lags the trend by a year.

**Teachers.** ``<level>_teachers`` = the (smoothed) teacher/enrolment ratio × the
cohort-flow enrolment forecast of the level (teachers follow the pupils; this is the
structural ratio with the flow as driver).

**When the flow is not usable** — no flow rule for the indicator, entrants missing in any of
the years T−D+1…T or fewer than ``ratio_window`` survival ratios, or no entrant rule works —
the model falls back to :class:`~njforecast.models.structural.Structural` (enrolment = ratio ×
entrants of the last six years or births 6–11 years earlier), logged and recorded in
``fallback_``; ``auto`` uses the flow for enrolment counts exactly where it did not fall back
(its drivers exist; issue 15 part 5).

**Intervals: from the model's own rolling errors, per indicator.** At fit time the flow is
re-run at inner cutoffs c = T−1 … T−``inner_windows`` on the series and on every other area's
series of the same indicator in X (data ≤ c only, targets ≤ T), leads 1…``inner_h``; only
forecasts where the flow itself was usable count. With the absolute relative errors
e = |a/f − 1| at lead k (n_k of them), the level-l bound is f · (1 ± q_k), q_k the
finite-sample split-conformal quantile, the ⌈(n_k+1)·l/100⌉-th smallest e (Lei et al. 2018;
:func:`njforecast.models.ensemble.conformal_quantile`). A lead with fewer than
``min_errors`` errors uses the last lead that has enough, widened by √(k/j); with none at
all, the series' own k-year relative changes |y_t/y_{t−k} − 1| (the naive model's in-sample
errors) take their place. No widening factor is applied.

Nothing after the cutoff is read: every series is cut at T (inner runs at c) before use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from .base import Forecaster, TooLittleData, conformal_quantile, log, split_series_id
from .structural import Structural, derive_births

#: enrolment indicator → (entrants indicator, duration D in years)
FLOW_LEVELS: dict[str, tuple[str, int]] = {
    "primary_enrolment": ("primary_entrants", 6),
    "junior_enrolment": ("junior_entrants", 3),
    "senior_general_enrolment": ("senior_general_entrants", 3),
}

#: teachers indicator → enrolment indicator of its level
TEACHER_LEVELS: dict[str, str] = {
    "primary_teachers": "primary_enrolment",
    "junior_teachers": "junior_enrolment",
    "senior_general_teachers": "senior_general_enrolment",
}

#: driver rules of entrant/graduate counts: indicator → ((driver, lag in years), …), tried in
#: order (shortest lag first)
ENTRANT_RULES: dict[str, tuple[tuple[str, int], ...]] = {
    "primary_entrants": (("births", 6),),
    "primary_graduates": (("primary_entrants", 6),),
    "junior_entrants": (("primary_graduates", 0), ("primary_entrants", 6)),
    "junior_graduates": (("junior_entrants", 3),),
    "senior_general_entrants": (("junior_graduates", 0), ("primary_graduates", 3),
                                ("primary_entrants", 9)),
}

_MAX_DEPTH = 4


Panel = dict[str, dict[int, float]]  # indicator → {year: value} of one area

_PANEL_CACHE: dict[tuple, dict[str, Panel]] = {}
_PANEL_CACHE_MAX = 64


def _series(d: pd.DataFrame, indicator: str) -> dict[int, float]:
    g = d[d[S.INDICATOR] == indicator].drop_duplicates(S.YEAR)
    return {int(t): float(v) for t, v in zip(g[S.YEAR], g[S.VALUE], strict=True)
            if np.isfinite(v)}


def _panels(X: pd.DataFrame, needed: set[str]) -> dict[str, Panel]:
    """{area: {indicator: {year: value}}} for the needed indicators of every area in X;
    births observed, else derived (those years also under ``births_derived``). Memoised on
    the content of X (a back-test reads the same X for every area at a cutoff)."""
    cols = [S.AREA, S.YEAR, S.INDICATOR, S.VALUE]
    X = X[X[S.INDICATOR].isin(needed | {"birth_rate_permille", "population_year_end"})]
    key = (tuple(sorted(needed)),
           pd.util.hash_pandas_object(X[cols], index=False).to_numpy().tobytes())
    hit = _PANEL_CACHE.get(key)
    if hit is not None:
        return hit
    out = {}
    for area, d in X.groupby(S.AREA, sort=True):
        p = {ind: _series(d, ind) for ind in needed if ind != "births"}
        if "births" in needed:
            b = _series(d, "births")
            der = derive_births(d)
            dv = {int(t): float(v) for t, v in zip(der[S.YEAR], der[S.VALUE], strict=True)
                  if int(t) not in b}
            p["births_derived"] = dv
            p["births"] = dict(sorted({**b, **dv}.items()))
        out[str(area)] = p
    if len(_PANEL_CACHE) >= _PANEL_CACHE_MAX:
        _PANEL_CACHE.clear()
    _PANEL_CACHE[key] = out
    return out


def _needed(indicator: str) -> set[str]:
    """Every indicator the flow of ``indicator`` may read."""
    need = {indicator}
    todo = [indicator]
    while todo:
        ind = todo.pop()
        nxt = []
        if ind in TEACHER_LEVELS:
            nxt.append(TEACHER_LEVELS[ind])
        if ind in FLOW_LEVELS:
            nxt.append(FLOW_LEVELS[ind][0])
        nxt.extend(d for d, _ in ENTRANT_RULES.get(ind, ()))
        for n in nxt:
            if n not in need:
                need.add(n)
                todo.append(n)
    return need


def _mean_ratio(r: dict[int, float], T: int, window: int, stat: str = "mean") -> float | None:
    """Mean (or median, ``stat``) of the last ``window`` ratios when they are observed in every
    year T−window+1…T."""
    v = [r.get(t, np.nan) for t in range(T - window + 1, T + 1)]
    if not all(np.isfinite(v)) or not all(x > 0 for x in v):
        return None
    return float(np.median(v) if stat == "median" else np.mean(v))


def _chain(p: Panel, target: str, T: int, h: int, window: int, depth: int = 0,
           stat: str = "mean") -> tuple[np.ndarray, str] | None:
    """Forecast of an entrant/graduate count for T+1…T+h as ratio × lagged driver
    (:data:`ENTRANT_RULES`); None when no rule works. Reads only years ≤ T."""
    y = p.get(target)
    if y is None or depth > _MAX_DEPTH or T not in y:
        return None
    for driver, lag in ENTRANT_RULES.get(target, ()):
        d = p.get(driver)
        if not d:
            continue
        ratio = {t: y[t] / d[t - lag] for t in range(T - window + 1, T + 1)
                 if t in y and (t - lag) in d and d[t - lag] > 0}
        r = _mean_ratio(ratio, T, window, stat)
        if r is None:
            continue
        known = [T + k - lag for k in range(1, h + 1) if T + k - lag <= T]
        if any(t not in d for t in known):
            continue
        future: dict[int, float] = {}
        desc = f"{driver}[{lag}]"
        n_future = h - lag
        if n_future > 0:
            if driver in ENTRANT_RULES:
                sub = _chain(p, driver, T, n_future, window, depth + 1, stat)
                if sub is None:
                    continue
                future = {T + j + 1: float(v) for j, v in enumerate(sub[0])}
                desc += "←" + sub[1]
            else:  # births after T: held at the last value (no rule)
                if T not in d:
                    continue
                future = {T + j + 1: float(d[T]) for j in range(n_future)}
                desc += "(held after T)"
        used = {t - lag for t in range(T - window + 1, T + 1)} | set(known)
        if driver == "births" and used & set(p.get("births_derived", {})):
            desc += "(derived)"
        vals = np.array([r * (d[t] if t <= T else future[t])
                         for t in (T + k - lag for k in range(1, h + 1))])
        return vals, desc
    return None


def _flow(p: Panel, indicator: str, T: int, h: int, window: int, stat: str = "mean"
          ) -> tuple[np.ndarray, dict] | None:
    """Cohort-flow forecast (module docstring) for T+1…T+h, with what was used; None when
    the flow is not usable. Reads only years ≤ T of the panel ``p``."""
    if indicator in TEACHER_LEVELS:
        level = TEACHER_LEVELS[indicator]
        y, e = p.get(indicator), p.get(level)
        if y is None or e is None:
            return None
        ratio = {t: y[t] / e[t] for t in range(T - window + 1, T + 1)
                 if t in y and t in e and e[t] > 0}
        r = _mean_ratio(ratio, T, window, stat)
        sub = _flow(p, level, T, h, window, stat) if r is not None else None
        if sub is None:
            return None
        return r * sub[0], {**sub[1], "teacher_ratio_": r}
    if indicator not in FLOW_LEVELS:
        return None
    ent, D = FLOW_LEVELS[indicator]
    E, N = p.get(indicator), p.get(ent)
    if E is None or N is None or T not in E:
        return None
    if any(t not in N for t in range(T - D + 1, T + 1)):
        return None
    surv = {t: (E[t - 1] + N[t] - E[t]) / N[t - D] for t in range(T - window + 1, T + 1)
            if (t - 1) in E and t in E and t in N and (t - D) in N and N[t - D] > 0}
    s = _mean_ratio(surv, T, window, stat)
    if s is None:
        return None
    fc = _chain(p, ent, T, h, window, stat=stat)
    if fc is None:
        return None
    Nf = {T + k + 1: float(v) for k, v in enumerate(fc[0])}
    out, prev = np.empty(h), float(E[T])
    for k in range(1, h + 1):
        t = T + k
        lv = N[t - D] if t - D <= T else Nf[t - D]
        prev = prev + Nf[t] - s * lv
        out[k - 1] = prev
    return out, {"survival_ratio_": s, "entrants_driver_": fc[1]}


def _cut(p: Panel, c: int) -> Panel:
    """The panel restricted to years ≤ c."""
    return {k: {t: v for t, v in d.items() if t <= c} for k, d in p.items()}


class CohortFlow(Forecaster):
    """Enrolment = last enrolment + entrants − leavers (module docstring for the formulas,
    rules, smoothing and interval method).

    Args:
        ratio_window: years averaged for every ratio (and needed, consecutive, at the cutoff).
        ratio_stat: "mean" or "median" of those years.
        inner_windows: inner cutoffs T−1 … T−inner_windows for the rolling errors.
        inner_h: leads of the inner forecasts (only years ≤ T are scored).
        min_errors: errors a lead needs for its own conformal quantile.
        pool: take the rolling errors on every area's series of the indicator in X too
            (True), or on y alone.

    Attributes:
        survival_ratio_: s̄ (leavers per entrant D years earlier); entrants_driver_: the
        entrant rule chain, e.g. "births[6](derived)"; teacher_ratio_: teachers per pupil
        (teachers only); n_errors_: rolling errors at lead 1; interval_source_: "rolling"
        or "naive-changes".
    """

    name = "cohortflow"
    uses_X = True

    def __init__(self, alias: str | None = None, ratio_window: int = 1, ratio_stat: str = "mean",
                 inner_windows: int = 8,
                 inner_h: int = 5, min_errors: int = 10, pool: bool = True,
                 lower: float | None = 0.0, upper: float | None = None):
        super().__init__(alias, lower, upper)
        if int(ratio_window) < 1:
            raise ValueError(f"cohortflow: ratio_window must be >= 1, got {ratio_window!r}")
        self.ratio_window = int(ratio_window)
        if ratio_stat not in ("mean", "median"):
            raise ValueError(f"cohortflow: ratio_stat must be 'mean' or 'median', got "
                             f"{ratio_stat!r}")
        self.ratio_stat = ratio_stat
        self.inner_windows = int(inner_windows)
        self.inner_h = int(inner_h)
        self.min_errors = int(min_errors)
        self.pool = bool(pool)

    def fallback_model(self):
        return Structural(alias=self.alias, lower=self.lower, upper=self.upper)

    def _fit(self, y: pd.Series, X=None) -> None:
        if X is None or not y.name:
            raise TooLittleData("cohort flow needs the drivers in X and a named series")
        area, indicator = split_series_id(y.name)
        if indicator not in FLOW_LEVELS and indicator not in TEACHER_LEVELS:
            raise TooLittleData(f"no cohort-flow rule for {indicator}")
        T = self.cutoff_
        allp = _panels(X[X[S.YEAR] <= T], _needed(indicator))
        own = dict(allp.get(area, {}))  # a copy: the cached panel stays as read
        own[indicator] = {int(t): float(v) for t, v in y.items()}
        panels = {area: own}
        if self.pool:
            panels.update((a, q) for a, q in allp.items() if a != area and q.get(indicator))
        res = _flow(own, indicator, T, 1, self.ratio_window, self.ratio_stat)
        if res is None:
            raise TooLittleData(f"cohort flow of {indicator} not usable at {T} (entrants, "
                                f"survival or entrant-driver ratios missing)")
        for k, v in res[1].items():
            setattr(self, k, v)
        self._p, self._indicator = own, indicator
        self._errors = self._rolling_errors(panels, indicator, T)
        self.n_errors_ = len(self._errors.get(1, ()))

    def _rolling_errors(self, panels, indicator: str, T: int) -> dict[int, np.ndarray]:
        errs: dict[int, list[float]] = {}
        for p in panels.values():
            s = p.get(indicator)
            if not s:
                continue
            Ts = min(max(s), T)
            for c in range(Ts - 1, Ts - self.inner_windows - 1, -1):
                k_max = min(self.inner_h, Ts - c)
                res = _flow(_cut(p, c), indicator, c, k_max, self.ratio_window, self.ratio_stat)
                if res is None:
                    continue
                for k in range(1, k_max + 1):
                    a, f = s.get(c + k, np.nan), res[0][k - 1]
                    if np.isfinite(a) and np.isfinite(f) and f > 0:
                        errs.setdefault(k, []).append(abs(a / f - 1))
        return {k: np.asarray(v) for k, v in errs.items()}

    def _quantile(self, k: int, level: int) -> float:
        usable = [j for j in sorted(self._errors) if j <= k
                  and len(self._errors[j]) >= self.min_errors]
        if usable:
            j = usable[-1]
            self.interval_source_ = "rolling"
            return conformal_quantile(self._errors[j], level) * math.sqrt(k / j)
        y = self.y_.to_numpy(float)
        ch = np.abs(y[k:] / y[:-k] - 1) if len(y) > k else np.abs(y[1:] / y[:-1] - 1) * \
            math.sqrt(k)
        self.interval_source_ = "naive-changes"
        return conformal_quantile(ch[np.isfinite(ch)], level) if len(ch) else 0.0

    def _predict(self, h: int, X, level: Sequence[int]):
        res = _flow(self._p, self._indicator, self.cutoff_, h, self.ratio_window, self.ratio_stat)
        if res is None:  # a longer horizon needs a rule the fit did not (logged by base)
            log.info("%s: cohort flow not usable to lead %d", self.y_.name, h)
            mean = np.full(h, np.nan)
        else:
            mean = res[0]
        out = {}
        for lv in level:
            q = np.array([self._quantile(k, lv) for k in range(1, h + 1)])
            out[lv] = (mean * (1 - q), mean * (1 + q))
        return mean, out
