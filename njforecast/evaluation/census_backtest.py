"""Census back-test: project census A's counties to census B's moment and score against B.

Public names:
    census_backtest(base_path, actual_path)   rows, error summary, exclusions and rules
    backtest_summary(rows, methods, seed)     errors on prefecture halves A, B and all counties
    prefecture_halves(codes, seed)            held-out split of counties by prefecture
    BacktestResult                            the back-test output
    BACKTEST_GROUPS, BACKTEST_CHILD_COVERAGE, HOLDOUT_SEED   the protocol's constants

APE = |projected − actual| / actual × 100 (%). The methods compared (cohort-component engine,
its province-only variant, Hamilton-Perry, naive cohort carry) are described in
:func:`census_backtest`; the protocol and results in benchmarks/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from ..demography import (TOTAL_RATIO_BAND, DemographicAssumptions, census_groups5,
                          child_woman_ratios, cohort_ratios, graduate_single_ages,
                          hamilton_perry, province_census, to_array)
from ..demography.error_bands import (BACKTEST_CHILD_COVERAGE, BACKTEST_GROUPS, SignalRun,
                                      _signal_run, backtest_assumptions, county_signal_run)
from ..demography.signals import (SIGNALS, registration_gap, registration_ratio, signal_weights,
                                  urban_gap)

__all__ = ["BACKTEST_CHILD_COVERAGE", "BACKTEST_GROUPS", "HOLDOUT_SEED", "BacktestResult",
           "SignalRun", "backtest_assumptions", "backtest_summary", "census_backtest",
           "county_signal_run", "naive_carry", "prefecture_halves", "province_backtest"]


@dataclass(frozen=True)
class BacktestResult:
    """Back-test output: rows per county × age group, error summary, exclusions, rules."""

    rows: pd.DataFrame
    summary: pd.DataFrame
    excluded: pd.DataFrame
    rules: tuple[str, ...]


def _ape(projected, actual):
    return np.abs(projected - actual) / actual * 100


#: seed of the held-out protocol for back-test rules (prefectures split into two halves)
HOLDOUT_SEED = 20201101


def prefecture_halves(codes, seed: int = HOLDOUT_SEED) -> np.ndarray:
    """Assign county codes to half "A" (choose rules) or "B" (report) by prefecture.

    The distinct prefectures (first four digits of the code), sorted, are permuted by
    ``numpy.random.default_rng(seed).permutation``; the first ⌊n/2⌋ of the permutation form
    half A, the rest half B. Every county of a prefecture falls in the same half, so a rule
    chosen on A is scored on B without sharing prefecture-level effects (Roberts et al. 2017,
    Ecography 40:913, on blocked cross-validation).

    Returns:
        Array of "A"/"B", one per code, in the order given.
    """
    codes = [str(c) for c in codes]
    prefs = sorted({c[:4] for c in codes})
    perm = np.random.default_rng(seed).permutation(prefs)
    half_a = set(perm[:len(prefs) // 2])
    return np.array(["A" if c[:4] in half_a else "B" for c in codes])


def backtest_summary(rows: pd.DataFrame, methods=None, seed: int | None = HOLDOUT_SEED
                     ) -> pd.DataFrame:
    """Median and mean absolute percentage error by age group, method and county subset.

    Args:
        rows: back-test rows (area_code, age_group, actual and one column per method).
        methods: method columns to score (default every column but the keys and ``actual``).
        seed: split seed of :func:`prefecture_halves` (subsets "A", "B" and "all"); None
            gives "all" only.

    Returns:
        Frame subset, age_group, method, n, median_ape, mean_ape (%), with
        ``APE = |projected − actual| / actual · 100``.
    """
    methods = methods or [c for c in rows.columns
                          if c not in ("area_code", "area_name", S.AGE_GROUP, "actual")]
    rows = rows[rows["actual"] > 0]
    subsets = {"all": np.ones(len(rows), dtype=bool)}
    if seed is not None:
        half = prefecture_halves(rows["area_code"], seed)
        subsets = {"A": half == "A", "B": half == "B", **subsets}
    out = []
    for name, mask in subsets.items():
        for label, g in rows[mask].groupby(S.AGE_GROUP, sort=False):
            for m in methods:
                e = _ape(g[m], g["actual"])
                out.append({"subset": name, S.AGE_GROUP: label, "method": m, "n": len(g),
                            "median_ape": float(e.median()), "mean_ape": float(e.mean())})
    return pd.DataFrame(out)


def naive_carry(groups: np.ndarray) -> np.ndarray:
    """Naive cohort carry over 10 years (…, 2, 18): survival 1, no migration.

    ``P(g+2) = P_A(g)``, the open group keeps the two oldest start groups, children 0-4 and
    5-9 are the same groups at A.
    """
    nv = np.zeros_like(groups)
    nv[..., 2:] = groups[..., :-2]
    nv[..., -1] += groups[..., -2:].sum(-1)
    nv[..., :2] = groups[..., :2]
    return nv


def census_backtest(base_path, actual_path, band: tuple[float, float] = TOTAL_RATIO_BAND,
                    assumptions: DemographicAssumptions | None = None,
                    blank_cells: str = "refuse") -> BacktestResult:
    """Project every county of census A to census B's moment and score against B.

    Uses only census A's county rows (age groups, and for 2010 the registered population and
    in-migrant columns of the bundled 2010 table) plus the bundled reference patterns:
    national census survival A→B (national rows), the county's province residual migration
    A→B (province rows of both censuses), national observed births (fertility index).
    Census B's county rows are used only to score. Counties are compared sexes combined in
    groups 0-4, 5-9, 10-14, 15-19.

    Methods reported side by side:
        projected       cohort-component engine (:func:`project_arrays`), national survival
                        uncapped (carries the 2010 under-count of young children forward),
                        provincial net migration plus the county signals of census A
                        (``migration_source="auto"``: relative age profile from age 12, net
                        intra-provincial migration stock), fertility ratio from census A ×
                        national births index, census A's children 0-4 corrected for
                        county-relative coverage (:func:`child_coverage_factor`,
                        ε = :data:`BACKTEST_CHILD_COVERAGE`)
        province_only   the same engine with the provincial migration pattern alone and no
                        county signal (no coverage correction)
        hamilton_perry  county groups × the province's cohort change ratios A→B; children by the
                        county's child-woman ratios × the province's change in them
        naive           cohort carry: survival 1, no migration (children: the same group at A)

    Exclusion rules (printed): a code of B absent from A (or vice versa) is not compared; a
    county whose total population changed by a factor outside ``band`` is excluded as a likely
    boundary change; an area with unusable age cells is refused, dropped (listed with its
    cells) or read with empty cells as 0 (listed in the rules) as ``blank_cells`` says
    (:mod:`njforecast.io.census_cells`).

    Returns:
        :class:`BacktestResult` with rows (area_code, area_name, age_group, projected, actual,
        province_only, hamilton_perry, naive), summary (age_group, method, n, median_ape,
        mean_ape in %),
        excluded (area_code, area_name, reason) and the rules as text.
    """
    from ..io.store import load_census_areas, load_census_checked

    (cen_a, touched_a), (cen_b, touched_b) = (load_census_checked(p, blank_cells)
                                              for p in (base_path, actual_path))
    ya, yb = int(cen_a[S.CENSUS_YEAR].iloc[0]), int(cen_b[S.CENSUS_YEAR].iloc[0])
    if yb - ya != 10:
        raise ValueError(f"{actual_path}: census B ({yb}) must be 10 years after census A "
                         f"({ya}) for the 5-year cohort shifts")
    names = load_census_areas(actual_path).set_index(S.AREA)["name_zh"]
    ca = cen_a[~cen_a[S.AREA].str.endswith("00")]
    cb = cen_b[~cen_b[S.AREA].str.endswith("00")]
    codes_a, codes_b = set(ca[S.AREA]), set(cb[S.AREA])
    provinces_b = {c[:2] for c in codes_b}
    excluded, filled = [], []
    for year, touched in ((ya, touched_a), (yb, touched_b)):
        for r in touched.itertuples(index=False):
            note = f"census {year}: {r.action} (cells: {r.cells})"
            (excluded if r.action == "dropped" else filled).append((r.area, r.name_zh, note))
    dropped = {c for c, _, _ in excluded}
    excluded += [(c, names.get(c, ""), f"code not in census {ya}")
                 for c in sorted(codes_b - codes_a - dropped)]
    names_a = load_census_areas(base_path).set_index(S.AREA)["name_zh"]
    excluded += [(c, names_a.get(c, ""), f"code not in census {yb}")
                 for c in sorted(codes_a - codes_b - dropped) if c[:2] in provinces_b]
    common = sorted(codes_a & codes_b)
    ta = ca[ca[S.AREA].isin(common)].groupby(S.AREA)[S.POPULATION].sum()
    tb = cb[cb[S.AREA].isin(common)].groupby(S.AREA)[S.POPULATION].sum()
    ratio = (tb / ta).reindex(common)
    keep = [c for c in common if band[0] <= ratio[c] <= band[1]]
    excluded += [(c, names.get(c, ""), (f"total ratio {yb}/{ya} = {ratio[c]:.2f} outside "
                                        f"[{band[0]}, {band[1]}]"))
                 for c in common if c not in keep]
    if not keep:
        raise ValueError(f"{base_path} and {actual_path} share no comparable county codes")
    areas, ga = census_groups5(ca[ca[S.AREA].isin(keep)])
    _, gb = census_groups5(cb[cb[S.AREA].isin(keep)])
    # --- cohort-component engine (with county signals) and its province-only variant
    a = assumptions or backtest_assumptions()
    run = county_signal_run(ca[ca[S.AREA].isin(keep)], a, yb - ya)
    engine = {"projected": run.groups(signal_weights(a), a.child_coverage_elasticity),
              "province_only": run.groups(dict.fromkeys(SIGNALS, 0.0), 0.0)}
    cc = engine["projected"]
    # --- Hamilton-Perry with provincial ratios
    hp = np.zeros_like(ga)
    for p in sorted({c[:2] + "0000" for c in areas}):
        i = [k for k, c in enumerate(areas) if c.startswith(p[:2])]
        _, pa = census_groups5(province_census(ya, p))
        _, pb = census_groups5(province_census(yb, p))
        cwr_a, cwr_b = child_woman_ratios(pa[0]), child_woman_ratios(pb[0])
        hp[i] = hamilton_perry(ga[i], cohort_ratios(pa[0], pb[0]),
                               (cwr_b[0] / cwr_a[0], cwr_b[1] / cwr_a[1]))
    hp = hp.sum(1)
    nv = naive_carry(ga).sum(1)
    act = gb.sum(1)
    rows = []
    for j, label in enumerate(BACKTEST_GROUPS):
        rows.append(pd.DataFrame({"area_code": areas,
                                  "area_name": [names.get(c, "") for c in areas],
                                  S.AGE_GROUP: label, "projected": cc[:, j], "actual": act[:, j],
                                  "province_only": engine["province_only"][:, j],
                                  "hamilton_perry": hp[:, j], "naive": nv[:, j]}))
    rows = pd.concat(rows, ignore_index=True)
    rows = rows[rows["actual"] > 0].reset_index(drop=True)
    summ = backtest_summary(rows, ["projected", "province_only", "hamilton_perry", "naive"],
                            seed=None).drop(columns="subset")
    rules = ((f"compared: county-level codes present in both censuses ({ya}, {yb}); "
              f"excluded: total population ratio {yb}/{ya} outside [{band[0]}, {band[1]}] "
              "(likely boundary change)"),
             (f"reference patterns: national survival {ya}->{yb} (province rows summed / "
              f"national row), province residual migration {ya}->{yb} (province rows), national "
              f"births; county signals from census {ya} only, shrunk toward the province "
              f"(weights: {', '.join(f'{k} {v:g}' for k, v in signal_weights(a).items())}; "
              f"age profile from age {a.structure_from_age}, school ages 15-19 apart; stock and "
              "registered-elsewhere balance where the 2010 table has them), children 0-4 x "
              f"(child-woman ratio / province's)^{a.child_coverage_elasticity:g}"),
             *(f"kept, {note}: {c} {n}" for c, n, note in filled))
    return BacktestResult(rows=rows, summary=summ,
                          excluded=pd.DataFrame(excluded, columns=["area_code", "area_name",
                                                                   "reason"]),
                          rules=rules)



def province_backtest(base_path, actual_path, assumptions: DemographicAssumptions | None = None,
                      blank_cells: str = "refuse") -> BacktestResult:
    """Project every province from census A's counties to census B and score on B's provinces.

    Census A's county rows are summed by province (first two code digits) and projected with the
    engine of :func:`census_backtest`, one level up: the parent is the nation (the sum of the
    provinces), whose residual migration is 0 by construction (national survival is the
    national cohort ratio), and the signals are the province's against the nation (structure
    and school steps, registered-elsewhere balance of the 2010 province rows; the intra-
    provincial stock does not exist at this level). Nothing of census B enters the projection
    but the national survival and births index every method shares, so the table checks the
    signals' transfer across all provinces with data no county rule was chosen on.

    Methods: projected (signals as ``assumptions``), nation_only (no signal, ε = 0),
    hamilton_perry (national cohort change ratios A→B, children by the province's child-woman
    ratios × the national change in them), naive (cohort carry).

    Returns:
        :class:`BacktestResult` (rows per province × age group, summary, excluded, rules).
    """
    from ..io.store import load_census_areas, load_census_checked

    cen_a, dropped = load_census_checked(base_path, blank_cells)
    cen_b = load_census_checked(actual_path, blank_cells)[0]
    ya, yb = int(cen_a[S.CENSUS_YEAR].iloc[0]), int(cen_b[S.CENSUS_YEAR].iloc[0])
    if yb - ya != 10:
        raise ValueError(f"{actual_path}: census B ({yb}) must be 10 years after census A "
                         f"({ya}) for the 5-year cohort shifts")
    keys = [S.CENSUS_YEAR, S.SEX, S.AGE_GROUP, S.AGE_START, S.AGE_END]
    counties = cen_a[~cen_a[S.AREA].str.endswith("00")]
    agg = counties.assign(**{S.AREA: counties[S.AREA].str[:2] + "0000"})
    agg = agg.groupby([S.AREA, *keys], as_index=False)[S.POPULATION].sum()
    prov_b = cen_b[cen_b[S.AREA].str.fullmatch(r"\d\d0000") & (cen_b[S.AREA] != "100000")]
    provs = sorted(set(agg[S.AREA]) & set(prov_b[S.AREA]))
    if not provs:
        raise ValueError(f"{base_path} has no county rows of the provinces in {actual_path} "
                         "(give the 2020 province table as --actual)")
    names = load_census_areas(actual_path).set_index(S.AREA)["name_zh"]
    names_a = load_census_areas(base_path).set_index(S.AREA)["name_zh"]
    excluded = [(c, names_a.get(c, ""), f"no province row in census {yb}")
                for c in sorted(set(agg[S.AREA]) - set(provs))]
    excluded += [(r.area, r.name_zh, f"dropped: {r.action} ({r.cells})")
                 for r in dropped.itertuples(index=False)]
    agg = agg[agg[S.AREA].isin(provs)]
    nation = agg.groupby(keys, as_index=False)[S.POPULATION].sum().assign(**{S.AREA: "100000"})
    _, nat_single = to_array(graduate_single_ages(nation))
    a = assumptions or backtest_assumptions()
    run = _signal_run(graduate_single_ages(agg), nat_single[0], 0.0, a, yb - ya, None,
                      registration_gap(provs), registration_ratio().reindex(provs).to_numpy(),
                      urban_gap(provs))
    cc = run.groups(signal_weights(a), a.child_coverage_elasticity, a)
    closed = run.groups(dict.fromkeys(SIGNALS, 0.0), 0.0, a)
    _, ga = census_groups5(agg)
    _, gb = census_groups5(prov_b[prov_b[S.AREA].isin(provs)])
    _, na = census_groups5(nation)
    nb = census_groups5(prov_b[prov_b[S.AREA].isin(provs)].assign(**{S.AREA: "100000"}))[1]
    cwr_a, cwr_b = child_woman_ratios(na[0]), child_woman_ratios(nb[0])
    hp = hamilton_perry(ga, cohort_ratios(na[0], nb[0]),
                        (cwr_b[0] / cwr_a[0], cwr_b[1] / cwr_a[1])).sum(1)
    nv, act = naive_carry(ga).sum(1), gb.sum(1)
    rows = pd.concat([pd.DataFrame({"area_code": provs,
                                    "area_name": [names.get(c, "") for c in provs],
                                    S.AGE_GROUP: label,
                                    "projected": cc[:, j], "actual": act[:, j],
                                    "nation_only": closed[:, j], "hamilton_perry": hp[:, j],
                                    "naive": nv[:, j]})
                      for j, label in enumerate(BACKTEST_GROUPS)], ignore_index=True)
    summ = backtest_summary(rows, ["projected", "nation_only", "hamilton_perry", "naive"],
                            seed=None).drop(columns="subset")
    w = signal_weights(a)
    rules = ((f"compared: provinces with county rows in census {ya} (summed) and a province row "
              f"in census {yb}"),
             (f"parent: the nation (sum of the provinces), residual 0; signals against it: "
              f"{', '.join(f'{k} x{v:g}' for k, v in w.items() if k != 'stock')}; children 0-4 x "
              f"(child-woman ratio / nation's)^{a.child_coverage_elasticity:g}"))
    return BacktestResult(rows=rows, summary=summ,
                          excluded=pd.DataFrame(excluded, columns=["area_code", "area_name",
                                                                   "reason"]),
                          rules=rules)
