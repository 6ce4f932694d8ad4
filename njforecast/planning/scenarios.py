"""Scenarios: named, serialisable sets of assumption overrides (DESIGN §5 Scenarios).

Public names:
    Scenario (frozen dataclass), ScenarioError, presets(standards, targets, base_year) ->
    {name: Scenario}, get_scenario(name_or_path, known), load_scenario(path) (TOML),
    scenario_from_dict(d, source),
    apply_to_config(cfg, scenario) -> RunConfig, comparison_table(summaries, ...),
    FIELDS (field → (type, lower, upper, unit, meaning)), MAX_END_YEAR, MAX_DRAWS.

A scenario changes only what it names; every other assumption stays as in the experiment
config. The presets follow the NCES practice of publishing low / middle / high alternatives
(Hussar & Bailey, *Projections of Education Statistics*, NCES) plus the plan's policy levers.
Preset figures are scenario assumptions, not data: the ±20 % fertility spread is DESIGN §1's
"births fall another 20 %"; the plan and standards figures (plan targets, class caps 45/50, the
2014 staffing standard) are read from ``data/raw`` when the preset is built, never typed here.

A scenario file is TOML with the fields at top level or under ``[scenario]``::

    name = "births-minus-30"
    description = "Births 30 % below the baseline path"
    fertility_multiplier = 0.7
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..config import MAX_END_YEAR, RunConfig
#: Largest number of Monte Carlo draws a scenario may ask for (memory and time cap: about
#: 6 areas × 101 ages × 2 sexes × 16 years × 1000 draws ≈ 19 M population cells).
MAX_DRAWS = 1000
#: Staffing standards a scenario may choose.
STAFFING_STANDARDS = ("config", "unified_2014", "area_ratio")
#: Rate paths a scenario may choose (``reach_targets_by`` selects the target path).
RATE_PATHS = ("hold", "trend", "model")


class ScenarioError(ValueError):
    """A scenario is unknown or has an unknown field or an out-of-range value."""


#: field → (type, lower, upper, unit, meaning). ``None`` bounds are unbounded.
FIELDS: dict[str, tuple[type, Any, Any, str, str]] = {
    "name": (str, None, None, "", "scenario name (letters, digits, '-', '_')"),
    "description": (str, None, None, "", "what the scenario assumes, one sentence"),
    "fertility_multiplier": (float, 0.3, 2.0, "× baseline", "multiplies age-specific fertility"),
    "migration_multiplier": (float, 0.0, 3.0, "× baseline",
                             "multiplies net migration by age (Neijiang: net out-migration)"),
    "reach_targets_by": (int, 2021, MAX_END_YEAR, "year",
                         "enrolment rates move linearly to the plan targets by this year"),
    "rate_path": (str, None, None, "",
                  ("enrolment rates, vocational share and consolidation: 'hold' (2020 values, "
                   "status quo) or 'trend' (damped 2015→2020 trend); or 'model' (GERs follow a "
                   "models/ forecast of an observed GER series, [enrolment] rate_model; "
                   "consolidation as configured); default as in the config")),
    "staffing_standard": (str, None, None, "",
                          ("'config' (as in the experiment's [teachers] table), 'unified_2014' "
                           "(中央编办发〔2014〕72号 staff ratios) or 'area_ratio' (each area's "
                           "base pupil-teacher ratio held)")),
    "class_size_cap_primary": (float, 20.0, 80.0, "pupils per class",
                               "primary class-size cap used for teacher demand"),
    "class_size_cap_junior": (float, 20.0, 80.0, "pupils per class",
                              "junior class-size cap used for teacher demand"),
    "attrition": (float, 0.0, 0.3, "share per year", "teacher attrition rate"),
    "hires_per_year": (float, 0.0, 1e5, "teachers per year",
                       "fixed hiring plan, all levels (default: hire to need)"),
    "end_year": (int, 2021, MAX_END_YEAR, "year", "last projected year"),
    "draws": (int, 0, MAX_DRAWS, "draws", "Monte Carlo draws (0 = point projection)"),
    "seed": (int, 0, 2**32 - 1, "", "random seed"),
}


@dataclass(frozen=True)
class Scenario:
    """A named set of assumption overrides; ``None`` means "as in the experiment config".

    Attributes: see ``FIELDS`` (units and bounds). Multipliers default to 1 (no change).
    """

    name: str
    description: str = ""
    fertility_multiplier: float = 1.0
    migration_multiplier: float = 1.0
    reach_targets_by: int | None = None
    rate_path: str | None = None
    staffing_standard: str = "config"
    class_size_cap_primary: float | None = None
    class_size_cap_junior: float | None = None
    attrition: float | None = None
    hires_per_year: float | None = None
    end_year: int | None = None
    draws: int | None = None
    seed: int | None = None

    def __post_init__(self):
        _validate(self, source=f"scenario {self.name!r}")

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values (JSON/TOML serialisable except None)."""
        return asdict(self)

    def overrides(self) -> dict[str, Any]:
        """Only the fields that differ from the defaults (what the scenario changes)."""
        default = Scenario(name=self.name)
        return {k: v for k, v in asdict(self).items()
                if k not in ("name", "description") and v != getattr(default, k)}

    def to_toml(self) -> str:
        """The scenario as TOML text (``load_scenario`` reads it back to an equal Scenario)."""
        lines = []
        for k, v in asdict(self).items():
            if v is None:
                continue
            lines.append(f"{k} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _validate(sc: Scenario, source: str) -> None:
    if not sc.name or not all(c.isalnum() or c in "-_" for c in sc.name):
        raise ScenarioError(f"{source}: name {sc.name!r} must be non-empty letters, digits, "
                            "'-' or '_'")
    for f in fields(sc):
        typ, lo, hi, unit, _ = FIELDS[f.name]
        v = getattr(sc, f.name)
        if v is None:
            continue
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            object.__setattr__(sc, f.name, float(v))
            v = float(v)
        if not isinstance(v, typ) or isinstance(v, bool):
            raise ScenarioError(f"{source}: field '{f.name}' must be {typ.__name__}, got {v!r}")
        if typ is float and math.isnan(v):
            raise ScenarioError(f"{source}: field '{f.name}' is NaN")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ScenarioError(f"{source}: field '{f.name}' = {v!r} is out of range "
                                f"[{lo}, {hi}]" + (f" ({unit})" if unit else ""))
    if sc.rate_path is not None and sc.rate_path not in RATE_PATHS:
        raise ScenarioError(f"{source}: rate_path {sc.rate_path!r} is not one of {RATE_PATHS}")
    if sc.staffing_standard not in STAFFING_STANDARDS:
        raise ScenarioError(f"{source}: staffing_standard {sc.staffing_standard!r} is not one of "
                            f"{STAFFING_STANDARDS}")


def scenario_from_dict(d: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Build a Scenario from a mapping, rejecting unknown fields with a message naming them."""
    unknown = sorted(set(d) - set(FIELDS))
    if unknown:
        hints = []
        for u in unknown:
            best = difflib.get_close_matches(u, list(FIELDS), n=1)
            hints.append(f"unknown field '{u}'; did you mean '{best[0]}'?" if best
                         else f"unknown field '{u}'; known fields: {', '.join(FIELDS)}")
        raise ScenarioError(f"{source}: " + "; ".join(hints))
    if "name" not in d:
        raise ScenarioError(f"{source}: field 'name' is required")
    try:
        return Scenario(**dict(d))
    except ScenarioError as exc:
        raise ScenarioError(str(exc).replace(f"scenario {d['name']!r}", source, 1)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a user scenario from TOML (fields at top level or under ``[scenario]``)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
    if "scenario" in raw and isinstance(raw["scenario"], dict):
        raw = raw["scenario"]
    raw.setdefault("name", path.stem)
    return scenario_from_dict(raw, source=str(path))


def _standard_value(std: pd.DataFrame, standard_id: str) -> float:
    row = std[std["standard_id"] == standard_id]
    if row.empty:
        raise ScenarioError(f"standards table: no row '{standard_id}' (data/raw/standards/"
                            "staffing_standards.csv)")
    return float(row["value_high"].iloc[0])


def presets(standards: pd.DataFrame, targets: pd.DataFrame,
            base_year: int) -> dict[str, Scenario]:
    """The standard scenarios, their plan and standards figures taken from the tables given.

    baseline; low_fertility / high_fertility (×0.8 / ×1.2 fertility); high_out_migration
    (×1.5 net migration); status_quo_rates (jump-off rates held); plan_targets_<year> (rates
    reach the plan's targets by their year); ratios_held (each area's pupil-teacher ratio
    held); national_staffing (2014 unified standard);
    class_caps_<primary>_<junior> (the plan's class caps).

    Args:
        standards: staffing standards (``njforecast.io.store.load_standards``).
        targets: the plan's targets (``njforecast.io.plan.load_plan_targets``).
        base_year: the jump-off year (named in the status-quo description).
    """
    std = standards
    tyear = int(targets[S.TARGET_YEAR].max())
    cap_p = _standard_value(std, "class_cap_primary")
    cap_j = _standard_value(std, "class_cap_junior")
    items = [
        Scenario("baseline", "Assumptions as in the experiment config (medium variant)."),
        Scenario("low_fertility", "Fertility 20 % below the baseline path (low variant).",
                 fertility_multiplier=0.8),
        Scenario("high_fertility", "Fertility 20 % above the baseline path (high variant).",
                 fertility_multiplier=1.2),
        Scenario("high_out_migration", "Net migration 1.5 × the census-residual migration.",
                 migration_multiplier=1.5),
        Scenario("status_quo_rates", "Enrolment rates, vocational share and consolidation "
                 f"held at their {base_year} values (status quo, no trend).", rate_path="hold"),
        Scenario(f"plan_targets_{tyear}", f"Enrolment rates reach the plan targets by {tyear}, "
                 "then stay.", reach_targets_by=tyear),
        Scenario("ratios_held", "Each area's pupil-teacher ratio held at its base value (the "
                 "alternative to a configured ratio path).", staffing_standard="area_ratio"),
        Scenario("national_staffing", "Teacher demand at the 2014 unified staffing standard "
                 "(中央编办发〔2014〕72号).", staffing_standard="unified_2014"),
        Scenario(f"class_caps_{cap_p:g}_{cap_j:g}", f"Classes capped at {cap_p:g} (primary) and "
                 f"{cap_j:g} (junior) pupils (the plan's caps).", class_size_cap_primary=cap_p,
                 class_size_cap_junior=cap_j),
    ]
    return {s.name: s for s in items}


def is_scenario_file(name_or_path: str | Path) -> bool:
    """True when ``name_or_path`` names a scenario file (``.toml`` or an existing file), not a
    preset."""
    p = Path(name_or_path)
    return p.suffix == ".toml" or p.is_file()


def get_scenario(name_or_path: str | Path, known: Mapping[str, Scenario]) -> Scenario:
    """A preset by name (one of ``known``, e.g. :func:`presets`), or a user scenario from a TOML
    file path."""
    if is_scenario_file(name_or_path):
        return load_scenario(Path(name_or_path))
    if str(name_or_path) not in known:
        raise ScenarioError(f"unknown scenario {str(name_or_path)!r}; presets: "
                            f"{', '.join(known)} (or pass a .toml file)")
    return known[str(name_or_path)]


def apply_to_config(cfg: RunConfig, scenario: Scenario) -> RunConfig:
    """The config with the scenario's horizon, draws and seed applied and the scenario recorded.

    Stage assumptions (fertility, migration, rates, staffing) are applied by the pipeline from
    ``cfg.section("scenario")``.
    """
    sections = dict(cfg.sections)
    sections["scenario"] = scenario.to_dict()
    return replace(cfg,
                   end_year=scenario.end_year if scenario.end_year is not None else cfg.end_year,
                   draws=scenario.draws if scenario.draws is not None else cfg.draws,
                   seed=scenario.seed if scenario.seed is not None else cfg.seed,
                   sections=sections)


def comparison_table(summaries: Mapping[str, pd.DataFrame],
                     indicators: Iterable[str] | None = None,
                     years: Iterable[int] = (2025, 2030, 2035)) -> pd.DataFrame:
    """Key indicators side by side across scenarios.

    Args:
        summaries: scenario name → indicator summary frame (area, year, indicator, mean, lo80,
            hi80[, lo95, hi95][, unit]).
        indicators: indicators to keep (default: all).
        years: years to keep.

    Returns:
        Long frame: indicator, area, year, scenario, mean, lo80, hi80, plus ``diff_vs_baseline``
        (mean − baseline mean, same unit) when a ``baseline`` scenario is present.
    """
    years = [int(y) for y in years]
    parts = []
    for name, df in summaries.items():
        d = df[df[S.YEAR].isin(years)]
        if indicators is not None:
            d = d[d[S.INDICATOR].isin(list(indicators))]
        keep = [c for c in (S.INDICATOR, S.AREA, S.YEAR, S.UNIT, S.MEAN, S.LO80, S.HI80,
                            S.QUALITY) if c in d.columns]
        parts.append(d[keep].assign(**{S.SCENARIO: name}))
    if not parts:
        return pd.DataFrame(columns=[S.INDICATOR, S.AREA, S.YEAR, S.SCENARIO, S.MEAN])
    out = pd.concat(parts, ignore_index=True)
    if "baseline" in summaries:
        base = out[out[S.SCENARIO] == "baseline"].set_index([S.INDICATOR, S.AREA, S.YEAR])[S.MEAN]
        idx = pd.MultiIndex.from_frame(out[[S.INDICATOR, S.AREA, S.YEAR]])
        out["diff_vs_baseline"] = out[S.MEAN].to_numpy() - base.reindex(idx).to_numpy()
    order = {n: i for i, n in enumerate(summaries)}
    out = out.assign(_s=out[S.SCENARIO].map(order))
    out = out.sort_values([S.INDICATOR, S.AREA, S.YEAR, "_s"], kind="stable").drop(columns="_s")
    cols = [S.INDICATOR, S.AREA, S.YEAR, S.SCENARIO] + [c for c in out.columns if c not in
                                                        (S.INDICATOR, S.AREA, S.YEAR, S.SCENARIO)]
    return out[cols].reset_index(drop=True)
