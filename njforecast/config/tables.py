"""The typed, frozen config tables (one class per ``[table]``) and ``SECTIONS``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from .. import schema as S
from .base import BANDS, FERTILITY_PATHS, GER_IDS, MIGRATION_SOURCES, MODEL_NAMES


@dataclass(frozen=True)
class _Range:
    """Bounds of a number (``Annotated[float, _Range(ge=0)]``)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def ok(self, v: float) -> bool:
        return ((self.ge is None or v >= self.ge) and (self.gt is None or v > self.gt)
                and (self.le is None or v <= self.le) and (self.lt is None or v < self.lt))

    def text(self) -> str:
        return " and ".join(f"{op} {b:g}" for op, b in ((">=", self.ge), (">", self.gt),
                                                        ("<=", self.le), ("<", self.lt))
                            if b is not None)


NonNeg = Annotated[float, _Range(ge=0)]
Positive = Annotated[float, _Range(gt=0)]
Share = Annotated[float, _Range(ge=0, lt=1)]
Damping = Annotated[float, _Range(ge=0, le=1)]
NonNegInt = Annotated[int, _Range(ge=0)]
SignalWeight = Annotated[float, _Range(ge=-1, le=1)]
Count = Annotated[int, _Range(ge=1)]
Band = Literal[BANDS]
Level = Literal[S.SCHOOL_LEVELS]
Model = Literal[MODEL_NAMES]
CeilingKey = Literal[(*BANDS, "compulsory_consolidation_rate")]


def _required():
    return field(default=None, metadata={"required": True})


# --- the tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemographyConfig:
    """``[demography]``: the population projection's assumptions.

    Attributes:
        max_age: oldest single age projected (years; default 24).
        fertility_path … child_coverage_elasticity: the fields of
            :class:`njforecast.demography.DemographicAssumptions` (same names, meanings, units
            and defaults): fertility_path (constant/medium/trend/low/high),
            fertility_multiplier (× births), fertility_variant (relative low/high spread),
            fertility_ages ([first, last] age of mothers), fertility_sd (sd of log births a
            year; unset: derived), local_births, migration_source (auto/province/none),
            migration_multiplier (× log net migration), migration_sd (log sd per draw),
            structure_from_age (years), survival_source (census_2010_2020/none),
            survival_cap, child_coverage_elasticity (ε), structure_weight,
            school_flow_weight, school_outflow_weight, internal_stock_weight,
            registration_gap_weight, urban_share_weight (county-signal weights in [−1, 1]),
            school_inflow_damping (κ ≥ 0), school_sex_damping (κ_s ≥ 0), births_until
            (last year of observed births read; unset: all, or the jump-off year when the
            config sets ``jump_off = YEAR``).
    """

    max_age: NonNegInt = 24
    fertility_path: Literal[FERTILITY_PATHS] = "medium"
    fertility_multiplier: NonNeg = 1.0
    fertility_variant: Share = 0.2
    fertility_ages: tuple[int, int] = (15, 49)
    fertility_sd: NonNeg | None = None
    local_births: bool = True
    migration_source: Literal[MIGRATION_SOURCES] = "auto"
    migration_multiplier: NonNeg = 1.0
    migration_sd: NonNeg = 0.5
    structure_from_age: NonNegInt = 12
    survival_source: Literal["census_2010_2020", "none"] = "census_2010_2020"
    survival_cap: bool = True
    child_coverage_elasticity: float = 0.0
    structure_weight: SignalWeight = 0.5
    school_flow_weight: SignalWeight = 1.0
    school_outflow_weight: SignalWeight = 1.0
    school_inflow_damping: NonNeg = 0.0
    school_sex_damping: NonNeg = 0.0
    internal_stock_weight: SignalWeight = 1.0
    registration_gap_weight: SignalWeight = 0.25
    urban_share_weight: SignalWeight = 0.0
    births_until: NonNegInt | None = None


@dataclass(frozen=True)
class EnrolmentConfig:
    """``[enrolment]``: enrolment rates and their paths (``None``: derived by the stage).

    Attributes:
        base_year: school year of the base (default: the population's first year).
        bands: {band: [first, last] age}, all four bands.
        population_basis: GER denominators "resident" (census) or "registered".
        ger_basis: "plan" (base GERs equal the plan's), "resident" or "registered".
        split_rule: primary/junior split of the plan's compulsory count, "ger" or "population".
        distribution_rule: county values from the city baseline ("age_structure").
        method: "rate" (enrolment = rate × population) or "flow" (grade progression).
        flow_ratio_years: years of observed flow ratios averaged (method "flow").
        rate_path: "hold", "target", "trend", "external" (ger_path) or "model".
        targets: {plan GER id: percent} for rate_path "target" (default: the plan's).
        target_year: year the targets are reached (default: the plan's).
        consolidation_path: compulsory consolidation rate "hold", "target" or "trend".
        annual_change: {band: GER points a year} of the trend (default: plan box 1).
        voc_share_change: vocational share of the senior stage, fraction a year.
        consolidation_change: consolidation rate, points a year.
        damping, drift_sd: damped-trend φ and sd of each draw's change (points a year).
        consolidation_damping, consolidation_drift_sd: the same for consolidation.
        ceilings: {band or compulsory_consolidation_rate: percent} upper bounds of the paths.
        max_ger: cap on every band's GER (percent).
        ger_path: CSV of city GERs (year, indicator, value[, draw]) for rate_path "external".
        rate_model: forecaster for rate_path "model"; rate_model_options: its keyword args.
        rate_series_area: area code of the forecast series (default "100000", China).
        rate_change: "relative" (the series' relative change) or "level" (its values).
        rate_series_indicators: {band: observation indicator} of the series.
        rate_series_min_years: fewest consecutive years a series needs to be forecast.
        seed: seed of the drift draws (default: the run's).
    """

    base_year: int | None = None
    bands: dict[Band, tuple[int, int]] = field(default_factory=lambda: {
        "preschool": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)})
    population_basis: Literal["resident", "registered"] = "resident"
    ger_basis: Literal["plan", "resident", "registered"] = "plan"
    split_rule: Literal["ger", "population"] = "ger"
    distribution_rule: Literal["age_structure"] = "age_structure"
    method: Literal["rate", "flow"] = "rate"
    flow_ratio_years: Count = 3
    rate_path: Literal["hold", "target", "trend", "external", "model"] = "hold"
    targets: dict[Literal[GER_IDS], NonNeg] | None = None
    target_year: int | None = None
    consolidation_path: Literal["hold", "target", "trend"] = "hold"
    annual_change: dict[Band, float] | None = None
    voc_share_change: float | None = None
    consolidation_change: float | None = None
    damping: Damping | None = None
    drift_sd: NonNeg | None = None
    consolidation_damping: Damping | None = None
    consolidation_drift_sd: NonNeg | None = None
    ceilings: dict[CeilingKey, NonNeg] | None = None
    max_ger: Positive | None = None
    ger_path: str | None = None
    rate_model: Model = "auto"
    rate_model_options: dict[str, Any] | None = None
    rate_series_area: str = "100000"
    rate_change: Literal["relative", "level"] = "relative"
    rate_series_indicators: dict[Band, str] | None = None
    rate_series_min_years: Count = 8
    seed: NonNegInt | None = None


@dataclass(frozen=True)
class TeachersConfig:
    """``[teachers]``: teacher demand, supply and hiring (``None``: derived by the stage).

    Attributes:
        method: demand "standard" (staffing ratios), "class_size" (classes × teachers per
            class) or "area_ratio" (each area's base pupil-teacher ratio); unset: "class_size"
            if a class cap is set, else from ``standard``, else "standard".
        standard: "unified_2014" (method standard) or "current" (method area_ratio).
        class_size_cap_primary, class_size_cap_junior: pupils per class.
        class_caps: {level: pupils per class}; teachers_per_class: {level: teachers}.
        nonteaching_share: {level: fraction of staff not teaching} (default: the standard's).
        vocational_as: level whose ratio secondary vocational uses.
        base_supply: base teachers "standard" or "province_ratio" (province's observed ratio).
        attrition: share of teachers leaving a year, in [0, 1) (default: implied by the plan).
        hires_per_year: fixed hiring plan, teachers a year, all levels (default: to need).
        hiring_period: [first, last] year of the hiring summary (default: the plan's).
        ratio_change: pupils per teacher a year (ratio_path "linear").
        ratio_path: "linear", "trend" (the learned damped trend of an observed ratio series,
            :mod:`njforecast.education.learned`) or "model" (a models/ forecast of it).
        ratio_model, ratio_model_options: forecaster and its keyword args (ratio_path "model").
        ratio_series_area: area code of the ratio series (default: the region's province).
        ratio_series_min_years: fewest consecutive years a series needs to be forecast.
        seed: seed of the model draws (default: the run's).
    """

    method: Literal["standard", "class_size", "area_ratio"] | None = None
    standard: Literal["current", "unified_2014"] | None = None
    class_size_cap_primary: Positive | None = None
    class_size_cap_junior: Positive | None = None
    class_caps: dict[Level, Positive] | None = None
    teachers_per_class: dict[Level, Positive] | None = None
    nonteaching_share: dict[Level, Share] | None = None
    vocational_as: Literal["preschool", "primary", "junior", "senior_general"] = "senior_general"
    base_supply: Literal["standard", "province_ratio"] = "standard"
    attrition: Share | None = None
    hires_per_year: NonNeg | None = None
    hiring_period: tuple[int, int] | None = None
    ratio_change: float = 0.0
    ratio_path: Literal["linear", "trend", "model"] = "linear"
    ratio_model: Model = "auto"
    ratio_model_options: dict[str, Any] | None = None
    ratio_series_area: str | None = None
    ratio_series_min_years: Count = 8
    seed: NonNegInt | None = None


@dataclass(frozen=True)
class CapacityConfig:
    """``[capacity]``: school places against enrolment.

    Attributes:
        base_rule: base places estimated from base enrolment ("enrolment").
        base_utilisation: base enrolment / places, percent (> 0).
        phase_in: planned new places "linear" over the period or all at its "end".
        period: [first, last] school year of the plan's new places (default: the seats
            table's).
        allocation: {unit kind: "city" | "own"} for units without population (default: the
            region file's).
    """

    base_rule: Literal["enrolment"] = "enrolment"
    base_utilisation: Positive = 100.0
    phase_in: Literal["linear", "end"] = "linear"
    period: tuple[int, int] | None = None
    allocation: dict[str, Literal["city", "own"]] | None = None


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: the planner's own inputs.

    Attributes:
        observations: CSV or xlsx of the planner's county series (observations format),
            relative to the working directory or the config folder.
    """

    observations: str | None = None


@dataclass(frozen=True)
class TargetsConfig:
    """``[targets]``: the plan targets compared with the projection.

    Attributes:
        file: CSV or xlsx in the targets format (README "Targets for any plan"), relative to
            the working directory or the config folder; unset: the region file's default.
    """

    file: str | None = None


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: report contents.

    Attributes:
        fan_indicators: target indicators drawn as fan charts (default: every projectable one).
    """

    fan_indicators: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BacktestConfig:
    """``[backtest]``: a back-test experiment (``njforecast run`` runs it instead of the
    projection when the table is present).

    Attributes:
        observations: file in the observations format (required).
        indicators: indicators to back-test (required).
        areas: area codes scored (default: all); exclude_areas: codes not scored.
        horizon: forecast steps, years (required, >= 1).
        windows: rolling-origin windows (required, >= 1).
        models: "all" or a list of model names.
        model_options: {model: {keyword: value}} (``[backtest.model_options.<model>]``).
    """

    observations: str | None = _required()
    indicators: tuple[str, ...] | None = _required()
    areas: tuple[str, ...] | None = None
    exclude_areas: tuple[str, ...] | None = None
    horizon: Count | None = _required()
    windows: Count | None = _required()
    models: Literal["all"] | tuple[Model, ...] = "all"
    model_options: dict[Model, dict[str, Any]] | None = None


@dataclass(frozen=True)
class ExPostConfig:
    """``[ex_post]``: a rate-path ex-post check, run instead of the projection (needs
    ``jump_off = YEAR``); ``actuals``: observations file under ``data/raw`` (required)."""

    actuals: str | None = _required()


SECTIONS: dict[str, type] = {
    "demography": DemographyConfig, "enrolment": EnrolmentConfig, "teachers": TeachersConfig,
    "capacity": CapacityConfig, "data": DataConfig, "targets": TargetsConfig,
    "report": ReportConfig,
    "backtest": BacktestConfig, "ex_post": ExPostConfig}

#: Scenario tables: the engine records an applied scenario as ``scenario``; scenarios come from
#: presets or scenario files, so neither table is read from a run config.
_NOT_FROM_FILE = ("scenario", "scenarios")
