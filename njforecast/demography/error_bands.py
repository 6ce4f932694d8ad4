"""The engine as the census back-test runs it, and its typical error at 10 years.

Public names:
    BACKTEST_GROUPS, BACKTEST_CHILD_COVERAGE   the back-test's age groups and its ε
    backtest_assumptions(**changes)    the back-test's engine (2010 base, county signals)
    SignalRun, county_signal_run(...)  areas ready to project under any signal weights
    typical_errors()                   median APE of the engine 2010 → 2020 by age group and
                                       kind of county (Sichuan counties, bundled censuses)
    error_columns(areas, ages)         "typical error of this method at 10 years" per row

The error bands are measured, not assumed: every Sichuan county of the bundled 2010 table
that the 2020 table also has (same exclusions as
``njforecast.evaluation.census_backtest.census_backtest``: county-level codes in both,
total ratio inside :data:`TOTAL_RATIO_BAND`) is projected 2010 → 2020 with
:func:`backtest_assumptions` and scored against the 2020 count, APE = |P − A| / A · 100.
The median APE is taken per back-test age group (0-4, 5-9, 10-14, 15-19) and per kind of
county (:func:`njforecast.demography.signals.area_kind`), and over all counties. They are the
typical error of the county-signal method at a 10-year horizon; an area projected from its own
2010-2020 history (basis "own"/"unit") uses a different migration rule whose error the bundled
data cannot measure (no 2000 census), so its band is this method's, reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import schema as S
from .assumptions import DemographicAssumptions
from .core import project_arrays
from .graduation import _groups5, census_groups5, graduate_single_ages, to_array
from .inputs import TOTAL_RATIO_BAND, child_coverage_factor, prepare_inputs
from .reference import (_bundled_census, _province_migration, _province_single, data_cache,
                        internal_migration_stock)
from .signals import (area_kind, combine_signals, registration_gap, registration_ratio, urban_gap,
                      signal_components, signal_weights)

#: age groups of the census back-test at census B (label → first, last age)
BACKTEST_GROUPS = {"0-4": (0, 4), "5-9": (5, 9), "10-14": (10, 14), "15-19": (15, 19)}
#: child_coverage_elasticity of the back-test's engine: one pooled value, chosen jointly with the
#: county-signal weights (the defaults of DemographicAssumptions) on half A of the Sichuan
#: counties split by prefecture (``census_backtest.HOLDOUT_SEED``), grid and criterion
#: pre-registered in :mod:`njforecast.demography.signals` (benchmarks/county_signals_grid.py),
#: then scored on half B and the province table (benchmarks/README.md, issue 17; issue 3 had
#: chosen 0.15 alone)
BACKTEST_CHILD_COVERAGE = 0.2


def backtest_assumptions(**changes) -> DemographicAssumptions:
    """The back-test's engine: national survival uncapped, county signals ("auto"), no local
    births adjustment, ε = :data:`BACKTEST_CHILD_COVERAGE`; ``changes`` override fields."""
    base = DemographicAssumptions(survival_cap=False, migration_source="auto",
                                  local_births=False,
                                  child_coverage_elasticity=BACKTEST_CHILD_COVERAGE)
    return replace(base, **changes)


@dataclass(frozen=True)
class SignalRun:
    """Areas of one base census ready to be projected under any signal weights.

    Attributes:
        pop0: base population (area, 2, 101) at single ages.
        parent: each area's parent at the base census (area, 2, 101).
        inputs: the engine's inputs with the parent's residual migration alone.
        components: :func:`njforecast.demography.signals.signal_components` of the areas.
        n_steps: annual steps to project.
    """

    pop0: np.ndarray
    parent: np.ndarray
    inputs: object
    components: dict
    n_steps: int

    def groups(self, weights: dict[str, float], elasticity: float,
               assumptions: DemographicAssumptions | None = None) -> np.ndarray:
        """Persons in groups 0-4 … 15-19 after ``n_steps`` (area, 4), both sexes.

        Migration = the parent's residual + Σ weights · components; the base's ages 0-4 ×
        (CWR_area / CWR_parent)^elasticity (:func:`child_coverage_factor`).
        """
        ass = assumptions or backtest_assumptions()
        mig = self.inputs.migration + combine_signals(self.components, weights)
        inputs = replace(self.inputs, migration=mig,
                         base_factor=child_coverage_factor(self.pop0, self.parent, elasticity))
        final = None
        for _, arr in project_arrays(self.pop0, inputs, self.n_steps, ass):
            final = arr
        return _groups5(final).sum(1)[:, :len(BACKTEST_GROUPS)]


def _signal_run(base: pd.DataFrame, parent: np.ndarray, parent_mig: np.ndarray,
                assumptions: DemographicAssumptions, n_steps: int, stock, gap,
                log_pr=None, urban=None) -> SignalRun:
    ass = replace(assumptions, migration_source="none", child_coverage_elasticity=0.0)
    year = int(base[S.CENSUS_YEAR].iloc[0])
    inputs = prepare_inputs(base, ass, end_year=year + n_steps)
    inputs = replace(inputs, migration=np.asarray(parent_mig, float)
                     * np.ones_like(inputs.migration))
    _, pop0 = to_array(base)
    comps = signal_components(pop0, parent, assumptions.structure_from_age, stock, gap,
                              log_pr, assumptions.school_inflow_damping,
                              assumptions.school_sex_damping, urban)
    return SignalRun(pop0=pop0, parent=np.broadcast_to(parent, pop0.shape), inputs=inputs,
                     components=comps, n_steps=n_steps)


def county_signal_run(census_a: pd.DataFrame, assumptions: DemographicAssumptions,
                      n_steps: int = 10) -> SignalRun:
    """Counties of census A (its county rows) with their province as parent.

    Parent residual: the province's census-survival residual A→A+10
    (``_province_migration``); signals from census A: structure and school steps against the
    province row, the intra-provincial stock and the registered-elsewhere balance where the
    2010 table has them.
    """
    base = graduate_single_ages(census_a)
    areas, _ = to_array(base)
    year = int(base[S.CENSUS_YEAR].iloc[0])
    provs = [c[:2] + "0000" for c in areas]
    parent = np.stack([_province_single(year, p) for p in provs])
    mig = np.stack([_province_migration(p, year, year + 10) for p in provs])
    stock = gap = lpr = urban = None
    if year == 2010:
        st = internal_migration_stock()
        stock = np.array([st.get(c, np.nan) for c in areas])
        gap = registration_gap(areas)
        lpr = registration_ratio().reindex(list(areas)).to_numpy()
        urban = urban_gap(areas)
    return _signal_run(base, parent, mig, assumptions, n_steps, stock, gap, lpr, urban)


@data_cache(maxsize=1)
def _county_apes() -> pd.DataFrame:
    """APE of the back-test engine per bundled Sichuan county × group (cached per data dir)."""
    pop = _bundled_census()
    county = pop[~pop[S.AREA].str.endswith("00")]
    a, b = county[county[S.CENSUS_YEAR] == 2010], county[county[S.CENSUS_YEAR] == 2020]
    common = sorted(set(a[S.AREA]) & set(b[S.AREA]))
    ta = a[a[S.AREA].isin(common)].groupby(S.AREA)[S.POPULATION].sum()
    tb = b[b[S.AREA].isin(common)].groupby(S.AREA)[S.POPULATION].sum()
    ratio = (tb / ta).reindex(common)
    keep = [c for c in common if TOTAL_RATIO_BAND[0] <= ratio[c] <= TOTAL_RATIO_BAND[1]]
    ass = backtest_assumptions()
    run = county_signal_run(a[a[S.AREA].isin(keep)], ass)
    pred = run.groups(signal_weights(ass), ass.child_coverage_elasticity)
    areas, gb = census_groups5(b[b[S.AREA].isin(keep)])
    act = gb.sum(1)[:, :len(BACKTEST_GROUPS)]
    ok = act > 0
    ape = np.where(ok, np.abs(pred - act) / np.where(ok, act, 1) * 100, np.nan)
    lpr = registration_ratio()
    kinds = [area_kind(c, lpr.get(c, np.nan)) for c in areas]
    return pd.DataFrame({S.AREA: np.repeat(areas, len(BACKTEST_GROUPS)),
                         "county_kind": np.repeat(kinds, len(BACKTEST_GROUPS)),
                         S.AGE_GROUP: np.tile(list(BACKTEST_GROUPS), len(areas)),
                         "ape": ape.reshape(-1)}).dropna(subset=["ape"])


def typical_errors() -> pd.DataFrame:
    """Median APE (%) of the engine 2010 → 2020 by age group and kind of county.

    Returns:
        Frame county_kind (each kind of :func:`area_kind` met, plus "all counties"),
        age_group (0-4 … 15-19), n (counties), typical_error_10y_pct (median APE, %).
    """
    ape = _county_apes()
    parts = [ape, ape.assign(county_kind="all counties")]
    out = (pd.concat(parts).groupby(["county_kind", S.AGE_GROUP], sort=False)["ape"]
           .agg(n="size", typical_error_10y_pct="median").reset_index())
    return out


#: fewest counties of a kind for its own band; fewer → the all-counties band
MIN_KIND_COUNTIES = 10


def error_columns(areas, ages) -> pd.DataFrame:
    """"Typical error of this method at 10 years" for rows (area, single age).

    Each age takes the band of the back-test group holding it (ages 20 and over: none, NaN);
    each county-level code its kind (:func:`area_kind`, migration class from the 2010 table
    where the code is in it); a kind with fewer than :data:`MIN_KIND_COUNTIES` scored counties,
    and any code that is not a county (a region total, a school unit), takes the all-counties
    band.

    Returns:
        Frame county_kind, typical_error_10y_pct (%), one row per input row.
    """
    tab = typical_errors()
    tab = tab[tab["n"] >= MIN_KIND_COUNTIES]
    band = {(k, g): v for k, g, v in tab[["county_kind", S.AGE_GROUP,
                                           "typical_error_10y_pct"]].itertuples(index=False)}
    lpr = registration_ratio()
    kind_of = {}
    for c in dict.fromkeys(map(str, areas)):
        county = c.isdigit() and len(c) == 6 and not c.endswith("00")
        kind_of[c] = area_kind(c, lpr.get(c, np.nan)) if county else "all counties"
    group_of = {}
    for a in dict.fromkeys(int(x) for x in ages):
        group_of[a] = next((g for g, (lo, hi) in BACKTEST_GROUPS.items() if lo <= a <= hi), None)
    kinds = [kind_of[str(c)] for c in areas]
    kinds = [k if any((k, g) in band for g in BACKTEST_GROUPS) else "all counties"
             for k in kinds]
    vals = [band.get((k, group_of[int(a)]), np.nan) for k, a in zip(kinds, ages, strict=True)]
    return pd.DataFrame({"county_kind": kinds, "typical_error_10y_pct": vals})
