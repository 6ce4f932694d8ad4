"""Rows of a planner's observations file that no stage of a run reads: one warning per kind,
naming the rows (:meth:`njforecast.io.validation.rules._Checker.add_rows`).

Public functions (used by :mod:`.rules`; ``c`` is its checker):
    unknown_indicators(c, ind, indicators)     an indicator name the project does not know
    outside_region(c, area, known)             an area code outside the run's region
"""

from __future__ import annotations

import difflib

import pandas as pd

from ... import schema as S
from .known import KnownAreas, is_known_indicator


def unknown_indicators(c, ind_ok: pd.Series, indicators: frozenset[str]) -> None:
    """One warning per indicator name the project does not know (no run reads those rows)."""
    unknown = ind_ok.notna() & ~ind_ok.map(lambda n: isinstance(n, str)
                                           and is_known_indicator(n, indicators))
    vocab = sorted(indicators)
    for name, pos in ind_ok[unknown].groupby(ind_ok[unknown], sort=False).groups.items():
        close = difflib.get_close_matches(name, vocab, 1, 0.8)
        if close:
            msg = f"unknown indicator '{name}' (did you mean '{close[0]}'?)"
            fix = f"rename it to '{close[0]}'"
        else:
            msg = f"unknown indicator '{name}': no part of a run reads it"
            fix = ("use the names of the bundled data (data/raw/observed, data/raw/plan), e.g. "
                   "primary_enrolment, junior_teachers, preschool_ger_pct")
        c.add_rows(list(pos), S.INDICATOR, msg, fix, unused=True)


def outside_region(c, area: pd.Series, known: KnownAreas) -> None:
    """One warning per area code that a run of the region does not read."""
    outside = area.notna() & ~area.map(lambda a: known.in_region(str(a)))
    raw = c.cols[S.AREA]
    for pos in area[outside].groupby(area[outside], sort=False).groups.values():
        shown = raw.iat[int(pos[0])]
        c.add_rows(list(pos), S.AREA, f"area {shown} is not in region {known.region}",
                   f"a run of region {known.region} reads only its own areas (and province or "
                   "national series): check the code, or give the region the area belongs to "
                   "(--region, or region = in the config)", unused=True)
