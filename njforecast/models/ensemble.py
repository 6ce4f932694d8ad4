"""Combinations of forecasters and ``auto``, the package's recommended model.

Public classes: Combination, Auto.

* Combination: the mean (or median) of member forecasts; interval bounds are the same
  statistic of the members' bounds ("averaging quantiles", Lichtendahl, Grushka-Cockayne &
  Winkler 2013). Simple combinations are hard to beat on yearly series (M3/M4: Makridakis
  et al. 2020).
* Auto: chooses and combines members using only the training window. At fit time it runs an
  inner rolling-origin validation *inside* the training series — cutoffs T−1, …, T−k, leads up
  to ``inner_h`` but never past T — scores each member by the mean absolute percentage error
  over those inner forecasts, and combines the ``top_k`` best (mean). Nothing after T is ever
  read, so the outer back-test stays honest (the no-look-ahead test proves it).
  Member fits at inner cutoffs are memoised by (model, series values up to that cutoff, X up
  to that cutoff), so a rolling back-test re-uses them across outer cutoffs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from .base import LEVELS, Forecaster, empirical_intervals, log, series_id, split_series_id

#: Members of ``auto`` by default (Prophet is left out for speed; add it in config if wanted).
AUTO_MEMBERS = ("naive", "drift", "theta", "ets", "arima", "global", "structural")

_CACHE: dict[tuple, pd.DataFrame] = {}
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
                    level: Sequence[int] = LEVELS) -> pd.DataFrame:
    """``model.fit(y, X).predict(h)`` memoised on (model repr, data digest, h, level)."""
    key = (repr(model), _digest(y, X if getattr(model, "uses_X", False) else None), int(h),
           tuple(level))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit.copy()
    fc = model.fit(y, X).predict(h, X, level)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = fc
    return fc.copy()


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
    """Members ranked by inner rolling-origin validation inside the training window; mean of
    the ``top_k`` best; intervals calibrated on the same inner forecasts.

    Args:
        members: candidate registry names (default :data:`AUTO_MEMBERS`).
        top_k: how many of the best members to average.
        inner_windows: inner cutoffs T−1 … T−inner_windows (only those leaving at least
            ``min_train`` training years are used).
        inner_h: leads forecast at each inner cutoff (only years ≤ T are scored).
        min_train: shortest inner training window.
        pool: score members on every series of the same indicator in X (all areas, data up
            to T only) as well as on y — more evidence for the choice (a "global" selection,
            as in Montero-Manso & Hyndman 2021) — or on y alone (False).
        intervals: "conformal" — relative errors of the combined inner forecasts, by lead,
            give the bounds (split-conformal, Lei et al. 2018) when at least ``min_errors``
            exist per lead; otherwise (or with "members") the mean of the members' bounds.

    Attributes:
        selected_: members combined (best first); scores_: inner MAPE per member (text);
        n_inner_: inner forecasts scored per member; n_pool_: series in the selection pool;
        interval_method_: "conformal" or "members".
    """

    name = "auto"
    uses_X = True

    def __init__(self, alias: str | None = None, members: Sequence[str] = AUTO_MEMBERS,
                 top_k: int = 3, inner_windows: int = 5, inner_h: int = 5, min_train: int = 6,
                 pool: bool = True, intervals: str = "conformal", min_errors: int = 10,
                 lower: float | None = 0.0, upper: float | None = None):
        super().__init__(alias, lower, upper)
        if intervals not in ("conformal", "members"):
            raise ValueError(f"auto: intervals must be 'conformal' or 'members', got "
                             f"{intervals!r}")
        self.members = tuple(members)
        self.top_k = int(top_k)
        self.inner_windows = int(inner_windows)
        self.inner_h = int(inner_h)
        self.min_train = int(min_train)
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
        pool = self._pool_series(y, Xt)
        # inner forecasts: (member) -> list of (lead, actual, forecast)
        records: dict[str, list[tuple[int, float, float, str, int]]] = {m: [] for m in
                                                                         self.members}
        for s in pool:
            Ts = int(s.index[-1])
            cuts = [Ts - k for k in range(1, self.inner_windows + 1)
                    if (Ts - k) - int(s.index[0]) + 1 >= self.min_train]
            for c in cuts:
                sc = s[s.index <= c]
                Xc = None if Xt is None else Xt[Xt[S.YEAR] <= c]
                act = s.reindex(range(c + 1, min(c + self.inner_h, Ts) + 1)).to_numpy()
                for name in self.members:
                    fc = cached_forecast(self._member(name), sc, Xc, self.inner_h)
                    f = fc[name].to_numpy()[: len(act)]
                    for i, (a, fv) in enumerate(zip(act, f, strict=True)):
                        records[name].append((i + 1, a, fv, s.name, c))
        self.n_pool_ = len(pool)
        self.n_inner_ = len(records[self.members[0]])
        scores: dict[str, float] = {}
        if self.n_inner_:
            for name, rec in records.items():
                df = pd.DataFrame(rec, columns=["lead", "a", "f", "sid", "c"])
                df["ape"] = np.abs(df["f"] - df["a"]) / np.abs(df["a"]) * 100
                scores[name] = float(df.groupby("lead")["ape"].mean().mean())
            ranked = sorted(self.members, key=lambda m: (scores[m], self.members.index(m)))
            chosen = ranked[: self.top_k]
        else:
            chosen = [m for m in ("naive", "drift", "theta") if m in self.members] or \
                list(self.members[:1])
            log.warning("%s: too short for inner validation (%d years < %d + 1); auto uses "
                        "the mean of %s", y.name, len(y), self.min_train, ",".join(chosen))
        self.selected_ = ",".join(chosen)
        self.scores_ = ";".join(f"{m}={s:.3g}" for m, s in scores.items())
        # relative errors of the combined inner forecasts, by lead
        self._errors: list[np.ndarray] = []
        self.interval_method_ = "members"
        if self.intervals == "conformal" and self.n_inner_:
            f = np.mean([np.array([r[2] for r in records[m]]) for m in chosen], axis=0)
            a = np.array([r[1] for r in records[chosen[0]]])
            lead = np.array([r[0] for r in records[chosen[0]]])
            rel = a / f - 1
            errs = [rel[lead == k] for k in range(1, self.inner_h + 1)]
            if all(len(e) >= self.min_errors for e in errs[:1]):
                self._errors = errs
                self.interval_method_ = "conformal"
        self._fitted = [(m, self._member(m)) for m in chosen]
        self._y, self._X = y, Xt

    def _predict(self, h: int, X, level: Sequence[int]):
        frames = [cached_forecast(m, self._y, self._X, h, level) for _, m in self._fitted]
        c = _combine("c", frames, [name for name, _ in self._fitted], "mean", level)
        mean = c["c"].to_numpy()
        if self.interval_method_ == "conformal":
            errs = [e if len(e) >= self.min_errors else np.array([]) for e in self._errors]
            return mean, empirical_intervals(mean, errs, level, relative=True)
        return mean, {lv: (c[f"c-lo-{lv}"].to_numpy(), c[f"c-hi-{lv}"].to_numpy())
                      for lv in level}
