"""Census age groups to single ages, and single-age frames to arrays.

Public names:
    graduate_matrix(groups)          rows of the 19 census groups → single ages 0..100 (PCHIP)
    graduate_single_ages(census_df)  long census frame → long single-age frame, totals preserved
    to_array(pop_df)                 single-age frame → (area codes, array (area, 2, 101))
    census_groups5(census_df)        census frame → (areas, array (area, 2, 18) of groups G5)

Method: monotone piecewise-cubic (PCHIP; Fritsch & Carlson 1980, SIAM J. Numer. Anal.
17:238) interpolation of the cumulative count at the group boundaries, differenced at integer
ages (McNeil, Trussell & Turner 1977, Demography 14:245): every group total is preserved and
no single age is negative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

from .. import schema as S
from .assumptions import AGES, G5, N_AGES

#: group boundaries of the census table (0, 1-4, 5-9, ..., 85+), cumulative knots for PCHIP
_KNOTS = np.array([g[1] for g in S.AGE_GROUPS] + [S.OPEN_AGE + 1], dtype=float)


def _group_matrix(census_df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows (census_year, area, sex) × the 19 census groups, in schema order."""
    missing = {S.CENSUS_YEAR, S.AREA, S.SEX, S.AGE_GROUP, S.POPULATION} - set(census_df.columns)
    if missing:
        raise ValueError(f"census frame lacks columns {sorted(missing)}; pass the output of "
                         "data.load_census()")
    wide = census_df.pivot_table(index=[S.CENSUS_YEAR, S.AREA, S.SEX], columns=S.AGE_GROUP,
                                 values=S.POPULATION, aggfunc="sum")
    absent = [g for g in S.AGE_GROUP_LABELS if g not in wide.columns]
    if absent:
        raise ValueError(f"census frame lacks age groups {absent}")
    wide = wide[list(S.AGE_GROUP_LABELS)]
    if wide.isna().any().any():
        bad = wide[wide.isna().any(axis=1)].index[0]
        raise ValueError(f"census frame: area {bad[1]} sex {bad[2]} (year {bad[0]}) lacks some "
                         "age groups; every area needs all 19 groups for both sexes")
    vals = wide.to_numpy(dtype=float)
    if (vals < 0).any():
        bad = wide[(wide < 0).any(axis=1)].index[0]
        raise ValueError(f"census frame: negative population for area {bad[1]} sex {bad[2]}")
    return wide.index.to_frame(index=False), vals


def graduate_matrix(groups: np.ndarray) -> np.ndarray:
    """Graduate rows of the 19 census groups (…, 19) to single ages 0..100 (…, 101).

    Monotone cubic (PCHIP) interpolation of the cumulative count at the boundaries
    0, 1, 5, 10, …, 85, 101, differenced at integer ages; each group's total is preserved up to
    floating-point rounding and no single age is negative (see module docstring for references).
    """
    groups = np.asarray(groups, dtype=float)
    flat = groups.reshape(-1, groups.shape[-1])
    cum = np.concatenate([np.zeros((flat.shape[0], 1)), np.cumsum(flat, axis=1)], axis=1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # flat (empty) groups
        spline = PchipInterpolator(_KNOTS, cum.T, axis=0)
        single = np.diff(spline(np.arange(S.OPEN_AGE + 2, dtype=float)), axis=0).T
    single = np.clip(single, 0.0, None)  # PCHIP is monotone; clip only float noise (−1e−12)
    # restore exact group totals after the clip (a no-op unless noise was clipped)
    for col, (_, lo, hi) in enumerate(S.AGE_GROUPS):
        part = single[:, lo:hi + 1]
        tot = part.sum(axis=1, keepdims=True)
        scale = np.divide(flat[:, col:col + 1], tot, out=np.ones_like(tot), where=tot > 0)
        single[:, lo:hi + 1] = part * scale
    return single.reshape(*groups.shape[:-1], N_AGES)


def graduate_single_ages(census_df: pd.DataFrame) -> pd.DataFrame:
    """Census 5-year age groups → single years of age 0..100, every group's total preserved.

    Args:
        census_df: long census frame as from :func:`njforecast.io.store.load_census` (columns
            census_year, area, sex, age_group, population; persons at 1 November).

    Returns:
        Frame census_year, area, sex, age (0..100, 100 = the open age 100+ closing the 85+
        group), population (persons at the census moment). Method: monotone cubic (PCHIP)
        spline on cumulative counts (Fritsch & Carlson 1980; McNeil, Trussell & Turner 1977):
        the sum over the single ages of each census group equals the group's count.
    """
    keys, vals = _group_matrix(census_df)
    single = graduate_matrix(vals)
    n = len(keys)
    out = pd.DataFrame({
        S.CENSUS_YEAR: np.repeat(keys[S.CENSUS_YEAR].to_numpy(), N_AGES).astype(int),
        S.AREA: np.repeat(keys[S.AREA].astype(str).to_numpy(), N_AGES),
        S.SEX: np.repeat(keys[S.SEX].to_numpy(), N_AGES),
        S.AGE: np.tile(AGES, n),
        S.POPULATION: single.ravel(),
    })
    return out


# ------------------------------------------------------------------------------------------
# arrays ↔ frames


def to_array(pop_df: pd.DataFrame, value_col: str = S.POPULATION) -> tuple[list[str], np.ndarray]:
    """Single-age frame (area, sex, age, value) → (area codes, array (area, 2, 101)).

    Sex order is ``schema.SEXES`` (male, female); missing cells are 0.
    """
    areas = sorted(pop_df[S.AREA].astype(str).unique())
    a_idx = pd.Index(areas).get_indexer(pop_df[S.AREA].astype(str))
    s_idx = pd.Index(S.SEXES).get_indexer(pop_df[S.SEX])
    if (s_idx < 0).any():
        raise ValueError(f"sex must be one of {S.SEXES}; got {sorted(set(pop_df[S.SEX]))}")
    age = pop_df[S.AGE].to_numpy(dtype=int)
    if age.min() < 0 or age.max() > S.OPEN_AGE:
        raise ValueError(f"age must lie in 0..{S.OPEN_AGE}")
    arr = np.zeros((len(areas), len(S.SEXES), N_AGES))
    np.add.at(arr, (a_idx, s_idx, age), pop_df[value_col].to_numpy(dtype=float))
    return areas, arr


def _groups5(arr: np.ndarray) -> np.ndarray:
    """Single ages (…, 101) → the 18 five-year groups G5 (…, 18)."""
    return np.stack([arr[..., lo:hi + 1].sum(axis=-1) for lo, hi in G5], axis=-1)


def census_groups5(census_df: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Census frame (one year) → (areas, array (area, 2, 18) of groups G5), exact sums."""
    keys, vals = _group_matrix(census_df)
    if keys[S.CENSUS_YEAR].nunique() != 1:
        raise ValueError("census frame holds several census years; pass one")
    areas = sorted(keys[S.AREA].astype(str).unique())
    out = np.zeros((len(areas), 2, len(G5)))
    a_idx = pd.Index(areas).get_indexer(keys[S.AREA].astype(str))
    s_idx = pd.Index(S.SEXES).get_indexer(keys[S.SEX])
    g5 = np.concatenate([vals[:, :1] + vals[:, 1:2], vals[:, 2:]], axis=1)  # 0 + 1-4 → 0-4
    out[a_idx, s_idx] = g5
    return areas, out

