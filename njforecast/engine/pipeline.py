"""Names kept for callers that import them from here; the orchestrator is :func:`njforecast.engine.run`."""

from .run import run
from .state import data_hash, planner_observations, planner_observations_path, sources_table

__all__ = ["data_hash", "planner_observations", "planner_observations_path", "run",
           "sources_table"]
