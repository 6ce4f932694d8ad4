"""The engine: base state built once, projection on arrays, summaries over draws, one orchestrator.

Public names:
    BaseState, build_state(cfg), state_for(cfg), presets_for(state or cfg)   (engine.state)
    Projection, project(state, scenario)          (engine.project)
    JumpOff, jump_off_from(...)                   (engine.jumpoff: a planner's later series)
    Results, make_results(state, projection, cfg) (engine.results)
    summarise(x), p_meet(x, target, comparison)   (engine.summaries)
    run(cfg, scenario=None)                       (engine.run)
"""

from .project import Projection, project
from .results import Results, make_results
from .run import run
from .state import BaseState, build_state, presets_for, state_for
from .summaries import p_meet, summarise

__all__ = ["BaseState", "Projection", "Results", "build_state", "make_results", "p_meet",
           "presets_for", "project", "run", "state_for", "summarise"]
