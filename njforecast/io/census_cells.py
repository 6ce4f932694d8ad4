"""Blank or malformed age cells of a census table: name each one, then refuse, drop or fill.

Public names:
    BLANK_CELL_POLICIES                   "refuse" (default), "drop", "zero"
    bad_cells_by_row(df, agecols)         per raw row, its unusable age cells (JSON text)
    census_bad_cells(areas)               one row per unusable cell: area, name_zh, column, value
    apply_cell_policy(pop, areas, path, policy)   the population frame under a policy, and the
                                          areas dropped or filled (area, name_zh, action, cells)

A cell is unusable when it is empty, not a number, or negative. A 2,000-county file should
not fail for one cell, and no area may vanish silently:
    refuse   DataError naming every cell (area, column) and the two ways forward
    drop     the areas with any unusable cell are left out, each listed with its cells
    zero     empty cells are read as 0 (each filled area listed); cells holding text or a
             negative number are still refused (a typo is not a zero)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from .errors import DataError

BLANK_CELL_POLICIES = ("refuse", "drop", "zero")
#: cells named in full in an error message (the rest are counted)
_LISTED = 20


def bad_cells_by_row(df: pd.DataFrame, agecols: dict[str, tuple[str, str]]) -> list[str]:
    """Per raw row, the unusable age cells as JSON ``[[column, text or null], …]`` ("" if none).

    ``text`` is the cell as written (null for an empty cell).
    """
    cols = list(agecols)
    raw = df[cols]
    num = raw.apply(pd.to_numeric, errors="coerce")
    bad = num.isna() | (num < 0)
    out = []
    for i in range(len(df)):
        row = bad.iloc[i]
        if not row.any():
            out.append("")
            continue
        cells = []
        for c in np.asarray(cols, dtype=object)[row.to_numpy()]:
            v = raw.iloc[i][c]
            blank = v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""
            cells.append([str(c).replace("\n", ""), None if blank else str(v)])
        out.append(json.dumps(cells, ensure_ascii=False))
    return out


def census_bad_cells(areas: pd.DataFrame) -> pd.DataFrame:
    """One row per unusable age cell: area, name_zh, column, value (None = empty)."""
    rows = []
    if "bad_cells" in areas:
        for r in areas[areas["bad_cells"].fillna("") != ""].itertuples(index=False):
            for col, val in json.loads(r.bad_cells):
                rows.append((r.area, r.name_zh, col, val))
    return pd.DataFrame(rows, columns=[S.AREA, "name_zh", "column", "value"])


def _describe(cells: pd.DataFrame) -> str:
    parts = [f"area {r.area} {r.name_zh} column '{r.column}' "
             + ("is empty" if r.value is None else f"is {r.value!r}")
             for r in cells.head(_LISTED).itertuples(index=False)]
    more = f"; and {len(cells) - _LISTED} more" if len(cells) > _LISTED else ""
    return "; ".join(parts) + more


def apply_cell_policy(pop: pd.DataFrame, areas: pd.DataFrame, path: str | Path,
                      policy: str = "refuse") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The population frame of a census file under a blank-cell policy (module docstring).

    Args:
        pop: parsed population (NaN where a cell is unusable).
        areas: parsed area rows (with ``bad_cells``).
        path: the file, for messages.
        policy: one of :data:`BLANK_CELL_POLICIES`.

    Returns:
        (population validated by ``schema.CENSUS_SCHEMA``, frame area, name_zh, action
        ("dropped" or "blank read as 0"), cells) listing every area the policy touched.

    Raises:
        DataError: unusable cells under "refuse" (every cell named), text or negative cells
            under "zero", or an unknown policy.
    """
    if policy not in BLANK_CELL_POLICIES:
        raise DataError(f"blank-cell policy {policy!r} unknown; use one of "
                        f"{', '.join(BLANK_CELL_POLICIES)}")
    cells = census_bad_cells(areas)
    touched = pd.DataFrame(columns=[S.AREA, "name_zh", "action", "cells"])
    if len(cells):
        text = cells[cells["value"].notna()]
        if policy == "refuse" or (policy == "zero" and len(text)):
            shown = cells if policy == "refuse" else text
            kind = ("unusable age cells" if policy == "refuse"
                    else "age cells that are text or negative, not counts")
            raise DataError(
                f"{path}: {len(shown)} {kind} in {shown[S.AREA].nunique()} areas: "
                f"{_describe(shown)}. Fix the file, or rerun with --blank-cells drop (leave "
                "these areas out, each listed)"
                + ("" if len(text) else " or --blank-cells zero (read empty cells as 0)"))
        action = "dropped" if policy == "drop" else "blank read as 0"
        touched = (cells.groupby([S.AREA, "name_zh"], sort=True)["column"]
                   .agg(lambda c: ", ".join(c)).rename("cells").reset_index())
        touched.insert(2, "action", action)
        if policy == "drop":
            pop = pop[~pop[S.AREA].isin(set(cells[S.AREA]))]
        else:
            pop = pop.assign(**{S.POPULATION: pop[S.POPULATION].fillna(0.0)})
    return S.CENSUS_SCHEMA.validate(pop.reset_index(drop=True)), touched
