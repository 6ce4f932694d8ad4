"""Column names, vocabularies and frame contracts (DESIGN §4) — defined once, used everywhere.

Public names:
    column constants (AREA, YEAR, SEX, AGE, ...), vocabularies (LEVELS, SEXES, QUALITIES,
    COMPARISONS), the census age groups (AGE_GROUPS), and pandera schemas for the internal
    frames: OBSERVATIONS_SCHEMA, POPULATION_SCHEMA, CENSUS_SCHEMA.

Conventions:
    * ``area`` is the official GB/T 2260 division code as a string ("511025"); units without a
      census code (city-run schools 市本级, the high-tech zone 高新区) get a region-defined code
      such as "511000-CR" (see ``njforecast/regions/*.toml``).
    * ``year`` is an int. For school data it is the school year starting that autumn; for
      population it is 1 September of that year, the school-year start (the census counts of
      1 November are kept in ``census_year`` frames; see ``demography`` for the mapping).
    * Counts are persons; rates are percent (``unit`` = "percent") unless the indicator name
      says otherwise (``*_permille``).
"""

from __future__ import annotations

import pandera.pandas as pa

# --- column names -------------------------------------------------------------------------
AREA = "area"
AREA_NAME = "area_name"
YEAR = "year"
SEX = "sex"
AGE = "age"
AGE_GROUP = "age_group"
AGE_START = "age_start"
AGE_END = "age_end"
POPULATION = "population"
DRAW = "draw"
INDICATOR = "indicator"
VALUE = "value"
UNIT = "unit"
SOURCE = "source"
SOURCE_NOTE = "source_note"
QUALITY = "quality"
PREFERRED = "preferred"
ESTIMATED = "estimated"
LEVEL = "level"
GRADE = "grade"
ENROLMENT = "enrolment"
CENSUS_YEAR = "census_year"
SEATS = "seats"
UTILISATION = "utilisation"
RATIO = "ratio"
MULTIPLIER = "multiplier"  # factor on a base value (e.g. a pupil-teacher ratio path)
DEMAND = "demand"
SUPPLY = "supply"
HIRES_NEEDED = "hires_needed"
SURPLUS = "surplus"
SERIES_ID = "series_id"
CUTOFF = "cutoff"
TARGET = "target"
TARGET_YEAR = "target_year"
COMPARISON = "comparison"
SCENARIO = "scenario"
#: national mode (national.py): what a summary row counts (population | enrolment | teachers)
QUANTITY = "quantity"
# back-test (cv) and metrics frames (backtest.py, metrics.py)
H = "h"
ACTUAL = "actual"
MODEL = "model"
FORECAST = "forecast"

# summary columns for distributions over draws
MEAN = "mean"
LO80, HI80, LO95, HI95 = "lo80", "hi80", "lo95", "hi95"
SUMMARY_COLUMNS = (MEAN, LO80, HI80, LO95, HI95)
#: the back-test frame (backtest.cross_validation, cv.csv)
CV_COLUMNS = (AREA, INDICATOR, YEAR, CUTOFF, H, ACTUAL, MODEL, FORECAST, LO80, HI80, LO95, HI95)
#: What each back-test fit chose (fits.csv): a model's fitted attributes, one row each.
PARAM = "param"
FIT_COLUMNS = (AREA, INDICATOR, CUTOFF, MODEL, PARAM, VALUE)

# enrolment / teachers / capacity stage (enrollment.py, teachers.py, capacity.py)
BAND = "band"
RATE = "rate"
RATE_PATH = "rate_path"
GER_FACTOR = "ger_factor"
METHOD = "method"
STATUS = "status"
PERIOD = "period"
ENTRANTS = "entrants"
GRADUATES = "graduates"
HIRES = "hires"

# --- vocabularies -------------------------------------------------------------------------
SEXES = ("male", "female")
LEVELS = (
    "preschool",
    "primary",
    "junior",
    "senior_general",
    "secondary_vocational",
    "higher",
)
#: Levels the enrolment stage projects (school levels below higher education).
SCHOOL_LEVELS = LEVELS[:5]
QUALITIES = ("observed", "derived", "estimated")
#: Units of an observation's ``value``; ``UNIT_ALIASES`` are accepted spellings in input files.
UNITS = ("persons", "percent", "permille", "schools")
UNIT_ALIASES = {"pct": "percent", "%": "percent", "per_cent": "percent", "‰": "permille",
                "per_mille": "permille", "person": "persons", "people": "persons",
                "school": "schools"}
#: Indicator-name suffixes that fix the unit: ``*_pct`` is a percentage, ``*_permille`` per mille.
UNIT_SUFFIXES = {"_pct": "percent", "_permille": "permille"}
COMPARISONS = ("at_least", "at_most", "about")

#: Census age groups as published (0, 1-4, 5-9, ..., 80-84, 85+): (label, first age, last age).
#: The open group 85+ has last age 100 by convention (the graduation closes the table there).
OPEN_AGE = 100
AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("0", 0, 0),
    ("1-4", 1, 4),
    *((f"{a}-{a + 4}", a, a + 4) for a in range(5, 85, 5)),
    ("85+", 85, OPEN_AGE),
)
AGE_GROUP_LABELS = tuple(g[0] for g in AGE_GROUPS)

# --- plausible ranges used by validation (documented in README "Input formats") -------------
MIN_YEAR, MAX_YEAR = 1949, 2100
#: Gross enrolment rates may exceed 100 % (over-age and under-age pupils, pupils from other
#: areas; Neijiang's 2020 junior GER is 109.33).  Values above 200 % are almost surely a unit
#: error (a count or a per-mille figure in a percent column), so validation rejects them.
MAX_PERCENT = 200.0
#: Per-mille rates (birth and death rates) lie in 0–1000 by definition.
MAX_PERMILLE = 1000.0
#: Oldest single age accepted in a population file (the census open group 85+ runs to OPEN_AGE).
MAX_AGE = 120

# --- frame contracts (pandera) ------------------------------------------------------------
OBSERVATIONS_SCHEMA = pa.DataFrameSchema(
    {
        AREA: pa.Column(str),
        YEAR: pa.Column(int, pa.Check.in_range(MIN_YEAR, MAX_YEAR)),
        INDICATOR: pa.Column(str),
        VALUE: pa.Column(float, nullable=False),
        UNIT: pa.Column(str),
        SOURCE: pa.Column(str),
        QUALITY: pa.Column(str, pa.Check.isin(QUALITIES)),
    },
    strict=False,
    name="observations",
)

CENSUS_SCHEMA = pa.DataFrameSchema(
    {
        CENSUS_YEAR: pa.Column(int),
        AREA: pa.Column(str),
        SEX: pa.Column(str, pa.Check.isin(SEXES)),
        AGE_GROUP: pa.Column(str, pa.Check.isin(AGE_GROUP_LABELS)),
        AGE_START: pa.Column(int),
        AGE_END: pa.Column(int),
        POPULATION: pa.Column(float, pa.Check.ge(0)),
    },
    strict=False,
    name="census population",
)

POPULATION_SCHEMA = pa.DataFrameSchema(
    {
        AREA: pa.Column(str),
        YEAR: pa.Column(int),
        SEX: pa.Column(str, pa.Check.isin(SEXES)),
        AGE: pa.Column(int, pa.Check.ge(0)),
        POPULATION: pa.Column(float, pa.Check.ge(0)),
    },
    strict=False,
    name="population",
)

# --- plan-target gaps and scenarios (plan_targets.py, scenarios.py, reporting.py)
PROJECTED_MEAN = "projected_mean"
PROJECTED_LO80, PROJECTED_HI80 = "projected_lo80", "projected_hi80"
PROJECTED_LO95, PROJECTED_HI95 = "projected_lo95", "projected_hi95"
GAP = "gap"
P_MEET = "p_meet"
N_DRAWS = "n_draws"
SCOPE = "scope"
NOTE = "note"
INDICATOR_ZH = "indicator_zh"
STATUSES = ("on_track", "at_risk", "off_track", "target_above_need", "target_below_need",
            "not_projectable", "not_quantified", "city_assumption")

# --- capacity exceedance, target-row basis, hiring coverage
P_OVER = "p_over"
BASIS = "basis"
PLAN_COVERS_NEED = "plan_covers_need"

# --- ex-post columns of the target table (planning.targets.compare_to_targets): the observed
# value in the target year (ACTUAL, same unit as the target), whether it met the target, and
# whether it lay inside the projection's 80 % / 95 % interval (empty where nothing is observed)
MET = "met"
IN_80, IN_95 = "in_80", "in_95"
EX_POST_COLUMNS = (ACTUAL, MET, IN_80, IN_95)
#: Columns of a planner's targets file (njforecast.io.targets; README "Targets for any plan").
TARGETS_FILE_REQUIRED = (AREA, INDICATOR, TARGET_YEAR, COMPARISON, TARGET, UNIT)
TARGETS_FILE_OPTIONAL = (NOTE, "binding", INDICATOR_ZH)
