"""Summaries over the draw axis: the one place draws become means and intervals.

Public names:
    QUANTILES (name → probability), summarise(x) → {mean, lo80, hi80, lo95, hi95},
    p_meet(x, target, comparison) → share of draws meeting a target.

Intervals are central: 80 % = 10th–90th percentile, 95 % = 2.5th–97.5th percentile, by linear
interpolation between order statistics (numpy's and pandas' default), so a frame summarised
with pandas ``groupby().quantile`` and an array summarised here agree.
"""

from __future__ import annotations

import numpy as np

from .. import schema as S

#: Summary column → probability of the quantile.
QUANTILES = {S.LO80: 0.1, S.HI80: 0.9, S.LO95: 0.025, S.HI95: 0.975}


def summarise(x: np.ndarray, axis: int = -1) -> dict[str, np.ndarray]:
    """Mean and central 80 %/95 % intervals of ``x`` over ``axis`` (the draws).

    Args:
        x: array with a draw axis (any unit; the unit is kept).
        axis: the draw axis.

    Returns:
        dict mean, lo80, hi80, lo95, hi95 → arrays without the draw axis.
    """
    x = np.asarray(x, dtype=float)
    q = np.quantile(x, list(QUANTILES.values()), axis=axis)
    out = {S.MEAN: x.mean(axis=axis)}
    out.update({name: q[i] for i, name in enumerate(QUANTILES)})
    return out


def p_meet(x: np.ndarray, target: float, comparison: str, axis: int = -1) -> np.ndarray:
    """Share of draws meeting ``target``: x ≥ target ("at_least") or x ≤ target ("at_most")."""
    x = np.asarray(x, dtype=float)
    if comparison == "at_least":
        return (x >= target).mean(axis=axis)
    if comparison == "at_most":
        return (x <= target).mean(axis=axis)
    raise ValueError(f"comparison must be 'at_least' or 'at_most', got {comparison!r}")
