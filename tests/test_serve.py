"""The served scenario model: a real `njforecast serve` process on localhost, real HTTP requests.

One valid request and five invalid ones (unknown scenario, unknown field, horizon past 2050,
draws above the cap, out-of-range multiplier); the server is always killed.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from njforecast import tracking

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, payload, timeout: float = 120.0) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations",
                                 data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


#: port → the `njforecast serve` process of the module's server
_SERVERS: dict[int, subprocess.Popen] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Export a small-config model and serve it with `njforecast serve` on a free port."""
    tmp = tmp_path_factory.mktemp("serve")
    cfg = tmp / "c.toml"
    cfg.write_text('name = "serve-test"\nend_year = 2027\ndraws = 10\nseed = 3\n',
                   encoding="utf-8")
    model = tracking.export_scenario_model(tmp / "model", cfg)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "njforecast", "serve", "--model", str(model),
                             "--port", str(port)], cwd=tmp, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("server exited: " + (tmp / "server.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("server did not answer /ping within 180 s")
        _SERVERS[port] = proc
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group only
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def test_valid_request_returns_projections(server):
    """A baseline request answers 200 with area, year, indicator and mean/interval columns."""
    code, body = _post(server, {"dataframe_records": [{"scenario": "baseline", "draws": 5,
                                                       "end_year": 2026}]})
    assert code == 200, body
    rows = body["predictions"]
    assert {"scenario", "area", "year", "indicator", "mean", "lo80", "hi80"} <= set(rows[0])
    years = {r["year"] for r in rows}
    assert max(years) == 2026
    ger = [r for r in rows if r["area"] == "511000" and r["indicator"] == "senior_stage_ger"]
    assert all(r["lo80"] <= r["mean"] <= r["hi80"] for r in ger)


@pytest.mark.parametrize("record,words", [
    ({"scenario": "utopia"}, "unknown scenario"),
    ({"scenario": "baseline", "fertility": 0.5}, "unknown field"),
    ({"scenario": "baseline", "end_year": 2060}, "end_year"),
    ({"scenario": "baseline", "draws": tracking.SERVE_MAX_DRAWS + 1}, "cap"),
    ({"scenario": "baseline", "fertility_multiplier": 9.0}, "out of range"),
])
def test_invalid_requests_get_400_with_message(server, record, words):
    """Unknown scenario/field, horizon past 2050, draws over the cap, bad value → 400 + message."""
    code, body = _post(server, {"dataframe_records": [record]}, timeout=60)
    assert code == 400, body
    assert body.get("error_code") == "INVALID_PARAMETER_VALUE"
    assert words in body.get("message", "")


@pytest.mark.parametrize("rows,words", [
    ([{"scenario": "baseline"}] * (tracking.SERVE_MAX_ROWS + 1), "at most"),
    ([{"draws": 5}], "'scenario' is required"),
    ([{"scenario": "baseline", "draws": 2.5}], "must be int"),
    ([{"scenario": "baseline", "draws": -3}],
     rf"draws = -3 is out of range \[0, {tracking.SERVE_MAX_DRAWS}\]"),  # the served cap
    ([{"scenario": "baseline", "staffing_standard": "nordic"}], "not one of"),
    ([], "no rows"),
])
def test_engine_rejects_bad_requests_in_process(tmp_path, rows, words):
    """The engine itself (no server) answers bad rows with INVALID_PARAMETER_VALUE messages."""
    import pandas as pd
    from mlflow.exceptions import MlflowException

    cfg = tmp_path / "c.toml"
    cfg.write_text("draws = 10\n", encoding="utf-8")
    engine = tracking.ScenarioEngine(cfg)
    with pytest.raises(MlflowException, match=words) as exc:
        engine.scenarios_for(pd.DataFrame(rows))
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"


def test_engine_applies_overrides_and_default_draws(tmp_path):
    """Overrides replace the preset's fields; draws default to min(100, config draws)."""
    import pandas as pd

    cfg = tmp_path / "c.toml"
    cfg.write_text("draws = 40\n", encoding="utf-8")
    engine = tracking.ScenarioEngine(cfg)
    (sc,) = engine.scenarios_for(pd.DataFrame([{"scenario": "class_caps_45_50",
                                                "class_size_cap_primary": 40.0,
                                                "end_year": 2030.0}]))
    assert (sc.class_size_cap_primary, sc.class_size_cap_junior) == (40.0, 50.0)
    assert (sc.end_year, sc.draws) == (2030, 40)


def test_exported_model_carries_the_planners_series_and_targets(tmp_path):
    """A config with [data] observations and [targets] file (relative paths; synthetic county
    count, synthetic 2030 targets) exports both files with the model, and the served engine
    reads them from there, not from the original places."""
    import shutil

    f = tmp_path / "mine.csv"
    f.write_text((REPO / "tests" / "data" / "enrolment_user_observations.csv").read_text(
        encoding="utf-8"), encoding="utf-8")
    t = tmp_path / "targets.csv"
    shutil.copy(REPO / "tests" / "data" / "targets" / "neijiang_synthetic_2030.csv", t)
    cfg = tmp_path / "c.toml"
    cfg.write_text('name = "export-test"\nend_year = 2030\ndraws = 2\n[data]\n'
                   'observations = "mine.csv"\n[targets]\nfile = "targets.csv"\n',
                   encoding="utf-8")
    model = tracking.export_scenario_model(tmp_path / "model", cfg, jump_off=2020)
    f.unlink()  # the served copy must not depend on the original files
    t.unlink()
    staged = sorted(model.rglob("planner_observations.csv"))
    assert len(staged) == 1
    engine = tracking.ScenarioEngine(staged[0].parent / "config.toml")
    assert engine.cfg.section("data")["observations"] == str(staged[0])
    assert engine.cfg.section("targets")["file"] == str(staged[0].parent / "plan_targets_file.csv")
    assert 2030 in set(engine.state.targets["target_year"])
    assert engine.cfg.jump_off == 2020  # `--jump-off 2020` of the run, not the config's latest


def test_staged_model_is_published_only_on_success(tmp_path):
    """A staged model replaces the served one only when published; discarding it leaves the
    served model as it was (a failed job never replaces it); two jobs stage apart."""
    final = tmp_path / "models" / "scenario-engine"
    final.mkdir(parents=True)
    (final / "MLmodel").write_text("old", encoding="utf-8")
    staged, other = tracking.staged_model_dir(final), tracking.staged_model_dir(final)
    assert staged != other and staged.parent == final.parent
    staged.mkdir()
    (staged / "MLmodel").write_text("new", encoding="utf-8")
    tracking.discard_staged_model(None, staged)
    assert not staged.exists() and (final / "MLmodel").read_text(encoding="utf-8") == "old"
    staged.mkdir()
    (staged / "MLmodel").write_text("new", encoding="utf-8")
    tracking.publish_scenario_model(None, staged, final)
    assert not staged.exists() and (final / "MLmodel").read_text(encoding="utf-8") == "new"


def test_serve_names_the_experiment_it_serves(tmp_path):
    """`serve` says which exported config (name, region, jump-off) the model folder holds."""
    from njforecast.cli.jobs import _served_config

    eng = tmp_path / "m" / "data" / "engine"
    eng.mkdir(parents=True)
    (eng / "config.toml").write_text('name = "model-paths"\nregion = "neijiang"\n',
                                     encoding="utf-8")
    (eng / "jump_off.json").write_text('{"jump_off": 2024}', encoding="utf-8")
    msg = _served_config(tmp_path / "m")
    assert "experiment 'model-paths', region 'neijiang', jump-off 2024" in msg
    (eng / "jump_off.json").unlink()  # `serve export` records none: the config's
    assert "jump-off latest" in _served_config(tmp_path / "m")
    (eng / "config.toml").unlink()
    assert "could not be read" in _served_config(tmp_path / "m")


def test_sigterm_to_serve_stops_the_scoring_server(server):
    """SIGTERM to the `njforecast serve` process alone (not its group) stops the uvicorn
    workers too: the port stops answering and the command exits 0. (Last in this module: it
    stops the module's server.)"""
    proc = _SERVERS[server]
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{server}/ping", timeout=2)
