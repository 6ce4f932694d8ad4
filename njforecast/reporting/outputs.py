"""One run's outputs, end to end (called by the CLI inside its MLflow run): project each
scenario, compare with the plan targets and write every file.

Public functions:
    build_outputs(cfg, lang, scenario, compare, ...)  → results, gaps, tables, paths, out_dir
    comparison_years(cfg, targets), summary_years(cfg, targets)
                                                      years the tables compare
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .. import schema as S
from ..io.store import replace_dir_atomic
from .labels import resolve_lang


def comparison_years(cfg, targets: pd.DataFrame) -> list[int]:
    """Years the target table compares: each target year and the horizon's end."""
    want = {int(y) for y in targets[S.TARGET_YEAR].dropna()} | {cfg.end_year}
    return sorted(want & set(range(cfg.base_year, cfg.end_year + 1)))


def summary_years(cfg, targets: pd.DataFrame) -> list[int]:
    """Years the scenario comparison shows: the target years and every fifth year after the
    jump-off, to the horizon."""
    want = {int(y) for y in targets[S.TARGET_YEAR].dropna()} | set(
        range(cfg.base_year + 5, cfg.end_year + 1, 5))
    return sorted(want & set(range(cfg.base_year + 1, cfg.end_year + 1)))


def build_outputs(cfg, lang: str = "en", scenario=None, compare: Iterable | None = None,
                  progress=None, on_scenario=None) -> dict:
    """Project, compare with targets, run the comparison scenarios and write every output.

    Args:
        cfg: the run config (``output_dir`` is where files go; ``[report] fan_indicators``
            limits the fan charts to those target ids).
        lang: report language ('en' or 'zh').
        scenario: the main ``scenarios.Scenario`` (default the ``baseline`` preset).
        compare: other Scenarios to run and put side by side (e.g. the presets).
        progress: callable(str) told each step as it starts.
        on_scenario: callable(Results, gaps) called after each scenario (main one first),
            e.g. to log it as a nested MLflow run.

    Outputs are written to a temporary folder next to ``output_dir`` and moved into place at
    the end, so a failed run leaves the previous outputs untouched and no half-written files.

    Returns:
        dict: results, gaps, scenario_table, scenario_targets, paths (name → final path),
        out_dir, lang_message.
    """
    from ..engine import presets_for, state_for
    from ..engine import run as run_pipeline
    from ..planning.scenarios import comparison_table
    from ..planning.targets import compare_to_targets, target_actuals
    # looked up on the package at call time, so a writer replaced there (as tests do) is used
    from . import write_report

    say = progress or (lambda _m: None)
    _, lang_msg = resolve_lang(lang)
    state = state_for(cfg)
    targets = state.targets
    scenario = scenario or presets_for(state)["baseline"]
    years = comparison_years(cfg, targets)
    actuals = target_actuals(state.planner, state.observations)  # ex-post: what was observed

    def one(sc, label_: str):
        say(f"{label_}: projecting")
        res = run_pipeline(cfg, sc, progress=lambda m: say(f"{label_}: {m}"), state=state)
        order = [res.region.code, *[a.code for a in res.region.counties]]
        gaps = compare_to_targets(res.target_series, targets,
                                  years=[y for y in years if y <= res.config.end_year],
                                  area_order=order, actuals=actuals)
        if on_scenario is not None:
            on_scenario(res, gaps)
        return res, gaps

    res, gaps = one(scenario, f"scenario {scenario.name}")
    summaries = {scenario.name: res.projection_summary()}
    scen_gaps = [gaps.assign(scenario=scenario.name)]
    others = [s for s in (compare or []) if s.name != scenario.name]
    for i, sc in enumerate(others, 1):
        r, g = one(sc, f"scenario {sc.name} ({i}/{len(others)})")
        summaries[sc.name] = r.projection_summary()
        scen_gaps.append(g.assign(scenario=sc.name))
    table = (comparison_table(summaries, years=summary_years(cfg, targets))
             if len(summaries) > 1 else None)
    sg = pd.concat(scen_gaps, ignore_index=True)
    sg = sg[(sg[S.SCOPE] == "plan (city)") & (sg[S.N_DRAWS] > 0)]
    scen_targets = sg[["scenario", S.INDICATOR, S.YEAR, S.TARGET, S.PROJECTED_MEAN,
                       S.PROJECTED_LO80, S.PROJECTED_HI80, S.P_MEET, S.STATUS, S.QUALITY]]

    final = Path(cfg.output_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.tmp-"))
    try:
        say("writing report, figures, Excel")
        paths = write_report(res, gaps, tmp, lang=lang, scenario_table=table,
                             fan_indicators=cfg.section("report").get("fan_indicators"),
                             scenario_targets=scen_targets if len(summaries) > 1 else None)
        replace_dir_atomic(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    paths = {k: final / Path(v).relative_to(tmp) for k, v in paths.items()}
    return {"results": res, "gaps": gaps, "scenario_table": table,
            "scenario_targets": scen_targets, "paths": paths, "out_dir": final,
            "lang_message": lang_msg}
