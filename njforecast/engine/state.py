"""The base state: everything a scenario does not change, built once per config and data.

Public names:
    BaseState (frozen), build_state(cfg) → BaseState, state_for(cfg) → BaseState (cached by
    config and data hash), preferred_observations(state), stage_configs(cfg, overrides) →
    stage tables with a scenario applied, data_hash(), sources_table(),
    planner_observations(cfg), planner_observation_warnings(cfg), planner_observations_path(cfg),
    plan_targets(cfg, region, base_year) → (targets, path or None, note), targets_path(cfg),
    target_ids(cfg), check_targets_file(cfg, path), check_run_targets(cfg).

A BaseState holds the tables read from ``data/`` (once), the census base graduated to single
ages, the demographic inputs (survival, migration residuals, fertility path; DESIGN §5), and a
memo of the pieces that depend only on a few scenario fields (the base calibration depends on
the migration multiplier through the base year's back step; model rate paths on draws and
seed). ``engine.project`` reads it and never touches a file.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import demography as dem
from .. import schema as S
from ..areas import Region, aggregation_matrix, census_codes, load_region
from ..config import RunConfig, raw_dir
from ..io import plan as plan_io
from ..io import store
from ..io.processed import read_processed
from ..planning.scenarios import MAX_END_YEAR
from .jumpoff import JumpOff, jump_off_from


def rate_target_ids(targets: pd.DataFrame, region_code: str) -> set[str]:
    """The targets a ``reach_targets_by`` scenario moves enrolment to: the GER ids and the
    consolidation rate with a number for the region itself (the rows
    :func:`njforecast.engine.enrolment.plan_ger_targets` reads)."""
    from ..education.base import BAND_GER, CONSOLIDATION

    t = targets[(targets[S.AREA].astype(str) == region_code) & targets[S.TARGET].notna()]
    return set(t[S.INDICATOR]) & {*BAND_GER.values(), CONSOLIDATION}


def stage_configs(cfg: RunConfig, overrides: Mapping[str, Any],
                  rate_targets: Iterable[str] | None = None) -> dict[str, dict]:
    """Stage config tables with a scenario's overrides applied.

    ``rate_targets`` (:func:`rate_target_ids`; None: every one) are the targets
    ``reach_targets_by`` can reach: the GERs move to theirs only when there is a GER target,
    consolidation to its own only when there is one; otherwise the config's path applies.

    =========================  =======================================================
    scenario field             stage assumption
    =========================  =======================================================
    fertility_multiplier       [demography] fertility_multiplier (× the config's)
    migration_multiplier       [demography] migration_multiplier (× the config's)
    rate_path                  [enrolment] rate_path and consolidation_path ("hold", "trend");
                               "model": rate_path only (consolidation as configured)
    reach_targets_by           [enrolment] rate_path = "target", target_year, consolidation
    staffing_standard          [teachers] method ("unified_2014" → standard, "area_ratio")
    class_size_cap_*           [teachers] method class_size with these caps
    attrition, hires_per_year  [teachers] attrition, hires_per_year
    =========================  =======================================================
    """
    enr = cfg.section("enrolment")
    tch = cfg.section("teachers")
    demo = demography_section(cfg)
    for k in ("fertility_multiplier", "migration_multiplier"):
        if overrides.get(k, 1.0) != 1.0:
            demo[k] = float(demo.get(k, 1.0)) * overrides[k]
    if overrides.get("rate_path") is not None:
        enr["rate_path"] = overrides["rate_path"]
        if overrides["rate_path"] != "model":  # no model path for consolidation: as configured
            enr["consolidation_path"] = overrides["rate_path"]
    if overrides.get("reach_targets_by") is not None:
        from ..education.base import CONSOLIDATION

        have = None if rate_targets is None else set(rate_targets)
        if have is not None and not have:
            raise ValueError(f"reach_targets_by = {overrides['reach_targets_by']}: the targets "
                             "have no enrolment-rate target (a GER or the consolidation rate) "
                             "to reach; add one to the targets file or drop reach_targets_by")
        if have is None or have - {CONSOLIDATION}:
            enr["rate_path"] = "target"
        enr["target_year"] = overrides["reach_targets_by"]
        if have is None or CONSOLIDATION in have:
            enr["consolidation_path"] = "target"
    std = overrides.get("staffing_standard", "config")
    if std == "unified_2014":
        tch["method"] = "standard"
    elif std == "area_ratio":  # each area's base ratio held, whatever path the config gives
        tch["method"] = "area_ratio"
        for k in ("ratio_path", "ratio_change"):
            tch.pop(k, None)
    caps = {lv: overrides[f"class_size_cap_{lv}"] for lv in ("primary", "junior")
            if overrides.get(f"class_size_cap_{lv}") is not None}
    if caps:
        tch["method"] = "class_size"
        tch["class_caps"] = {**tch.get("class_caps", {}), **caps}
    if (std == "unified_2014" or caps) and tch.get("method") != "area_ratio":
        # the scenario's standard or class caps replace the areas' own ratios, so a configured
        # ratio path has nothing to move (a config that sets both itself still gets the error)
        tch.pop("ratio_path", None)
    for k in ("attrition", "hires_per_year"):
        if overrides.get(k) is not None:
            tch[k] = overrides[k]
    return {"demography": demo, "enrolment": enr, "teachers": tch,
            "capacity": cfg.section("capacity")}


def data_hash(paths: Iterable | None = None, extra: Iterable = ()) -> str:
    """sha256 over the bundled input files (relative path + bytes), sorted, then ``extra``
    files (e.g. a planner's observations; name + bytes): the data lineage."""
    root = raw_dir()
    files = sorted(paths) if paths is not None else sorted(
        p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    files = [*files, *extra]
    h = hashlib.sha256()
    for p in files:
        rel = p.relative_to(root.parent) if root.parent in p.parents else p.name
        h.update(str(rel).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def sources_table() -> pd.DataFrame:
    """The data sources (``data/raw/SOURCES.md`` table) with each file's sha256 prefix."""
    path = raw_dir() / "SOURCES.md"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not line.startswith("|") or set(cells[0]) <= {"-", " "} or \
                cells[0] == "file":
            continue
        rows.append({"file": cells[0], "origin": cells[1], "licence": cells[2],
                     "checked": cells[3]})
    df = pd.DataFrame(rows, columns=["file", "origin", "licence", "checked"])

    def digest(f: str) -> str:
        p = raw_dir() / f
        return hashlib.sha256(p.read_bytes()).hexdigest()[:16] if p.is_file() else ""

    df["sha256"] = df["file"].map(digest)
    return df


def planner_observations_path(cfg: RunConfig) -> Path | None:
    """The file of ``[data] observations`` (a relative path is looked up in the working
    directory, then next to the config), or None when not configured.

    Raises:
        DataError: configured but not found.
    """
    f = cfg.section("data").get("observations")
    if not f:
        return None
    path = Path(f)
    if not path.is_absolute():
        cands = [Path.cwd() / path, *([Path(cfg.path).parent / path] if cfg.path else [])]
        path = next((c for c in cands if c.is_file()), cands[0])
    if not path.is_file():
        raise store.DataError(f"{cfg.path or 'config'}: [data] observations = {f!r} not found "
                              "(relative to the working directory or the config folder)")
    return path.resolve()


def _config_file(cfg: RunConfig, f: str, what: str) -> Path:
    """A file named in the config: a relative path is looked up in the working directory, then
    next to the config.

    Raises:
        DataError: not found.
    """
    path = Path(f)
    if not path.is_absolute():
        cands = [Path.cwd() / path, *([Path(cfg.path).parent / path] if cfg.path else [])]
        path = next((c for c in cands if c.is_file()), cands[0])
    if not path.is_file():
        raise store.DataError(f"{cfg.path or 'config'}: {what} = {f!r} not found "
                              "(relative to the working directory or the config folder)")
    return path.resolve()


def targets_path(cfg: RunConfig) -> Path | None:
    """The file of ``[targets] file`` (``njforecast run --targets``), or None when the region's
    default targets apply.

    Raises:
        DataError: configured but not found.
    """
    f = cfg.section("targets").get("file")
    return _config_file(cfg, f, "[targets] file") if f else None


def _region_targets(cfg: RunConfig, region: Region) -> tuple[pd.DataFrame, dict[str, str]]:
    """The region file's default targets and the {id: unit} a targets file may use (the
    engine's ids and the ids of the region's plan table)."""
    from ..io.targets import empty_targets, load_targets
    from ..planning.targets import known_target_units

    default, fmt = plan_io.region_targets_spec(region.path)
    if default is not None and fmt not in ("neijiang_plan_table", "long"):
        raise store.DataError(f"{region.path}: [targets] format = {fmt!r} is not known; use "
                              "neijiang_plan_table or long")
    plan_table = (plan_io.load_plan_targets(default, area=region.code)
                  if fmt == "neijiang_plan_table" else empty_targets())
    known = known_target_units(plan_table)
    if fmt == "long":
        return load_targets(default, known, int(cfg.base_year), cfg.region), known
    return plan_table, known


def target_ids(cfg: RunConfig) -> pd.DataFrame:
    """The indicator ids a targets file for ``cfg``'s region may use
    (:func:`njforecast.planning.targets.target_indicators`)."""
    from ..planning.targets import target_indicators

    region = load_region(cfg.region)
    return target_indicators(_region_targets(cfg, region)[0])


def _year_limits(cfg: RunConfig) -> dict[str, Any]:
    """The last year a planner's target may name (``cfg``'s end_year) and the config to raise
    it in, as keyword arguments of :func:`njforecast.io.targets.validate_targets`."""
    return {"end_year": int(cfg.end_year), "config": str(cfg.path) if cfg.path else "the config"}


def check_targets_file(cfg: RunConfig, path: str | Path):
    """Validate a targets file against ``cfg``'s region, jump-off year and end year.

    Returns:
        (the targets frame or None, every problem): :func:`njforecast.io.targets.validate_targets`.
    """
    from ..io.targets import validate_targets

    region = load_region(cfg.region)
    _, known = _region_targets(cfg, region)
    return validate_targets(path, known, jump_off_year(cfg, region), cfg.region,
                            **_year_limits(cfg))


def check_run_targets(cfg: RunConfig) -> None:
    """Check ``[targets] file`` as the run will read it (:func:`plan_targets` at the jump-off
    year), so that a job can refuse a bad file before any computation or tracking starts.

    Raises:
        DataError: the file is missing or invalid (every problem with row, column and fix).
    """
    if targets_path(cfg) is not None:
        region = load_region(cfg.region)
        plan_targets(cfg, region, jump_off_year(cfg, region))


def jump_off_year(cfg: RunConfig, region: Region | None = None) -> int:
    """The run's jump-off year: targets may not lie before it
    (:func:`njforecast.engine.jumpoff.jump_off_from` on the planner's observations)."""
    planner, _ = planner_observations(cfg)
    region = region or load_region(cfg.region)
    codes = [*(a.code for a in region.counties), region.code]
    return jump_off_from(planner, codes, int(cfg.base_year), int(cfg.end_year),
                         cfg.jump_off, str(planner_observations_path(cfg) or "")).year


def plan_targets(cfg: RunConfig, region: Region, base_year: int
                 ) -> tuple[pd.DataFrame, Path | None, str]:
    """The targets the run compares with: ``[targets] file`` (validated by
    :func:`njforecast.io.targets.load_targets`) or the region file's default targets.

    Returns:
        (the targets frame, the planner's targets file or None, a one-line note).

    Raises:
        DataError: a region default in an unknown format, or a targets file that is missing or
            invalid (every problem with row, column and fix).
    """
    from ..io.targets import load_targets

    bundled, known = _region_targets(cfg, region)
    path = targets_path(cfg)
    if path is None:
        return bundled, None, ""
    frame = load_targets(path, known, base_year, cfg.region, **_year_limits(cfg))
    years = sorted(set(frame[S.TARGET_YEAR].astype(int)))
    note = (f"{len(frame)} targets, {frame[S.INDICATOR].nunique()} indicators, target years "
            f"{', '.join(map(str, years))}; replace the region's default targets")
    return frame, path, note


def planner_observations(cfg: RunConfig) -> tuple[pd.DataFrame | None, str]:
    """A planner's own series for the run (``[data] observations``), validated by
    :func:`njforecast.io.validation.read_user_observations`; ``preferred`` rows.

    Returns:
        (the observations or None when not configured; a one-line note for the assumptions
        table, naming the rows no stage reads: unknown indicators, areas outside the region).

    Raises:
        DataError: the file is missing or invalid (every problem with row, column and fix).
    """
    from ..io.validation import read_user_observations

    path = planner_observations_path(cfg)
    if path is None:
        return None, ""
    obs, warnings = read_user_observations(path, cfg.region)
    obs = store.preferred(obs)
    note = (f"{len(obs)} rows, areas {', '.join(sorted(obs[S.AREA].astype(str).unique()))}, "
            f"{int(obs[S.YEAR].min())}–{int(obs[S.YEAR].max())}; replace estimates where present")
    unused = [p for p in warnings if p.unused_rows]
    if unused:  # each finding counts its own rows (a row may have two)
        note += "; rows not used: " + "; ".join(p.message for p in unused)
    return obs, note


def planner_observation_warnings(cfg: RunConfig) -> list[str]:
    """The warnings of the planner's file (``[data] observations``) as printable lines
    (``file:row:column: warning: message — fix``); empty when none is configured.

    Raises:
        DataError: the file is missing or invalid (every problem with row, column and fix).
    """
    from ..io.validation import format_problems, read_user_observations

    path = planner_observations_path(cfg)
    if path is None:
        return []
    return format_problems(read_user_observations(path, cfg.region)[1])


@dataclass(frozen=True, eq=False)
class BaseState:
    """What every scenario of one config shares (read once, derived once).

    Attributes:
        config: the run config (no scenario applied).
        region: the region (areas, codes, allocation of units without population).
        areas: census area codes in array order (the demographic inputs' order).
        base_year: the census year, first year of every projection (school year starting that
            autumn); the jump-off year is ``jump_off.year`` (later with a planner's series).
        max_age: oldest single age kept from the projection (school bands and births need
            no more).
        pop0: census base at single ages, persons at 1 November (area, 2, 101).
        inputs: demographic inputs prepared to :data:`MAX_END_YEAR` with multipliers 1.
        dem_assumptions: the config's demographic assumptions (no scenario applied).
        observations: bundled observed series (processed; overlays in reports).
        series_obs: bundled observations as loaded for the stages (trend, province ratios),
            dated ≤ the jump-off year when the config sets one (:func:`_series_up_to`).
        plan_obs, targets, standards, seats: plan box 1, plan targets (``[targets] file`` or
            the region's default), staffing standards and planned new places (``data/raw``).
        targets_path, targets_note: a planner's targets file (or None) and a one-line note.
        planner, planner_note, planner_path: a planner's own series (or None).
        data_hash: sha256 of the bundled inputs (and the planner's file).
        sources: :func:`sources_table`.
        codes: the output units: the census areas, then their ancestors (the region last).
        aggregation: the summing matrix S from areas to ``codes`` (:func:`aggregate`).
        ger_path: the city GER paths of ``[enrolment] ger_path`` (rate path "external") or None.
        skipped: inputs the region file does not name (one line each; reported).
        jump_off: the jump-off year and the planner's series calibrated after the census
            year (:mod:`njforecast.engine.jumpoff`); None = the census year, no series.
        memo: pieces derived on first use and kept (calibration, trend set-up, model paths).
    """

    config: RunConfig
    region: Region
    areas: tuple[str, ...]
    base_year: int
    max_age: int
    pop0: np.ndarray
    inputs: dem.DemographicInputs
    dem_assumptions: dem.DemographicAssumptions
    observations: pd.DataFrame
    series_obs: pd.DataFrame
    plan_obs: pd.DataFrame
    targets: pd.DataFrame
    standards: pd.DataFrame
    seats: pd.DataFrame
    planner: pd.DataFrame | None
    planner_note: str
    planner_path: Path | None
    data_hash: str
    sources: pd.DataFrame
    codes: tuple[str, ...] = ()
    aggregation: np.ndarray | None = None
    ger_path: pd.DataFrame | None = None
    targets_path: Path | None = None
    targets_note: str = ""
    jump_off: JumpOff | None = None
    skipped: tuple[str, ...] = ()
    memo: dict = field(default_factory=dict, repr=False)

    def aggregate(self, x: np.ndarray) -> np.ndarray:
        """Areas → every output unit: S @ x over the first axis (city = Σ areas, draw by draw)."""
        return np.tensordot(self.aggregation, x, axes=(1, 0))

    def cached(self, key, build):
        """The memo entry ``key``, built by ``build()`` on first use."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]


def _series_up_to(obs: pd.DataFrame, jump_off: int | str) -> pd.DataFrame:
    """The observed series a run's paths may read: all of them, or with ``jump_off = YEAR``
    only those dated ≤ YEAR (later rows are what an ex-post check scores: trend parameters,
    ceilings and model or ratio paths must not see them)."""
    if isinstance(jump_off, int):
        return obs[obs[S.YEAR].astype(int) <= jump_off].reset_index(drop=True)
    return obs


def planner_up_to(state: BaseState) -> pd.DataFrame | None:
    """A planner's series as the paths and ratios may read them (:func:`_series_up_to`)."""
    if state.planner is None:
        return None
    return _series_up_to(state.planner, state.config.jump_off)


def preferred_observations(state: BaseState) -> pd.DataFrame:
    """Bundled observations (``preferred`` rows) with a planner's own series first: the series
    that model rate and ratio paths are fitted to (≤ the jump-off year when the config sets
    one, :func:`_series_up_to`)."""

    def build():
        obs = store.preferred(state.series_obs)
        if state.planner is not None and not state.planner.empty:
            obs = pd.concat([planner_up_to(state), obs], ignore_index=True)
        return obs

    return state.cached(("preferred_obs",), build)


def presets_for(source: BaseState | RunConfig) -> dict:
    """The preset scenarios with the plan and standards figures of a base state, or of the
    bundled tables of a config's region (without building a state); no plan-targets
    scenario when the targets hold no enrolment-rate target (:func:`_presets`)."""
    if isinstance(source, BaseState):
        return source.cached(("presets",), lambda: _presets(
            source.standards, source.targets, source.base_year, source.region.code))
    region = load_region(source.region)
    targets = plan_targets(source, region, int(source.base_year))[0]
    return _presets(store.load_standards(), targets, source.base_year, region.code)


def _presets(standards: pd.DataFrame, targets: pd.DataFrame, base_year: int,
             region_code: str) -> dict:
    """:func:`njforecast.planning.scenarios.presets`, without the plan-targets scenario when the
    targets hold no enrolment-rate target to reach (:func:`rate_target_ids`)."""
    from ..planning.scenarios import presets

    out = presets(standards, targets, base_year)
    if not rate_target_ids(targets, region_code):
        out = {k: v for k, v in out.items() if v.reach_targets_by is None}
    return out


def demography_section(cfg: RunConfig) -> dict:
    """``[demography]`` of ``cfg``; with ``jump_off = YEAR`` births are read up to YEAR only
    (``births_until``, unless the config sets it)."""
    sec = cfg.section("demography")
    if isinstance(cfg.jump_off, int):
        sec.setdefault("births_until", cfg.jump_off)
    return sec


def _demography_section(cfg: RunConfig) -> tuple[dict, int]:
    sec = demography_section(cfg)
    max_age = int(sec.pop("max_age", 24))
    return sec, max_age


def build_state(cfg: RunConfig) -> BaseState:
    """Read the data and derive the base for ``cfg`` (the slow part of a run, done once).

    Raises:
        ValueError: the base year has no census rows for the region.
        DataError: a planner's file is missing or invalid.
    """
    region = load_region(cfg.region)
    census = read_processed("census_population")
    codes = census_codes(region, cfg.base_year)
    base = census[(census[S.CENSUS_YEAR] == cfg.base_year) & census[S.AREA].isin(codes)]
    if base.empty:
        raise ValueError(f"no {cfg.base_year} census rows for region {cfg.region}; base_year "
                         "must be a census year in data/raw/census")
    single = dem.graduate_single_ages(base)
    sec, max_age = _demography_section(cfg)
    neutral = dem.DemographicAssumptions.from_config(
        {**sec, "fertility_multiplier": 1.0, "migration_multiplier": 1.0})
    inputs = dem.prepare_inputs(single, neutral, MAX_END_YEAR)
    areas, pop0 = dem.to_array(single)
    codes, agg = aggregation_matrix(region, areas)
    if codes[-1] != region.code or len(codes) != len(areas) + 1:
        raise ValueError(f"{region.path}: the census areas {list(areas)} must all lie directly in "
                         f"the region {region.code} (parent = {region.code})")
    planner, note = planner_observations(cfg)
    enr = cfg.section("enrolment")
    ger_path = None
    if enr.get("rate_path") == "external":
        from ..education.base import BAND_GER
        from ..io.ger_path import read_ger_path

        ger_path = read_ger_path(enr, BAND_GER.values())
    ppath = planner_observations_path(cfg) if planner is not None else None
    jump = jump_off_from(planner, codes, int(cfg.base_year), int(cfg.end_year), cfg.jump_off,
                         str(ppath or "observations"))
    targets, tpath, tnote = plan_targets(cfg, region, jump.year)
    extra = [p for p in (ppath, tpath) if p is not None]
    plan_obs, seats, skipped = plan_io.region_plan_tables(region)
    return BaseState(
        config=cfg, region=region, areas=tuple(areas), base_year=int(cfg.base_year),
        max_age=max_age, pop0=pop0, inputs=inputs,
        dem_assumptions=dem.DemographicAssumptions.from_config(sec),
        observations=read_processed("observations"),
        series_obs=_series_up_to(store.load_observations(), cfg.jump_off),
        plan_obs=plan_obs,
        targets=targets, standards=store.load_standards(),
        seats=seats, skipped=tuple(skipped), planner=planner, planner_note=note,
        planner_path=ppath,
        data_hash=data_hash(extra=extra),
        sources=sources_table(), codes=codes, aggregation=agg, ger_path=ger_path,
        targets_path=tpath, targets_note=tnote, jump_off=jump)


_STATES: OrderedDict = OrderedDict()
_MAX_STATES = 4


def _state_key(cfg: RunConfig) -> tuple:
    """What a base state depends on: the config without its scenario, horizon, draws and seed,
    the data directory and the planner's file (path and modification time)."""
    base = replace(cfg, sections={k: v for k, v in cfg.sections.items() if k != "scenario"},
                   end_year=0, draws=0, seed=0, name="", output_dir="", tracking_uri="")
    stamps = []
    for path in (planner_observations_path(cfg), targets_path(cfg)):
        stamps.append((str(path), path.stat().st_mtime_ns) if path is not None else None)
    return (repr(base), str(store.raw_dir()), *stamps)


def state_for(cfg: RunConfig) -> BaseState:
    """The cached BaseState of ``cfg`` (built on first use; a few are kept, least recent
    dropped)."""
    key = _state_key(cfg)
    if key in _STATES:
        _STATES.move_to_end(key)
        return _STATES[key]
    state = build_state(cfg)
    _STATES[key] = state
    while len(_STATES) > _MAX_STATES:
        _STATES.popitem(last=False)
    return state
