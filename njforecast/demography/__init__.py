"""Population engine: single ages, survival, births, migration, projection, draws, back-test.

Public names:
    graduate_single_ages(census_df)          5-year census groups → single ages 0..100
    DemographicAssumptions                   frozen, named assumptions (``to_params()`` for logging)
    DemographicInputs, prepare_inputs(...)   the rates derived from the bundled data for one base
    project_population(base_df, assumptions, start_year, end_year, draws, seed, ages)
                                             cohort-component projection (long population frame)
    project_population_summary(...)          the same, streamed by area chunk, returning only
                                             draw summaries (mean, lo80, hi80, lo95, hi95)
    project_arrays(...)                      the core over numpy arrays (area, sex, age[, draw])
    summarise_draws(df, value_col, by)       mean and 80 %/95 % intervals over ``draw``
    hamilton_perry(...)                      cohort-change-ratio projection (data-light benchmark)
    hamilton_perry_region(region)            Hamilton-Perry for a region's comparable units
    census_backtest(base_path, actual_path)  project census A's counties to census B and score
    child_coverage_factor(base, province, ε) county-relative coverage correction of ages 0-4
    prefecture_halves(codes, seed)           held-out split of counties by prefecture
    backtest_summary(rows, methods, seed)    back-test errors on halves A, B and all counties
    school_age_outlook(region, ...)          school-age bands by county with intervals
    region_base(region, census_year)         a region's counties, graduated (base for projections)
    stable_int(code)                         a stable integer for per-area seeding

Time convention
    Census counts refer to 1 November (00:00) of the census year, ages in completed years.
    The engine steps from 1 November to 1 November. Output ``year`` t is the population at the
    school-year start, 1 September of t, taken as the linear interpolation between the two
    surrounding census-moment populations at the same single age:
    ``P(1 Sep t, a) = (10/12)·P(1 Nov t, a) + (2/12)·P(1 Nov t−1, a)`` (10 of the 12 months
    from 1 Nov t−1 to 1 Nov t have passed). Age a at 1 September is the completed age on the
    day the school year starts, which is the age used by the Chinese entry rule (six full years
    by 31 August for primary). The census year itself is dated the same way: the census is
    taken back one step to 1 November of C−1 by reverse survival of its cohorts
    (:func:`back_step`; ``P(a, C−1) = P(a+1, C) / (s(a)·exp(κ·m(a)))``, the exact inverse of a
    forward step, migration in those months from the same residual rates at the central
    multiplier κ, ages 99 and 100+ held at their census counts) and 1 September C is
    interpolated as for every later year. So ``year`` t is 1 September everywhere, base rates
    calibrated on the base year (e.g. enrolment ratios) share the dating of the projected years,
    and the step from the base year to C+1 is a full 12 months. The back step carries no draw
    spread: the base year is identical in every draw.

Methods and references
    * Graduation: monotone piecewise-cubic (PCHIP; Fritsch & Carlson 1980, SIAM J. Numer.
      Anal. 17:238) interpolation of the cumulative count at group boundaries, differenced at
      integer ages — the "spline on cumulative counts" approach of McNeil, Trussell & Turner
      (1977, Demography 14:245). Group totals are preserved (the curve passes through every
      cumulative knot) and single ages are never negative (monotone interpolant).
    * Survival: national census survival ratios 2010→2020 by sex and 5-year group (Preston,
      Heuveline & Guillot, *Demography*, 2001, ch. 11; Siegel & Swanson, *Methods and
      Materials of Demography*, 2004, ch. 12). International migration is negligible at the
      national level, so the national 10-year cohort ratio measures survival (and relative
      census coverage). The 2010 national table is the sum of the 31 province rows of the
      2010 county table; 2020 is the national row of ``census_province_2020.csv``.
      The 2010 census under-counted young children, so the national ratios for the youngest
      cohorts exceed 1 (the cohort aged 0-4 in 2010 was counted larger at 10-14 in 2020).
      Projecting from 2020 the annual ratios are capped at 1 (pure survival, the default);
      projecting from 2010 (the back-test) they are kept uncapped, so the projection carries
      the same coverage correction the 2020 census shows nationally.
    * Migration: census-survival residual method (Siegel & Swanson 2004, ch. 21): the area's
      10-year cohort ratio divided by the national ratio is the net-migration factor by age.
      Areas whose boundaries changed use their region's comparable unit (rates shared by the
      members, i.e. the unit's residual allocated in proportion to each member's own
      population by age — e.g. the Neijiang development zone 511071 takes the urban districts'
      rates); areas without a usable earlier census use their province's residual plus two
      county signals from the base census (relative age profile from age 12; net
      intra-provincial migration stock of the 2010 table).
    * Coverage of young children (optional, ``child_coverage_elasticity`` ε, default 0): the
      base census's persons aged 0-4 of an area are multiplied by (CWR_area / CWR_province)^ε,
      CWR = persons 0-4 per woman 15-44. The 2010 census under-counted young children, more
      where fertility was higher (births outside the quota; Goodkind 2011, *Demography*
      48:291); the uncapped national ratios carry the average under-count, ε spreads it
      between the counties of a province. The back-test uses ε = 0.15
      (:data:`BACKTEST_CHILD_COVERAGE`), chosen on half A of a prefecture split
      (:func:`prefecture_halves`, seed 20201101) and scored on half B: for 2020 ages 10-14,
      median APE 7.0 % on half B (engine without it 9.1 %, naive carry 9.7 %), 7.2 % on all
      164 Sichuan counties (8.1 %, 8.4 %); across 30 split seeds the held-out median beat
      the naive's in 21 (benchmarks/README.md). Forward projections from 2020 leave ε at 0.
    * Births: general fertility ratio (age-0 persons per woman aged 15–49 at the census),
      calibrated per area, times a fertility index path. The medium path divides national
      births in the 12 months to 1 November (from the calendar-year series, 2/12 of year t−1
      plus 10/12 of year t) relative to the census year by the number of women 15–49 at
      1 November t of the closed national population projected with the same survival, so it
      measures births per woman; it is held after the last observed year. The births of a
      step are applied to the women at the end of the step (1 November t), the exposure of
      both the fertility ratio and the index, so a closed national projection reproduces the
      national births it is indexed to (test_demography). An area's (or its prefecture's) own
      observed births change relative to the national change over the same years (Neijiang
      2019 → 2022, registered basis) multiplies the path from the census on; the level stays
      calibrated to the resident census because registered (户籍) births include children of
      out-migrants born elsewhere.
    * Hamilton-Perry: Hamilton & Perry (1962, Social Forces 41:163); Swanson, Schlottmann &
      Schmidt (2010, Popul. Res. Policy Rev. 29:47).
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

from .. import schema as S

# ------------------------------------------------------------------------------------------
# constants derived from the conventions above (no data figures)

AGES = np.arange(S.OPEN_AGE + 1)                  # 0..100, 100 is the open age 100+
N_AGES = len(AGES)
#: months from 1 Nov (t−1) to 1 Sep (t), over 12: weight of the later census moment
SEPT_WEIGHT = 10 / 12
#: group boundaries of the census table (0, 1-4, 5-9, ..., 85+), cumulative knots for PCHIP
_KNOTS = np.array([g[1] for g in S.AGE_GROUPS] + [S.OPEN_AGE + 1], dtype=float)
#: 5-year groups used for cohort ratios: 0-4, 5-9, ..., 80-84, 85+ (age 0 merged into 0-4)
G5 = tuple((a, a + 4) for a in range(0, 85, 5)) + ((85, S.OPEN_AGE),)
G5_LABELS = tuple(f"{a}-{b}" if b < S.OPEN_AGE else f"{a}+" for a, b in G5)
#: 10-year cohort ratios: start groups 0-4..70-74 → +10 years, and 75+ → 85+ (open)
_N_START = 15
#: single age at which a 10-year ratio's annual rate is placed: the cohort's mid-age over the
#: decade (start-group mid-age + 5); the open 75+ → 85+ ratio is placed at 85
_RATE_KNOTS = np.array([a + 2 + 5 for a in range(0, 75, 5)] + [85], dtype=float)
QUANTILES = {S.LO80: 0.10, S.HI80: 0.90, S.LO95: 0.025, S.HI95: 0.975}
FERTILITY_PATHS = ("constant", "medium", "trend", "low", "high")
MIGRATION_SOURCES = ("auto", "province", "none")
#: school-age bands of the GER definitions (DESIGN §5): label → (first age, last age)
SCHOOL_BANDS = {"3-5": (3, 5), "6-11": (6, 11), "12-14": (12, 14), "15-17": (15, 17)}


def stable_int(code: str) -> int:
    """A platform-independent 32-bit integer for an area code (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(str(code).encode("utf-8"))


# ------------------------------------------------------------------------------------------
# graduation


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


# ------------------------------------------------------------------------------------------
# assumptions


@dataclass(frozen=True)
class DemographicAssumptions:
    """Named assumptions of a cohort-component projection (all logged via :meth:`to_params`).

    Attributes:
        fertility_path: "constant" (the census-year fertility ratio held), "medium" (observed
            national births per woman to the last observed year, then held), "trend" (the
            log-linear trend of the last ten observed years continued), "low"/"high"
            (medium × (1 ∓ fertility_variant) after the last observed year).
        fertility_multiplier: scenario factor on every projected year's births (1 = none).
        fertility_variant: relative distance of the low/high paths from medium.
        fertility_ages: first and last age of the women counted in the general fertility ratio.
        fertility_sd: annual standard deviation of log births in the draws' random walk after
            the last observed year; None derives it from the national births series (sd of
            year-on-year log changes).
        local_births: adjust the path by the region's own observed births change (registered
            basis; only the change is used, never the level).
        migration_source: "auto" (area's own census residual over the decade ending at the base
            census where both censuses are bundled, a region's comparable unit where boundaries
            changed, else the province's residual plus county signals from the base census:
            its age profile relative to the province from ``structure_from_age`` up, and — for
            a 2010 base, whose table has the columns — its net intra-provincial migration stock
            spread over ten years), "province"
            (the province's residual for every area), "none" (closed population).
        migration_multiplier: scenario factor on the log net-migration factors (0 = closed).
        migration_sd: log-scale standard deviation of the per-area, per-draw migration
            multiplier (lognormal around ``migration_multiplier``).
        structure_from_age: where an area has no census history ("auto"), its base-census
            age profile relative to its province is carried forward as recurring migration from
            this age up (default 12, entry to junior secondary, when pupils start to move for
            school); younger children follow the family-level signal (see
            :func:`internal_migration_stock`).
        survival_source: "census_2010_2020" (national census survival ratios) or "none"
            (survival 1: no deaths).
        survival_cap: cap annual survival ratios at 1 (pure survival; right for a base census
            with good child coverage). False keeps the census ratios above 1 at young ages,
            which carry the 2010 census's under-count of young children forward into the
            cohort's later, better-counted ages (used when projecting from 2010).
        child_coverage_elasticity: ε of the county-relative coverage correction of the base
            census's ages 0-4 (:func:`child_coverage_factor`): each area's children 0-4 are
            multiplied by ``(CWR_area / CWR_province)^ε``, CWR being persons 0-4 per woman
            15-44. 0 (the default) leaves the base as counted. Meant for a base census with a
            known under-count of young children (2010) together with ``survival_cap=False``,
            whose uncapped national ratios carry the average under-count; ε spreads it by
            county. The back-test's value was chosen on a held-out protocol
            (:data:`BACKTEST_CHILD_COVERAGE`).
    """

    fertility_path: str = "medium"
    fertility_multiplier: float = 1.0
    fertility_variant: float = 0.2
    fertility_ages: tuple[int, int] = (15, 49)
    fertility_sd: float | None = None
    local_births: bool = True
    migration_source: str = "auto"
    migration_multiplier: float = 1.0
    migration_sd: float = 0.5
    structure_from_age: int = 12
    survival_source: str = "census_2010_2020"
    survival_cap: bool = True
    child_coverage_elasticity: float = 0.0

    def __post_init__(self):
        if self.fertility_path not in FERTILITY_PATHS:
            raise ValueError(f"fertility_path {self.fertility_path!r} unknown; "
                             f"use one of {FERTILITY_PATHS}")
        if self.migration_source not in MIGRATION_SOURCES:
            raise ValueError(f"migration_source {self.migration_source!r} unknown; "
                             f"use one of {MIGRATION_SOURCES}")
        if self.survival_source not in ("census_2010_2020", "none"):
            raise ValueError(f"survival_source {self.survival_source!r} unknown; use "
                             "'census_2010_2020' or 'none'")
        if self.fertility_multiplier < 0:
            raise ValueError("fertility_multiplier must be >= 0")
        if not np.isfinite(self.child_coverage_elasticity):
            raise ValueError("child_coverage_elasticity must be a finite number")
        if self.migration_sd < 0 or (self.fertility_sd is not None and self.fertility_sd < 0):
            raise ValueError("migration_sd and fertility_sd must be >= 0")
        lo, hi = self.fertility_ages
        if not 1 <= lo <= hi <= S.OPEN_AGE:
            raise ValueError(f"fertility_ages {self.fertility_ages} must be 1 <= first <= last "
                             f"<= {S.OPEN_AGE} (women born in a step cannot be its mothers)")

    @classmethod
    def from_config(cls, section: dict) -> DemographicAssumptions:
        """Build from a config table (``cfg.section("demography")``); unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"[demography] unknown keys {unknown}; known: {sorted(known)}")
        kw = dict(section)
        if "fertility_ages" in kw:
            kw["fertility_ages"] = tuple(int(x) for x in kw["fertility_ages"])
        return cls(**kw)

    def to_params(self) -> dict[str, str | float | int | bool]:
        """Flat dict of the assumptions for MLflow params (keys prefixed ``demography.``)."""
        out = {}
        for k, v in asdict(self).items():
            out[f"demography.{k}"] = "-".join(map(str, v)) if isinstance(v, tuple) else (
                "derived" if v is None else v)
        return out


# ------------------------------------------------------------------------------------------
# reference tables derived from the bundled data (never hand-typed)


@functools.lru_cache(maxsize=1)
def _bundled_census() -> pd.DataFrame:
    """All bundled census rows (both years), from data/processed (rebuilt from raw if absent)."""
    from ..io.store import read_processed

    pop = read_processed("census_population")
    pop[S.AREA] = pop[S.AREA].astype(str)
    return pop


@functools.lru_cache(maxsize=1)
def _bundled_census_areas() -> pd.DataFrame:
    from ..io.store import read_processed

    return read_processed("census_areas")


def national_census(census_year: int) -> pd.DataFrame:
    """National population by sex and census group for a bundled census year.

    2010: sum of the 31 province rows of the 2010 county table (the table has no national
    row); 2020: the national row (100000) of census_province_2020.csv.
    """
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


@functools.lru_cache(maxsize=4)
def _national_groups5(census_year: int) -> np.ndarray:
    """National groups G5 (2, 18) of a bundled census year (cached)."""
    return census_groups5(national_census(census_year))[1][0]


def province_census(census_year: int, province: str) -> pd.DataFrame:
    """The province row (``pp0000``) of a bundled census year."""
    pop = _bundled_census()
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


@functools.lru_cache(maxsize=8)
def _province_migration(province: str, year_a: int, year_b: int) -> np.ndarray:
    _, ga = census_groups5(province_census(year_a, province))
    _, gb = census_groups5(province_census(year_b, province))
    return migration_log_rates(ga[0], gb[0], year_a, year_b)


def national_births() -> pd.Series:
    """Observed national births by calendar year (persons; the ``preferred`` rows)."""
    return preferred_births()["100000"].copy()


@functools.lru_cache(maxsize=1)
def _observations() -> pd.DataFrame:
    from ..io.store import load_observations

    return load_observations()


def _census_moment_births(births: pd.Series) -> pd.Series:
    """Births in the 12 months to 1 November of t: (2·B(t−1) + 10·B(t)) / 12 (persons)."""
    prev = births.reindex(births.index - 1).to_numpy()
    w = (2 * prev + 10 * births.to_numpy()) / 12
    return pd.Series(w, index=births.index).dropna()


def derived_fertility_sd() -> float:
    """Standard deviation of year-on-year changes in log national births (all observed years)."""
    b = national_births()
    b = b[np.diff(b.index, prepend=b.index[0] - 1) == 1]
    return float(np.std(np.diff(np.log(b.to_numpy())), ddof=1))


# ------------------------------------------------------------------------------------------
# inputs for one base census


@dataclass(frozen=True)
class DemographicInputs:
    """Rates for one base census, derived in code from the bundled data.

    Attributes:
        census_year: base census year (population at 1 November).
        areas: area codes, in array order.
        survival: annual survival ratios (2, 101).
        migration: annual net-migration log factors (area, 2, 101).
        migration_basis: per area, where its migration came from ("own", "unit:<id>",
            "province:<code>", "none").
        fertility_ratio: age-0 persons per woman in ``fertility_ages`` at the census (area,).
        fertility_weights: 1 for the ages of the women counted, else 0 (101,).
        male_share: male share of births (national age-0 count of the base census).
        fertility_index: year → (area,) index of births per woman relative to the census year
            (census-moment years ``census_year+1 ..``), including the local adjustment.
        last_observed: last census-moment year whose national births are observed.
        fertility_sd: annual sd of the log births random walk after ``last_observed``.
        base_factor: multiplicative coverage correction of the base population (area, 2, 101)
            applied before the first step (:func:`child_coverage_factor`); None = 1.
    """

    census_year: int
    areas: tuple[str, ...]
    survival: np.ndarray
    migration: np.ndarray
    migration_basis: tuple[str, ...]
    fertility_ratio: np.ndarray
    fertility_weights: np.ndarray
    male_share: float
    fertility_index: dict[int, np.ndarray] = field(repr=False)
    last_observed: int
    fertility_sd: float
    base_factor: np.ndarray | None = field(default=None, repr=False)

    def subset(self, idx) -> DemographicInputs:
        """The inputs of the areas at positions ``idx`` (for chunked runs)."""
        idx = np.asarray(idx)
        return DemographicInputs(
            census_year=self.census_year, areas=tuple(np.asarray(self.areas)[idx]),
            survival=self.survival, migration=self.migration[idx],
            migration_basis=tuple(np.asarray(self.migration_basis)[idx]),
            fertility_ratio=self.fertility_ratio[idx], fertility_weights=self.fertility_weights,
            male_share=self.male_share,
            fertility_index={y: v[idx] for y, v in self.fertility_index.items()},
            last_observed=self.last_observed, fertility_sd=self.fertility_sd,
            base_factor=None if self.base_factor is None else self.base_factor[idx])


def _region_units(census_year: int) -> list[tuple[str, list[str], list[str]]]:
    """(unit id, codes at the earlier census, codes at ``census_year``) from every region file."""
    from ..areas import load_region
    from ..config import external_dir

    out = []
    for p in sorted((external_dir() / "regions").glob("*.toml")):
        reg = load_region(p)
        for u in reg.comparable_units:
            later = [str(c) for c in u.get(f"codes_{census_year}", ())]
            earlier = [str(c) for c in u.get(f"codes_{census_year - 10}", ())]
            if later and earlier:
                out.append((str(u["id"]), earlier, later))
    return out


#: a county is compared with its own earlier census only if its total changed by a factor
#: inside this band (outside it, boundary changes are the likelier cause)
TOTAL_RATIO_BAND = (0.5, 2.0)


@functools.lru_cache(maxsize=1)
def internal_migration_stock() -> pd.Series:
    """Net intra-provincial migration stock per county, share of residents (2010 county table).

    ``s_c = (I_c − O_c) / P_c`` with I_c the residents registered (户口) in another county of
    the same province (column 迁入人口-本省其他县（市）、市区), P_c the resident population and
    O_c the county's out-migrants to other counties of the province, which the table does not
    give: the province's in-migrant total is allocated to counties in proportion to their
    registered population (户籍人口), so that in- and out-migrants balance within the province.
    """
    from ..config import raw_dir
    from ..io.store import _code_str

    cols = {"区划代码": "code", "合计": "total", "户籍人口": "registered",
            "迁入人口（人）-本省其他县\n（市）、市区": "in_province"}
    path = raw_dir() / "census" / "census_county_2010.xlsx"
    df = pd.read_excel(path, usecols=list(cols)).rename(columns=cols)
    df["code"] = _code_str(df["code"])
    df = df[df["code"].notna() & ~df["code"].str.endswith("00")].drop_duplicates("code")
    df = df.dropna(subset=["total", "registered", "in_province"])
    df = df[df["total"] > 0]
    prov = df["code"].str[:2]
    share_reg = df["registered"] / df.groupby(prov)["registered"].transform("sum")
    out = share_reg * df.groupby(prov)["in_province"].transform("sum")
    return pd.Series(((df["in_province"] - out) / df["total"]).to_numpy(), index=df["code"])


@functools.lru_cache(maxsize=64)
def _province_single(census_year: int, province: str) -> np.ndarray:
    _, arr = to_array(graduate_single_ages(province_census(census_year, province)))
    return arr[0]


def _structure_log_rates(county: np.ndarray, province: np.ndarray, from_age: int) -> np.ndarray:
    """Relative age-profile steps log(rel(a+1)/rel(a)) for ages a ≥ from_age (2, 101).

    rel(a) is the county's share of the province's persons aged a (by sex) at the base
    census; the step from age a to a+1 is the county's net migration at that age relative to
    the province in a synthetic cohort, carried forward as recurring, place-specific migration
    (schools, jobs). Ages whose shares are empty, and the open age, get 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = county / province
        step = np.log(rel[:, 1:] / rel[:, :-1])
    step = np.where(np.isfinite(step), step, 0.0)
    out = np.zeros_like(county)
    out[:, :-1] = step
    out[:, :from_age] = 0.0
    out[:, S.AGE_GROUPS[-1][1]:] = 0.0   # the graduated open group carries no signal
    return out


def _cwr(arr: np.ndarray) -> np.ndarray:
    """Child-woman ratio (…): persons aged 0-4 (both sexes) per woman aged 15-44, single ages."""
    kids = arr[..., :, 0:5].sum(axis=(-1, -2))
    women = arr[..., 1, 15:45].sum(axis=-1)
    return np.divide(kids, women, out=np.full_like(kids, np.nan), where=women > 0)


def child_coverage_factor(base_arr: np.ndarray, province_arr: np.ndarray,
                          elasticity: float) -> np.ndarray:
    """County-relative coverage correction of the base census's children aged 0-4.

    ``f = (CWR_area / CWR_province)^ε`` for ages 0-4 (both sexes), 1 at other ages, with
    CWR = persons 0-4 per woman 15-44 at the base census. Under-reporting of young children
    in China's censuses is concentrated where fertility is higher (births outside the
    birth-planning quota; Goodkind 2011, *Demography* 48:291) and where children stay with
    grandparents while their mothers work elsewhere; the child-woman ratio measures both.
    The province's own level of under-count is not touched here (the uncapped national
    survival ratios carry it); ε only spreads it between the province's counties. Areas
    with no women 15-44 or no children get 1.

    Args:
        base_arr: base population (area, 2, 101), persons.
        province_arr: each area's province at the same census (area, 2, 101) or one (2, 101).
        elasticity: ε (0 → all ones).

    Returns:
        Factors (area, 2, 101).
    """
    out = np.ones_like(base_arr, dtype=float)
    if elasticity == 0:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = _cwr(base_arr) / _cwr(np.broadcast_to(province_arr, base_arr.shape))
    f = np.where(np.isfinite(rel) & (rel > 0), rel, 1.0) ** elasticity
    out[:, :, 0:5] = f[:, None, None]
    return out


def _migration_for(areas: list[str], base_arr: np.ndarray, census_year: int,
                   assumptions: DemographicAssumptions) -> tuple[np.ndarray, list[str]]:
    """Annual net-migration log factors per area and their basis (see DemographicAssumptions)."""
    source = assumptions.migration_source
    mig = np.zeros((len(areas), 2, N_AGES))
    basis = ["none"] * len(areas)
    if source == "none":
        return mig, basis
    earlier = census_year - 10
    pop = _bundled_census()
    have_earlier = source == "auto" and (pop[S.CENSUS_YEAR] == earlier).any()
    if have_earlier:
        old = pop[pop[S.CENSUS_YEAR] == earlier]
        old_areas, old_g = census_groups5(old)
        old_pos = {a: i for i, a in enumerate(old_areas)}
        new_all = pop[pop[S.CENSUS_YEAR] == census_year]
        new_areas, new_g = census_groups5(new_all)
        new_pos = {a: i for i, a in enumerate(new_areas)}
        units = _region_units(census_year)
    stock = None
    if source == "auto" and not have_earlier and census_year == 2010:
        stock = internal_migration_stock()
    for i, code in enumerate(areas):
        if have_earlier:
            unit = next((u for u in units if code in u[2]), None)
            if unit and all(c in old_pos for c in unit[1]) and all(c in new_pos for c in unit[2]):
                ga = sum(old_g[old_pos[c]] for c in unit[1])
                gb = sum(new_g[new_pos[c]] for c in unit[2])
                mig[i] = migration_log_rates(ga, gb, earlier, census_year)
                basis[i] = f"unit:{unit[0]}"
                continue
            if code in old_pos and code in new_pos:
                ga, gb = old_g[old_pos[code]], new_g[new_pos[code]]
                ratio = gb.sum() / max(ga.sum(), 1.0)
                if TOTAL_RATIO_BAND[0] <= ratio <= TOTAL_RATIO_BAND[1]:
                    mig[i] = migration_log_rates(ga, gb, earlier, census_year)
                    basis[i] = "own"
                    continue
        prov = code[:2] + "0000"
        years = (earlier, census_year) if have_earlier else (census_year, census_year + 10)
        mig[i] = _province_migration(prov, *years)
        basis[i] = f"province:{prov}"
        if source == "auto" and code != prov:
            mig[i] += _structure_log_rates(base_arr[i], _province_single(census_year, prov),
                                           assumptions.structure_from_age)
            basis[i] += "+structure"
            if stock is not None and code in stock.index and np.isfinite(stock[code]):
                mig[i] += np.log1p(max(stock[code], -0.99)) / 10
                basis[i] += "+internal_stock"
    return mig, basis


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


def local_birth_adjustment(area: str, census_year: int, years: list[int]) -> tuple[np.ndarray, str]:
    """Factor on the national fertility index from an area's (or its prefecture's) births.

    Uses the first and last observed years y1 < y2 of ``births`` for the area itself, else
    for its prefecture (``pppp00``), when both exist and y2 ≥ census year: the local change
    B(y2)/B(y1) divided by the national change over the same years gives a relative factor a;
    it is phased in log-linearly between y1 and y2 and normalised to 1 at the census year.
    Registered-basis (户籍) births differ in level from resident births, so only the change
    is used; the level stays calibrated to the resident census.

    Returns:
        (factor per year in ``years``, description).
    """
    obs = preferred_births()
    nat = obs["100000"]
    for code in (area, area[:4] + "00"):
        b = obs.get(code)
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


@functools.lru_cache(maxsize=1)
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
    births = _census_moment_births(national_births())
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


def prepare_inputs(base_df: pd.DataFrame, assumptions: DemographicAssumptions,
                   end_year: int = 2035, census_groups: pd.DataFrame | None = None
                   ) -> DemographicInputs:
    """Derive every rate for a base census from the bundled data (see module docstring).

    Args:
        base_df: single-age base (census_year, area, sex, age, population), one census year.
        assumptions: the named assumptions.
        end_year: last census-moment year for which a fertility index is needed.
        census_groups: the census group frame the base was graduated from (optional; only
            used to check that the fertility ratio's women are counted exactly).
    """
    years = sorted(base_df[S.CENSUS_YEAR].unique()) if S.CENSUS_YEAR in base_df else []
    if len(years) != 1:
        raise ValueError("base_df must hold exactly one census year (column census_year); "
                         f"found {years}")
    c = int(years[0])
    areas, arr = to_array(base_df)
    if assumptions.survival_source == "none":
        surv = np.ones((2, N_AGES))
    else:
        surv = national_survival(2010, 2020, cap=assumptions.survival_cap)
    lo, hi = assumptions.fertility_ages
    weights = ((AGES >= lo) & (AGES <= hi)).astype(float)
    women = (arr[:, 1] * weights).sum(axis=1)
    k = np.divide(arr[:, :, 0].sum(axis=1), women, out=np.zeros(len(areas)), where=women > 0)
    nat0 = national_census(c)
    age0 = nat0[nat0[S.AGE_GROUP] == "0"].set_index(S.SEX)[S.POPULATION]
    male_share = float(age0["male"] / age0.sum())
    mig, basis = _migration_for(areas, arr, c, assumptions)
    nat_path, last = fertility_index_path(c, max(end_year, c + 1), assumptions, surv, weights)
    ys = list(nat_path)
    idx = {y: np.full(len(areas), v) for y, v in nat_path.items()}
    if assumptions.local_births and assumptions.fertility_path != "constant" and ys:
        for i, code in enumerate(areas):
            adj, _ = local_birth_adjustment(code, c, ys)
            for j, y in enumerate(ys):
                idx[y][i] *= adj[j]
    sd = assumptions.fertility_sd if assumptions.fertility_sd is not None else \
        derived_fertility_sd()
    base_factor = None
    if assumptions.child_coverage_elasticity != 0:
        prov = np.stack([_province_single(c, code[:2] + "0000") for code in areas])
        base_factor = child_coverage_factor(arr, prov, assumptions.child_coverage_elasticity)
    return DemographicInputs(census_year=c, areas=tuple(areas), survival=surv, migration=mig,
                             migration_basis=tuple(basis), fertility_ratio=k,
                             fertility_weights=weights, male_share=male_share,
                             fertility_index=idx, last_observed=last, fertility_sd=sd,
                             base_factor=base_factor)


# ------------------------------------------------------------------------------------------
# the core over arrays


def _area_draws(areas, seed: int, n_steps: int, draws: int, migration_sd: float,
                migration_multiplier: float) -> np.ndarray:
    """Per-area migration multipliers (area, draws), each area from its own seed stream."""
    out = np.empty((len(areas), draws))
    for i, code in enumerate(areas):
        rng = np.random.default_rng(np.random.SeedSequence([seed, stable_int(code)]))
        z = rng.standard_normal(draws)
        out[i] = migration_multiplier * np.exp(migration_sd * z - migration_sd ** 2 / 2)
    return out


def _common_fertility_shocks(seed: int, n_steps: int, draws: int) -> np.ndarray:
    """Fertility shocks shared by all areas (steps, draws): seeded by ``seed`` alone."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x46455254]))  # "FERT"
    return rng.standard_normal((n_steps, draws))


def project_arrays(pop0: np.ndarray, inputs: DemographicInputs, n_steps: int,
                   assumptions: DemographicAssumptions, draws: int = 0, seed: int = 20201101):
    """Cohort-component projection over arrays, one census-moment year at a time.

    Args:
        pop0: base population (area, 2, 101), persons at the census moment.
        inputs: rates for these areas (same order).
        n_steps: number of annual steps.
        assumptions: named assumptions (multipliers and draw spreads).
        draws: 0 for one deterministic path, else the number of draws.
        seed: random seed; areas draw from ``SeedSequence([seed, stable_int(area)])`` and the
            shared fertility shocks from ``SeedSequence([seed, "FERT"])``, so chunking or
            reordering areas gives identical numbers.

    Yields:
        (year, population) for year = census_year+1 … census_year+n_steps; population is
        (area, 2, 101) without draws, else (area, 2, 101, draws). Persons at 1 November.

    The base is first multiplied by ``inputs.base_factor`` where set (coverage correction).
    Step (1 Nov t−1 → 1 Nov t), for ages a = 0..99 and the open age 100:
        P(a+1, t) = P(a, t−1) · s(a) · exp(κ · m(a))   (the open age 100 also keeps its own
        survivors: P(100, t) += P(100, t−1) · s(100) · exp(κ · m(100)))
        P(0, t)   = k · I(t) · Σ_a w(a) · F(a, t) · {male share, 1 − male share}
    with s the annual survival, m the annual net-migration log factor, κ the migration
    multiplier (per draw), k the area's fertility ratio, I(t) the fertility index (× the
    shared log-normal random walk after the last observed year, per draw), w the women's ages
    and F(a, t) the women aged a at the end of the step (after survival and migration). The
    exposure is the same on all three sides: k counts the age-0 persons of the census per woman
    at the census moment (the end of the 12 months of births), and I(t) divides the national
    births of the 12 months to 1 Nov t by the closed nation's women at 1 Nov t; so a closed
    national projection reproduces A0 · B(t) / B(C) exactly for the observed years.
    """
    A = pop0.shape[0]
    D = max(draws, 1)
    if inputs.base_factor is not None:
        pop0 = pop0 * inputs.base_factor
    cur = np.repeat(pop0[..., None], D, axis=-1) if draws else pop0[..., None].copy()
    mult = assumptions.migration_multiplier
    if draws:
        kappa = _area_draws(inputs.areas, seed, n_steps, draws, assumptions.migration_sd, mult)
        shocks = _common_fertility_shocks(seed, n_steps, draws)
    else:
        kappa = np.full((A, 1), mult)
        shocks = np.zeros((n_steps, 1))
    # growth factor per age: survival × migration, (area, 2, 101, D); constant over time
    log_s = np.log(np.clip(inputs.survival, 1e-12, None))[None, :, :, None]
    growth = np.exp(log_s + inputs.migration[..., None] * kappa[:, None, None, :])
    walk = np.zeros(D)
    w = inputs.fertility_weights
    k = inputs.fertility_ratio[:, None]
    for step in range(1, n_steps + 1):
        year = inputs.census_year + step
        nxt = np.empty_like(cur)
        nxt[:, :, 1:] = cur[:, :, :-1] * growth[:, :, :-1]
        nxt[:, :, -1] += cur[:, :, -1] * growth[:, :, -1]
        idx = inputs.fertility_index.get(year)
        if idx is None:
            raise ValueError(f"no fertility index for {year}; prepare inputs with "
                             f"end_year >= {year}")
        if draws and year > inputs.last_observed:
            walk = walk + inputs.fertility_sd * shocks[step - 1]
        # exposure: women at the end of the step (1 Nov t), as in the fertility ratio k (women
        # at the census) and the national index (women of the closed nation at 1 Nov t)
        women = np.einsum("a,nad->nd", w[1:], nxt[:, 1, 1:])
        births = k * idx[:, None] * women * np.exp(walk)[None, :]
        nxt[:, 0, 0] = births * inputs.male_share
        nxt[:, 1, 0] = births * (1 - inputs.male_share)
        cur = nxt
        yield year, (cur if draws else cur[..., 0])


def _school_year(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Population at 1 September from the census-moment populations before and after it."""
    return SEPT_WEIGHT * cur + (1 - SEPT_WEIGHT) * prev


def back_step(pop0: np.ndarray, inputs: DemographicInputs,
              assumptions: DemographicAssumptions) -> np.ndarray:
    """Population at 1 November of the year before the census, by reverse survival (area, 2, 101).

    Each cohort of the census is taken back one step with the engine's own annual growth
    factor g(a) = s(a) · exp(κ · m(a)) at the central migration multiplier κ (no draw spread,
    so the base year is the same in every draw): ``P(a, C−1) = P(a+1, C) / g(a)`` for
    a = 0..98, the exact inverse of a forward step at these ages. Approximations: migration
    in the back step follows the same residual rates as the forward steps; the two oldest
    ages (99 and the open 100+), whose split the open group does not identify, keep their
    census counts (they do not enter births or school ages). Ages with g = 0 get 0.
    """
    log_s = np.log(np.clip(inputs.survival, 1e-12, None))[None]
    g = np.exp(log_s + inputs.migration * assumptions.migration_multiplier)
    out = np.zeros(pop0.shape)
    out[:, :, :-2] = np.divide(pop0[:, :, 1:-1], g[:, :, :-2], out=np.zeros(g[:, :, :-2].shape),
                               where=g[:, :, :-2] > 0)
    out[:, :, -2:] = pop0[:, :, -2:]
    return out


def _iter_school_years(pop0, inputs, start_year, end_year, assumptions, draws, seed):
    """Yield (year, array) at 1 September for start_year..end_year (every year, census too)."""
    c = inputs.census_year
    if start_year < c:
        raise ValueError(f"start_year {start_year} is before the base census {c}")
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} is before start_year {start_year}")
    prev = np.repeat(pop0[..., None], draws, axis=-1) if draws else pop0
    if start_year == c:                    # 1 Sep C: between the back step and the census
        sep = _school_year(back_step(pop0, inputs, assumptions), pop0)
        yield c, (np.repeat(sep[..., None], draws, axis=-1) if draws else sep)
    if inputs.base_factor is not None:     # later years start from the corrected base
        fac = inputs.base_factor[..., None] if draws else inputs.base_factor
        prev = prev * fac
    for year, cur in project_arrays(pop0, inputs, end_year - c, assumptions, draws, seed):
        if year >= start_year:
            yield year, _school_year(prev, cur)
        prev = cur


def project_population(base_df: pd.DataFrame, assumptions: DemographicAssumptions | None = None,
                       start_year: int | None = None, end_year: int = 2035, draws: int = 0,
                       seed: int = 20201101, ages=None,
                       inputs: DemographicInputs | None = None) -> pd.DataFrame:
    """Project a base census by area, sex and single age, year by year (cohort-component).

    Args:
        base_df: single-age base as from :func:`graduate_single_ages` (one census year).
        assumptions: named assumptions (default :class:`DemographicAssumptions`()).
        start_year: first output year (default the year after the census).
        end_year: last output year (inclusive).
        draws: 0 → one deterministic path (no ``draw`` column); N → draws 0..N−1.
        seed: random seed (same inputs + seed → identical numbers; per-area streams).
        ages: iterable of ages to return (default all 0..100).
        inputs: precomputed :class:`DemographicInputs` (default derived by
            :func:`prepare_inputs`).

    Returns:
        Frame area, year, sex, age, population [, draw]; persons at 1 September of ``year``
        (school-year start; see the module docstring for the mapping from 1 November).
    """
    assumptions = assumptions or DemographicAssumptions()
    inputs = inputs or prepare_inputs(base_df, assumptions, end_year)
    areas, pop0 = to_array(base_df)
    if tuple(areas) != inputs.areas:
        raise ValueError("inputs were prepared for other areas than base_df")
    c = inputs.census_year
    start_year = c + 1 if start_year is None else start_year
    sel = np.arange(N_AGES) if ages is None else np.asarray(sorted({int(a) for a in ages}))
    if len(sel) and (sel.min() < 0 or sel.max() > S.OPEN_AGE):
        raise ValueError(f"ages must lie in 0..{S.OPEN_AGE}")
    frames = []
    for year, arr in _iter_school_years(pop0, inputs, start_year, end_year, assumptions,
                                        draws, seed):
        frames.append(_long(areas, year, arr[:, :, sel], sel, draws))
    return pd.concat(frames, ignore_index=True)


def _long(areas, year, arr, ages, draws) -> pd.DataFrame:
    """(area, 2, ages[, draws]) → long frame."""
    A, nS, nA = arr.shape[:3]
    D = arr.shape[3] if draws else 1
    out = {
        S.AREA: np.repeat(np.asarray(areas, dtype=object), nS * nA * D),
        S.YEAR: np.full(A * nS * nA * D, year, dtype=int),
        S.SEX: np.tile(np.repeat(np.asarray(S.SEXES, dtype=object), nA * D), A),
        S.AGE: np.tile(np.repeat(ages, D), A * nS),
    }
    if draws:
        out[S.DRAW] = np.tile(np.arange(D), A * nS * nA)
    out[S.POPULATION] = arr.reshape(-1)
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------------------
# summaries


def _quantile_block(x: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and interval bounds over the last axis."""
    q = np.quantile(x, list(QUANTILES.values()), axis=-1)
    out = {S.MEAN: x.mean(axis=-1)}
    out.update({name: q[i] for i, name in enumerate(QUANTILES)})
    return out


def summarise_draws(df: pd.DataFrame, value_col: str, by: list[str]) -> pd.DataFrame:
    """Mean and central 80 %/95 % intervals of ``value_col`` over draws, for each ``by`` group.

    Args:
        df: long frame with a ``draw`` column (or any replicate column not in ``by``).
        value_col: column to summarise (e.g. population, enrolment).
        by: grouping columns (e.g. [area, year, age]).

    Returns:
        Frame ``by`` + mean, lo80, hi80, lo95, hi95 (``schema.SUMMARY_COLUMNS``); quantiles
        by linear interpolation (numpy default), 10/90 % and 2.5/97.5 %.
    """
    missing = [c for c in [*by, value_col] if c not in df.columns]
    if missing:
        raise ValueError(f"summarise_draws: columns {missing} not in frame "
                         f"(columns: {list(df.columns)})")
    g = df.groupby(by, sort=True, observed=True)[value_col]
    out = g.mean().rename(S.MEAN).to_frame()
    q = g.quantile(list(QUANTILES.values())).unstack(-1)
    q.columns = list(QUANTILES)
    out = out.join(q).reset_index()
    return out[[*by, *S.SUMMARY_COLUMNS]]


def project_population_summary(base_df: pd.DataFrame,
                               assumptions: DemographicAssumptions | None = None,
                               start_year: int | None = None, end_year: int = 2035,
                               draws: int = 100, seed: int = 20201101,
                               groups: dict[str, tuple[int, int]] | None = None,
                               by_sex: bool = False, chunk_size: int = 100,
                               inputs: DemographicInputs | None = None) -> pd.DataFrame:
    """Draw summaries of a projection, streamed by area chunk and year (bounded memory).

    Args:
        base_df, assumptions, start_year, end_year, seed, inputs: as :func:`project_population`.
        draws: number of draws (≥ 1).
        groups: label → (first age, last age); default each single age 0..100 ("0", "1", …).
        by_sex: keep sexes apart (else both sexes summed before summarising).
        chunk_size: areas per chunk; results do not depend on it (per-area seeds).

    Returns:
        Frame area, year[, sex], age_group, mean, lo80, hi80, lo95, hi95 (persons at
        1 September). Only one chunk's draws for two years are in memory at a time.
    """
    if draws < 1:
        raise ValueError("project_population_summary needs draws >= 1")
    assumptions = assumptions or DemographicAssumptions()
    inputs = inputs or prepare_inputs(base_df, assumptions, end_year)
    areas, pop0 = to_array(base_df)
    c = inputs.census_year
    start_year = c + 1 if start_year is None else start_year
    groups = groups or {str(a): (a, a) for a in AGES}
    labels = list(groups)
    frames = []
    for lo in range(0, len(areas), chunk_size):
        idx = np.arange(lo, min(lo + chunk_size, len(areas)))
        sub = inputs.subset(idx)
        for year, arr in _iter_school_years(pop0[idx], sub, start_year, end_year, assumptions,
                                            draws, seed):
            g = np.stack([arr[:, :, a:b + 1].sum(axis=2) for a, b in groups.values()], axis=2)
            if not by_sex:
                g = g.sum(axis=1, keepdims=True)           # (area, 1, groups, D)
            stats = _quantile_block(g)
            nA, nS, nG = g.shape[:3]
            part = {
                S.AREA: np.repeat(np.asarray(sub.areas, dtype=object), nS * nG),
                S.YEAR: year,
            }
            if by_sex:
                part[S.SEX] = np.tile(np.repeat(np.asarray(S.SEXES, dtype=object), nG), nA)
            part[S.AGE_GROUP] = np.tile(np.asarray(labels, dtype=object), nA * nS)
            part.update({k: v.reshape(-1) for k, v in stats.items()})
            frames.append(pd.DataFrame(part))
    out = pd.concat(frames, ignore_index=True)
    keys = [S.AREA, S.YEAR] + ([S.SEX] if by_sex else []) + [S.AGE_GROUP]
    order = {lab: i for i, lab in enumerate(labels)}
    out = out.sort_values(keys[:-1] + [S.AGE_GROUP], key=lambda s: s.map(order)
                          if s.name == S.AGE_GROUP else s, kind="stable")
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# Hamilton-Perry


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


# ------------------------------------------------------------------------------------------
# census back-test

BACKTEST_GROUPS = {"0-4": (0, 4), "5-9": (5, 9), "10-14": (10, 14), "15-19": (15, 19)}
#: child_coverage_elasticity of the back-test's engine: one pooled value, chosen (lowest median
#: APE for 10-14) on half A of the Sichuan counties split by prefecture with
#: :data:`HOLDOUT_SEED`, from the grid 0, 0.05, …, 0.3 of benchmarks/backtest_1014_candidates.py,
#: and only then scored on half B (benchmarks/README.md)
BACKTEST_CHILD_COVERAGE = 0.15


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


def census_backtest(base_path, actual_path, band: tuple[float, float] = TOTAL_RATIO_BAND,
                    assumptions: DemographicAssumptions | None = None) -> BacktestResult:
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
    boundary change.

    Returns:
        :class:`BacktestResult` with rows (area_code, area_name, age_group, projected, actual,
        province_only, hamilton_perry, naive), summary (age_group, method, n, median_ape,
        mean_ape in %),
        excluded (area_code, area_name, reason) and the rules as text.
    """
    from ..io.store import load_census, load_census_areas

    cen_a, cen_b = load_census(base_path), load_census(actual_path)
    ya, yb = int(cen_a[S.CENSUS_YEAR].iloc[0]), int(cen_b[S.CENSUS_YEAR].iloc[0])
    if yb - ya != 10:
        raise ValueError(f"{actual_path}: census B ({yb}) must be 10 years after census A "
                         f"({ya}) for the 5-year cohort shifts")
    names = load_census_areas(actual_path).set_index(S.AREA)["name_zh"]
    ca = cen_a[~cen_a[S.AREA].str.endswith("00")]
    cb = cen_b[~cen_b[S.AREA].str.endswith("00")]
    codes_a, codes_b = set(ca[S.AREA]), set(cb[S.AREA])
    provinces_b = {c[:2] for c in codes_b}
    excluded = [(c, names.get(c, ""), f"code not in census {ya}")
                for c in sorted(codes_b - codes_a)]
    excluded += [(c, "", f"code not in census {yb}") for c in sorted(codes_a - codes_b)
                 if c[:2] in provinces_b]
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
    a = assumptions or DemographicAssumptions(
        survival_cap=False, migration_source="auto", local_births=False,
        child_coverage_elasticity=BACKTEST_CHILD_COVERAGE)
    base = graduate_single_ages(ca[ca[S.AREA].isin(keep)])
    _, pop0 = to_array(base)
    engine = {}
    for name, ass in (("projected", a),
                      ("province_only", replace(a, migration_source="province",
                                                child_coverage_elasticity=0.0))):
        inputs = prepare_inputs(base, ass, end_year=yb)
        final = None
        for _, arr in project_arrays(pop0, inputs, yb - ya, ass):
            final = arr
        engine[name] = _groups5(final).sum(1)
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
    # --- naive cohort carry
    nv = np.zeros_like(ga)
    nv[..., 2:] = ga[..., :-2]
    nv[..., -1] += ga[..., -2:].sum(-1)
    nv[..., :2] = ga[..., :2]
    nv = nv.sum(1)
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
              f"births; county signals from census {ya} only (age profile from age "
              f"{a.structure_from_age}, intra-provincial migration stock where the 2010 table "
              "has it, children 0-4 x (child-woman ratio / province's)^"
              f"{a.child_coverage_elasticity:g})"))
    return BacktestResult(rows=rows, summary=summ,
                          excluded=pd.DataFrame(excluded, columns=["area_code", "area_name",
                                                                   "reason"]),
                          rules=rules)


# ------------------------------------------------------------------------------------------
# projections of a census file, school-age outlook


def _band_sums(arr: np.ndarray, groups: dict[str, tuple[int, int]]) -> np.ndarray:
    """(area, 2, 101[, D]) → (area, groups[, D]), both sexes."""
    return np.stack([arr[:, :, a:b + 1].sum(axis=(1, 2)) for a, b in groups.values()], axis=1)


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
    for year, arr in _iter_school_years(pop0, inputs, inputs.census_year + 1, end_year,
                                        assumptions, draws, seed):
        b = _band_sums(arr, groups)                       # (area, G[, D])
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
                        address: str | None = None) -> pd.DataFrame:
    """Load a census table and project its county-level rows (the CLI's ``demography project``).

    Args:
        path: census table (2010 or 2020 layout, xlsx or csv).
        region: keep only the region's census codes for that year and add the region total.
        single_ages: single ages 0-25 instead of :data:`SCHOOL_BANDS`.
        executor, workers, address: run :func:`project_census` by area chunk through
            :func:`njforecast.parallel.project_in_chunks` ("local" processes or "dask");
            "serial" runs it in this process. Same numbers and row order either way.
        Other arguments as :func:`project_census`.
    """
    from ..io.store import load_census

    cen = load_census(path)
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
    return out


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
