"""Conventions (ages, school-year weight, age groups, bands) and the named assumptions.

Public names:
    AGES, N_AGES                 single ages 0..100 (100 = the open age 100+) and their count
    SEPT_WEIGHT                  weight of the later census moment at 1 September (10/12)
    G5, G5_LABELS                the 18 five-year groups of cohort ratios (0-4 … 80-84, 85+)
    QUANTILES                    summary name → probability (10/90 %, 2.5/97.5 %)
    SCHOOL_BANDS                 GER age bands: label → (first age, last age)
    FERTILITY_PATHS, MIGRATION_SOURCES   the allowed values of those assumptions
    stable_int(code)             a platform-independent integer for per-area seeding
    DemographicAssumptions       frozen, named assumptions (``to_params()`` for logging)

Only conventions live here, no data figures (see the package docstring for the time
convention and the methods' references).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

from .. import schema as S

AGES = np.arange(S.OPEN_AGE + 1)                  # 0..100, 100 is the open age 100+
N_AGES = len(AGES)
#: months from 1 Nov (t−1) to 1 Sep (t), over 12: weight of the later census moment
SEPT_WEIGHT = 10 / 12
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
            (``njforecast.evaluation.census_backtest.BACKTEST_CHILD_COVERAGE``).
        structure_weight, school_flow_weight, internal_stock_weight, registration_gap_weight:
            weights in [−1, 1] of the county signals added to the province's residual where
            an area has no census history ("auto"): the relative age profile outside and at
            the school ages 15-19, the intra-provincial migration stock, the registered-
            elsewhere balance (:mod:`njforecast.demography.signals`, which records how they
            were chosen); 0 = the province's pattern alone. Defaults 0.5, 1, 1, 0.25 (issue 17,
            chosen on half A of the Sichuan counties; before: 1, 1, 1, 0).
        school_outflow_weight: factor on ``school_flow_weight`` for the negative school
            steps (15-19-year-olds leaving; :mod:`njforecast.demography.signals`); 1 = as the
            inflows.
        school_inflow_damping: κ ≥ 0 damping the school inflow steps of areas whose
            residents exceed their registered population, × exp(−κ · max(log(P/R), 0))
            (:mod:`njforecast.demography.signals`); 0 = none.
        urban_share_weight: weight in [−1, 1] of the urban-share signal at ages 0-14
            (:func:`njforecast.demography.signals.urban_share`, fifth study); 0 = none.
        school_sex_damping: κ_s ≥ 0 damping the school steps (in and out) of areas whose
            2010 migration was sex-selective, × exp(−κ_s · d) with d the change of log(M/F)
            from ages 5-14 to 15-24 against the parent's
            (:func:`njforecast.demography.signals.sex_selectivity`); 0 = none.
        births_until: last calendar year of observed births (national and local) the
            fertility path and its draw spread may read; None = all. A run with
            ``jump_off = YEAR`` sets it to YEAR (an ex-post check must not see later births).
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
    structure_weight: float = 0.5
    school_flow_weight: float = 1.0
    school_outflow_weight: float = 1.0
    school_inflow_damping: float = 0.0
    school_sex_damping: float = 0.0
    internal_stock_weight: float = 1.0
    registration_gap_weight: float = 0.25
    urban_share_weight: float = 0.0
    births_until: int | None = None

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
        for name in ("structure_weight", "school_flow_weight", "school_outflow_weight",
                     "internal_stock_weight",
                     "registration_gap_weight", "urban_share_weight"):
            if not -1 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [-1, 1] (0 = the province's pattern, "
                                 f"1 = the signal in full); got {getattr(self, name)}")
        for name in ("school_inflow_damping", "school_sex_damping"):
            if not 0 <= getattr(self, name) < np.inf:
                raise ValueError(f"{name} must be a finite number >= 0; got "
                                 f"{getattr(self, name)}")
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
                ("all" if k == "births_until" else "derived") if v is None else v)
        return out

