"""Reference tables derived from the bundled data (never hand-typed), cached per data directory.

Public names:
    data_cache(maxsize)                  ``functools.lru_cache`` keyed also on ``config.data_dir()``
    national_census(year)                national population by sex and census group
    province_census(year, province)      a province row of a bundled census
    cohort_ratios(groups_a, groups_b)    10-year cohort change ratios by group
    annual_log_rates(ratios, years)      10-year ratios → annual log rates at single ages
    national_survival(year_a, year_b)    annual survival ratios (2, 101) from national cohorts
    migration_log_rates(ga, gb, ya, yb)  census-survival residual net-migration log factors
    national_births()                    observed national births by calendar year
    preferred_births()                   observed births by area code
    derived_fertility_sd()               sd of year-on-year changes in log national births
    internal_migration_stock()           net intra-provincial migration stock per county (2010)
    local_birth_adjustment(area, c, ys)  an area's births change relative to the nation's
    fertility_index_path(c, end, ...)    national births-per-woman index relative to the census

Every cached table is keyed on the data directory (``$NJFORECAST_DATA``), so switching the data
directory never serves another directory's tables. The census tables come from
``njforecast.io.store``, which parses each raw census file once into ``data/processed``.
References: see the package docstring (survival: Preston, Heuveline & Guillot 2001, ch. 11;
migration: Siegel & Swanson 2004, ch. 21).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import data_dir
from .assumptions import _N_START, _RATE_KNOTS, AGES, N_AGES, DemographicAssumptions
from .graduation import census_groups5, graduate_single_ages, to_array


def data_cache(maxsize: int):
    """``functools.lru_cache(maxsize)`` whose key also holds the data directory.

    The wrapped function's positional arguments form the key, prefixed by
    ``str(config.data_dir())``, so a table derived from one data directory is never returned
    for another. ``cache_clear`` and ``cache_info`` are those of the underlying cache.
    """
    def wrap(func):
        @functools.lru_cache(maxsize=maxsize)
        def keyed(_data_key: str, *args):
            return func(*args)

        @functools.wraps(func)
        def call(*args):
            return keyed(str(data_dir()), *args)

        call.cache_clear = keyed.cache_clear
        call.cache_info = keyed.cache_info
        return call
    return wrap


@data_cache(maxsize=1)
def _bundled_census() -> pd.DataFrame:
    """All bundled census rows (both years), parsed once into data/processed/census."""
    from ..io.store import load_bundled_census

    pop = load_bundled_census()
    pop[S.AREA] = pop[S.AREA].astype(str)
    return pop


def national_census(census_year: int) -> pd.DataFrame:
    """National population by sex and census group for a bundled census year.

    2010: sum of the 31 province rows of the 2010 county table (the table has no national
    row); 2020: the national row (100000) of census_province_2020.csv. Returns a copy of a
    cached frame (callers may change it).
    """
    return _national_census(census_year).copy()


@data_cache(maxsize=4)
def _national_census(census_year: int) -> pd.DataFrame:
    pop = _bundled_census()
    p = pop[pop[S.CENSUS_YEAR] == census_year]
    if p.empty:
        raise ValueError(f"no bundled census for {census_year}; bundled years: "
                         f"{sorted(pop[S.CENSUS_YEAR].unique())}")
    nat = p[p[S.AREA] == "100000"]
    if nat.empty:
        prov = p[p[S.AREA].str.fullmatch(r"\d\d0000")]
        nat = prov.groupby([S.CENSUS_YEAR, S.SEX, S.AGE_GROUP, S.AGE_START, S.AGE_END],
                           as_index=False)[S.POPULATION].sum()
        nat[S.AREA] = "100000"
    return nat


@data_cache(maxsize=4)
def _national_groups5(census_year: int) -> np.ndarray:
    """National groups G5 (2, 18) of a bundled census year (cached)."""
    return census_groups5(national_census(census_year))[1][0]


@data_cache(maxsize=1)
def _province_rows() -> pd.DataFrame:
    """The bundled census rows whose code ends in 0000 (provinces and the nation)."""
    pop = _bundled_census()
    return pop[pop[S.AREA].str.endswith("0000")]


def province_census(census_year: int, province: str) -> pd.DataFrame:
    """The province row (``pp0000``) of a bundled census year."""
    pop = _province_rows() if str(province).endswith("0000") else _bundled_census()
    p = pop[(pop[S.CENSUS_YEAR] == census_year) & (pop[S.AREA] == province)]
    if p.empty:
        raise ValueError(f"province {province} has no row in the bundled {census_year} census")
    return p.drop_duplicates([S.SEX, S.AGE_GROUP])


def cohort_ratios(groups_a: np.ndarray, groups_b: np.ndarray) -> np.ndarray:
    """10-year cohort change ratios (…, 2, 18) at A and B → (…, 2, 16).

    Start groups 0-4 … 70-74 go to the group two steps older (10-14 … 80-84); the open
    75+ goes to 85+. Empty start groups give ratio 1.
    """
    a = np.concatenate([groups_a[..., :_N_START], groups_a[..., _N_START:].sum(-1, keepdims=True)],
                       axis=-1)
    b = np.concatenate([groups_b[..., 2:2 + _N_START], groups_b[..., -1:]], axis=-1)
    return np.divide(b, a, out=np.ones_like(b), where=a > 0)


def annual_log_rates(ratios: np.ndarray, years: int = 10) -> np.ndarray:
    """10-year cohort ratios (…, 16) → annual log rates at single ages (…, 101).

    The annual log rate log(R)/years is placed at the cohort's mid-age over the interval
    (start-group mid-age + 5) and interpolated linearly between those ages, held flat outside.
    """
    logr = np.log(np.clip(ratios, 1e-6, None)) / years
    flat = logr.reshape(-1, logr.shape[-1])
    out = np.stack([np.interp(AGES, _RATE_KNOTS, row) for row in flat])
    return out.reshape(*logr.shape[:-1], N_AGES)


def national_survival(year_a: int = 2010, year_b: int = 2020, cap: bool = True) -> np.ndarray:
    """Annual survival ratio by sex and single age (2, 101) from national census cohorts.

    ``s[sex, a]`` carries a person aged a at one census moment to age a+1 a year later
    (index 100: the open age stays open). Derived from the national 10-year cohort ratios
    A→B (Preston, Heuveline & Guillot 2001, ch. 11); ``cap`` limits ratios to 1.
    """
    ga, gb = _national_groups5(year_a), _national_groups5(year_b)
    s = np.exp(annual_log_rates(cohort_ratios(ga, gb), years=year_b - year_a))
    return np.minimum(s, 1.0) if cap else s


def migration_log_rates(groups_a: np.ndarray, groups_b: np.ndarray, year_a: int = 2010,
                        year_b: int = 2020) -> np.ndarray:
    """Annual net-migration log factors (…, 2, 101) from two censuses of the same territory.

    Census-survival residual method in ratio form: the area's cohort ratio divided by the
    national ratio of the same cohort is its 10-year net-migration factor; ``log`` of it over the
    interval length is the annual rate, placed on single ages like survival.
    """
    nat = cohort_ratios(_national_groups5(year_a), _national_groups5(year_b))
    area = cohort_ratios(groups_a, groups_b)
    return annual_log_rates(area / nat, years=year_b - year_a)


@data_cache(maxsize=8)
def _province_migration(province: str, year_a: int, year_b: int) -> np.ndarray:
    _, ga = census_groups5(province_census(year_a, province))
    _, gb = census_groups5(province_census(year_b, province))
    return migration_log_rates(ga[0], gb[0], year_a, year_b)


def national_births() -> pd.Series:
    """Observed national births by calendar year (persons; the ``preferred`` rows)."""
    return preferred_births()["100000"].copy()


@data_cache(maxsize=1)
def _observations() -> pd.DataFrame:
    from ..io.store import load_observations

    return load_observations()


def _census_moment_births(births: pd.Series) -> pd.Series:
    """Births in the 12 months to 1 November of t: (2·B(t−1) + 10·B(t)) / 12 (persons)."""
    prev = births.reindex(births.index - 1).to_numpy()
    w = (2 * prev + 10 * births.to_numpy()) / 12
    return pd.Series(w, index=births.index).dropna()


def derived_fertility_sd(up_to: int | None = None) -> float:
    """Standard deviation of year-on-year changes in log national births (all observed years,
    or those up to ``up_to`` only: a back-test that may not see later births)."""
    b = national_births()
    if up_to is not None:
        b = b[b.index <= up_to]
    b = b[np.diff(b.index, prepend=b.index[0] - 1) == 1]
    return float(np.std(np.diff(np.log(b.to_numpy())), ddof=1))




@data_cache(maxsize=1)
def internal_migration_stock() -> pd.Series:
    """Net intra-provincial migration stock per county, share of residents (2010 county table).

    ``s_c = (I_c − O_c) / P_c`` with I_c the residents registered (户口) in another county of
    the same province (column 迁入人口-本省其他县（市）、市区), P_c the resident population and
    O_c the county's out-migrants to other counties of the province, which the table does not
    give: the province's in-migrant total is allocated to counties in proportion to their
    registered population (户籍人口), so that in- and out-migrants balance within the province.
    """
    from ..config import raw_dir
    from ..io.store import load_census_migration

    cols = {S.AREA: "code", "registered_population": "registered",
            "in_province_migrants": "in_province"}
    df = load_census_migration(raw_dir() / "census" / "census_county_2010.xlsx").rename(
        columns=cols)
    # The province sums below run over every coded row of the table, the province's own row
    # and its prefecture rows included (so O_c is smaller than the formula's); the projections
    # and the back-test figures in benchmarks/README.md were computed this way.
    df = df.drop_duplicates("code")
    df = df.dropna(subset=["total", "registered", "in_province"])
    df = df[df["total"] > 0]
    prov = df["code"].str[:2]
    share_reg = df["registered"] / df.groupby(prov)["registered"].transform("sum")
    out = share_reg * df.groupby(prov)["in_province"].transform("sum")
    return pd.Series(((df["in_province"] - out) / df["total"]).to_numpy(), index=df["code"])


@data_cache(maxsize=64)
def _province_single(census_year: int, province: str) -> np.ndarray:
    _, arr = to_array(graduate_single_ages(province_census(census_year, province)))
    return arr[0]



def _national_women_index(census_year: int, survival: np.ndarray, weights: np.ndarray,
                          years: list[int]) -> dict[int, float]:
    """Effective women (Σ weights × women) of the closed national population, relative to C.

    W(1 Nov y) / W(1 Nov C) with W = Σ_a w(a) · F(a): the women at the end of each step,
    the same exposure as the engine's births (:func:`project_arrays`) and the fertility ratio.
    """
    nat = graduate_single_ages(national_census(census_year))
    _, arr = to_array(nat)
    f = arr[0, 1].copy()
    base = float((weights * f).sum())
    out, cur = {}, f
    for y in range(census_year + 1, max(years) + 1):
        nxt = np.zeros_like(cur)
        nxt[1:] = cur[:-1] * survival[1, :-1]
        nxt[-1] += cur[-1] * survival[1, -1]
        cur = nxt  # age 0 does not matter for women 15-49 within the horizon used here
        out[y] = float((weights * cur).sum()) / base
    return out


def local_birth_adjustment(area: str, census_year: int, years: list[int],
                           up_to: int | None = None) -> tuple[np.ndarray, str]:
    """Factor on the national fertility index from an area's (or its prefecture's) births.

    Uses the first and last observed years y1 < y2 of ``births`` for the area itself, else
    for its prefecture (``pppp00``), when both exist and y2 ≥ census year: the local change
    B(y2)/B(y1) divided by the national change over the same years gives a relative factor a;
    it is phased in log-linearly between y1 and y2 and normalised to 1 at the census year.
    Registered-basis (户籍) births differ in level from resident births, so only the change
    is used; the level stays calibrated to the resident census.

    Only births dated ≤ ``up_to`` are read (None: all).

    Returns:
        (factor per year in ``years``, description).
    """
    obs = preferred_births()
    nat = obs["100000"]
    if up_to is not None:
        nat = nat[nat.index <= up_to]
    for code in (area, area[:4] + "00"):
        b = obs.get(code)
        if b is not None and up_to is not None:
            b = b[b.index <= up_to]
        if b is None or len(b) < 2:
            continue
        y1, y2 = int(b.index.min()), int(b.index.max())
        if y2 < census_year or y1 not in nat.index or y2 not in nat.index:
            continue
        a = (b[y2] / b[y1]) / (nat[y2] / nat[y1])
        yrs = np.asarray(years, dtype=float)
        frac = np.clip((yrs - y1) / (y2 - y1), 0, 1)
        frac0 = np.clip((census_year - y1) / (y2 - y1), 0, 1)
        return a ** (frac - frac0), f"{code} births {y1}→{y2} vs national: ×{a:.3f}"
    return np.ones(len(years)), "none"


@data_cache(maxsize=1)
def _preferred_births_cached() -> dict[str, pd.Series]:
    from ..io.store import preferred

    obs = preferred(_observations())
    b = obs[obs[S.INDICATOR] == "births"]
    return {a: g.set_index(S.YEAR)[S.VALUE].sort_index() for a, g in b.groupby(S.AREA)}


def preferred_births() -> dict[str, pd.Series]:
    """Observed births (preferred rows) by area code → Series indexed by year (persons)."""
    return _preferred_births_cached()


def fertility_index_path(census_year: int, end_year: int, assumptions: DemographicAssumptions,
                         survival: np.ndarray, weights: np.ndarray) -> tuple[dict[int, float], int]:
    """National index of births per effective woman relative to the census year (medium etc.).

    Observed part: census-moment births (:func:`_census_moment_births`) relative to the census
    year, divided by the effective-women index of the closed national population projected
    with the same survival. After the last observed year the named path applies.
    """
    years = list(range(census_year + 1, end_year + 1))
    if not years:
        return {}, census_year
    if assumptions.fertility_path == "constant":
        return {y: assumptions.fertility_multiplier for y in years}, census_year
    observed = national_births()
    if assumptions.births_until is not None:
        observed = observed[observed.index <= assumptions.births_until]
    births = _census_moment_births(observed)
    if census_year not in births.index:
        raise ValueError(f"national births for {census_year - 1} and {census_year} are needed "
                         "to index fertility to the census year")
    last = int(births.index.max())
    w_idx = _national_women_index(census_year, survival, weights, years + [last])
    obs_idx = {y: float(births[y] / births[census_year]) / w_idx[y]
               for y in range(census_year + 1, last + 1) if y in births.index}
    out = {}
    held = obs_idx.get(last, 1.0)
    if assumptions.fertility_path == "trend":
        ys = [y for y in range(last - 9, last + 1) if y in obs_idx]
        slope = np.polyfit(ys, np.log([obs_idx[y] for y in ys]), 1)[0] if len(ys) >= 2 else 0.0
    for y in years:
        if y in obs_idx:
            v = obs_idx[y]
        elif assumptions.fertility_path == "trend":
            v = held * np.exp(slope * (y - last))
        elif assumptions.fertility_path == "low":
            v = held * (1 - assumptions.fertility_variant)
        elif assumptions.fertility_path == "high":
            v = held * (1 + assumptions.fertility_variant)
        else:
            v = held
        out[y] = v * assumptions.fertility_multiplier
    return out, last

