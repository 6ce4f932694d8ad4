"""Projections of whole census tables and regions: the file jobs behind the CLI.

Public names:
    project_census(census_df, end_year, draws, ...)   age-group totals by area and year
    project_census_file(path, ...)                    load a census table and project it
                                                      (serial, local processes or Dask)
    region_base(region, census_year)                  a region's counties at single ages
    school_age_outlook(region, ...)                   school-age bands by county with intervals

Bands are summed over both sexes; with draws, regional totals are aggregated draw by draw
before the summaries (mean, 80 %/95 % intervals), so their intervals are right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from .assumptions import SCHOOL_BANDS, DemographicAssumptions
from .core import _age_window, _iter_school_ages, _quantile_block, project_population_summary
from .graduation import graduate_single_ages, to_array
from .error_bands import error_columns
from .inputs import prepare_inputs
from .reference import _bundled_census


def _band_sums(arr: np.ndarray, groups: dict[str, tuple[int, int]], first: int = 0
               ) -> np.ndarray:
    """(area, 2, ages[, D]) whose age axis starts at age ``first`` → (area, groups[, D]),
    both sexes summed."""
    return np.stack([arr[:, :, a - first:b - first + 1].sum(axis=(1, 2))
                     for a, b in groups.values()], axis=1)


def project_census(census_df: pd.DataFrame, end_year: int = 2035, draws: int = 0,
                   seed: int = 20201101, assumptions: DemographicAssumptions | None = None,
                   groups: dict[str, tuple[int, int]] | None = None,
                   totals: dict[str, list[str]] | None = None,
                   chunk_size: int = 100) -> pd.DataFrame:
    """Project every area of a census frame and return age-group totals by year.

    Args:
        census_df: census groups (one census year) as from :func:`njforecast.io.store.load_census`;
            every area in it is projected.
        end_year: last year (1 September of each year from the census year + 1).
        draws: 0 → one path (column ``population``); N → summaries over N draws.
        seed: random seed.
        assumptions: named assumptions (default :class:`DemographicAssumptions`()).
        groups: label → (first age, last age), both sexes summed (default :data:`SCHOOL_BANDS`).
        totals: extra aggregate areas, code → member codes (e.g. the city = its counties);
            aggregated draw by draw before summarising, so intervals of a total are right.
        chunk_size: areas per chunk when there are no ``totals`` (bounded memory).

    Returns:
        Frame area, year, age_group and either population (draws=0) or mean, lo80, hi80, lo95,
        hi95 (persons at 1 September of ``year``).
    """
    assumptions = assumptions or DemographicAssumptions()
    groups = groups or SCHOOL_BANDS
    base = graduate_single_ages(census_df)
    if draws and not totals:
        return project_population_summary(base, assumptions, None, end_year, draws, seed,
                                          groups=groups, chunk_size=chunk_size)
    inputs = prepare_inputs(base, assumptions, end_year)
    areas, pop0 = to_array(base)
    totals = totals or {}
    member_idx = {}
    for code, members in totals.items():
        missing = sorted(set(members) - set(areas))
        if missing:
            raise ValueError(f"total {code}: member areas {missing} are not in the census frame")
        member_idx[code] = [areas.index(m) for m in members]
    labels = list(areas) + list(totals)
    frames = []
    first, last = _age_window(groups)
    for year, arr in _iter_school_ages(pop0, inputs, inputs.census_year + 1, end_year,
                                       assumptions, draws, seed, first, last):
        b = _band_sums(arr, groups, first)                # (area, G[, D])
        if member_idx:
            b = np.concatenate([b] + [b[idx].sum(axis=0, keepdims=True)
                                      for idx in member_idx.values()], axis=0)
        part = {S.AREA: np.repeat(np.asarray(labels, dtype=object), len(groups)),
                S.YEAR: year,
                S.AGE_GROUP: np.tile(np.asarray(list(groups), dtype=object), len(labels))}
        if draws:
            part.update({k: v.reshape(-1) for k, v in _quantile_block(b).items()})
        else:
            part[S.POPULATION] = b.reshape(-1)
        frames.append(pd.DataFrame(part))
    return pd.concat(frames, ignore_index=True)


def region_base(region: str = "neijiang", census_year: int = 2020) -> pd.DataFrame:
    """A region's census counties at single ages: the ``base_df`` for :func:`project_population`.

    Returns:
        Frame census_year, area, sex, age, population (persons at 1 November) for the codes
        under which the bundled census of ``census_year`` publishes the region's counties.
    """
    from ..areas import census_codes, load_region

    codes = census_codes(load_region(region), census_year)
    pop = _bundled_census()
    cen = pop[(pop[S.CENSUS_YEAR] == census_year) & pop[S.AREA].isin(codes)]
    missing = sorted(set(codes) - set(cen[S.AREA]))
    if missing:
        raise ValueError(f"region {region}: areas {missing} have no row in the bundled "
                         f"{census_year} census")
    return graduate_single_ages(cen.drop_duplicates([S.AREA, S.SEX, S.AGE_GROUP]))


def school_age_outlook(region: str = "neijiang", end_year: int = 2035, draws: int = 1000,
                       seed: int = 20201101,
                       assumptions: DemographicAssumptions | None = None) -> pd.DataFrame:
    """School-age population by county and for the region, 2021–end_year, with intervals.

    Projects the region's counties from the bundled 2020 census (bands 3-5, 6-11, 12-14,
    15-17 of the GER definitions) and adds the region total draw by draw.

    Returns:
        Frame area, area_name, year, age_group, mean, lo80, hi80, lo95, hi95 (persons at
        1 September; draws=0 gives ``population`` instead of the summary columns).
    """
    from ..areas import census_codes, load_region

    reg = load_region(region)
    codes = census_codes(reg, 2020)
    pop = _bundled_census()
    cen = pop[(pop[S.CENSUS_YEAR] == 2020) & pop[S.AREA].isin(codes)]
    missing = sorted(set(codes) - set(cen[S.AREA]))
    if missing:
        raise ValueError(f"region {region}: areas {missing} have no row in the 2020 census")
    out = project_census(cen, end_year, draws, seed, assumptions, SCHOOL_BANDS,
                         totals={reg.code: codes})
    out.insert(1, S.AREA_NAME, out[S.AREA].map(reg.names("en")))
    return out


def project_census_file(path, end_year: int = 2035, draws: int = 0, seed: int = 20201101,
                        assumptions: DemographicAssumptions | None = None,
                        region: str | None = None, single_ages: bool = False,
                        executor: str = "serial", workers: int | None = None,
                        address: str | None = None, blank_cells: str = "refuse") -> pd.DataFrame:
    """Load a census table and project its county-level rows (the CLI's ``demography project``).

    Args:
        path: census table (2010 or 2020 layout, xlsx or csv).
        region: keep only the region's census codes for that year and add the region total.
        single_ages: single ages 0-25 instead of :data:`SCHOOL_BANDS`.
        executor, workers, address: run :func:`project_census` by area chunk through
            :func:`njforecast.parallel.project_in_chunks` ("local" processes or "dask");
            "serial" runs it in this process. Same numbers and row order either way.
        blank_cells: policy for empty or malformed age cells ("refuse", "drop", "zero";
            :mod:`njforecast.io.census_cells`); list what it touched with
            :func:`njforecast.io.store.load_census_checked`.
        Other arguments as :func:`project_census`.

    Returns:
        The frame of :func:`project_census` plus county_kind and typical_error_10y_pct, the
        typical error of this method at 10 years for the band's middle age
        (:func:`njforecast.demography.error_bands.error_columns`).
    """
    from ..io.store import load_census

    cen = load_census(path, blank_cells)
    year = int(cen[S.CENSUS_YEAR].iloc[0])
    totals = None
    if region:
        from ..areas import census_codes, load_region

        reg = load_region(region)
        codes = census_codes(reg, year)
        cen = cen[cen[S.AREA].isin(codes)]
        missing = sorted(set(codes) - set(cen[S.AREA]))
        if missing:
            raise ValueError(f"{path}: region {region}'s codes {missing} are not in this census")
        totals = {reg.code: codes}
    else:
        cen = cen[~cen[S.AREA].str.endswith("00")]
    if cen.empty:
        raise ValueError(f"{path}: no county-level rows to project")
    if end_year <= year:
        raise ValueError(f"--to {end_year} must be after the census year {year}")
    groups = {str(a): (a, a) for a in range(26)} if single_ages else SCHOOL_BANDS
    if executor == "serial":
        out = project_census(cen, end_year, draws, seed, assumptions, groups, totals)
    else:
        from .. import parallel

        n = cen[S.AREA].nunique()  # a region total needs all its members in one task
        size = n if totals else parallel.balanced_chunk_size(n, workers, cap=100)
        out = parallel.project_in_chunks(
            cen, assumptions, None, end_year, draws, seed, project=project_census,
            project_kwargs={"groups": groups, "totals": totals}, chunk_size=size,
            executor=executor, workers=workers, address=address).drop(columns=S.SCENARIO)
        if not draws:  # chunks are year-major: restore the serial order (year, then area)
            out = out.sort_values(S.YEAR, kind="stable").reset_index(drop=True)
    if region:
        out.insert(1, S.AREA_NAME, out[S.AREA].map(reg.names("en")))
    mid = {g: (a + b) // 2 for g, (a, b) in groups.items()}    # a band's error: its middle age
    return pd.concat([out, error_columns(out[S.AREA], out[S.AGE_GROUP].map(mid))], axis=1)

