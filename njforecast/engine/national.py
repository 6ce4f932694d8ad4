"""National mode: enrolment and teacher demand for every county under default national assumptions.

Public names:
    NATIONAL_AREA                     code of the national observation rows ("100000")
    LEVEL_BANDS                       level → school-age band of ``demography.SCHOOL_BANDS``
    national_assumptions(base_year)   the default national rates and staffing ratios (a frame,
                                      one row per level, with year, quality and source note)
    enrolment_arrays(bands, ass)      per-draw enrolment and teachers from band populations
    project_census_enrolment(...)     a census projected with draws, school bands AND enrolment /
                                      teachers summarised per draw, streamed by area chunk
    split_outputs(df)                 the combined chunk output → (population, enrolment) frames

Default national assumptions (every figure from bundled data, all *estimated* when
applied to a county):

* Enrolment of level ℓ in county c, year t, draw d:
  ``E[c,t,ℓ,d] = P[c,t,band(ℓ),d] × GER_ℓ / 100`` (persons; P = projected band population at
  1 September, bands 3-5, 6-11, 12-14, 15-17). GER_ℓ is the national gross enrolment rate of
  the latest observed year ≤ the base year and at most ``max_lag`` years older
  (``data.load_observations`` / ``data.preferred``, area 100000: ``preschool_ger_pct``,
  ``junior_ger_pct``, ``senior_stage_ger_pct``); when there is none, it is *derived* as national
  enrolment of the base year / national census band population of the base year (``demography.
  national_census``, single ages by ``graduate_single_ages``). Rates are held constant over the
  horizon (stated assumption; UIS GER definition: enrolment of any age / population of the
  official age band).
* The senior stage (band 15-17) is split into senior_general and secondary_vocational by the
  national enrolment shares of the base year (derived).
* Teachers = enrolment / pupils per full-time teacher, the ratio from
  :func:`njforecast.education.teachers.staffing_ratios` (2014 unified standard 19 / 13.5 / 12.5 students
  per staff × teaching share; kindergarten 2013 standard; vocational as senior general), demand
  by :func:`njforecast.education.teachers.teacher_demand` (method "standard").

Draws: enrolment and teachers are computed per draw from each draw's band population and then
summarised (mean, 80 %/95 % intervals) inside the worker, so memory stays bounded by one chunk.
The intervals carry the demographic uncertainty only (rates and ratios held).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S

log = logging.getLogger(__name__)

NATIONAL_AREA = "100000"

#: Level → school-age band (labels of ``demography.SCHOOL_BANDS``).
LEVEL_BANDS = {"preschool": "3-5", "primary": "6-11", "junior": "12-14",
               "senior_general": "15-17", "secondary_vocational": "15-17"}

#: Observed national GER indicator of each band (percent), where the bundled file has one.
BAND_GER_INDICATOR = {"3-5": "preschool_ger_pct", "6-11": None, "12-14": "junior_ger_pct",
                      "15-17": "senior_stage_ger_pct"}

#: National enrolment indicators (persons) whose sum is the band's enrolment (for derived GERs
#: and the senior-stage split).
BAND_ENROLMENT = {"3-5": ("kindergarten_children",), "6-11": ("primary_enrolment",),
                  "12-14": ("junior_enrolment",),
                  "15-17": ("senior_general_enrolment", "vocational_secondary_enrolment")}
SENIOR_SPLIT = {"senior_general": "senior_general_enrolment",
                "secondary_vocational": "vocational_secondary_enrolment"}

#: An observed GER older than this many years before the base year is not used (derived instead).
MAX_LAG = 2


def _national_band_population(base_year: int) -> dict[str, float]:
    from ..demography import SCHOOL_BANDS, graduate_single_ages, national_census

    nat = graduate_single_ages(national_census(base_year))
    return {b: float(nat.loc[nat[S.AGE].between(lo, hi), S.POPULATION].sum())
            for b, (lo, hi) in SCHOOL_BANDS.items()}


def national_assumptions(base_year: int, obs_df: pd.DataFrame | None = None,
                         standards: pd.DataFrame | None = None,
                         band_population: Mapping[str, float] | None = None,
                         max_lag: int = MAX_LAG) -> pd.DataFrame:
    """Default national enrolment rates and staffing ratios by level for a base year.

    Args:
        base_year: the projection's base (census) year.
        obs_df: observations (default ``data.load_observations()``); the preferred national
            rows (area 100000) are used.
        standards: staffing standards (default ``data.load_standards()``).
        band_population: national census population by band label in ``base_year`` (persons;
            default from the bundled census) — only needed for derived GERs.
        max_lag: an observed GER may be at most this many years older than ``base_year``.

    Returns:
        One row per level (``schema.SCHOOL_LEVELS`` order): level, band, rate (GER, percent,
        of the whole band), share (fraction of the band's enrolment in this level; 1 except the
        senior stage), rate_year (year of the GER), rate_quality ("observed" or "derived"),
        ratio (pupils per full-time teacher),
        quality ("estimated": national values applied to counties), source_note (where the GER
        came from: observed or derived, and how).

    Raises:
        ValueError: a band has neither a usable observed GER nor the counts to derive one.
    """
    from ..io import store as data
    from ..education.teachers import staffing_ratios

    obs = data.preferred(obs_df if obs_df is not None else data.load_observations())
    nat = obs[obs[S.AREA] == NATIONAL_AREA]

    def latest(indicator: str) -> tuple[int, float] | None:
        rows = nat[(nat[S.INDICATOR] == indicator) & (nat[S.YEAR] <= base_year)
                   & (nat[S.YEAR] >= base_year - max_lag)].dropna(subset=[S.VALUE])
        if rows.empty:
            return None
        r = rows.sort_values(S.YEAR).iloc[-1]
        return int(r[S.YEAR]), float(r[S.VALUE])

    def count(indicator: str) -> float:
        rows = nat[(nat[S.INDICATOR] == indicator) & (nat[S.YEAR] == base_year)]
        if rows.empty:
            raise ValueError(f"national observations: no '{indicator}' row for area "
                             f"{NATIONAL_AREA} in {base_year}; add it to data/raw/observed/ or "
                             "use a base census whose year has national enrolment counts")
        return float(rows[S.VALUE].iloc[0])

    ger: dict[str, tuple[float, int, str, str]] = {}
    for band, ind in BAND_GER_INDICATOR.items():
        hit = latest(ind) if ind else None
        if hit is not None:
            ger[band] = (hit[1], hit[0], "observed", f"observed national {ind} {hit[0]}")
            continue
        if band_population is None:
            band_population = _national_band_population(base_year)
        enrol = sum(count(i) for i in BAND_ENROLMENT[band])
        rate = 100.0 * enrol / band_population[band]
        why = f"no {ind} in {base_year - max_lag}-{base_year}" if ind \
            else "no national GER series"
        counts = "+".join(BAND_ENROLMENT[band])
        ger[band] = (rate, base_year, "derived",
                     f"derived ({why}): national {counts} {base_year} / census population "
                     f"{band} {base_year}")
    senior = {lv: count(ind) for lv, ind in SENIOR_SPLIT.items()}
    ratios = staffing_ratios(standards if standards is not None else data.load_standards())
    ratio = ratios.set_index(S.LEVEL)[S.RATIO]
    rows = []
    for level in S.SCHOOL_LEVELS:
        band = LEVEL_BANDS[level]
        rate, year, rate_quality, note = ger[band]
        share = senior[level] / sum(senior.values()) if level in senior else 1.0
        if level in senior:
            note += f"; split by national {base_year} enrolment share {share:.4f} (derived)"
        rows.append({S.LEVEL: level, S.BAND: band, S.RATE: rate, "share": share,
                     "rate_year": year, "rate_quality": rate_quality,
                     S.RATIO: float(ratio[level]), S.QUALITY: S.ESTIMATED,
                     S.SOURCE_NOTE: note + "; rate held constant; applied to every county"})
    out = pd.DataFrame(rows)
    for r in out.itertuples(index=False):
        log.info("national assumption %s: GER %.2f %% of band %s × share %.4f, %.3f pupils per "
                 "teacher (%s)", r.level, r.rate, r.band, r.share, r.ratio, r.source_note)
    return out


def enrolment_arrays(years_bands: np.ndarray, band_labels: list[str], ass: pd.DataFrame,
                     areas: list[str], year: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw enrolment and teacher demand from band populations of one year.

    Formula: ``E[a, ℓ, d] = P[a, band(ℓ), d] × rate_ℓ / 100 × share_ℓ``; teachers by
    :func:`njforecast.education.teachers.teacher_demand` (method "standard": E / ratio_ℓ).

    Args:
        years_bands: band populations (area, band, draw), persons.
        band_labels: band label of each band column.
        ass: :func:`national_assumptions` frame.
        areas, year: labels for the teacher-demand frame.

    Returns:
        (enrolment, teachers), each (area, level, draw) in the order of ``ass`` levels.
    """
    from ..education.teachers import teacher_demand

    idx = [band_labels.index(b) for b in ass[S.BAND]]
    factor = (ass[S.RATE].to_numpy() / 100.0 * ass["share"].to_numpy())[None, :, None]
    enrol = years_bands[:, idx, :] * factor                      # (A, L, D)
    A, L, D = enrol.shape
    long = pd.DataFrame({
        S.AREA: np.repeat(np.asarray(areas, dtype=object), L * D), S.YEAR: year,
        S.LEVEL: np.tile(np.repeat(ass[S.LEVEL].to_numpy(dtype=object), D), A),
        S.DRAW: np.tile(np.arange(D), A * L), S.ENROLMENT: enrol.reshape(-1)})
    teachers = teacher_demand(long, ass[[S.LEVEL, S.RATIO]])[S.DEMAND].to_numpy()
    return enrol, teachers.reshape(A, L, D)


def project_census_enrolment(census_df: pd.DataFrame, end_year: int = 2035, draws: int = 100,
                             seed: int = 20201101, assumptions=None,
                             national: pd.DataFrame | None = None,
                             chunk_size: int = 100) -> pd.DataFrame:
    """Project a census's areas with draws; school bands, enrolment and teachers summarised.

    The population part equals ``demography.project_census(census_df, end_year, draws, seed,
    assumptions)`` (same per-area seeded draws, same summaries). For each year and chunk of
    areas the draws of the band populations give enrolment and teachers per draw
    (:func:`enrolment_arrays`), summarised over draws at once.

    Args:
        census_df: census groups of one census year (``data.load_census``).
        end_year, draws (≥ 1), seed, assumptions: as ``demography.project_census``.
        national: :func:`national_assumptions` frame (default for the census year).
        chunk_size: areas per chunk (results do not depend on it).

    Returns:
        Frame area, year, quantity (population | enrolment | teachers), age_group (band;
        population rows), level (enrolment/teacher rows, else ""), mean, lo80, hi80, lo95, hi95
        (persons at 1 September), quality ("" for population, "estimated" otherwise). Split it
        with :func:`split_outputs`.
    """
    from ..demography import (SCHOOL_BANDS, DemographicAssumptions, _group_draws,
                              _quantile_block, graduate_single_ages, prepare_inputs, to_array)

    if draws < 1:
        raise ValueError("enrolment under national assumptions needs --draws >= 1 "
                         f"(got {draws})")
    assumptions = assumptions or DemographicAssumptions()
    base = graduate_single_ages(census_df)
    inputs = prepare_inputs(base, assumptions, end_year)
    if national is None:
        national = national_assumptions(inputs.census_year)
    areas, pop0 = to_array(base)
    labels = list(SCHOOL_BANDS)
    levels = national[S.LEVEL].to_numpy(dtype=object)
    first_year = inputs.census_year + 1
    frames = []
    for lo in range(0, len(areas), chunk_size):
        idx = np.arange(lo, min(lo + chunk_size, len(areas)))
        sub = inputs.subset(idx)
        a = np.asarray(sub.areas, dtype=object)
        # same operations as demography.project_population_summary → identical numbers
        sums = _group_draws(pop0[idx], sub, first_year, end_year, assumptions, draws, seed,
                            SCHOOL_BANDS)                 # (year, area, 1, band, D)
        for j, year in enumerate(range(first_year, end_year + 1)):
            g = sums[j, :, 0]                             # (area, band, D)
            enrol, teach = enrolment_arrays(g, labels, national, list(sub.areas), year)
            for qty, x, keys in ((S.POPULATION, g, labels), (S.ENROLMENT, enrol, levels),
                                 ("teachers", teach, levels)):
                part = {S.AREA: np.repeat(a, len(keys)), S.YEAR: year, S.QUANTITY: qty,
                        S.AGE_GROUP: np.tile(np.asarray(keys, dtype=object), len(a))
                        if qty == S.POPULATION else "",
                        S.LEVEL: "" if qty == S.POPULATION else np.tile(keys, len(a))}
                part.update({k: v.reshape(-1) for k, v in _quantile_block(x).items()})
                part[S.QUALITY] = "" if qty == S.POPULATION else S.ESTIMATED
                frames.append(pd.DataFrame(part))
    return pd.concat(frames, ignore_index=True)


ENROLMENT_COLUMNS = (S.AREA, S.YEAR, S.LEVEL, S.QUANTITY, *S.SUMMARY_COLUMNS, S.QUALITY)


def split_outputs(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split :func:`project_census_enrolment` output into the two tidy files.

    Returns:
        (population, enrolment): population = area, year, age_group, mean … hi95 sorted by
        area, year, band order (as ``demography.project_census`` with draws); enrolment =
        ``ENROLMENT_COLUMNS`` sorted by area, year, level order, quantity (enrolment first).
    """
    from ..demography import SCHOOL_BANDS

    is_pop = df[S.QUANTITY] == S.POPULATION
    band_order = {b: i for i, b in enumerate(SCHOOL_BANDS)}
    pop = df.loc[is_pop, [S.AREA, S.YEAR, S.AGE_GROUP, *S.SUMMARY_COLUMNS]]
    pop = pop.assign(_o=pop[S.AGE_GROUP].map(band_order)).sort_values(
        [S.AREA, S.YEAR, "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    enr = df.loc[~is_pop, list(ENROLMENT_COLUMNS)]
    lv = {x: i for i, x in enumerate(S.SCHOOL_LEVELS)}
    enr = enr.assign(_l=enr[S.LEVEL].map(lv), _q=(enr[S.QUANTITY] != S.ENROLMENT).astype(int))
    enr = enr.sort_values([S.AREA, S.YEAR, "_l", "_q"], kind="stable")
    return pop, enr.drop(columns=["_l", "_q"]).reset_index(drop=True)


def project_census_file_enrolment(path, end_year: int = 2035, draws: int = 100,
                                  seed: int = 20201101, assumptions=None,
                                  executor: str = "serial", workers: int | None = None,
                                  address: str | None = None
                                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Load a census table and project its county-level rows with enrolment and teachers.

    The CLI's ``demography project --with-enrolment``. The national assumptions are computed
    once in the driver (:func:`national_assumptions` for the census year) and shared with the
    workers; each task (chunk of counties, :func:`njforecast.parallel.project_in_chunks`) runs
    :func:`project_census_enrolment` and returns only summaries.

    Returns:
        (population, enrolment, assumptions): population as ``demography.project_census_file``
        with draws (area, year, age_group, mean … hi95); enrolment with ``ENROLMENT_COLUMNS``;
        the :func:`national_assumptions` frame used.
    """
    from ..io.store import load_census

    cen = load_census(path)
    year = int(cen[S.CENSUS_YEAR].iloc[0])
    cen = cen[~cen[S.AREA].str.endswith("00")]
    if cen.empty:
        raise ValueError(f"{path}: no county-level rows to project")
    if end_year <= year:
        raise ValueError(f"--to {end_year} must be after the census year {year}")
    if draws < 1:
        raise ValueError(f"--with-enrolment needs --draws >= 1 (got {draws}): enrolment and "
                         "teachers are summarised over draws")
    national = national_assumptions(year)
    kwargs = {"national": national}
    if executor == "serial":
        out = project_census_enrolment(cen, end_year, draws, seed, assumptions, **kwargs)
    else:
        from .. import parallel

        size = parallel.balanced_chunk_size(cen[S.AREA].nunique(), workers, cap=100)
        out = parallel.project_in_chunks(
            cen, assumptions, None, end_year, draws, seed, project=project_census_enrolment,
            project_kwargs=kwargs, chunk_size=size, executor=executor, workers=workers,
            address=address).drop(columns=S.SCENARIO)
    pop, enr = split_outputs(out)
    return pop, enr, national
