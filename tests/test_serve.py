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
