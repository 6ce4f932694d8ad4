"""Hamilton-Perry projection (cohort change ratios), the data-light benchmark.

Public names:
    hamilton_perry(groups_a, ccr, cwr_adjust)   one 10-year step by sex and 5-year group
    child_woman_ratios(groups)                  (0-4 / women 15-44, 5-9 / women 20-49)
    hamilton_perry_region(region, ya, yb)       a region's comparable units from B to B + 10

References: Hamilton & Perry (1962, Social Forces 41:163); Swanson, Schlottmann & Schmidt
(2010, Popul. Res. Policy Rev. 29:47).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from .assumptions import _N_START, G5_LABELS
from .graduation import census_groups5
from .reference import _bundled_census, cohort_ratios


def hamilton_perry(groups_a: np.ndarray, ccr: np.ndarray, cwr_adjust: tuple[float, float] = (1, 1)
                   ) -> np.ndarray:
    """Hamilton-Perry projection one 10-year step ahead, by sex and 5-year group.

    Args:
        groups_a: population at the launch census (…, 2, 18) in groups G5 (persons).
        ccr: 10-year cohort change ratios (…, 2, 16) as from :func:`cohort_ratios` (start
            groups 0-4…70-74 and 75+), e.g. the province's ratios between its two censuses.
        cwr_adjust: factors on the child-woman ratios for 0-4 and 5-9 (e.g. the reference
            area's change in those ratios between its censuses; 1 = held).

    Returns:
        Population 10 years later (…, 2, 18):
        ``P(g+2) = P_A(g) · CCR(g)`` for g = 0-4…70-74; ``P(85+) = P_A(75+) · CCR(75+)``;
        children by child-woman ratios of the launch census (Swanson, Schlottmann & Schmidt
        2010): ``P(0-4) = [P_A(0-4)/W_A(15-44)] · W(15-44) · cwr_adjust[0]`` and
        ``P(5-9) = [P_A(5-9)/W_A(20-49)] · W(20-49) · cwr_adjust[1]``, W being women (both
        sexes' children use the same women).
    """
    ga = np.asarray(groups_a, dtype=float)
    out = np.zeros_like(ga)
    out[..., 2:2 + _N_START] = ga[..., :_N_START] * ccr[..., :_N_START]
    out[..., -1] = ga[..., _N_START:].sum(-1) * ccr[..., -1]
    w_a = ga[..., 1:2, :]                     # women, keep the sex axis for broadcasting
    w_b = out[..., 1:2, :]
    for j, (lo, hi), adj in ((0, (3, 8), cwr_adjust[0]), (1, (4, 9), cwr_adjust[1])):
        wa = w_a[..., lo:hi + 1].sum(-1)
        wb = w_b[..., lo:hi + 1].sum(-1)
        cwr = np.divide(ga[..., j], wa, out=np.zeros_like(ga[..., j]), where=wa > 0)
        out[..., j] = cwr * wb * adj
    return out


def child_woman_ratios(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0-4 / women 15-44, 5-9 / women 20-49), both sexes of children (…, 2, 18) → (…)."""
    kids = groups[..., :, :2].sum(-2)
    w1 = groups[..., 1, 3:9].sum(-1)
    w2 = groups[..., 1, 4:10].sum(-1)
    return kids[..., 0] / w1, kids[..., 1] / w2



def hamilton_perry_region(region: str = "neijiang", year_a: int = 2010,
                          year_b: int = 2020) -> pd.DataFrame:
    """Hamilton-Perry projection of a region's comparable units from census B to B + 10.

    Each comparable unit (territory equal at both censuses, from the region file) gets its own
    10-year cohort change ratios A→B applied to its census-B groups; children by its census-B
    child-woman ratios held constant (Swanson, Schlottmann & Schmidt 2010). A data-light
    alternative to the cohort-component engine.

    Returns:
        Frame area (unit id), year (B + 10; persons at 1 November), sex, age_group (0-4 …
        80-84, 85+), population.
    """
    from ..areas import load_region

    reg = load_region(region)
    pop = _bundled_census()
    rows = []
    for unit in reg.comparable_units:
        codes_a = [str(c) for c in unit.get(f"codes_{year_a}", ())]
        codes_b = [str(c) for c in unit.get(f"codes_{year_b}", ())]
        if not codes_a or not codes_b:
            continue
        ga = census_groups5(pop[(pop[S.CENSUS_YEAR] == year_a) & pop[S.AREA].isin(codes_a)])[1]
        gb = census_groups5(pop[(pop[S.CENSUS_YEAR] == year_b) & pop[S.AREA].isin(codes_b)])[1]
        if len(ga) != len(codes_a) or len(gb) != len(codes_b):
            raise ValueError(f"region {region}, unit {unit['id']}: codes missing in the "
                             f"bundled {year_a}/{year_b} census")
        ga, gb = ga.sum(0), gb.sum(0)
        out = hamilton_perry(gb, cohort_ratios(ga, gb))
        for si, sex in enumerate(S.SEXES):
            rows.append(pd.DataFrame({S.AREA: str(unit["id"]), S.YEAR: year_b + 10, S.SEX: sex,
                                      S.AGE_GROUP: G5_LABELS, S.POPULATION: out[si]}))
    if not rows:
        raise ValueError(f"region {region} defines no comparable units for {year_a} and {year_b}")
    return pd.concat(rows, ignore_index=True)
