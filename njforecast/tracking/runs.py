"""MLflow runs (DESIGN §6): experiments, parent and nested runs, params, metrics, artifacts,
dataset lineage and environment. mlflow is imported lazily (inside functions), so the engine works
with mlflow absent.

Public names:
    DEFAULT_TRACKING_URI          ``sqlite:///mlflow.db`` in the working directory
    TRACKED_PACKAGES              packages whose versions are logged with every run
    ensure_experiment(name, uri)  create (or find) an experiment before workers start; returns id
    run(experiment, ...)          context manager → :class:`Run`; nested when ``parent`` is given;
                                  status FINISHED on success, FAILED (and re-raised) on error
    Run                           handle with log_params / log_metrics / log_frame /
                                  log_figure / log_file / log_dataset / set_tags (batched)
    list_runs(experiment, uri)    the runs of an experiment (run_id, run_name, status, parent)
    flatten_params(mapping)       nested dicts → {"a.b": value} with MLflow-safe strings
    frame_digest(df)              sha256 of a frame's CSV bytes (dataset lineage)
    frame_schema(df)              mlflow Schema from a frame's dtypes (dataset lineage)
    package_versions()            versions of the packages that determine the numbers

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
    import mlflow  # lazy: only tracking/ and cli/ import mlflow

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


def frame_schema(df: pd.DataFrame):
    """An ``mlflow.types.Schema`` read from a frame's dtypes: integer → long, float → double,
    bool → boolean, datetime → datetime, anything else → string; ``required`` when the column
    has no missing value."""
    from mlflow.types import ColSpec, DataType, Schema

    def kind(s: pd.Series) -> DataType:
        t = s.dtype
        if pd.api.types.is_bool_dtype(t):
            return DataType.boolean
        if pd.api.types.is_integer_dtype(t):
            return DataType.long
        if pd.api.types.is_float_dtype(t):
            return DataType.double
        if pd.api.types.is_datetime64_any_dtype(t):
            return DataType.datetime
        return DataType.string

    return Schema([ColSpec(kind(df[c]), str(c), required=bool(df[c].notna().all()))
                   for c in df.columns])


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
        with warnings.catch_warnings():  # the source-kind hint is not actionable
            warnings.simplefilter("ignore", UserWarning)
            ds = mlflow.data.from_pandas(df, source=str(source), name=name, digest=digest)
            # the schema from the dtypes: MLflow's own inference visits every cell (1.2 s for
            # the 131,480-row census table), and a store's columns are typed already
            ds.__dict__["schema"] = frame_schema(df)
            entity = DatasetInput(ds._to_mlflow_entity(),
                                  tags=[InputTag("mlflow.data.context", context)])
        _retry(lambda: self.client.log_inputs(self.run_id, datasets=[entity]), "log_inputs")
        self.set_tags({f"dataset.{name}.digest": digest})
        return digest

    def apply(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(self, *args)``: the same call a recording run replays in its tracking process."""
        return fn(self, *args)

    def log_environment(self) -> None:
        """Log package versions as params (``env.<package>``)."""
        self.log_params({"env": package_versions()})


@contextlib.contextmanager
def run(experiment: str, run_name: str, tracking_uri: str = DEFAULT_TRACKING_URI,
        parent: Run | None = None, tags: Mapping[str, Any] | None = None) -> Iterator[Run]:
    """Start a run (nested under ``parent`` when given) and end it.

    The run ends FINISHED when the block completes and FAILED when it raises (the exception
    propagates, with the error text in tag ``error``). Under a parent that records for a
    tracking process (:class:`~njforecast.tracking.deferred.RecordingRun`) the child run is
    recorded the same way.
    """
    if parent is not None and hasattr(parent, "nested"):
        with parent.nested(run_name, tags) as recording:
            yield recording
        return
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
            # a failure replayed from another process carries the original text
            text = getattr(exc, "error_text", None) or f"{type(exc).__name__}: {exc}"
            handle.set_tags({"error": text[:5000]})
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
