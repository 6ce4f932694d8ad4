"""The MLflow edge (DESIGN §6): runs and lineage (:mod:`.runs`), what jobs log (:mod:`.log`) and
the served scenario engine (:mod:`.serving`). The only package besides ``cli`` that imports
mlflow, and it does so lazily (inside functions), so the engine works with mlflow absent.

Public names (re-exported here):
    runs:     DEFAULT_TRACKING_URI, TRACKED_PACKAGES, ensure_experiment, run, Run, list_runs,
              flatten_params, frame_digest, package_versions
    log:      log_backtest, log_evaluation, log_pipeline, log_scenario
    deferred: Tracker, TrackingError (MLflow work in a tracking process)
    serving:  ScenarioEngine, scenario_signature, export_scenario_model, log_scenario_model,
              stage_scenario_model, publish_scenario_model, discard_staged_model,
              SERVE_DEFAULT_DRAWS, SERVE_MAX_DRAWS, SERVE_MAX_ROWS, SERVE_FIELDS, PLANNER_FILE,
              TARGETS_FILE, JUMP_OFF_FILE, staged_model_dir

``_load_pyfunc`` is re-exported too: exported models name ``loader_module="njforecast.tracking"``,
so MLflow calls ``njforecast.tracking._load_pyfunc(data_path)`` when it loads one.
"""

from .deferred import Tracker, TrackingError
from .log import log_backtest, log_evaluation, log_pipeline, log_scenario
from .runs import (
    DEFAULT_TRACKING_URI,
    TRACKED_PACKAGES,
    Run,
    ensure_experiment,
    flatten_params,
    frame_digest,
    list_runs,
    package_versions,
    run,
)
from .serving import (
    PLANNER_FILE,
    JUMP_OFF_FILE,
    TARGETS_FILE,
    SERVE_DEFAULT_DRAWS,
    SERVE_FIELDS,
    SERVE_MAX_DRAWS,
    SERVE_MAX_ROWS,
    ScenarioEngine,
    _load_pyfunc,
    discard_staged_model,
    export_scenario_model,
    log_scenario_model,
    publish_scenario_model,
    scenario_signature,
    stage_scenario_model,
    staged_model_dir,
)

__all__ = [
    "DEFAULT_TRACKING_URI", "TRACKED_PACKAGES", "Run", "ensure_experiment",
    "flatten_params", "frame_digest", "list_runs", "package_versions", "run",
    "log_backtest", "log_evaluation", "log_pipeline", "log_scenario", "Tracker", "TrackingError",
    "PLANNER_FILE", "TARGETS_FILE", "JUMP_OFF_FILE", "staged_model_dir", "SERVE_DEFAULT_DRAWS",
    "SERVE_FIELDS", "SERVE_MAX_DRAWS",
    "SERVE_MAX_ROWS",
    "ScenarioEngine", "_load_pyfunc", "discard_staged_model", "export_scenario_model",
    "log_scenario_model",
    "scenario_signature", "stage_scenario_model", "publish_scenario_model",
]
