"""A planner's GER path file (``[enrolment] ger_path``, rate path "external").

Public names:
    read_ger_path(cfg, ids) → frame year, indicator, value[, draw].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from .store import DataError


def read_ger_path(cfg: Mapping, ids: Iterable[str]) -> pd.DataFrame:
    """``[enrolment] ger_path``: a CSV with columns year, indicator (plan GER id, e.g.
    preschool_ger_3y; one of ``ids``), value (city GER, percent) and optionally draw.

    Raises:
        ValueError: no ger_path configured.
        DataError: the file cannot be read or has a bad column or value (named, with the fix).
    """
    ids = sorted(ids)

    f = cfg.get("ger_path")
    if not f:
        raise ValueError("[enrolment] rate_path 'external' needs ger_path = \"FILE.csv\" (columns "
                         "year, indicator, value[, draw]; indicator one of "
                         f"{ids})")
    try:
        df = pd.read_csv(f)
    except (OSError, ValueError) as exc:
        raise DataError(f"{f}: cannot read the GER path ({exc}); give a CSV with columns year, "
                        "indicator, value[, draw]") from exc
    miss = [c for c in (S.YEAR, S.INDICATOR, S.VALUE) if c not in df.columns]
    if miss:
        raise DataError(f"{f}: missing column(s) {miss}; the GER path needs year, indicator, "
                        "value[, draw]")
    bad = sorted(set(df[S.INDICATOR]) - set(ids))
    if bad:
        raise DataError(f"{f}: column indicator has {bad}; use plan GER ids "
                        f"{ids}")
    v = pd.to_numeric(df[S.VALUE], errors="coerce")
    if v.isna().any() or (v < 0).any():
        row = int(np.flatnonzero(v.isna() | (v < 0))[0]) + 2
        raise DataError(f"{f}: row {row}, column value: must be a GER in percent ≥ 0")
    return df.assign(**{S.VALUE: v})
