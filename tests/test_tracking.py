"""Tests for njforecast.tracking: runs, nesting, FAILED status, params, datasets (MLflow in tmp)."""

import pandas as pd
import pytest

from njforecast import tracking
from njforecast.tracking import runs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for this module (schema creation costs seconds; experiments differ)."""
    d = tmp_path_factory.mktemp("mlflow")
    return d, f"sqlite:///{d / 'mlflow.db'}"


def _client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_flatten_params_joins_nested_keys_and_lists():
    """Nested tables become dotted keys; lists are comma-joined; long values are truncated."""
    flat = tracking.flatten_params({"backtest": {"horizon": 5, "models": ["naive", "drift"]},
                                    "seed": 1, "long": "x" * 7000})
    assert flat["backtest.horizon"] == "5"
    assert flat["backtest.models"] == "naive,drift"
    assert flat["seed"] == "1"
    assert len(flat["long"]) == 6000 and flat["long"].endswith("…")


def test_frame_digest_changes_with_one_value():
    """The dataset digest is stable for equal frames and changes when one value changes."""
    a = pd.DataFrame({"year": [2000, 2001], "value": [1.0, 2.0]})
    b = a.copy()
    assert tracking.frame_digest(a) == tracking.frame_digest(b)
    b.loc[1, "value"] = 2.5
    assert tracking.frame_digest(a) != tracking.frame_digest(b)


def test_frame_schema_matches_mlflows_own_inference():
    """The dtype-read schema equals MLflow's cell-by-cell inference on a frame with every kind
    of column, and a column with a missing value is not required."""
    import warnings

    import mlflow

    df = pd.DataFrame({"year": [2000, 2001], "value": [1.0, 2.0], "area": ["a", "b"],
                       "ok": [True, False], "note": ["x", None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = mlflow.data.from_pandas(df, source="f.csv", digest="d").schema
    ours = runs.frame_schema(df)
    assert ours.to_dict() == theirs.to_dict()
    assert [c.required for c in ours.inputs] == [True, True, True, True, False]


def test_nested_run_params_metrics_dataset_and_finished(store):
    """A parent and a nested run are recorded with params, metrics, dataset digest, artifact."""
    folder, tracking_uri = store
    df = pd.DataFrame({"year": [2000, 2001], "value": [1.0, 2.0]})
    with tracking.run("exp", "parent", tracking_uri) as parent:
        parent.log_params({"a": {"b": 3}})
        digest = parent.log_dataset(df, "obs", source="file.csv")
        parent.log_frame(df, "obs.csv")
        with tracking.run("exp", "child", tracking_uri, parent=parent) as child:
            child.log_metrics({"mape_h1": 1.5, "bad": float("nan")})
    c = _client(tracking_uri)
    p = c.get_run(parent.run_id)
    ch = c.get_run(child.run_id)
    assert p.info.status == "FINISHED" and ch.info.status == "FINISHED"
    assert p.data.params["a.b"] == "3"
    assert ch.data.tags["mlflow.parentRunId"] == parent.run_id
    assert ch.data.metrics == {"mape_h1": 1.5}
    assert p.inputs.dataset_inputs[0].dataset.digest == digest == tracking.frame_digest(df)
    assert '"name": "value"' in p.inputs.dataset_inputs[0].dataset.schema
    assert '"num_rows": 2' in p.inputs.dataset_inputs[0].dataset.profile
    assert [a.path for a in c.list_artifacts(parent.run_id)] == ["obs.csv"]
    # artifacts live next to the SQLite file, not in the working directory
    assert (folder / "mlartifacts").is_dir()


def test_failed_block_marks_run_failed_and_reraises(store):
    """An exception inside the run block marks the run FAILED and propagates."""
    tracking_uri = store[1]
    with pytest.raises(RuntimeError, match="boom"):
        with tracking.run("exp-fail", "bad", tracking_uri) as r:
            raise RuntimeError("boom")
    run = _client(tracking_uri).get_run(r.run_id)
    assert run.info.status == "FAILED"
    assert "boom" in run.data.tags["error"]


def test_ensure_experiment_is_idempotent(store):
    """Creating the same experiment twice returns the same id."""
    tracking_uri = store[1]
    assert tracking.ensure_experiment("e", tracking_uri) == tracking.ensure_experiment("e",
                                                                                    tracking_uri)


def test_retry_retries_lock_errors_only():
    """A 'database is locked' error is retried; any other error propagates at once."""
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "ok"

    assert runs._retry(flaky, "test", base=0.001) == "ok" and len(calls) == 3

    def broken():
        calls.append(1)
        raise RuntimeError("no such table")

    n = len(calls)
    with pytest.raises(RuntimeError):
        runs._retry(broken, "test", base=0.001)
    assert len(calls) == n + 1


def test_sigterm_during_run_marks_it_failed(store, tmp_path):
    """A back-test process terminated (SIGTERM) while its run is open leaves the run FAILED."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    tracking_uri = store[1]
    tracking.ensure_experiment("exp-term", tracking_uri)
    flag = tmp_path / "started"
    code = ("import sys, time, pathlib; from njforecast import tracking\n"
            f"with tracking.run('exp-term', 'slow', {tracking_uri!r}):\n"
            f"    pathlib.Path({str(flag)!r}).write_text('x'); time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    p = subprocess.Popen([sys.executable, "-c", code], env=env)
    for _ in range(600):
        if flag.exists():
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) != 0
    runs = tracking.list_runs("exp-term", tracking_uri)
    assert list(runs["status"]) == ["FAILED"]


def test_tracker_replays_runs_in_order_with_nesting_and_failure(store):
    """A Tracker's child process records what the job recorded: params, metrics, a frame, a
    nested run; a block that raised ends FAILED with the job's own error text."""
    from njforecast.tracking.deferred import Tracker

    tracking_uri = store[1]
    tr = Tracker(tracking_uri, "exp-deferred")
    with tr.open("parent", tags={"kind": "test"}) as parent:
        parent.log_params({"a": {"b": 3}})
        parent.log_metrics({"m": 2.5})
        parent.log_frame(pd.DataFrame({"x": [1, 2]}), "x.csv")
        with tracking.run("exp-deferred", "child", tracking_uri, parent=parent) as child:
            child.log_metrics({"c": 1.0})
        with pytest.raises(ValueError):
            with tr.open("broken", parent=parent):
                raise ValueError("bad input row 3")
    ids = tr.close()
    c = _client(tracking_uri)
    p, ch, bad = (c.get_run(ids[k]) for k in (0, 1, 2))
    assert p.data.params["a.b"] == "3" and p.data.metrics == {"m": 2.5}
    assert p.data.tags["kind"] == "test"
    assert [a.path for a in c.list_artifacts(ids[0])] == ["x.csv"]
    assert ch.data.tags["mlflow.parentRunId"] == ids[0] and ch.data.metrics == {"c": 1.0}
    assert (p.info.status, ch.info.status, bad.info.status) == ("FINISHED", "FINISHED", "FAILED")
    assert bad.data.tags["error"] == "ValueError: bad input row 3"


def test_tracker_reports_a_logging_error_at_close(store, tmp_path):
    """An MLflow error in the child (here: a file that does not exist) is raised at close as a
    TrackingError naming the operation; unknown run methods fail at once, by name."""
    from njforecast.tracking.deferred import Tracker, TrackingError

    tr = Tracker(store[1], "exp-deferred-err")
    with tr.open("parent") as parent:
        with pytest.raises(AttributeError, match="log_model"):
            parent.log_model("x")
        parent.log_file(tmp_path / "missing.csv")
    with pytest.raises(TrackingError, match="log_file"):
        tr.close()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_killed_job_leaves_its_tracked_runs_failed(store, tmp_path, signame):
    """A pipeline job (its MLflow work in a tracking process) that is terminated (SIGTERM) or
    killed (SIGKILL) while its run is open leaves the run FAILED, not RUNNING."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    tracking_uri = store[1]
    exp = f"exp-kill-{signame}"
    flag = tmp_path / "started"
    code = ("import pathlib, time\nfrom njforecast import tracking\n"
            "from njforecast.config import RunConfig\n"
            "def body(run):\n"
            f"    pathlib.Path({str(flag)!r}).write_text('x'); time.sleep(60)\n"
            f"tracking.log_pipeline(RunConfig(name={exp!r}, tracking_uri={tracking_uri!r}), "
            "body)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    p = subprocess.Popen([sys.executable, "-c", code], env=env)
    for _ in range(600):
        if flag.exists():
            break
        time.sleep(0.1)
    p.send_signal(getattr(signal, signame))
    assert p.wait(timeout=60) != 0
    for _ in range(300):  # the tracking process finishes on its own
        runs = tracking.list_runs(exp, tracking_uri)
        if list(runs["status"]) == ["FAILED"]:
            break
        time.sleep(0.1)
    assert list(runs["status"]) == ["FAILED"]
