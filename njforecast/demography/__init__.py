"""Population engine: single ages, survival, births, migration, projection, draws.

Modules (each opens with its own list of public names):
    assumptions     conventions (AGES, SEPT_WEIGHT, SCHOOL_BANDS …), DemographicAssumptions
    graduation      graduate_single_ages, graduate_matrix, to_array, census_groups5
    reference       tables derived from the bundled data (national survival, province migration,
                    births, fertility index), cached per data directory
    inputs          DemographicInputs, prepare_inputs, child_coverage_factor
    core            project_arrays, back_step, project_population, project_population_summary,
                    summarise_draws
    hamilton_perry  hamilton_perry, child_woman_ratios, hamilton_perry_region
    signals         county migration signals (structure, school flow 15-19, intra-provincial
                    stock, registered-elsewhere balance) with weights shrinking toward the
                    province; the pre-registered choice of those weights (issue 17)
    error_bands     the back-test's engine (SignalRun) and "typical error of this method at
                    10 years" by age group and kind of county (typical_errors, error_columns)
    batch           project_census, project_census_file, region_base, school_age_outlook

Every name other packages use is re-exported here (``from njforecast.demography import …``),
including the private helpers shared with ``njforecast.engine`` (``_iter_school_years``,
``_school_year``, ``_area_draws``, ``_common_fertility_shocks``, ``_quantile_block``).
The census back-test (which projects with this engine and scores against a later census) is
``njforecast.evaluation.census_backtest``; it sits above demography in the import order.

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
      rates); areas without a usable earlier census use their province's residual plus county
      signals from the base census, each weighted toward the province
      (``njforecast.demography.signals``: relative age profile from age 12 × 0.5, its school
      ages 15-19 × 1, net intra-provincial migration stock × 1 and registered-elsewhere
      balance × 0.25 of the 2010 table; chosen on half A of a Sichuan county split, issue 17).
    * Coverage of young children (optional, ``child_coverage_elasticity`` ε, default 0): the
      base census's persons aged 0-4 of an area are multiplied by (CWR_area / CWR_province)^ε,
      CWR = persons 0-4 per woman 15-44. The 2010 census under-counted young children, more
      where fertility was higher (births outside the quota; Goodkind 2011, *Demography*
      48:291); the uncapped national ratios carry the average under-count, ε spreads it
      between the counties of a province. The back-test uses ε = 0.2
      (``njforecast.demography.error_bands.BACKTEST_CHILD_COVERAGE``), chosen together with
      the signal weights on half A of a prefecture split (``census_backtest.prefecture_halves``,
      seed 20201101) and scored on half B and the province table (benchmarks/README.md,
      issue 17; issue 3 had chosen 0.15 alone). Forward projections from 2020 leave ε at 0.
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

from .assumptions import (AGES, FERTILITY_PATHS, G5, G5_LABELS, MIGRATION_SOURCES, N_AGES,
                          QUANTILES, SCHOOL_BANDS, SEPT_WEIGHT, DemographicAssumptions, stable_int)
from .batch import (_band_sums, project_census, project_census_file, region_base,
                    school_age_outlook)
from .core import (GROUP_BLOCK, SUMMARY_BUDGET_BYTES, _age_window, _area_draws,
                   _common_fertility_shocks, _group_draws, _iter_school_ages,
                   _iter_school_years, _long, _project_steps, _quantile_block, _school_year,
                   back_step, project_arrays, project_population, project_population_summary,
                   summarise_draws)
from .graduation import (_group_matrix, _groups5, census_groups5, graduate_matrix,
                         graduate_single_ages, to_array)
from .hamilton_perry import child_woman_ratios, hamilton_perry, hamilton_perry_region
from .inputs import (TOTAL_RATIO_BAND, DemographicInputs, _cwr, _migration_for, _region_units,
                     child_coverage_factor, prepare_inputs)
from .reference import (_bundled_census, _census_moment_births, _national_groups5,
                        _national_women_index, _observations, _preferred_births_cached,
                        _province_migration, _province_single, annual_log_rates, cohort_ratios,
                        data_cache, derived_fertility_sd, fertility_index_path,
                        internal_migration_stock, local_birth_adjustment, migration_log_rates,
                        national_births, national_census, national_survival, preferred_births,
                        province_census)

__all__ = [
    "AGES", "FERTILITY_PATHS", "G5", "G5_LABELS", "GROUP_BLOCK", "MIGRATION_SOURCES", "N_AGES",
    "QUANTILES", "SCHOOL_BANDS", "SEPT_WEIGHT", "SUMMARY_BUDGET_BYTES", "TOTAL_RATIO_BAND",
    "DemographicAssumptions",
    "DemographicInputs", "annual_log_rates", "back_step", "census_groups5", "child_coverage_factor",
    "child_woman_ratios", "cohort_ratios", "data_cache", "derived_fertility_sd",
    "fertility_index_path", "graduate_matrix", "graduate_single_ages", "hamilton_perry",
    "hamilton_perry_region", "internal_migration_stock", "local_birth_adjustment",
    "migration_log_rates", "national_births", "national_census", "national_survival",
    "preferred_births", "prepare_inputs", "project_arrays", "project_census",
    "project_census_file", "project_population", "project_population_summary",
    "province_census", "region_base", "school_age_outlook", "stable_int", "summarise_draws",
    "to_array",
    # private helpers shared with njforecast.engine, the tests and the benchmarks
    "_age_window", "_area_draws", "_group_draws", "_band_sums", "_bundled_census", "_census_moment_births",
    "_common_fertility_shocks", "_cwr", "_group_matrix", "_groups5", "_iter_school_ages",
    "_iter_school_years", "_long", "_migration_for", "_national_groups5",
    "_national_women_index", "_observations", "_preferred_births_cached", "_project_steps",
    "_province_migration", "_province_single", "_quantile_block", "_region_units",
    "_school_year",
]
