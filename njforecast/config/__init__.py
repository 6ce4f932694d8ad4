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

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .base import (BANDS, DEFAULT_REGION, FERTILITY_PATHS, GER_IDS, MAX_END_YEAR,
                   MIGRATION_SOURCES,
                   MODEL_NAMES, REPO_ROOT, ConfigError, data_dir, external_dir, processed_dir,
                   raw_dir)
from .checking import _check, _hints, _unknown, parse_section
from .tables import (SECTIONS, BacktestConfig, CapacityConfig, DataConfig, DemographyConfig,
                     EnrolmentConfig, ExPostConfig, NonNegInt, ReportConfig, TargetsConfig,
                     TeachersConfig)

__all__ = ["BANDS", "DEFAULT_REGION", "FERTILITY_PATHS", "GER_IDS", "MAX_END_YEAR",
           "MIGRATION_SOURCES",
           "MODEL_NAMES", "REPO_ROOT", "ConfigError", "data_dir", "external_dir",
           "processed_dir", "raw_dir", "parse_section", "SECTIONS", "BacktestConfig",
           "CapacityConfig", "DataConfig", "DemographyConfig", "EnrolmentConfig", "ExPostConfig",
           "ReportConfig", "TargetsConfig", "TeachersConfig", "RunConfig", "load_config",
           "with_jump_off"]


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
    _check_region(cfg.region, path)
    if cfg.end_year > MAX_END_YEAR:
        raise ConfigError(f"{path}: end_year {cfg.end_year} is after {MAX_END_YEAR}, the last "
                          f"year the engine projects; set end_year to {MAX_END_YEAR} or earlier")
    return with_jump_off(cfg, cfg.jump_off, str(path))


def _check_region(region: str, path: Path) -> None:
    """A region name must name a bundled region file, a region path an existing file."""
    folder = external_dir() / "regions"
    if Path(region).suffix:
        if not Path(region).is_file():
            raise ConfigError(f"{path}: region = '{region}': file not found; give a region "
                              f"name or the path of a region TOML file (bundled: {folder})")
        return
    if not (folder / f"{region}.toml").is_file():
        raise _unknown(path, f"region '{region}'", region,
                       sorted(f.stem for f in folder.glob("*.toml")))


def with_jump_off(cfg: RunConfig, value: int | str, where: str = "config") -> RunConfig:
    """``cfg`` with ``jump_off`` = "latest" or a year in base_year..end_year (else ConfigError)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value != "latest" and not (isinstance(value, int) and not isinstance(value, bool)
                                  and cfg.base_year <= value <= cfg.end_year):
        raise ConfigError(f"{where}: jump_off = {value!r} must be \"latest\" or a year between "
                          f"base_year {cfg.base_year} and end_year {cfg.end_year}")
    return replace(cfg, jump_off=value)
