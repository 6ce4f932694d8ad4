"""The one orchestrator: a config (and scenario) in, a :class:`Results` out.

Public names:
    run(cfg, scenario=None, progress=None, state=None) → Results.

The CLI, the report, the served model and batch runs call :func:`run` (or, holding a
:class:`~njforecast.engine.state.BaseState` across requests, :func:`project` directly). No
stage calls another stage; only :func:`njforecast.engine.state.build_state` reads files.
"""

from __future__ import annotations

from ..config import RunConfig
from .project import project
from .results import Results, make_results
from .state import BaseState, state_for


def run(cfg: RunConfig, scenario=None, progress=None, state: BaseState | None = None) -> Results:
    """Run the engine for one config and optional scenario.

    Args:
        cfg: the run config.
        scenario: a :class:`njforecast.planning.scenarios.Scenario` (None = the config as is);
            its overrides are applied to the stage assumptions, its horizon, draws and seed to
            the run.
        progress: optional callable(str) told each step as it starts.
        state: a base state to reuse (default: the cached state of ``cfg``).

    Returns:
        Results. Same config + data + seed → identical numbers.
    """
    say = progress or (lambda _msg: None)
    run_cfg = cfg
    if scenario is not None:
        from ..planning.scenarios import apply_to_config

        run_cfg = apply_to_config(cfg, scenario)
    say("data")
    state = state if state is not None else state_for(cfg)
    say("projection")
    proj = project(state, scenario)
    return make_results(state, proj, run_cfg)
