"""The MLflow edge (DESIGN §6): experiments, parent and nested runs, params, metrics, artifacts,
dataset lineage and environment. The only package module besides ``cli.py`` that imports mlflow,
and it does so lazily (inside functions), so the engine works with mlflow absent.

Public names:
    DEFAULT_TRACKING_URI          ``sqlite:///mlflow.db`` in the working directory
    ensure_experiment(name, uri)  create (or find) an experiment before workers start; returns id
    run(experiment, ...)          context manager → :class:`Run`; nested when ``parent`` is given;
                                  status FINISHED on success, FAILED (and re-raised) on error
    Run                           handle with log_params / log_metrics / log_frame /
                                  log_figure / log_file / log_dataset / set_tags (batched)
    flatten_params(mapping)       nested dicts → {"a.b": value} with MLflow-safe strings
    frame_digest(df)              sha256 of a frame's CSV bytes (dataset lineage)
    package_versions()            versions of the packages that determine the numbers
    log_backtest(result, ...)     one parent run per back-test experiment, a nested run per model

Pipeline runs and the served scenario engine (planner section at the end of the module):
    log_pipeline(cfg, body)       one parent run around a pipeline job; params, input datasets,
                                  target metrics, every output file as an artifact
    log_scenario(parent, res)     a nested run per scenario (overrides, metrics, projection)
    ScenarioEngine, _load_pyfunc  the pyfunc model (``loader_module`` flavor): request rows →
                                  projections; bad requests → MlflowException → HTTP 400
    export_scenario_model(out, config), log_scenario_model(parent, dir), scenario_signature()

SQLite stores can raise "database is locked" when several processes write at once (a known
MLflow/SQLite limitation); every store call goes through :func:`_retry` (exponential back-off,
jittered), and experiments should be created with :func:`ensure_experiment` before parallel
workers start so that only one process runs the schema migration.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from ..evaluation.metrics import METRIC_COLUMNS

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

#: Packages whose versions are logged with every run (they determine the numbers).
TRACKED_PACKAGES = ("njforecast", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn",
                    "prophet", "cmdstanpy", "mlflow", "statsforecast")

#: MLflow limits (param values ≤ 6000 chars in MLflow ≥ 2.x; batch ≤ 100 params, 1000 metrics).
_MAX_PARAM_LEN = 6000
_PARAM_BATCH = 100
_METRIC_BATCH = 1000

_LOCK_WORDS = ("database is locked", "locked", "busy", "unique constraint", "integrityerror")


def _mlflow():
    import mlflow  # lazy: only this module and cli.py import mlflow

    return mlflow


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _retry(fn: Callable[[], Any], what: str, attempts: int = 8, base: float = 0.2) -> Any:
    """Call ``fn``; on an SQLite lock error wait (0.2 s × 2^k, jittered) and try again."""
    for k in range(attempts):
        try:
            return fn()
        except Exception as exc:  # MlflowException wraps sqlalchemy OperationalError
            text = str(exc).lower()
            if k == attempts - 1 or not any(w in text for w in _LOCK_WORDS):
                raise
            wait = base * 2 ** k * (0.5 + random.random())
            log.warning("MLflow store busy during %s (%s); retrying in %.1f s", what,
                        text.splitlines()[0][:120], wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def _artifact_root(uri: str, name: str) -> str | None:
    """Artifacts next to a SQLite store (``<db folder>/mlartifacts/<name>``), never the cwd."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        return (db.resolve().parent / "mlartifacts" / name).as_uri()
    return None


def ensure_experiment(name: str, tracking_uri: str = DEFAULT_TRACKING_URI) -> str:
    """Create the experiment ``name`` if missing and return its id (safe under races).

    Call this once in the parent process before starting parallel workers.
    """
    client = _client(tracking_uri)

    def get_or_create() -> str:
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            return exp.experiment_id
        try:
            return client.create_experiment(name, artifact_location=_artifact_root(tracking_uri,
                                                                                    name))
        except Exception:
            exp = client.get_experiment_by_name(name)  # another process created it first
            if exp is None:
                raise
            return exp.experiment_id

    return _retry(get_or_create, f"creating experiment {name!r}")


def flatten_params(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mapping → flat ``{"section.key": "value"}`` with values as MLflow-safe strings.

    Lists and tuples are joined with commas; values longer than MLflow's limit are truncated
    with a trailing "…".
    """
    out: dict[str, str] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_params(value, prefix=f"{name}."))
            continue
        if isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        elif value is None:
            text = "None"
        else:
            text = str(value)
        if len(text) > _MAX_PARAM_LEN:
            text = text[: _MAX_PARAM_LEN - 1] + "…"
        out[name] = text
    return out


def frame_digest(df: pd.DataFrame) -> str:
    """sha256 (hex, first 16 characters) of the frame written as CSV without the index."""
    data = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """sha256 (hex, first 16 characters) of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def package_versions(packages: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` ("absent" when not installed)."""
    out = {}
    for p in packages:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "absent"
    return out


@dataclass
class Run:
    """A live MLflow run; every method batches and retries its store calls."""

    run_id: str
    experiment_id: str
    tracking_uri: str

    @property
    def client(self):
        return _client(self.tracking_uri)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set run tags (values as strings)."""
        from mlflow.entities import RunTag

        items = [RunTag(k, str(v)) for k, v in tags.items()]
        for i in range(0, len(items), _PARAM_BATCH):
            chunk = items[i:i + _PARAM_BATCH]
            _retry(lambda c=chunk: self.client.log_batch(self.run_id, tags=c), "set_tags")

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log (nested) params, flattened with :func:`flatten_params`, in batches."""
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in flatten_params(params).items()]
        for i in range(0, len(items), _PARAM_BATCH):
            chunk = items[i:i + _PARAM_BATCH]
            _retry(lambda c=chunk: self.client.log_batch(self.run_id, params=c), "log_params")

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Log finite numeric metrics in batches (NaN/inf values are skipped with a note)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items, skipped = [], []
        for k, v in metrics.items():
            try:
                x = float(v)
            except (TypeError, ValueError):
                skipped.append(k)
                continue
            if x != x or x in (float("inf"), float("-inf")):
                skipped.append(k)
                continue
            items.append(Metric(k, x, now, step))
        if skipped:
            log.info("not logged (not finite): %s", ", ".join(skipped[:10]))
        for i in range(0, len(items), _METRIC_BATCH):
            chunk = items[i:i + _METRIC_BATCH]
            _retry(lambda c=chunk: self.client.log_batch(self.run_id, metrics=c), "log_metrics")

    def log_file(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Copy a file into the run's artifacts."""
        _retry(lambda: self.client.log_artifact(self.run_id, str(path), artifact_path),
               f"log_artifact {path}")

    def log_frame(self, df: pd.DataFrame, name: str, artifact_path: str | None = None) -> None:
        """Write ``df`` as ``name`` (.csv or .parquet) and log it as an artifact."""
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / name
            if p.suffix == ".parquet":
                df.to_parquet(p, index=False)
            else:
                df.to_csv(p, index=False, lineterminator="\n")
            self.log_file(p, artifact_path)

    def log_figure(self, fig, name: str, artifact_path: str | None = "figures") -> None:
        """Save a matplotlib figure (png) and log it as an artifact."""
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / name
            fig.savefig(p, dpi=120, bbox_inches="tight")
            self.log_file(p, artifact_path)

    def log_dataset(self, df: pd.DataFrame, name: str, source: str, context: str = "training",
                    digest: str | None = None) -> str:
        """Record dataset lineage with ``mlflow.data`` (name, source, digest, schema, profile).

        Returns:
            the digest used (:func:`frame_digest` of ``df`` unless given).
        """
        mlflow = _mlflow()
        from mlflow.entities import DatasetInput, InputTag

        digest = digest or frame_digest(df)
        with warnings.catch_warnings():  # source-kind and integer-schema hints are not actionable
            warnings.simplefilter("ignore", UserWarning)
            ds = mlflow.data.from_pandas(df, source=str(source), name=name, digest=digest)
            entity = DatasetInput(ds._to_mlflow_entity(),
                                  tags=[InputTag("mlflow.data.context", context)])
        _retry(lambda: self.client.log_inputs(self.run_id, datasets=[entity]), "log_inputs")
        self.set_tags({f"dataset.{name}.digest": digest})
        return digest

    def log_environment(self) -> None:
        """Log package versions as params (``env.<package>``)."""
        self.log_params({"env": package_versions()})


@contextlib.contextmanager
def run(experiment: str, run_name: str, tracking_uri: str = DEFAULT_TRACKING_URI,
        parent: Run | None = None, tags: Mapping[str, Any] | None = None) -> Iterator[Run]:
    """Start a run (nested under ``parent`` when given) and end it.

    The run ends FINISHED when the block completes and FAILED when it raises (the exception
    propagates, with the error text in tag ``error``).
    """
    exp_id = ensure_experiment(experiment, tracking_uri)
    client = _client(tracking_uri)
    all_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    if parent is not None:
        all_tags["mlflow.parentRunId"] = parent.run_id
    created = _retry(lambda: client.create_run(exp_id, run_name=run_name, tags=all_tags),
                     f"create_run {run_name}")
    handle = Run(created.info.run_id, exp_id, tracking_uri)
    restore = _exit_on_sigterm()
    try:
        yield handle
    except BaseException as exc:
        with contextlib.suppress(Exception):
            handle.set_tags({"error": f"{type(exc).__name__}: {exc}"[:5000]})
        _retry(lambda: client.set_terminated(handle.run_id, status="FAILED"), "set FAILED")
        raise
    finally:
        restore()
    _retry(lambda: client.set_terminated(handle.run_id, status="FINISHED"), "set FINISHED")


def _exit_on_sigterm() -> Callable[[], None]:
    """While a run is open, turn SIGTERM into SystemExit so the run is marked FAILED (main
    thread only; returns a function restoring the previous handler)."""
    import signal
    import sys
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return lambda: None  # someone else handles it (e.g. a nested run); leave it
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    return lambda: signal.signal(signal.SIGTERM, previous)


def list_runs(experiment: str, tracking_uri: str = DEFAULT_TRACKING_URI) -> pd.DataFrame:
    """All runs of an experiment: run_id, run_name, status, parent_run_id (for checks/tests)."""
    client = _client(tracking_uri)
    exp = _retry(lambda: client.get_experiment_by_name(experiment), "get_experiment")
    if exp is None:
        return pd.DataFrame(columns=["run_id", "run_name", "status", "parent_run_id"])
    runs = _retry(lambda: client.search_runs([exp.experiment_id], max_results=50000),
                  "search_runs")
    return pd.DataFrame([{"run_id": r.info.run_id, "run_name": r.info.run_name,
                          "status": r.info.status,
                          "parent_run_id": r.data.tags.get("mlflow.parentRunId")}
                         for r in runs],
                        columns=["run_id", "run_name", "status", "parent_run_id"])


# ------------------------------------------------------------------------------------------
# back-tests


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


# ==========================================================================================
# Pipeline runs and the served scenario engine (planner, issue 6). Uses only run() / Run
# from above; everything planner-specific lives below this line.
# ==========================================================================================

#: Draws a served request uses when it does not say (fewer than a full run: latency).
SERVE_DEFAULT_DRAWS = 100
#: Largest ``draws`` a served request may ask for (HTTP latency and memory cap; the scenario
#: files' own cap is ``scenarios.MAX_DRAWS``).
SERVE_MAX_DRAWS = 500
#: Largest number of scenario rows in one request.
SERVE_MAX_ROWS = 8
#: Request fields: ``scenario`` (a preset name, required) and the overridable Scenario fields.
SERVE_FIELDS = ("scenario", "fertility_multiplier", "migration_multiplier", "reach_targets_by",
                "staffing_standard", "class_size_cap_primary", "class_size_cap_junior",
                "attrition", "hires_per_year", "end_year", "draws", "seed")


def log_pipeline(cfg, body: Callable[[Any], Any], tracking_uri: str | None = None,
                 run_name: str | None = None) -> tuple[str, Any]:
    """One parent run for a pipeline run; ``body(parent)`` computes and returns the outputs.

    ``body`` gets the parent :class:`Run` (to open nested scenario runs with
    :func:`log_scenario`) and returns a mapping with ``results`` (pipeline.Results), ``gaps``
    (target gaps), ``paths`` (name → file written) and optionally ``scenario_table``. If it
    raises, the run is marked FAILED and the error propagates.

    Logged: params (config, scenario, ``env.*``), the inputs as ``mlflow.data`` datasets with
    digests (census base, observations, plan targets, and a planner's own series when the
    config has ``[data] observations``), metrics (city projections of every
    target indicator for 2025/2030/2035, p_meet per target for 2025, status counts), artifacts
    (every output file), tag ``data_hash``.

    Returns:
        (parent run id, the value ``body`` returned).
    """
    uri = tracking_uri or cfg.tracking_uri or DEFAULT_TRACKING_URI
    with run(cfg.name, run_name or cfg.name, uri, tags={"njforecast.kind": "pipeline"}) as parent:
        out = body(parent)
        res, gaps = out["results"], out["gaps"]
        parent.set_tags({"data_hash": res.data_hash, "scenario": res.scenario})
        parent.log_params({"config": {k: getattr(cfg, k) for k in
                                      ("name", "region", "base_year", "end_year", "draws",
                                       "seed")},
                           **{f"section.{k}": v for k, v in cfg.sections.items()}})
        parent.log_environment()
        from ..io.store import read_processed

        for name in ("census_population", "observations", "plan_targets"):
            with warnings.catch_warnings():  # MLflow's integer-schema hint is not actionable
                warnings.simplefilter("ignore", UserWarning)
                parent.log_dataset(read_processed(name), name=name,
                                   source=f"data/processed/{name}.csv", context="input")
        from ..engine.pipeline import planner_observations, planner_observations_path

        own, _ = planner_observations(cfg)
        if own is not None:
            parent.log_dataset(own, name="planner_observations",
                               source=str(planner_observations_path(cfg)), context="input")
        parent.log_metrics(_gap_metrics(gaps) | res.key_metrics())
        for name, path in out["paths"].items():
            if Path(path).is_file():
                art = str(Path(name).parent) if "/" in name else None
                parent.log_file(path, art)
        return parent.run_id, out


def _gap_metrics(gaps: pd.DataFrame) -> dict[str, float]:
    from .. import schema as S

    city = gaps[gaps[S.SCOPE] == "plan (city)"]
    m = {f"p_meet.{r.indicator}.{r.year}": r.p_meet for r in city.itertuples()
         if r.p_meet == r.p_meet}
    for status, n in city[city[S.YEAR] == city[S.TARGET_YEAR]][S.STATUS].value_counts().items():
        m[f"targets.{status}"] = float(n)
    return m


def log_scenario(parent: Run, res, gaps: pd.DataFrame | None = None) -> str:
    """A nested run for one scenario: its overrides as params, key metrics, its projection."""
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


# --- the pyfunc scenario model -----------------------------------------------------------


def _bad_request(message: str):
    """An MlflowException that MLflow's scoring server answers with HTTP 400."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


class ScenarioEngine:
    """The scenario engine behind the served model: request rows → projection summaries.

    Each request row names a preset ``scenario`` and may override fields (``SERVE_FIELDS``);
    the answer has, per row, columns scenario, area, year, indicator, unit, mean, lo80, hi80,
    lo95, hi95 (see ``pipeline.Results.projection_summary``).

    Bad requests raise ``MlflowException(INVALID_PARAMETER_VALUE)`` (HTTP 400) with a message
    naming the row and field: unknown scenario, unknown field, wrong type, out-of-range value,
    ``end_year`` past ``scenarios.MAX_END_YEAR``, ``draws`` above ``SERVE_MAX_DRAWS``, more
    than ``SERVE_MAX_ROWS`` rows.
    """

    def __init__(self, config_path: str | Path, data_dir: str | Path | None = None):
        import os

        if data_dir is not None:
            os.environ["NJFORECAST_DATA"] = str(data_dir)
        from dataclasses import replace

        from ..config import load_config

        self.cfg = load_config(config_path)
        own = sorted(Path(config_path).parent.glob(f"{PLANNER_FILE}.*"))
        if own:  # the planner's series exported with the model (export_scenario_model)
            sections = dict(self.cfg.sections)
            sections["data"] = {**self.cfg.section("data"), "observations": str(own[0])}
            self.cfg = replace(self.cfg, sections=sections)

    def scenarios_for(self, df: pd.DataFrame) -> list:
        """Validate request rows and build their Scenarios (raises the 400 exception)."""
        import dataclasses

        from ..planning.scenarios import ScenarioError, presets

        if not isinstance(df, pd.DataFrame):
            try:
                df = pd.DataFrame(df)
            except (TypeError, ValueError) as exc:
                raise _bad_request(f"request is not a table of records: {exc}") from None
        if len(df) == 0:
            raise _bad_request("request has no rows; send {\"dataframe_records\": "
                               "[{\"scenario\": \"baseline\"}]}")
        if len(df) > SERVE_MAX_ROWS:
            raise _bad_request(f"request has {len(df)} rows; at most {SERVE_MAX_ROWS} scenarios "
                               "per request")
        unknown = [c for c in df.columns if c not in SERVE_FIELDS]
        if unknown:
            raise _bad_request(f"unknown field(s) {unknown}; allowed: {', '.join(SERVE_FIELDS)}")
        if "scenario" not in df.columns:
            raise _bad_request("field 'scenario' is required (a preset name)")
        known = presets()
        out = []
        for i, row in enumerate(df.to_dict("records")):
            name = row.get("scenario")
            if not isinstance(name, str) or name not in known:
                raise _bad_request(f"row {i}: unknown scenario {name!r}; presets: "
                                   f"{', '.join(known)}")
            over = {}
            for k, v in row.items():
                if k == "scenario" or v is None or (isinstance(v, float) and v != v):
                    continue
                if isinstance(v, float) and v.is_integer() and k in ("reach_targets_by",
                                                                     "end_year", "draws", "seed"):
                    v = int(v)
                if hasattr(v, "item"):
                    v = v.item()  # numpy scalar → Python
                over[k] = v
            over.setdefault("draws", min(SERVE_DEFAULT_DRAWS, self.cfg.draws or
                                         SERVE_DEFAULT_DRAWS))
            if isinstance(over["draws"], int) and over["draws"] > SERVE_MAX_DRAWS:
                raise _bad_request(f"row {i}: draws = {over['draws']} is above the cap of "
                                   f"{SERVE_MAX_DRAWS} for served requests")
            try:
                out.append(dataclasses.replace(known[name], **over))
            except ScenarioError as exc:
                raise _bad_request(f"row {i}: {exc}") from None
            except TypeError as exc:
                raise _bad_request(f"row {i}: {exc}") from None
        return out

    def predict(self, model_input, params=None) -> pd.DataFrame:
        """Projection summaries for every request row (see the class docstring)."""
        from ..engine import pipeline

        frames = []
        for sc in self.scenarios_for(model_input):
            try:
                res = pipeline.run(self.cfg, sc)
            except ValueError as exc:
                raise _bad_request(f"scenario {sc.name!r}: {exc}") from None
            frames.append(res.projection_summary().assign(scenario=sc.name))
        out = pd.concat(frames, ignore_index=True)
        return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def _load_pyfunc(data_path: str) -> ScenarioEngine:
    """MLflow loader (``loader_module`` flavor): the engine over the model's bundled data."""
    p = Path(data_path)
    return ScenarioEngine(p / "config.toml", p / "data")


def scenario_signature():
    """Signature of the served model: output columns (input fields: ``SERVE_FIELDS``, README).

    The input schema is deliberately left out of the signature: with one, MLflow drops
    unknown request columns with only a log warning (``mlflow.models.utils._enforce_schema``),
    whereas the engine must answer them with HTTP 400. The input fields and their ranges are
    in the model's metadata (``serve_fields``) and ``models/README.md``.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(outputs=Schema([
        ColSpec("string", "scenario"), ColSpec("string", "area"), ColSpec("long", "year"),
        ColSpec("string", "indicator"), ColSpec("string", "unit"), ColSpec("double", "mean"),
        ColSpec("double", "lo80"), ColSpec("double", "hi80"), ColSpec("double", "lo95"),
        ColSpec("double", "hi95"), ColSpec("string", "quality")]))


def _field_metadata() -> dict[str, Any]:
    from ..planning.scenarios import FIELDS

    meta = {"scenario": {"type": "string", "required": True, "meaning": "preset name"}}
    for k in SERVE_FIELDS[1:]:
        typ, lo, hi, unit, meaning = FIELDS[k]
        hi = SERVE_MAX_DRAWS if k == "draws" else hi
        meta[k] = {"type": typ.__name__, "min": lo, "max": hi, "unit": unit, "meaning": meaning}
    return meta


#: Name (without suffix) of a planner's observations file inside an exported model folder.
PLANNER_FILE = "planner_observations"


def export_scenario_model(out_dir: str | Path, config_path: str | Path,
                          observations: str | Path | None = None) -> Path:
    """Save the scenario engine as an MLflow pyfunc model folder (atomic: temp + rename).

    The folder holds the package code (``code_paths``), the bundled data (raw, external and
    processed), the config and — when the run used one (``observations``) — the planner's own
    series (as ``planner_observations.<ext>``, which the served engine uses instead of the
    config's ``[data] observations``), so ``mlflow models serve -m <folder> --env-manager
    local`` needs nothing else from the repository.
    """
    import shutil

    mlflow = _mlflow()
    from ..config import data_dir
    from ..io.store import read_processed, replace_dir_atomic

    out_dir = Path(out_dir)
    if observations is None:  # the config's own [data] observations, if any
        from ..config import load_config
        from ..engine.pipeline import planner_observations_path

        observations = planner_observations_path(load_config(config_path))
    for name in ("census_population", "census_areas", "observations", "plan_targets", "seats",
                 "standards"):
        read_processed(name)  # builds data/processed when missing
    pkg = Path(__file__).resolve().parent.parent  # the njforecast package
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "engine"
        (stage / "data").mkdir(parents=True)
        for sub in ("raw", "external", "processed"):
            shutil.copytree(data_dir() / sub, stage / "data" / sub,
                            ignore=shutil.ignore_patterns(".*", "*.tmp"))
        shutil.copy(config_path, stage / "config.toml")
        if observations is not None:
            shutil.copy(observations, stage / f"{PLANNER_FILE}{Path(observations).suffix}")
        target = out_dir.parent / f".{out_dir.name}.tmp"
        shutil.rmtree(target, ignore_errors=True)
        example = pd.DataFrame([{"scenario": "baseline", "draws": 20, "end_year": 2030}])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow.pyfunc.save_model(
                str(target), loader_module="njforecast.tracking", data_path=str(stage),
                code_paths=[str(pkg)], signature=scenario_signature(), input_example=example,
                metadata={"serve_fields": _field_metadata(), "max_draws": SERVE_MAX_DRAWS,
                          "max_rows": SERVE_MAX_ROWS},
                pip_requirements=[f"{p}=={v}" for p, v in package_versions().items()
                                  if v != "absent" and p != "njforecast"])
    return replace_dir_atomic(target, out_dir)


def log_scenario_model(parent: Run, model_dir: str | Path) -> None:
    """Attach an exported scenario model folder to a run (artifact path ``scenario_engine``)."""
    _retry(lambda: parent.client.log_artifacts(parent.run_id, str(model_dir), "scenario_engine"),
           "log scenario model")
