"""What a job logs to MLflow: back-tests, pipeline runs and their scenarios (DESIGN §6).

Public functions:
    log_backtest(result, ...)     one parent run per back-test experiment, a nested run per model
    log_pipeline(cfg, body)       one parent run around a pipeline job (MLflow in a tracking
                                  process while the job computes); params, input datasets,
                                  target metrics, every output file as an artifact
    log_scenario(parent, res)     a nested run per scenario (overrides, metrics, projection)
    log_evaluation(...)           one run per ``njforecast evaluate`` (the engine back-tested
                                  from a census jump-off)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..evaluation.metrics import METRIC_COLUMNS
from .runs import DEFAULT_TRACKING_URI, Run, run


def log_evaluation(experiment: str, tracking_uri: str = DEFAULT_TRACKING_URI,
                   params: Mapping[str, Any] | None = None,
                   body: Callable[[], Any] | None = None, run_name: str | None = None):
    """Log an evaluation like a back-test: params, the observations as a dataset, metrics
    ``engine.<indicator>.mape_h<h>`` and ``naive.<indicator>.mape_h<h>``, coverage
    ``<indicator>.inside_80_pct``, artifacts evaluation.csv, mape_by_lead.csv, coverage.csv,
    assumptions.csv. ``body()`` computes the result inside the run (FAILED if it raises).

    Returns:
        the result of ``body``.
    """
    with run(experiment, run_name or experiment, tracking_uri,
             tags={"njforecast.kind": "evaluation"}) as parent:
        result = body()
        parent.log_params({**dict(params or {}), "run": dict(result.params)})
        parent.log_environment()
        parent.log_dataset(result.table, name="evaluation",
                           source=str(result.params.get("observations", "")), context="testing")
        metrics = {}
        for r in result.mape.itertuples(index=False):
            metrics[f"engine.{r.indicator}.mape_h{r.h}"] = float(r.engine_mape)
            metrics[f"naive.{r.indicator}.mape_h{r.h}"] = float(r.naive_mape)
        for r in result.coverage.itertuples(index=False):
            metrics[f"{r.indicator}.inside_80_pct"] = float(r.inside_80_pct)
        parent.log_metrics(metrics)
        parent.log_frame(result.table, "evaluation.csv")
        parent.log_frame(result.mape, "mape_by_lead.csv")
        parent.log_frame(result.coverage, "coverage.csv")
        parent.log_frame(pd.DataFrame(result.assumptions, columns=["name", "value", "note"]),
                         "assumptions.csv")
    return result


def log_backtest(result, experiment: str, tracking_uri: str = DEFAULT_TRACKING_URI,
                 params: Mapping[str, Any] | None = None, run_name: str | None = None,
                 body: Callable[[], Any] | None = None) -> str:
    """Log a back-test: one parent run, a nested run per model.

    Args:
        result: a ``backtest.BacktestResult`` (cv, metrics, observations used, model params,
            source path, figures) — or ``None`` when ``body`` computes it inside the run.
        experiment: MLflow experiment name (created if missing).
        tracking_uri: any MLflow URI (default ``sqlite:///mlflow.db``).
        params: run parameters (e.g. the config's tables; nested dicts are flattened).
        run_name: parent run name (default: the experiment name).
        body: optional zero-argument callable run *inside* the parent run that returns the
            result; if it raises, the parent run is marked FAILED and the error propagates.

    Logged: params (config + ``env.*`` package versions), the observations as an
    ``mlflow.data`` dataset with its digest, parent metrics ``<model>.<indicator>.mape_h<h>``,
    artifacts cv.csv, metrics.csv, fits.csv (what each fit chose), mape_by_lead.csv and
    figures; per model a nested run with the model's params and metrics by indicator and lead.

    Returns:
        the parent run id.
    """
    with run(experiment, run_name or experiment, tracking_uri,
             tags={"njforecast.kind": "backtest"}) as parent:
        if body is not None:
            result = body()
        parent.log_params(dict(params or {}))
        parent.log_params({"run": {k: v for k, v in (result.params or {}).items()
                                   if k != "config"}})
        parent.log_environment()
        parent.log_dataset(result.observations, name="observations",
                           source=str(result.source), context="training")
        parent.log_frame(result.cv, "cv.csv")
        parent.log_frame(result.metrics, "metrics.csv")
        if result.fallbacks:
            parent.log_frame(pd.DataFrame(result.fallbacks), "fallbacks.csv")
        if result.fits is not None and len(result.fits):
            parent.log_frame(result.fits, "fits.csv")
        for fig_name, fig in (result.figures or {}).items():
            parent.log_figure(fig, fig_name)
        m = result.metrics
        parent.log_metrics({f"{r.model}.{r.indicator}.mape_h{r.h}": r.mape
                            for r in m[m["h"] != "all"].itertuples()})
        for model_name, model_params in result.model_params.items():
            with run(experiment, model_name, tracking_uri, parent=parent,
                     tags={"njforecast.kind": "backtest-model"}) as child:
                child.log_params({"model": model_name, **model_params})
                sub = m[m["model"] == model_name]
                metrics = {}
                for r in sub.itertuples():
                    for col in (c for c in METRIC_COLUMNS if c != "n"):  # n_missing too
                        metrics[f"{r.indicator}.{col}_h{r.h}"] = getattr(r, col)
                child.log_metrics(metrics)
        return parent.run_id


def log_pipeline(cfg, body: Callable[[Any], Any], tracking_uri: str | None = None,
                 run_name: str | None = None) -> tuple[str, Any]:
    """One parent run for a pipeline run; ``body(parent)`` computes and returns the outputs.

    ``body`` gets the parent run (to open nested scenario runs with :func:`log_scenario`) and
    returns a mapping with ``results`` (engine.Results), ``gaps`` (target gaps), ``paths``
    (name → file written) and optionally ``scenario_table``. If it raises, the run is marked
    FAILED and the error propagates.

    MLflow work runs in a tracking process (:class:`~njforecast.tracking.deferred.Tracker`):
    the store is set up while ``body`` computes, and ``parent`` records what to log.

    Logged: params (config, scenario, ``env.*``), the inputs as ``mlflow.data`` datasets with
    digests (census base, observations, plan targets, and a planner's own series when the
    config has ``[data] observations``), metrics (city projections of every
    target indicator for 2025/2030/2035, p_meet per target for 2025, status counts), artifacts
    (every output file), tag ``data_hash``.

    Returns:
        (parent run id, the value ``body`` returned).

    Raises:
        TrackingError: MLflow failed (after ``body`` finished and wrote its files).
    """
    from .deferred import Tracker

    uri = tracking_uri or cfg.tracking_uri or DEFAULT_TRACKING_URI
    tracker = Tracker(uri, cfg.name)
    try:
        with tracker.open(run_name or cfg.name, tags={"njforecast.kind": "pipeline"}) as parent:
            # what needs no result first: the tracking process logs it while body computes
            parent.log_params({"config": {k: getattr(cfg, k) for k in
                                          ("name", "region", "base_year", "end_year",
                                           "jump_off", "draws", "seed")},
                               **{f"section.{k}": v for k, v in cfg.sections.items()}})
            parent.log_environment()
            parent.apply(log_inputs, cfg)
            out = body(parent)
            res, gaps = out["results"], out["gaps"]
            parent.set_tags({"data_hash": res.data_hash, "scenario": res.scenario})
            parent.log_metrics(_gap_metrics(gaps) | res.key_metrics())
            for name, path in out["paths"].items():
                if Path(path).is_file():
                    parent.log_file(path, str(Path(name).parent) if "/" in name else None)
    except BaseException:
        with contextlib.suppress(Exception):
            tracker.close()  # the FAILED run is recorded; the job's own error is the one raised
        raise
    return tracker.close()[0], out


def log_inputs(parent: Run, cfg) -> None:
    """The pipeline's inputs as ``mlflow.data`` datasets: the processed census base,
    observations and plan targets, and the planner's own series when the config names one."""
    from ..engine.state import planner_observations, planner_observations_path
    from ..io.processed import read_processed

    for name in ("census_population", "observations", "plan_targets"):
        parent.log_dataset(read_processed(name), name=name, source=f"data/processed/{name}.csv",
                           context="input")
    own, _ = planner_observations(cfg)
    if own is not None:
        parent.log_dataset(own, name="planner_observations",
                           source=str(planner_observations_path(cfg)), context="input")


def _gap_metrics(gaps: pd.DataFrame) -> dict[str, float]:
    from .. import schema as S

    city = gaps[gaps[S.SCOPE] == "plan (city)"]
    m = {f"p_meet.{r.indicator}.{r.year}": r.p_meet for r in city.itertuples()
         if r.p_meet == r.p_meet}
    for status, n in city[city[S.YEAR] == city[S.TARGET_YEAR]][S.STATUS].value_counts().items():
        m[f"targets.{status}"] = float(n)
    return m


def log_scenario(parent: Run, res, gaps: pd.DataFrame | None = None) -> str | None:
    """A nested run for one scenario: its overrides as params, key metrics, its projection.

    Returns:
        the nested run's id (None under a recording parent: the tracking process knows it).
    """
    with run(res.config.name, f"scenario:{res.scenario}", parent.tracking_uri, parent=parent,
             tags={"njforecast.kind": "scenario", "scenario": res.scenario}) as child:
        child.log_params({"scenario": res.config.section("scenario") or {"name": res.scenario},
                          "draws": res.config.draws, "end_year": res.config.end_year})
        metrics = res.key_metrics()
        if gaps is not None:
            metrics |= _gap_metrics(gaps)
        child.log_metrics(metrics)
        child.log_frame(res.projection_summary(), f"projection_{res.scenario}.csv")
        return child.run_id
