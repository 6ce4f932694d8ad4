"""Scores of an evaluation (``njforecast evaluate``): MAPE by lead next to naive, interval
coverage, absolute errors in one year.

Public names:
    mape_by_lead(table), coverage(table), errors_at(table, year), format_mape(mape)

APE = |forecast − actual| / |actual| × 100 (percent), for the engine's mean and for naive (the
jump-off year's value); rows are those of :data:`njforecast.evaluation.evaluate.EVALUATION_COLUMNS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S


def _ape(table: pd.DataFrame) -> pd.DataFrame:
    a = table[S.ACTUAL].abs().replace(0, np.nan)
    return table.assign(engine=100 * (table[S.MEAN] - table[S.ACTUAL]).abs() / a,
                        naive_ape=100 * (table["naive"] - table[S.ACTUAL]).abs() / a)


def mape_by_lead(table: pd.DataFrame) -> pd.DataFrame:
    """MAPE (percent) of the engine mean and of naive by indicator and lead h (all areas),
    plus an "all" lead: the mean over leads of the per-lead MAPEs."""
    cols = [S.INDICATOR, S.H, "engine_mape", "naive_mape", "n"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    t = _ape(table)
    by = t.groupby([S.INDICATOR, S.H]).agg(engine_mape=("engine", "mean"),
                                           naive_mape=("naive_ape", "mean"),
                                           n=("engine", "size")).reset_index()
    over = by.groupby(S.INDICATOR).agg(engine_mape=("engine_mape", "mean"),
                                       naive_mape=("naive_mape", "mean"),
                                       n=("n", "sum")).reset_index().assign(**{S.H: "all"})
    return pd.concat([by.astype({S.H: object}), over], ignore_index=True)[cols]


def coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Share of actuals inside the 80 % and 95 % intervals, by indicator (percent)."""
    cols = [S.INDICATOR, "inside_80_pct", "inside_95_pct", "n"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    t = table.assign(i80=(table[S.LO80] <= table[S.ACTUAL]) & (table[S.ACTUAL] <= table[S.HI80]),
                     i95=(table[S.LO95] <= table[S.ACTUAL]) & (table[S.ACTUAL] <= table[S.HI95]))
    return t.groupby(S.INDICATOR).agg(inside_80_pct=("i80", lambda s: 100 * s.mean()),
                                      inside_95_pct=("i95", lambda s: 100 * s.mean()),
                                      n=("i80", "size")).reset_index()[cols]


def errors_at(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """Absolute % error of the engine mean and of naive in one year, by area and indicator."""
    t = _ape(table[table[S.YEAR] == year])
    return t[[S.AREA, S.INDICATOR, S.ACTUAL, S.MEAN, "naive", "engine", "naive_ape"]].rename(
        columns={"engine": "engine_abs_pct_error", "naive_ape": "naive_abs_pct_error"})


def format_mape(mape: pd.DataFrame) -> str:
    """MAPE by lead, engine next to naive, one line per indicator (percent)."""
    if mape.empty:
        return "(no scored rows)"
    wide = mape.pivot(index=S.INDICATOR, columns=S.H, values=["engine_mape", "naive_mape"])
    leads = [h for h in mape[S.H].unique() if h != "all"] + ["all"]
    lines = ["MAPE % by lead h (engine / naive)",
             "indicator".ljust(34) + "".join(f"{'h=' + str(h):>14}" for h in leads)]
    for ind in wide.index:
        cells = []
        for h in leads:
            e, n = wide.get(("engine_mape", h), {}).get(ind), wide.get(("naive_mape", h),
                                                                       {}).get(ind)
            cells.append(f"{e:6.1f}/{n:<6.1f}" if pd.notna(e) else " " * 13)
        lines.append(ind.ljust(34) + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


__all__ = ["coverage", "errors_at", "format_mape", "mape_by_lead"]
