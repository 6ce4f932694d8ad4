"""Combinations of forecasters and ``auto``, the package's recommended model.

Public classes: Combination, Auto.

* Combination: the mean (or median) of member forecasts; interval bounds are the same
  statistic of the members' bounds ("averaging quantiles", Lichtendahl, Grushka-Cockayne &
  Winkler 2013). Simple combinations are hard to beat on yearly series (M3/M4: Makridakis
  et al. 2020).
* Auto: chooses and combines members using only the training window. At fit time it runs an
  inner rolling-origin validation *inside* the training window — cutoffs T−1, …, T−k, leads up
  to ``inner_h`` but never past T, on the series and (``pool``) the other areas' series of the
  same indicator up to T — and scores each member by its MAPE at each lead. By default the
  members are combined at each lead with convex weights fitted to those inner forecasts by
  constrained least squares (stacking: Granger & Ramanathan 1984, Breiman 1996; naive is a
  member, so the fit can fall back on the random walk). This design won the pre-registered
  development study 3 (benchmarks/auto_design_dev3.py: geo-mean MAPE₅/naive 0.947 on five
  unscored indicators, against 0.968 for study 2's choice — weights ∝ 1/MAPE², shrunk toward
  naive, still available as ``combine="inverse_mape", shrink_to_naive=True`` — and 1.08 for
  study 1's per-lead median of the best 3). Intervals are split-conformal from the same inner
  errors (finite-sample quantile), widened by :data:`AUTO_INTERVAL_SCALE` (calibrated on the
  same development series; experiments/provinces-backtest/README.md).
  Nothing after T is ever read, so the outer back-test stays honest (the no-look-ahead test
  proves it).

  **Issue 15 rules (stated before the scored run; ``flow=True, cross_fit=True`` defaults):**

  1. *Enrolment counts with a cohort flow* (``primary_/junior_/senior_general_enrolment``):
     where :class:`~njforecast.models.cohort_flow.CohortFlow` is usable on the series at the
     cutoff (entrants observed through T, survival and entrant-driver ratios — its drivers
     exist), ``auto`` **is** the cohort flow: its point forecast and its own intervals
     (split-conformal on its rolling inner errors pooled over the areas of the indicator).
     This preference is domain knowledge (the entrants of the next years are already born or
     enrolled; NCES and state demographers project enrolment by grade progression), not a
     choice made on back-test scores. Where the flow is not usable, the stacking below.
  2. *Teachers* (``<level>_teachers``): no teacher flow data exist, so ``auto`` stacks its
     members as before with one more member, ``cohortflow`` (teachers = teacher/pupil ratio ×
     cohort-flow enrolment of the level).
  3. *Stacking, cross-fitted:* the weights used for a forecast are fitted on all inner
     forecasts, but the inner errors that calibrate the intervals come from out-of-fold
     combinations — each group of series (5 groups, round-robin by series id) combined with
     weights fitted on the other groups only — so the errors are not those the weights were
     fitted to.
  4. *Intervals per indicator:* the finite-sample conformal quantile, per lead, of those
     cross-fitted inner errors of the indicator's series pool, **without** a widening factor
     (``interval_scale=1``; the study-3 factors :data:`AUTO_INTERVAL_SCALE` corrected for
     in-sample stacking errors and are kept only as an option).
  Member fits at inner cutoffs are memoised by (model, series values up to that cutoff, X up
  to that cutoff), so a rolling back-test re-uses them across outer cutoffs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from .base import LEVELS, Forecaster, conformal_quantile, log, series_id, split_series_id
from .cohort_flow import FLOW_LEVELS, TEACHER_LEVELS, CohortFlow

#: Members of ``auto`` by default (Prophet is left out for speed; add it in config if wanted).
#: The ETS member is statsforecast's AutoETS (may choose no trend), chosen over statsmodels'
#: damped ETS in design study 2 (benchmarks/auto_design_dev2.py).
AUTO_MEMBERS = ("naive", "drift", "theta", "autoets", "arima", "global", "structural")

#: Widening of ``auto``'s conformal intervals by level and lead (h = 1…5; h > 5 uses the
#: last) of design study 3 — an option (``interval_scale=AUTO_INTERVAL_SCALE``), no longer the
#: default: since issue 15 the errors are cross-fitted and the default factor is 1.
#: Calibrated on development series only — senior_general_teachers, _entrants, _graduates,
#: primary_entrants, _graduates of the provinces file, which the provinces
#: back-test does not score: c(l, h) = finite-sample l-quantile of |a/f − 1| / q over the
#: development forecasts at lead h (benchmarks/auto_design_dev3.py,
#: benchmarks/results/auto_design_dev3_calibration.csv, row stack).
#: Inner-validation errors from earlier windows understate later errors, and with
#: ``combine="stack"`` the weights are fitted on the same inner forecasts whose errors give
#: the quantile (no cross-fitting), which understates them further; the factors correct for
#: both as measured on the development series (they are not monotone in the lead: 95 % at
#: h = 3 > h = 4, sampling noise of ~80 forecasts per lead and indicator).
AUTO_INTERVAL_SCALE: dict[int, tuple[float, ...]] = {
    80: (1.086, 1.284, 1.352, 1.394, 1.437),
    95: (1.059, 1.548, 1.879, 1.712, 1.934),
}

#: Ways ``auto`` combines its chosen members at a lead.
COMBINE_RULES = ("median", "mean", "inverse_mape", "stack")

_CACHE: dict[tuple, tuple[pd.DataFrame, dict]] = {}  # key → (forecast, fitted params)
_CACHE_MAX = 50_000


def _make(name: str, **kwargs) -> Forecaster:
    from . import make_model

    return make_model(name, **kwargs)


def _digest(y: pd.Series, X: pd.DataFrame | None) -> str:
    hsh = hashlib.sha1()
    hsh.update(str(y.name).encode())
    hsh.update(np.asarray(y.index, dtype=np.int64).tobytes())
    hsh.update(np.asarray(y.values, dtype=np.float64).tobytes())
    if X is not None and len(X):
        hsh.update(pd.util.hash_pandas_object(X[[S.AREA, S.YEAR, S.INDICATOR, S.VALUE]],
                                              index=False).to_numpy().tobytes())
    return hsh.hexdigest()


def cached_forecast(model: Forecaster, y: pd.Series, X: pd.DataFrame | None, h: int,
                    level: Sequence[int] = LEVELS, with_params: bool = False):
    """``model.fit(y, X).predict(h)`` memoised on (model repr, data digest, h, level).

    Returns:
        The forecast frame; with ``with_params`` the pair (frame, the fitted model's
        :meth:`~njforecast.models.base.Forecaster.fitted_params`).
    """
    key = (repr(model), _digest(y, X if getattr(model, "uses_X", False) else None), int(h),
           tuple(level))
    hit = _CACHE.get(key)
    if hit is None:
        fitted = model.fit(y, X)
        hit = (fitted.predict(h, X, level), fitted.fitted_params())
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = hit
    return (hit[0].copy(), dict(hit[1])) if with_params else hit[0].copy()


def _shrink_weight(a: np.ndarray, c: np.ndarray, n: np.ndarray,
                   wt: np.ndarray | None = None) -> float:
    """Least-squares weight w ∈ [0, 1] of forecast c against forecast n on relative errors:
    argmin_w Σ ω·(w·e_c + (1 − w)·e_n)², e = f/a − 1 (Bates & Granger 1969), with optional
    observation weights ω (default 1); 1 when the two forecasts never differ."""
    ok = np.isfinite(a) & np.isfinite(c) & np.isfinite(n) & (a != 0)
    om = np.ones(int(ok.sum())) if wt is None else np.asarray(wt, float)[ok]
    ec, en = c[ok] / a[ok] - 1, n[ok] / a[ok] - 1
    d = en - ec
    den = float(np.sum(om * d * d))
    if den <= 0:
        return 1.0
    return float(np.clip(np.sum(om * en * d) / den, 0.0, 1.0))


def stacking_weights(F: np.ndarray, a: np.ndarray, wt: np.ndarray | None = None) -> np.ndarray:
    """Convex combination weights fitted to past forecasts (stacking).

    w = argmin Σ_i ω_i (Σ_m w_m F_im / a_i − 1)²  subject to w ≥ 0, Σ w = 1 — the constrained
    regression of Granger & Ramanathan (1984) on relative errors, i.e. Breiman's (1996) stacked
    regression with non-negative weights, here also summing to one so the combination keeps
    the members' level. Solved by non-negative least squares (``scipy.optimize.nnls``) with the
    sum-to-one constraint appended as a heavily weighted row (the weighting method for
    equality constraints, Lawson & Hanson 1974).

    Args:
        F: forecasts, one row per (series, origin) and one column per member.
        a: actuals (same unit), length = rows of F; rows with a = 0 or any non-finite value
            are dropped.
        wt: optional non-negative row weights ω (e.g. recency).

    Returns:
        Weights (length = columns of F) summing to 1; equal weights when no row is usable
        (or every row weight is 0).
    """
    from scipy.optimize import nnls

    F, a = np.asarray(F, float), np.asarray(a, float)
    ok = np.isfinite(a) & (a != 0) & np.all(np.isfinite(F), axis=1)
    m = F.shape[1]
    if not ok.any():
        return np.full(m, 1.0 / m)
    r = np.sqrt(np.ones(int(ok.sum())) if wt is None else np.asarray(wt, float)[ok])
    if not np.any(r > 0):
        return np.full(m, 1.0 / m)
    A = F[ok] / a[ok, None] * r[:, None]
    big = 1e3 * max(1.0, float(np.sqrt(np.sum(A * A) / m)))
    w, _ = nnls(np.vstack([A, np.full((1, m), big)]), np.append(r, big))
    s = w.sum()
    return w / s if s > 0 else np.full(m, 1.0 / m)


def _scale_for(scale: float | Mapping, level: int, lead: int) -> float:
    """Interval widening factor for a level and lead from a float, {level: float} or
    {level: [factor by lead]} (TOML keys arrive as strings); the last factor covers longer
    leads; 1 where not given."""
    if not isinstance(scale, Mapping):
        return float(scale)
    v = scale.get(level, scale.get(str(level), 1.0))
    if isinstance(v, (list, tuple)):
        return float(v[min(lead, len(v)) - 1])
    return float(v)


def _combine(alias: str, frames: list[pd.DataFrame], aliases: list[str], how: str,
             level: Sequence[int]) -> pd.DataFrame:
    agg = np.mean if how == "mean" else np.median
    out = pd.DataFrame({S.YEAR: frames[0][S.YEAR].to_numpy()})
    out[alias] = agg(np.column_stack([f[a].to_numpy() for f, a in zip(frames, aliases,
                                                                       strict=True)]), axis=1)
    for lv in level:
        for side in ("lo", "hi"):
            out[f"{alias}-{side}-{lv}"] = agg(np.column_stack(
                [f[f"{a}-{side}-{lv}"].to_numpy() for f, a in zip(frames, aliases,
                                                                 strict=True)]), axis=1)
    return out


class Combination(Forecaster):
    """Mean (or median) of member forecasts and of their interval bounds.

    Args:
        members: registry names of the members.
        how: "mean" or "median".

    Attributes:
        members_: members actually fitted (comma-separated).
    """

    name = "combo"
    uses_X = True

    def __init__(self, alias: str | None = None, members: Sequence[str] = ("theta", "ets",
                                                                          "drift"),
                 how: str = "mean", lower: float | None = 0.0, upper: float | None = None):
        super().__init__(alias, lower, upper)
        if how not in ("mean", "median"):
            raise ValueError(f"combo: how must be 'mean' or 'median', got {how!r}")
        self.members = tuple(members)
        self.how = how

    def fallback_model(self):
        return None

    def _fit(self, y: pd.Series, X=None) -> None:
        self._fitted = [_make(m, lower=self.lower, upper=self.upper).fit(y, X)
                        for m in self.members]
        self.members_ = ",".join(self.members)

    def _predict(self, h: int, X, level: Sequence[int]):
        frames = [m.predict(h, X, level) for m in self._fitted]
        c = _combine("c", frames, [m.alias for m in self._fitted], self.how, level)
        return c["c"].to_numpy(), {lv: (c[f"c-lo-{lv}"].to_numpy(), c[f"c-hi-{lv}"].to_numpy())
                                   for lv in level}


class Auto(Forecaster):
    """Members scored by inner rolling-origin validation inside the training window, combined
    per lead (by default with stacking weights fitted to the inner forecasts); intervals
    calibrated on the same inner forecasts.

    Args:
        members: candidate registry names (default :data:`AUTO_MEMBERS`).
        top_k: how many of the best members to combine (0, the default, or ≥ len(members):
            all — a weighted combination without selection).
        inner_windows: inner cutoffs T−1 … T−inner_windows (only those leaving at least
            ``min_train`` training years are used).
        inner_h: leads forecast at each inner cutoff (only years ≤ T are scored).
        min_train: shortest inner training window.
        per_lead: rank members separately for each lead (when ≥ ``min_errors`` inner errors
            exist at that lead; otherwise the all-leads ranking) — the best model at one year
            ahead is often not the best at five.
        pool: score members on every series of the same indicator in X (all areas, data up
            to T only) as well as on y — more evidence for the choice (a "global" selection,
            as in Montero-Manso & Hyndman 2021) — or on y alone (False).
        intervals: "conformal" — the l-% quantile q of the absolute relative errors
            |a/f − 1| of the combined inner forecasts at each lead gives f·(1 ± c·q)
            (split-conformal, Lei et al. 2018; finite-sample order statistic, see
            :func:`conformal_quantile`) when at least ``min_errors`` exist; otherwise
            (or with "members") the same statistic of the members' bounds.
        combine: how the chosen members are combined at each lead — "stack" (default):
            convex weights fitted by constrained least squares to the inner forecasts at that
            lead (:func:`stacking_weights`; Granger & Ramanathan 1984, Breiman 1996), or to
            all leads pooled when the lead has fewer than ``min_errors`` or ``per_lead`` is
            False; "inverse_mape":
            weights w_m ∝ 1/MAPE_m² from the inner errors at that lead (inverse-MSE weights of
            Bates & Granger 1969 in relative terms; Stock & Watson 2004); "median" (robust to
            one wild member) or "mean".
        shrink_to_naive: blend the combination c with the naive (last value) forecast n at
            each lead, ŷ = w·c + (1 − w)·n, with w ∈ [0, 1] the least-squares weight on the
            inner relative errors, w = Σ e_n(e_n − e_c) / Σ (e_n − e_c)² (Bates & Granger
            1969; Granger & Ramanathan 1984, constrained) — the random walk is the hardest
            yearly benchmark at long leads, and the weight says how much the selection has
            earned beyond it. Needs "naive" among ``members``. Default False (study 2's
            design used it with "inverse_mape"; "stack" weighs naive as a member itself).
        recency_halflife: weight inner errors by 2^(−age / half-life), age = years between
            the scored year and the last year of that pooled series (T for y itself), in the
            member scores, the stacking fit and the shrinkage weight (not in the interval
            quantiles); None (the default) weights them equally.
        interval_scale: widening factor c of the conformal half-width — a float, or
            {level: factor} / {level: [factor by lead]}; default 1 (study 3's factors:
            :data:`AUTO_INTERVAL_SCALE`).
        flow: issue 15's rules 1–2 (module docstring): enrolment counts use the cohort flow
            where its drivers exist; teachers get ``cohortflow`` as one more stacking member.
        cross_fit: calibrate the intervals on out-of-fold stacked inner forecasts (rule 3).

    Attributes:
        selected_: members of the all-leads ranking (best first); selected_by_lead_: members
        per lead; scores_: inner MAPE per member, leads weighted equally (text);
        n_inner_: inner forecasts scored per member; n_pool_: series in the selection pool;
        shrink_by_lead_: weight of the combination against naive per lead (text);
        weights_by_lead_: member weights per lead for "stack" and "inverse_mape" (text,
        e.g. "h1:naive=0.200,global=0.800;…");
        interval_method_: "conformal" or "members" (or the flow's, below);
        rule_: "cohortflow" when the enrolment flow is the forecast, else the combine rule;
        entrants_driver_: the flow's entrant rule chain (rule "cohortflow").
    """

    name = "auto"
    uses_X = True

    def __init__(self, alias: str | None = None, members: Sequence[str] = AUTO_MEMBERS,
                 top_k: int = 0, inner_windows: int = 8, inner_h: int = 5, min_train: int = 6,
                 per_lead: bool = True, pool: bool = True, intervals: str = "conformal",
                 min_errors: int = 10, combine: str = "stack",
                 interval_scale: float | Mapping = 1.0,
                 shrink_to_naive: bool = False, recency_halflife: float | None = None,
                 flow: bool = True, cross_fit: bool = True,
                 lower: float | None = 0.0, upper: float | None = None):
        super().__init__(alias, lower, upper)
        if intervals not in ("conformal", "members"):
            raise ValueError(f"auto: intervals must be 'conformal' or 'members', got "
                             f"{intervals!r}")
        if combine not in COMBINE_RULES:
            raise ValueError(f"auto: combine must be one of {', '.join(COMBINE_RULES)}, got "
                             f"{combine!r}")
        if shrink_to_naive and "naive" not in members:
            raise ValueError("auto: shrink_to_naive needs 'naive' among the members")
        self.members = tuple(members)
        self.flow = bool(flow)
        self.cross_fit = bool(cross_fit)
        self.shrink_to_naive = bool(shrink_to_naive)
        if recency_halflife is not None and not float(recency_halflife) > 0:
            raise ValueError(f"auto: recency_halflife must be > 0 years or None, got "
                             f"{recency_halflife!r}")
        self.recency_halflife = None if recency_halflife is None else float(recency_halflife)
        self.top_k = int(top_k)
        self.combine = combine
        self.interval_scale = interval_scale
        self.inner_windows = int(inner_windows)
        self.inner_h = int(inner_h)
        self.min_train = int(min_train)
        self.per_lead = bool(per_lead)
        self.pool = bool(pool)
        self.intervals = intervals
        self.min_errors = int(min_errors)

    def fallback_model(self):
        return None

    def _member(self, name: str) -> Forecaster:
        return _make(name, lower=self.lower, upper=self.upper)

    def _pool_series(self, y: pd.Series, X: pd.DataFrame | None) -> list[pd.Series]:
        out = [y]
        if not self.pool or X is None or not y.name:
            return out
        own_area, ind = split_series_id(y.name)
        sub = X[(X[S.INDICATOR] == ind) & (X[S.AREA] != own_area)]
        for area, g in sub.groupby(S.AREA, sort=True):
            g = g.drop_duplicates(S.YEAR).sort_values(S.YEAR)
            yrs = g[S.YEAR].to_numpy()
            br = np.flatnonzero(np.diff(yrs) != 1)
            if len(br):
                g = g.iloc[br[-1] + 1:]
            v = g[S.VALUE].to_numpy(float)
            if len(v) > self.min_train and np.all(np.isfinite(v)):
                out.append(pd.Series(v, index=g[S.YEAR].to_numpy(int),
                                     name=series_id(area, ind)))
        return out

    def _fit(self, y: pd.Series, X=None) -> None:
        T = self.cutoff_
        Xt = None if X is None else X[X[S.YEAR] <= T]
        indicator = split_series_id(y.name)[1] if y.name else ""
        self._flow_model = None
        self.rule_ = self.combine
        self._members = self.members
        if self.flow and indicator in FLOW_LEVELS:
            fm = CohortFlow(alias="flow", lower=self.lower, upper=self.upper).fit(y, Xt)
            if fm.fallback_ is None:  # its drivers exist: the flow is auto's forecast
                self._flow_model, self.rule_ = fm, "cohortflow"
                self.selected_ = "cohortflow"
                self.interval_method_ = "cohortflow rolling conformal"
                self.entrants_driver_ = fm.entrants_driver_
                return
        if self.flow and indicator in TEACHER_LEVELS and "cohortflow" not in self.members:
            self._members = (*self.members, "cohortflow")
        pool = self._pool_series(y, Xt)
        recs = []  # (member, lead, actual, forecast, series, inner cutoff)
        for j, s in enumerate(pool):
            Ts = int(s.index[-1])
            sid = s.name if s.name else f"#{j}"  # an unnamed y still needs a key
            cuts = [Ts - k for k in range(1, self.inner_windows + 1)
                    if (Ts - k) - int(s.index[0]) + 1 >= self.min_train]
            for c in cuts:
                sc = s[s.index <= c]
                Xc = None if Xt is None else Xt[Xt[S.YEAR] <= c]
                act = s.reindex(range(c + 1, min(c + self.inner_h, Ts) + 1)).to_numpy()
                for name in self._members:
                    fc = cached_forecast(self._member(name), sc, Xc, self.inner_h)
                    f = fc[name].to_numpy()[: len(act)]
                    recs.extend((name, i + 1, a, fv, sid, c, Ts - (c + i + 1))
                                for i, (a, fv) in enumerate(zip(act, f, strict=True)))
        self.n_pool_ = len(pool)
        df = pd.DataFrame(recs, columns=["member", "lead", "a", "f", "sid", "c", "age"])
        # weight of an inner error: 1, or 2^(−age / half-life) with age the years between the
        # scored year and the series' last year (recent outcomes count more)
        df["om"] = 1.0 if not self.recency_halflife else \
            np.exp2(-df["age"].to_numpy(float) / float(self.recency_halflife))
        self.n_inner_ = int((df["member"] == self._members[0]).sum()) if len(df) else 0
        order = {m: i for i, m in enumerate(self._members)}
        self._chosen: dict[int, list[str]] = {}
        self._weights: dict[int, np.ndarray] = {}
        self._shrink: dict[int, float] = {}
        self._errors = {}
        self.interval_method_ = "members"
        if self.n_inner_:
            # APE, NaN where the actual is 0 (as metrics.ape): one zero in the pool must not
            # make every member's MAPE infinite
            with np.errstate(divide="ignore", invalid="ignore"):
                df["ape"] = np.where(df["a"] == 0, np.nan,
                                     np.abs(df["f"] - df["a"]) / np.abs(df["a"]) * 100)
            df["om"] = df["om"].where(df["ape"].notna(), 0.0)
            df["ape_om"] = df["ape"].fillna(0.0) * df["om"]
            g = df.groupby(["lead", "member"])
            by_lead = (g["ape_om"].sum() / g["om"].sum()).unstack("member")
            overall = by_lead.mean(axis=0)  # leads weighted equally
            counts = df[df["member"] == self._members[0]].groupby("lead").size()

            k_keep = self.top_k if 0 < self.top_k < len(self._members) else len(self._members)

            def top(scores: pd.Series) -> list[str]:
                return sorted(scores.index, key=lambda m: (scores[m], order[m]))[:k_keep]

            default = top(overall)
            wide = df.pivot_table(index=["sid", "c", "lead"], columns="member", values="f",
                                  aggfunc="first")
            first = df[df["member"] == self._members[0]].set_index(["sid", "c", "lead"])
            act, om = first["a"], first["om"]
            have = set(wide.index.get_level_values("lead"))
            for k in range(1, self.inner_h + 1):
                ok = self.per_lead and k in by_lead.index and counts.get(k, 0) >= self.min_errors
                scores = by_lead.loc[k] if ok else overall
                self._chosen[k] = top(scores)
                if self.combine == "inverse_mape":
                    w = 1.0 / np.maximum(scores[self._chosen[k]].to_numpy(float), 1e-9) ** 2
                    ok = np.isfinite(w) & (w > 0)
                    # members without a finite inner MAPE get no weight; none at all → equal
                    w = np.where(ok, w, 0.0) if ok.any() else np.ones_like(w)
                    self._weights[k] = w / w.sum()
                elif self.combine == "stack":
                    # fitted at this lead when it has enough inner forecasts, else the
                    # all-leads fit
                    kk = k if ok else None
                    self._weights[k] = self._stack(wide, act, om, kk, self._chosen[k])
            self.scores_ = ";".join(f"{m}={overall[m]:.3g}" for m in self._members)
            for k in self._chosen:
                if k not in have:  # no inner forecast reached this lead (short series)
                    continue
                w = wide.xs(k, level="lead")
                a = act.xs(k, level="lead").reindex(w.index).to_numpy(float)
                comb = self._combine_values(k, {m: w[m].to_numpy(float)
                                                for m in self._chosen[k]}, shrink=False)
                if self.shrink_to_naive:
                    wk = om.xs(k, level="lead").reindex(w.index).to_numpy(float)
                    self._shrink[k] = _shrink_weight(a, comb, w["naive"].to_numpy(float), wk)
                    comb = self._shrink[k] * comb + (1 - self._shrink[k]) * w["naive"].to_numpy(
                        float)
                if self.combine == "stack" and self.cross_fit:
                    comb = self._cross_fitted(w, a, om.xs(k, level="lead").reindex(w.index)
                                              .to_numpy(float), self._chosen[k])
                e = np.abs(a / comb - 1)
                self._errors[k] = e[np.isfinite(e)]
            if self.intervals == "conformal" and len(self._errors.get(1, [])) >= self.min_errors:
                self.interval_method_ = "conformal"
        else:
            default = [m for m in ("naive", "drift", "theta") if m in self._members] or \
                list(self._members[:1])
            self.scores_ = ""
            log.warning("%s: too short for inner validation (%d years < %d + 1); auto uses "
                        "the mean of %s", y.name, len(y), self.min_train, ",".join(default))
        self._default = default
        self.selected_ = ",".join(default)
        self.selected_by_lead_ = ";".join(f"h{k}:{'+'.join(v)}" for k, v in self._chosen.items())
        self.shrink_by_lead_ = ";".join(f"h{k}:{v:.2f}" for k, v in self._shrink.items())
        self.weights_by_lead_ = ";".join(
            f"h{k}:" + ",".join(f"{m}={x:.3f}" for m, x in zip(self._chosen[k], w, strict=True))
            for k, w in self._weights.items())
        self._y, self._X = y, Xt

    @staticmethod
    def _stack(wide: pd.DataFrame, act: pd.Series, om: pd.Series, k: int | None,
               members: list[str]) -> np.ndarray:
        """Stacking weights (:func:`stacking_weights`) of ``members`` from the inner forecasts
        at lead k (None: all leads pooled)."""
        if k is not None:
            wide, act, om = (t.xs(k, level="lead") for t in (wide, act, om))
        a = act.reindex(wide.index).to_numpy(float)
        return stacking_weights(wide[members].to_numpy(float), a,
                                om.reindex(wide.index).to_numpy(float))

    @staticmethod
    def _cross_fitted(w: pd.DataFrame, a: np.ndarray, om: np.ndarray, members: list[str],
                      folds: int = 5) -> np.ndarray:
        """Out-of-fold stacked forecasts at one lead: the rows (inner forecasts, index
        (sid, c)) are split into ``folds`` groups by series (round-robin over the sorted
        series ids; by inner cutoff when there is one series), and each group's forecasts
        are combined with weights fitted on the other groups only (cross-fitting)."""
        sids = w.index.get_level_values("sid").astype(str)
        key = sids if len(set(sids)) >= 2 else w.index.get_level_values("c").astype(str)
        uniq = sorted(set(key))
        K = min(folds, len(uniq))
        fold = np.array([uniq.index(g) % K for g in key]) if K else np.zeros(len(w), int)
        F = w[members].to_numpy(float)
        out = np.full(len(w), np.nan)
        for f in range(K):
            test = fold == f
            if K == 1:  # nothing to fit on but the row itself: equal weights
                wt = np.full(len(members), 1.0 / len(members))
            else:
                wt = stacking_weights(F[~test], a[~test], om[~test])
            out[test] = F[test] @ wt
        return out

    def _last_lead(self, table: dict, k: int):
        """The entry for lead k, else for the longest validated lead (None if empty)."""
        return table.get(k, table[max(table)]) if table else None

    def _members_for(self, k: int) -> list[str]:
        return self._last_lead(self._chosen, k) or self._default

    def _combine_values(self, k: int, vals: dict[str, np.ndarray], shrink: bool = True,
                        naive: np.ndarray | None = None) -> np.ndarray:
        """Combination at lead k of member values (arrays of equal length), optionally
        blended with the naive values by the lead's shrinkage weight."""
        ms = list(vals)
        m = np.column_stack([vals[x] for x in ms])
        if self.combine in ("inverse_mape", "stack") and self._weights:
            c = m @ self._last_lead(self._weights, k)
        elif self.combine == "median":
            c = np.median(m, axis=1)
        else:
            c = np.mean(m, axis=1)
        if shrink and self._shrink and naive is not None:
            w = self._last_lead(self._shrink, k)
            c = w * c + (1 - w) * naive
        return c

    def _predict(self, h: int, X, level: Sequence[int]):
        if self._flow_model is not None:
            fc = self._flow_model.predict(h, X, level)
            return fc["flow"].to_numpy(), {lv: (fc[f"flow-lo-{lv}"].to_numpy(),
                                                fc[f"flow-hi-{lv}"].to_numpy()) for lv in level}
        names = {m for k in range(1, h + 1) for m in self._members_for(k)}
        if self._shrink:
            names.add("naive")
        names = sorted(names, key=self._members.index)
        frames = {m: cached_forecast(self._member(m), self._y, self._X, h, level) for m in names}
        mean = np.empty(h)
        bounds = {lv: (np.empty(h), np.empty(h)) for lv in level}

        def at(col: str, m: str, i: int) -> np.ndarray:
            return np.array([frames[m][col.format(m=m)].iloc[i]])

        for i in range(h):
            ms = self._members_for(i + 1)
            nv = {c: at(c, "naive", i) for c in ("{m}", *(f"{{m}}-{s}-{lv}" for lv in level
                                                         for s in ("lo", "hi")))} \
                if "naive" in frames else {}
            mean[i] = self._combine_values(i + 1, {m: at("{m}", m, i) for m in ms},
                                           naive=nv.get("{m}"))[0]
            for lv in level:
                for j, side in enumerate(("lo", "hi")):
                    col = f"{{m}}-{side}-{lv}"
                    bounds[lv][j][i] = self._combine_values(
                        i + 1, {m: at(col, m, i) for m in ms}, naive=nv.get(col))[0]
        if self.interval_method_ != "conformal":
            return mean, bounds
        out = {}
        last = None
        for lv in level:
            lo, hi = np.empty(h), np.empty(h)
            for i in range(h):
                e = self._errors.get(i + 1)
                if e is not None and len(e) >= self.min_errors:
                    q, last = conformal_quantile(e, lv), (e, i + 1)
                else:  # beyond the validated leads: widen the last lead's quantile by √(k/j)
                    e, j = last if last is not None else (np.array([0.0]), 1)
                    q = conformal_quantile(e, lv) * np.sqrt((i + 1) / j)
                q *= _scale_for(self.interval_scale, lv, i + 1)
                lo[i], hi[i] = mean[i] * (1 - q), mean[i] * (1 + q)
            out[lv] = (lo, hi)
        return mean, out
