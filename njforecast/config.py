"""Typed, frozen experiment configuration loaded from TOML; paths of the bundled data.

Public names:
    data_dir(), raw_dir(), external_dir(), processed_dir(): where the bundled data live;
    RunConfig, load_config(path), ConfigError: the experiment config
    (``experiments/*/config.toml``);
    DemographyConfig, EnrolmentConfig, TeachersConfig, CapacityConfig, DataConfig,
    TargetsConfig, ReportConfig, BacktestConfig: the typed tables (``SECTIONS``: table name → class);
    parse_section(name, table, path): one table's typed view.

Every table is optional; so is every key, except where marked required. ``load_config``
checks each table against its class (DESIGN §7): an unknown table, key or value, a wrong
type or a number out of range is a ``ConfigError`` that starts with the file's path and names
the table, the key, the value and the nearest known name.

    ==============  ================  ================================================
    table           class             read by
    ==============  ================  ================================================
    [demography]    DemographyConfig  engine.state, demography.DemographicAssumptions
    [enrolment]     EnrolmentConfig   education.enrolment.run_enrolment_stage
    [teachers]      TeachersConfig    education.teachers.run_teachers
    [capacity]      CapacityConfig    education.capacity.run_capacity
    [data]          DataConfig        engine.state.planner_observations
    [targets]       TargetsConfig     engine.state.plan_targets
    [report]        ReportConfig      reporting.build_outputs
    [backtest]      BacktestConfig    evaluation.backtest.run_experiment
    [ex_post]       ExPostConfig      evaluation.ex_post.run_ex_post
    ==============  ================  ================================================

``RunConfig.section(name)`` is the table as written (the stages apply their own defaults);
``RunConfig.enrolment`` etc. is the typed view, with the default where a key is unset
(``None`` where the stage derives it from the data).

No side effects on import. The data directory is ``$NJFORECAST_DATA`` when set, otherwise the
``data/`` folder of the repository this package was installed from.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import tomllib
import types
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from . import schema as S

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The region bundled with the package (data/external/regions/neijiang.toml): the default of
#: the command line and of a config without ``region``. Nothing else about it lives in code.
DEFAULT_REGION = "neijiang"


def data_dir() -> Path:
    """Root of the data tree (``raw/``, ``external/``, ``processed/``)."""
    env = os.environ.get("NJFORECAST_DATA")
    return Path(env) if env else REPO_ROOT / "data"


def raw_dir() -> Path:
    """Immutable files as received (``data/raw``)."""
    return data_dir() / "raw"


def external_dir() -> Path:
    """Third-party reference inputs and region definitions (``data/external``)."""
    return data_dir() / "external"


def processed_dir() -> Path:
    """Frames rebuilt by ``njforecast data build`` (``data/processed``)."""
    return data_dir() / "processed"


class ConfigError(ValueError):
    """A config file is missing, unreadable or has a bad value (message names file and key)."""


# --- vocabularies (the stage modules' own; tests/test_config.py checks they agree) ----------

#: Age bands of the enrolment stage (``education.enrolment.DEFAULT_BANDS``).
BANDS = ("preschool", "primary", "junior", "senior")
#: Plan GER indicator ids (``education.enrolment.BAND_GER``).
GER_IDS = ("preschool_ger_3y", "primary_ger", "junior_ger", "senior_stage_ger")
#: Forecaster registry names (``models.MODELS``).
MODEL_NAMES = ("naive", "drift", "mean", "theta", "ets", "arima", "autoets", "prophet", "global",
               "structural", "cohortflow", "combo", "auto")
#: ``demography.FERTILITY_PATHS`` and ``demography.MIGRATION_SOURCES``.
FERTILITY_PATHS = ("constant", "medium", "trend", "low", "high")
MIGRATION_SOURCES = ("auto", "province", "none")


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
            registration_gap_weight (county-signal weights in [−1, 1]),
            school_inflow_damping (κ ≥ 0).
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
    internal_stock_weight: SignalWeight = 1.0
    registration_gap_weight: SignalWeight = 0.25


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
        ratio_path: "linear" or "model" (a forecast of an observed ratio series).
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
    ratio_path: Literal["linear", "model"] = "linear"
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


# --- checking ---------------------------------------------------------------------------------


def _nearest(word: str, known) -> str | None:
    best = difflib.get_close_matches(word, list(known), n=1)
    return best[0] if best else None


def _unknown(path, what: str, word: str, known, fmt: str = "'{}'") -> ConfigError:
    """'PATH: unknown WHAT; did you mean X?' (or the known names when none is close)."""
    best = _nearest(word, known)
    hint = (f"did you mean {fmt.format(best)}?" if best
            else "known: " + ", ".join(fmt.format(k) for k in known))
    return ConfigError(f"{path}: unknown {what}; {hint}")


def _where(path, table: str | None, key: str) -> str:
    return f"{path}: [{table}] {key}" if table else f"{path}: {key}"


def _describe(tp) -> str:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return f"{_describe(args[0])} {args[1].text()}"
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list, each item {_describe(args[0])}"
        return f"a list of {len(args)} items, each {_describe(args[0])}"
    if origin is dict:
        return f"a table, each value {_describe(args[1])}"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            Any: "any value"}.get(tp, str(tp))


def _kind(tp) -> str:
    """The TOML shape a type accepts (to pick the branch of a union)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _kind(get_args(tp)[0])
    if origin is Literal or tp is str:
        return "str"
    return {tuple: "list", dict: "table"}.get(origin) or {bool: "bool", int: "number",
                                                         float: "number"}.get(tp, "any")


def _kind_of(v) -> str:
    if isinstance(v, bool):
        return "bool"
    return ("number" if isinstance(v, int | float) else "str" if isinstance(v, str)
            else "list" if isinstance(v, list) else "table" if isinstance(v, dict) else "other")


def _check(v, tp, path, table: str | None, key: str):
    """``v`` checked against ``tp`` (lists become tuples, numbers floats where typed float).

    Raises:
        ConfigError: wrong type, value outside an enumeration or a range, unknown table key.
    """
    where = _where(path, table, key)
    origin, args = get_origin(tp), get_args(tp)

    def wrong() -> ConfigError:
        return ConfigError(f"{where} must be {_describe(tp)}, got {v!r}")

    if tp is Any:
        return v
    if origin is Annotated:
        v = _check(v, args[0], path, table, key)
        if not args[1].ok(v):
            raise ConfigError(f"{where} = {v!r} is out of range; it must be {args[1].text()}")
        return v
    if origin in (Union, types.UnionType):
        fit = [a for a in args if a is not type(None) and _kind(a) in (_kind_of(v), "any")]
        if len(fit) != 1:
            raise wrong()
        return _check(v, fit[0], path, table, key)
    if origin is Literal:
        if not isinstance(v, str):
            raise wrong()
        if v not in args:
            best = _nearest(v, args)
            raise ConfigError(f"{where} = {v!r} is not allowed; use one of {', '.join(args)}"
                              + (f" (did you mean '{best}'?)" if best else ""))
        return v
    if origin is tuple:
        if not isinstance(v, list):
            raise wrong()
        items = [args[0]] * len(v) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(items) != len(v):
            raise wrong()
        return tuple(_check(x, t, path, table, f"{key}[{i}]")
                     for i, (x, t) in enumerate(zip(v, items, strict=True)))
    if origin is dict:
        if not isinstance(v, dict):
            raise wrong()
        sub = f"{table}.{key}" if table else key
        key_tp = args[0]
        if get_origin(key_tp) is Literal:
            for k in v:
                if k not in get_args(key_tp):
                    raise _unknown(path, f"key '{k}' in [{sub}]", k, get_args(key_tp))
        return {k: _check(x, args[1], path, sub, k) for k, x in v.items()}
    if tp is bool:
        ok = isinstance(v, bool)
    elif tp is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif tp is float:
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        if ok and not math.isfinite(v):
            raise ConfigError(f"{where} must be a finite number, got {v!r}")
        v = float(v) if ok else v
    else:
        ok = isinstance(v, tp)
    if not ok:
        raise wrong()
    return v


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


def parse_section(name: str, table: dict[str, Any], path: str | Path = "config"):
    """The typed view of table ``[name]`` (e.g. ``parse_section("enrolment", {...})``).

    Raises:
        ConfigError: unknown table or key, wrong type, bad value, missing required key.
    """
    if name not in SECTIONS:
        if name in _NOT_FROM_FILE:
            raise ConfigError(f"{path}: [{name}] is not read from a run config; put scenario "
                              "fields in a scenario file and run `njforecast scenario run "
                              f"FILE.toml --config {path}` (`njforecast run` runs the presets)")
        raise _unknown(path, f"section [{name}]", name, SECTIONS, "[{}]")
    cls = SECTIONS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: '{name}' must be a table ([{name}]), got {table!r}")
    hints = _hints(cls)
    kwargs = {}
    for key, value in table.items():
        if key not in hints:
            raise _unknown(path, f"key '{key}' in [{name}]", key, [f.name for f in fields(cls)])
        kwargs[key] = _check(value, hints[key], path, name, key)
    for f in fields(cls):
        if f.metadata.get("required") and f.name not in table:
            raise ConfigError(f"{path}: [{name}] needs key '{f.name}' "
                              f"({_describe(hints[f.name])})")
    return cls(**kwargs)


class _Table:
    """A RunConfig property: the typed view of the table of the same name."""

    def __set_name__(self, owner, name: str):
        self.name = name

    def __get__(self, cfg, owner=None):
        if cfg is None:
            return self
        if self.name in ("backtest", "ex_post") and self.name not in cfg.sections:
            return None
        return parse_section(self.name, cfg.sections.get(self.name, {}), cfg.path or "config")


@dataclass(frozen=True)
class RunConfig:
    """One experiment or pipeline run.

    Attributes:
        name: experiment name (MLflow experiment and output folder).
        region: region id; ``data/external/regions/<region>.toml`` defines its areas.
        base_year: census year the projection starts from.
        end_year: last projected year (inclusive).
        jump_off: "latest" (default: each planner series calibrated at its latest year) or a
            year (later observations are only ex-post actuals).
        draws: Monte Carlo draws for uncertainty (0 = point projection only).
        seed: random seed; same config + data + seed gives identical numbers.
        output_dir: folder for outputs (relative to the working directory).
        tracking_uri: MLflow tracking URI (default ``sqlite:///mlflow.db``).
        sections: every TOML table as written, for the stage that owns it (``SECTIONS``;
            the engine adds ``scenario`` when it applies one).
        path: file the config was read from.

    The typed views ``demography``, ``enrolment``, ``teachers``, ``capacity``, ``data``,
    ``targets``, ``report`` and ``backtest`` (properties) give each table's keys with their defaults.
    """

    name: str = "neijiang-baseline"
    region: str = DEFAULT_REGION
    base_year: int = 2020
    end_year: int = 2035
    jump_off: int | str = "latest"
    draws: int = 200
    seed: int = 20201101
    output_dir: str = "outputs"
    tracking_uri: str = "sqlite:///mlflow.db"
    sections: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def section(self, name: str) -> dict[str, Any]:
        """The TOML table ``[name]`` as written (empty dict when absent)."""
        return dict(self.sections.get(name, {}))

    demography = _Table()  # DemographyConfig
    enrolment = _Table()  # EnrolmentConfig
    teachers = _Table()  # TeachersConfig
    capacity = _Table()  # CapacityConfig
    data = _Table()  # DataConfig
    targets = _Table()  # TargetsConfig
    report = _Table()  # ReportConfig
    backtest = _Table()  # BacktestConfig, or None when the config has no [backtest]
    ex_post = _Table()  # ExPostConfig, or None when the config has no [ex_post]


_TOP: dict[str, Any] = {"name": str, "region": str, "base_year": int, "end_year": int,
                        "jump_off": Literal["latest"] | int, "draws": NonNegInt,
                        "seed": NonNegInt, "output_dir": str, "tracking_uri": str}


def load_config(path: str | Path) -> RunConfig:
    """Read and check a run config from TOML.

    Top-level keys (all optional) are the RunConfig attributes; tables are checked against
    ``SECTIONS`` and kept as written in ``sections``.

    Raises:
        ConfigError: file missing, TOML syntax error, unknown table or key, wrong type, value
            outside its allowed set or range (the message starts with the path and names the
            table, key, value and nearest known name).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass the path of a TOML file such as "
                          "experiments/neijiang-baseline/config.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
    kwargs: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _TOP:
            kwargs[key] = _check(value, _TOP[key], path, None, key)
        elif isinstance(value, dict) or key in SECTIONS:
            parse_section(key, value, path)
            sections[key] = value
        else:
            owner = [n for n, c in SECTIONS.items() if key in _hints(c)]
            if owner:
                raise ConfigError(f"{path}: top-level key '{key}' belongs in a table; move it "
                                  "under " + " or ".join(f"[{n}]" for n in owner))
            raise _unknown(path, f"top-level key '{key}'", key, list(_TOP))
    cfg = RunConfig(**kwargs, sections=sections, path=str(path))
    if cfg.end_year < cfg.base_year:
        raise ConfigError(f"{path}: end_year {cfg.end_year} is before base_year {cfg.base_year}")
    return with_jump_off(cfg, cfg.jump_off, str(path))


def with_jump_off(cfg: RunConfig, value: int | str, where: str = "config") -> RunConfig:
    """``cfg`` with ``jump_off`` = "latest" or a year in base_year..end_year (else ConfigError)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value != "latest" and not (isinstance(value, int) and not isinstance(value, bool)
                                  and cfg.base_year <= value <= cfg.end_year):
        raise ConfigError(f"{where}: jump_off = {value!r} must be \"latest\" or a year between "
                          f"base_year {cfg.base_year} and end_year {cfg.end_year}")
    return replace(cfg, jump_off=value)
