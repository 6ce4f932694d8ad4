"""Helpers shared by the benchmark scripts (not part of the package): a markdown table printer
and the interval-calibration factors of ``auto``'s design studies."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from njforecast import schema as S
from njforecast.models.ensemble import conformal_quantile


def markdown(t: pd.DataFrame, fmt: str = ".3g") -> str:
    """A small markdown table (no tabulate dependency); floats formatted with ``fmt``."""
    cols = [t.index.name or "", *map(str, t.columns)]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in t.iterrows():
        out.append("| " + " | ".join([str(idx), *(format(v, fmt) if isinstance(v, float) else
                                                   str(v) for v in row)]) + " |")
    return "\n".join(out)


def calibration_factors(cv: pd.DataFrame, variants: Iterable[str]) -> pd.DataFrame:
    """Widening factors c(l, h) of uncalibrated intervals: the finite-sample l-quantile of
    |a/f − 1| / q over the forecasts (q = relative half-width), overall and by lead 1–5, with
    the uncalibrated coverage (percent), per variant and level."""
    rows = []
    for v in variants:
        sub = cv[cv[S.MODEL] == v]
        f, a = sub[S.FORECAST].to_numpy(), sub[S.ACTUAL].to_numpy()
        for lv, lo, hi in ((80, S.LO80, S.HI80), (95, S.LO95, S.HI95)):
            q = sub[hi].to_numpy() / f - 1
            cov = np.mean((a >= sub[lo].to_numpy()) & (a <= sub[hi].to_numpy())) * 100
            c = np.abs(a / f - 1) / q
            by = {f"c_h{k}": conformal_quantile(c[sub[S.H].to_numpy() == k], lv)
                  for k in range(1, 6)}
            rows.append({"variant": v, "level": lv, "coverage_uncal": cov,
                         "c_all": conformal_quantile(c, lv), **by})
    return pd.DataFrame(rows).set_index("variant")
