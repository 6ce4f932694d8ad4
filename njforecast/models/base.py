"""The forecaster protocol (DESIGN §5) and helpers shared by every model.

Public names:
    Forecaster          base class: ``__init__(…, alias)``, ``fit(y, X=None) -> self``,
                        ``predict(h, X=None, level=(80, 95))``; fitted state in ``*_`` attributes
    check_series(y)     validate a yearly series (int years, consecutive, finite) → float Series
    series_id(area, indicator), split_series_id(sid)
    forecast_frame(...) the forecast frame: year, <alias>, <alias>-lo-80, <alias>-hi-80, …
    normal_intervals(mean, sd, level), empirical_intervals(mean, errors, level)
    conformal_quantile(errors, level)   finite-sample split-conformal quantile
    interval_columns(alias, level)
    set_default_fallback(factory)   register the default fallback model (done by ``baselines``)

Conventions:
    * ``y`` is a pandas Series indexed by year (int, consecutive), values in the series' unit
      (persons, pupils, teachers or percent). ``y.name`` is the series id ``"<area>|<indicator>"``
      when a model needs to know it (global and structural models).
    * ``X`` (optional) is an observations frame in long format (area, year, indicator, value)
      holding other series known at the forecast origin — drivers for structural models, the
      pool for global models. The back-test truncates it at the cutoff, so a model can never see
      the future through X.
    * Intervals are central prediction intervals at ``level`` percent (default 80 and 95).
    * A model that lacks data (``len(y) < min_length``) fits its ``fallback`` model instead,
      logs it and records the fact in ``fallback_`` — it never fails silently. A model whose
      fit raises (numerical failure, too little pooled data) does the same, with a warning
      and the error type in ``fallback_``. A fitted model whose forecast or bounds are not
      finite at some lead (e.g. a driver value missing) answers that ``predict`` call with its
      fallback's forecast, logged and recorded in ``predict_fallback_`` (the fitted model is
      kept: a later call with a shorter horizon may be finite).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .. import schema as S

log = logging.getLogger("njforecast.models")

LEVELS = (80, 95)
SEP = "|"


def series_id(area: str, indicator: str) -> str:
    """``"<area>|<indicator>"``, the id of one observed series."""
    return f"{area}{SEP}{indicator}"


def split_series_id(sid: str) -> tuple[str, str]:
    """Inverse of :func:`series_id` → (area, indicator)."""
    area, _, indicator = str(sid).partition(SEP)
    return area, indicator


def interval_columns(alias: str, level: Sequence[int] = LEVELS) -> list[str]:
    """``[<alias>-lo-80, <alias>-hi-80, <alias>-lo-95, <alias>-hi-95]`` for level (80, 95)."""
    return [f"{alias}-{side}-{lv}" for lv in level for side in ("lo", "hi")]


def check_series(y: pd.Series, what: str = "series") -> pd.Series:
    """Validate a yearly series and return it as float, sorted by year.

    Raises:
        ValueError: empty, non-integer or duplicated years, a gap between years, or
            non-finite values — the message names the series and the years.
    """
    if not isinstance(y, pd.Series):
        raise ValueError(f"{what}: expected a pandas Series indexed by year, got "
                         f"{type(y).__name__}")
    name = y.name if y.name is not None else what
    if len(y) == 0:
        raise ValueError(f"{name}: the series is empty")
    try:
        years = np.asarray(y.index, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: index must be integer years") from exc
    if not np.all(years == np.round(years)):
        raise ValueError(f"{name}: index must be integer years, got {list(y.index[:5])}")
    out = pd.Series(np.asarray(y.values, dtype=float), index=years.astype(int), name=y.name)
    out = out.sort_index()
    if out.index.has_duplicates:
        dup = sorted(set(out.index[out.index.duplicated()]))
        raise ValueError(f"{name}: year(s) {dup} appear more than once; keep one value per year")
    gaps = np.flatnonzero(np.diff(out.index) != 1)
    if len(gaps):
        a, b = out.index[gaps[0]], out.index[gaps[0] + 1]
        raise ValueError(f"{name}: years must be consecutive; {a} is followed by {b}. Fill the "
                         "gap or start the series after it")
    bad = ~np.isfinite(out.values)
    if bad.any():
        raise ValueError(f"{name}: non-finite value in year(s) {list(out.index[bad])}")
    return out


def normal_intervals(mean: np.ndarray, sd: np.ndarray, level: Sequence[int] = LEVELS
                     ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Central normal intervals ``mean ± z_{(1+l/100)/2} · sd`` for each level l."""
    out = {}
    for lv in level:
        z = stats.norm.ppf(0.5 + lv / 200.0)
        out[lv] = (mean - z * sd, mean + z * sd)
    return out


def empirical_intervals(mean: np.ndarray, errors: Sequence[np.ndarray],
                        level: Sequence[int] = LEVELS, relative: bool = True
                        ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Intervals from empirical forecast errors by lead (split-conformal style).

    Args:
        mean: point forecasts for leads 1..h.
        errors: per lead, an array of past errors; relative errors ``actual/forecast − 1``
            when ``relative`` is true, else ``actual − forecast``. A lead without errors uses the
            last lead that has some, widened by sqrt(lead ratio) (random-walk growth).
        level: interval levels in percent.

    Returns:
        level → (lo, hi) arrays; quantiles (1 − l/100)/2 and (1 + l/100)/2 of the errors.
        Reference: Vovk, Gammerman & Shafer (2005); Lei et al. (2018) split conformal.
    """
    h = len(mean)
    out = {lv: (np.empty(h), np.empty(h)) for lv in level}
    last = None
    for i in range(h):
        e = np.asarray(errors[i], dtype=float) if i < len(errors) else np.array([])
        e = e[np.isfinite(e)]
        scale = 1.0
        if len(e) == 0:
            if last is None:
                e, scale = np.array([0.0]), 1.0
            else:
                e, j = last
                scale = np.sqrt((i + 1) / (j + 1))
        else:
            last = (e, i)
        for lv in level:
            q_lo, q_hi = np.quantile(e, [0.5 - lv / 200.0, 0.5 + lv / 200.0])
            if relative:
                out[lv][0][i] = mean[i] * (1 + scale * min(q_lo, 0.0))
                out[lv][1][i] = mean[i] * (1 + scale * max(q_hi, 0.0))
            else:
                out[lv][0][i] = mean[i] + scale * min(q_lo, 0.0)
                out[lv][1][i] = mean[i] + scale * max(q_hi, 0.0)
    return out


def conformal_quantile(errors: Sequence[float] | np.ndarray, level: float) -> float:
    """Finite-sample split-conformal quantile of non-negative scores.

    For n exchangeable scores and coverage l (percent) the bound is the k-th smallest score
    with k = ⌈(n + 1)·l/100⌉ (Lei et al. 2018, eq. 2; Angelopoulos & Bates 2023 §1); when
    k > n the largest score is used (the interval cannot be calibrated wider from n scores).

    Args:
        errors: scores, e.g. absolute relative errors |a/f − 1| (unitless).
        level: coverage in percent (0 < level < 100).

    Returns:
        The score quantile (same units as ``errors``); NaN for no scores.
    """
    e = np.sort(np.asarray(errors, dtype=float))
    n = len(e)
    if n == 0:
        return float("nan")
    k = math.ceil((n + 1) * float(level) / 100.0)
    return float(e[min(max(k, 1), n) - 1])


def forecast_frame(alias: str, years: Sequence[int], mean: np.ndarray,
                   intervals: dict[int, tuple[np.ndarray, np.ndarray]],
                   level: Sequence[int] = LEVELS, lower: float | None = 0.0,
                   upper: float | None = None) -> pd.DataFrame:
    """Assemble ``year, <alias>, <alias>-lo-<l>, <alias>-hi-<l>`` (clipped to [lower, upper]).

    Counts cannot be negative and rates are capped (e.g. 0–200 %); clipping is applied to the
    mean and to the bounds, and the bounds are made to contain the mean.
    """
    mean = np.clip(np.asarray(mean, dtype=float), lower, upper)
    data = {S.YEAR: np.asarray(years, dtype=int), alias: mean}
    for lv in level:
        lo, hi = intervals[lv]
        lo = np.minimum(np.clip(np.asarray(lo, dtype=float), lower, upper), mean)
        hi = np.maximum(np.clip(np.asarray(hi, dtype=float), lower, upper), mean)
        data[f"{alias}-lo-{lv}"] = lo
        data[f"{alias}-hi-{lv}"] = hi
    return pd.DataFrame(data)


class TooLittleData(ValueError):
    """A model cannot be fitted because the data are too few for it (e.g. no pool for a
    pooled model): an expected case, so the fallback is logged at INFO, not as a failure."""


#: Builds the default fallback for a model (the naive model with the model's alias and bounds);
#: registered by :mod:`.baselines`, which builds on this module, so this module never imports it.
_default_fallback: Callable[[Forecaster], Forecaster] | None = None


def set_default_fallback(factory: Callable[[Forecaster], Forecaster]) -> None:
    """Register the factory of the default fallback model (``baselines`` registers naive)."""
    global _default_fallback
    _default_fallback = factory


def _naive(model: Forecaster) -> Forecaster:
    """The default fallback for ``model`` (naive unless another factory was registered)."""
    if _default_fallback is None:
        raise RuntimeError("no default fallback model registered: import njforecast.models "
                           "(its baselines module registers naive)")
    return _default_fallback(model)


class Forecaster:
    """Base class of every model (the DESIGN §5 protocol).

    Subclasses implement ``_fit(y, X)`` and ``_predict(h, X, level) -> (mean, intervals)``;
    the base class validates input, handles the minimum-length fallback and builds the frame.

    Attributes:
        alias: column name of the forecast (default: the model's short name).
        min_length: fewest observations the model needs; below it ``fallback`` is used.
        fallback: factory of the model used when the series is too short (None: raise).
        lower, upper: bounds applied to forecasts (0 for counts; set ``upper`` for rates).
        y_: the training series (after validation); ``cutoff_`` its last year.
        fallback_: name of the fallback model actually used, or None.
    """

    name = "base"
    min_length = 1
    #: whether forecasts depend on X (the forecast cache keys on X only for these)
    uses_X = False

    def __init__(self, alias: str | None = None, lower: float | None = 0.0,
                 upper: float | None = None):
        self.alias = alias or self.name
        self.lower = lower
        self.upper = upper

    # --- protocol ---------------------------------------------------------------------
    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Forecaster:
        """Fit to ``y`` (yearly series indexed by year); ``X`` optional drivers/pool."""
        y = check_series(y, self.alias)
        self.y_ = y
        self.cutoff_ = int(y.index[-1])
        self.fallback_ = None
        self._fallback_model = None
        self._fit_X = X
        if len(y) < self.min_length:
            fb = self.fallback_model()
            if fb is None:
                raise ValueError(f"{y.name or self.alias}: {self.name} needs at least "
                                 f"{self.min_length} observations, got {len(y)}")
            log.info("%s: %s needs %d observations, got %d; using %s instead",
                        y.name or "series", self.name, self.min_length, len(y), fb.name)
            self.fallback_ = fb.name
            self._fallback_model = fb.fit(y, X)
            return self
        try:
            self._fit(y, X)
        except Exception as exc:  # numerical failure or too little pooled data: say so, fall back
            fb = self.fallback_model() or _naive(self)
            if fb.min_length > len(y):
                fb = _naive(self)
            log.log(logging.INFO if isinstance(exc, TooLittleData) else logging.WARNING,
                    "%s: %s %s (%s: %s); using %s instead", y.name or "series", self.name,
                    "not usable" if isinstance(exc, TooLittleData) else "failed",
                    type(exc).__name__, exc, fb.name)
            self.fallback_ = f"{fb.name} ({type(exc).__name__})"
            self._fallback_model = fb.fit(y, X)
        return self

    def predict(self, h: int, X: pd.DataFrame | None = None,
                level: Sequence[int] = LEVELS) -> pd.DataFrame:
        """Forecast leads 1..h after the last training year.

        Returns:
            Frame with columns year, <alias>, <alias>-lo-<l>, <alias>-hi-<l> for l in level
            (same unit as y).
        """
        if not hasattr(self, "y_"):
            raise ValueError(f"{self.alias}: call fit() before predict()")
        if int(h) < 1:
            raise ValueError(f"{self.alias}: horizon h must be >= 1, got {h}")
        h = int(h)
        level = tuple(int(lv) for lv in level)
        if self._fallback_model is not None:
            fc = self._fallback_model.predict(h, X, level)
            return fc.rename(columns=lambda c: c.replace(self._fallback_model.alias, self.alias, 1)
                             if c != S.YEAR else c)
        mean, intervals = self._predict(h, X, level)
        vals = [np.asarray(mean, dtype=float), *(np.asarray(b, dtype=float)
                                                 for lv in level for b in intervals[lv])]
        bad = ~np.all(np.isfinite(np.vstack(vals)), axis=0)
        self.predict_fallback_ = None
        if bad.any():  # never hand on a NaN forecast or bound: this path falls back, recorded
            fb = self.fallback_model() or _naive(self)
            if fb.min_length > len(self.y_):
                fb = _naive(self)
            log.warning("%s: %s gave no finite forecast at lead(s) %s; using %s for this "
                        "forecast", self.y_.name or "series", self.name,
                        ",".join(map(str, np.flatnonzero(bad) + 1)), fb.name)
            fc = fb.fit(self.y_, self._fit_X).predict(h, X, level)
            # the record, not the model, changes: a later predict tries the model again
            self.predict_fallback_ = f"{fb.name} (non-finite at lead {np.flatnonzero(bad)[0] + 1})"
            return fc.rename(columns=lambda c: c.replace(fb.alias, self.alias, 1)
                             if c != S.YEAR else c)
        years = np.arange(self.cutoff_ + 1, self.cutoff_ + h + 1)
        return forecast_frame(self.alias, years, mean, intervals, level, self.lower, self.upper)

    def fallback_model(self) -> Forecaster | None:
        """The model used when the series is too short (naive by default)."""
        return _naive(self)

    def get_params(self) -> dict:
        """Constructor parameters (public attributes without a trailing underscore)."""
        return {k: v for k, v in vars(self).items()
                if not k.startswith("_") and not k.endswith("_")}

    def fitted_params(self) -> dict:
        """Fitted state worth logging (scalars among the ``*_`` attributes)."""
        out = {}
        for k, v in vars(self).items():
            if k.endswith("_") and not k.startswith("_") and isinstance(
                    v, (int, float, str, bool, np.floating, np.integer, type(None))):
                out[k] = v
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --- to implement -----------------------------------------------------------------
    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        raise NotImplementedError

    def _predict(self, h: int, X: pd.DataFrame | None, level: Sequence[int]
                 ) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
        raise NotImplementedError
