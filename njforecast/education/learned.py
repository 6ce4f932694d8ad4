"""Learned ratio paths: a damped trend of a log ratio fitted to its own history up to the jump-off.

Public names:
    FALLBACK_DAMPING, HISTORY_YEARS, MIN_POINTS   the rule's constants
    LearnedTrend                                  slope, spread and how they were found
    learn_log_trend(series, jump_off, damping)    fit the rule to a ratio series (≤ J only)
    learned_multipliers(trend, years, ...)        m_d(t) = R_d(t) / R(J), (d, T)
    inner_origin_sd(series, damping)              the rule's own error from inner origins
    inner_origin_errors(series, damping, forecast)  the same for any path rule
    damped_sum(h, damping)                        Σ_{i=1..h} φ^i

The rule (issue 15 part 3; fixed before any forecast made with it was scored). For a positive
ratio series R(t) — an enrolment rate (pupils per person of the band's ages) or a pupil–teacher
ratio — observed up to the jump-off year J:

* **History.** Only years J − :data:`HISTORY_YEARS` … J; nothing after J is read (J: the
  series' last year ≤ the jump-off, at most :data:`MAX_STALE` years before it).
* **Slope.** b = the least-squares slope of log R(t) on t over the last
  :data:`~njforecast.education.trend.TREND_WINDOW` + 1 years (J − 5 … J), at least
  :data:`MIN_POINTS` values, J among them; else no trend (the ratio is held).
* **Damping.** φ given by the caller: the engine's ``trend_parameters`` φ where the national
  rate histories up to J allow it, else :data:`FALLBACK_DAMPING` = 0.8, the low end of the
  range damped-trend methods use (Gardner & McKenzie 1985; Hyndman & Athanasopoulos,
  *Forecasting: Principles and Practice*, 3rd ed., §8.2: φ between 0.8 and 0.98). The total
  change is bounded by the damping: |log R(∞) − log R(J)| ≤ |b| φ / (1 − φ).
* **Drift spread.** σ = the standard deviation (ddof 1) of the same slope fitted on every
  earlier window of the history (windows ending J − 4 … J, each with ≥ MIN_POINTS values) —
  how much a five-year trend of this very series has moved; with fewer than two such windows,
  the sd of the annual changes of log R divided by √5 (the standard error of a five-year mean
  change), and with fewer than three annual changes, |b|.
* **Inner-origin spread** (``spread="inner"``; ``evaluate``'s learned paths and the engine's
  ``ratio_path = "trend"``). The same rule run from every observed inner origin
  o = J − 5 … J − 1 (its slope window o − 5 … o inside the history J − 10 … J the path reads;
  only values ≤ o) and scored on the later values t ≤ J gives the slope shock that would
  have produced each error,
  z(o, t) = [log R(t) − log R̂_o(t)] / Σ_{i=1..t−o} φ^i; σ_inner = √mean z² (at least
  :data:`MIN_PAIRS` pairs). The path's σ is max(σ, σ_inner): the rule's own out-of-sample
  error on this series bounds the spread from below (empirical limits from past errors,
  Williams & Goodman 1971, *JASA* 66:752–754; the pairs up to J only).
* **Path.** log R_d(t) = log R(J) + (b + ε_d) Σ_{i=1..t−J} φ^i, ε_d ~ Normal(0, σ) per draw
  (:func:`njforecast.models.paths.drift_shocks`, keyed by the series), i.e.
  m_d(t) = exp(damped trend of log R from 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models.paths import drift_shocks
from .trend import TREND_WINDOW, damped_trend, trend_parameters

#: φ when the national rate histories up to J cannot give one (module docstring)
FALLBACK_DAMPING = 0.8
#: years before J a learned path may read
HISTORY_YEARS = 10
#: fewest values in a slope window
MIN_POINTS = 3
#: most years a series may end before J and still give a path
MAX_STALE = 2
#: fewest (origin, year) pairs for the inner-origin spread
MIN_PAIRS = 3
#: how the drift spread σ is found: "slopes" (earlier five-year slopes) or "inner" (max of
#: that and the rule's inner-origin error; module docstring)
SPREADS = ("slopes", "inner")
#: what the draws of a path are centred on (:func:`learned_multipliers`)
CENTRES = ("value", "reciprocal")


@dataclass(frozen=True)
class LearnedTrend:
    """A fitted learned path: slope b and spread σ of log R a year, damping φ, the last
    observed year L and R(L), note."""

    slope: float
    sd: float
    damping: float
    level: float
    note: str
    last: int


def damping_for(observations: pd.DataFrame) -> float:
    """φ of the rule: ``trend_parameters``' damping estimated from ``observations`` (the
    caller passes those dated ≤ J), else :data:`FALLBACK_DAMPING`."""
    try:
        return float(trend_parameters(observations)["damping"])
    except ValueError:
        return FALLBACK_DAMPING


def _slope(s: pd.Series, end: int) -> float | None:
    w = s[(s.index >= end - TREND_WINDOW) & (s.index <= end)]
    if len(w) < MIN_POINTS or end not in w.index:
        return None
    x = w.index.to_numpy(float)
    return float(np.polyfit(x - x.mean(), np.log(w.to_numpy(float)), 1)[0])


def damped_sum(h, damping: float):
    """Σ_{i=1..h} φ^i = φ(1 − φ^h)/(1 − φ) (h when φ = 1), elementwise over ``h``."""
    h = np.asarray(h, dtype=float)
    return h if damping == 1 else damping * (1 - damping ** h) / (1 - damping)


def inner_origin_errors(series: pd.Series, damping: float, forecast) -> tuple[float, int]:
    """√mean z² of the slope-equivalent errors z = [y(t) − ŷ_o(t)] / Σ_{i=1..t−o} φ^i of a
    path rule run from the inner origins o = L − 5 … L − 1 of ``series`` (L its last year;
    each origin's slope window o − 5 … o inside the ten years a path reads) and scored on
    every later year t ≤ L.

    Args:
        series: year → value y, cut to the years the path reads (≤ J).
        damping: φ.
        forecast: ``forecast(history ≤ o, o, years t)`` → ŷ_o(t) on the scale of y, or None
            where the rule gives no path from o (that origin is skipped).

    Returns:
        (σ_inner, number of pairs); (nan, pairs) when there are fewer than :data:`MIN_PAIRS`.
    """
    s = series.sort_index()
    last = int(s.index.max())
    z = []
    for o in s.index[(s.index >= last - HISTORY_YEARS + TREND_WINDOW) & (s.index < last)]:
        t = s.index[s.index > o].to_numpy(int)
        pred = forecast(s[s.index <= o], int(o), t)
        if pred is not None:
            z.extend((s.loc[t].to_numpy(float) - np.ravel(pred)) / damped_sum(t - o, damping))
    if len(z) < MIN_PAIRS:
        return float("nan"), len(z)
    return float(np.sqrt(np.mean(np.square(z)))), len(z)


def inner_origin_sd(series: pd.Series, damping: float) -> tuple[float, int]:
    """σ_inner of this module's rule on ``series`` (cut to the years the path reads, ≤ J):
    :func:`inner_origin_errors` on log R (module docstring)."""

    def forecast(hist, o, t):
        tr = learn_log_trend(hist, o, damping)
        if tr is None or tr.last != o:
            return None
        return np.log(tr.level) + np.log(learned_multipliers(tr, t, o)[0])

    logs = np.log(series.astype(float))
    return inner_origin_errors(logs, damping, lambda h, o, t: forecast(np.exp(h), o, t))


def learn_log_trend(series: pd.Series, jump_off: int, damping: float,
                    spread: str = "slopes") -> LearnedTrend | None:
    """Fit the module's rule to ``series`` (year → positive ratio) using years ≤ ``jump_off``.

    The rule's J is the series' last year L ≤ ``jump_off`` when that is at most
    :data:`MAX_STALE` years earlier (a published series often ends a year before the census
    year): the fit ends at L and the path runs from L (:func:`learned_multipliers`).

    ``spread="inner"`` raises σ to the rule's inner-origin error where that is larger
    (:func:`inner_origin_sd`).

    Returns:
        The :class:`LearnedTrend`, or None when the series has no value in
        ``jump_off`` − MAX_STALE … ``jump_off`` or fewer than :data:`MIN_POINTS` positive
        values in L − 5 … L (the ratio is then held).
    """
    s = pd.Series(series, dtype=float).dropna()
    s.index = s.index.astype(int)
    s = s[(s.index <= jump_off) & (s > 0)]
    if s.empty or s.index.max() < jump_off - MAX_STALE:
        return None
    last = int(s.index.max())
    s = s[s.index >= last - HISTORY_YEARS].sort_index()
    b = _slope(s, last)
    if b is None:
        return None
    earlier = [v for end in range(last - TREND_WINDOW + 1, last + 1)
               if (v := _slope(s, end)) is not None]
    how = "sd of the 5-year slopes ending J−4…J"
    if len(earlier) >= 2:
        sd = float(np.std(earlier, ddof=1))
    else:
        d = np.diff(np.log(s.to_numpy(float))) / np.diff(s.index.to_numpy(float))
        if len(d) >= 3:
            sd, how = float(np.std(d, ddof=1) / np.sqrt(TREND_WINDOW)), "sd of annual changes / √5"
        else:
            sd, how = abs(b), "|slope| (history too short)"
    if spread == "inner":
        inner, pairs = inner_origin_sd(s, damping)
        if inner > sd:
            sd, how = inner, f"inner-origin error of the rule, {pairs} pairs"
        elif np.isnan(inner):
            how += f"; {pairs} inner-origin pairs, fewer than {MIN_PAIRS}"
        else:
            how += f"; inner-origin error {inner:.4f} ({pairs} pairs) not larger"
    elif spread not in SPREADS:
        raise ValueError(f"spread must be one of {list(SPREADS)}, got {spread!r}")
    note = (f"learned: log slope {b:+.4f} a year over {int(s.index.min())}–{last} "
            f"({len(s)} values), φ {damping:.3f}, σ {sd:.4f} ({how})")
    return LearnedTrend(slope=b, sd=sd, damping=float(damping), level=float(s[last]),
                        note=note, last=last)


def learned_multipliers(trend: LearnedTrend, years, jump_off: int, draw_ids=None,
                        seed: int = 0, key: str = "", centre: str | None = None) -> np.ndarray:
    """m_d(t) = R_d(t) / R_d(J) (d, T) of a :class:`LearnedTrend` over ``years`` (module rule;
    the path runs from the series' last year L ≤ J, so m = 1 at J).

    Args:
        trend: the fitted path.
        years: years of the path (J and later).
        jump_off: J.
        draw_ids: draw ids (None: the mean path, one row).
        seed, key: seed and series key of the per-draw slope shocks.
        centre: None (draws symmetric in log around the mean path), "value" (each draw ×
            exp(−½ σ² ΔS(t)²), ΔS(t) = Σ_{i=1..t−L} φ^i − Σ_{i=1..J−L} φ^i, so that the
            draws' expected value is the mean path: the log-normal mean correction, for a
            ratio that multiplies, like an enrolment rate) or "reciprocal" (× exp(+½ σ² ΔS²):
            the expected value of 1/m is 1/mean path, for a ratio that divides, like pupils
            per teacher). Either way a wide spread widens the interval without moving the
            mean of the quantity forecast.
    """
    h = np.asarray(years, dtype=float) - trend.last
    shocks = 0.0 if draw_ids is None else drift_shocks(draw_ids, trend.sd, seed, key)
    log_r = damped_trend(0.0, trend.slope + shocks, np.append(h, jump_off - trend.last),
                         trend.damping, -np.inf, np.inf)
    out = np.exp(log_r[:, :-1] - log_r[:, -1:])
    if centre is not None and centre not in CENTRES:
        raise ValueError(f"centre must be one of {list(CENTRES)} or None, got {centre!r}")
    if centre is not None and draw_ids is not None:
        ds = damped_sum(h, trend.damping) - damped_sum(jump_off - trend.last, trend.damping)
        out *= np.exp((0.5 if centre == "reciprocal" else -0.5) * (trend.sd * ds) ** 2)
    return out


__all__ = ["CENTRES", "FALLBACK_DAMPING", "HISTORY_YEARS", "MAX_STALE", "MIN_PAIRS", "MIN_POINTS",
           "SPREADS", "LearnedTrend", "damped_sum", "damping_for", "inner_origin_errors",
           "inner_origin_sd", "learn_log_trend", "learned_multipliers"]
