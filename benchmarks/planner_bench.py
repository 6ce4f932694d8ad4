"""Benchmark the planner's product (not a test): `make run` wall time and peak memory, and the
scenario model's request latency in-process and over HTTP.

Usage (from the repository root; runs once, about 3–5 minutes on 2 cores):
    python benchmarks/planner_bench.py [--config experiments/neijiang-baseline/config.toml]
        [--requests 20]

Writes benchmarks/results/planner.csv and replaces the "Planner" section of
benchmarks/README.md (between its markers). `make run` is timed as the command it runs
(`python -m njforecast run CONFIG`), i.e. after installation; peak memory is the largest
resident set of the child process (getrusage RUSAGE_CHILDREN, Linux kilobytes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- planner:start -->", "<!-- planner:end -->"


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def bench_make_run(config: str) -> dict:
    """Wall time and peak RSS of `python -m njforecast run CONFIG` (what `make run` runs)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "njforecast", "run", config], cwd=ROOT,
                          env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"njforecast run failed:\n{proc.stderr[-3000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"what": "make run (njforecast run, 7 scenarios, 200 draws)", "value": wall,
            "unit": "s", "peak_rss_mb": peak_mb}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, payload: dict) -> float:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations",
                                 data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        r.read()
    return time.perf_counter() - t0


def _distinct(i: int) -> dict:
    """The i-th distinct served request: 200 draws to 2035, levers moved (never repeated)."""
    return {"scenario": ["baseline", "low_fertility", "high_out_migration", "class_caps_45_50"][i % 4],
            "draws": 200, "end_year": 2035, "fertility_multiplier": round(0.6 + 0.003 * i, 4),
            "migration_multiplier": round(0.8 + 0.002 * i, 4)}


def bench_latency(model: Path, n: int) -> list[dict]:
    """Served-scenario latency (200 draws to 2035, distinct requests): in-process through
    ``mlflow.pyfunc.load_model(...).predict`` and over HTTP (``njforecast serve``), the first
    request after load, and 8 concurrent HTTP requests."""
    import mlflow
    from concurrent.futures import ThreadPoolExecutor

    rows = []

    def row(what, value, unit="ms"):
        rows.append({"what": what, "value": value, "unit": unit, "peak_rss_mb": float("nan")})

    t0 = time.perf_counter()
    m = mlflow.pyfunc.load_model(str(model))
    row("pyfunc load_model (base state built)", (time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    m.predict(pd.DataFrame([_distinct(0)]))
    row("in-process: first request after load", (time.perf_counter() - t0) * 1000)
    times = []
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        m.predict(pd.DataFrame([_distinct(i)]))
        times.append(time.perf_counter() - t0)
    row(f"in-process: distinct requests, median of {n}", statistics.median(times) * 1000)
    port = _free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "njforecast", "serve", "--model", str(model),
                             "--port", str(port)], cwd=ROOT, env=_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.perf_counter()
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit("server exited:\n" + log.read().decode()[-3000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        row("HTTP: server start to first /ping", (time.perf_counter() - t0), "s")
        row("HTTP: first request", _post(port, {"dataframe_records": [_distinct(100)]}) * 1000)
        times = [_post(port, {"dataframe_records": [_distinct(100 + i)]}) for i in range(1, n + 1)]
        row(f"HTTP: distinct requests, median of {n}", statistics.median(times) * 1000)
        with ThreadPoolExecutor(8) as ex:
            conc = list(ex.map(lambda i: _post(port, {"dataframe_records": [_distinct(200 + i)]}),
                               range(8)))
        row("HTTP: 8 concurrent distinct requests, slowest", max(conc) * 1000)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="experiments/neijiang-baseline/config.toml")
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    rows = [bench_make_run(args.config)]
    rows += bench_latency(ROOT / "models" / "scenario-engine", args.requests)
    df = pd.DataFrame(rows)
    load = os.getloadavg()[0]
    out = ROOT / "benchmarks" / "results" / "planner.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False, float_format="%.2f")
    table = ["| measurement | value | unit | peak RSS (MB) |", "|---|---:|---|---:|"]
    for r in df.itertuples():
        rss = "" if r.peak_rss_mb != r.peak_rss_mb else f"{r.peak_rss_mb:,.0f}"
        table.append(f"| {r.what} | {r.value:,.1f} | {r.unit} | {rss} |")
    section = "\n".join([
        START, "## Planner: `make run` and the scenario API", "",
        "`python benchmarks/planner_bench.py` — "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other "
        f"jobs (1-min load average at the end: {load:.1f}), Python {platform.python_version()}.",
        "", *table, "",
        "`make run` is timed as the command it runs after installation (`python -m njforecast "
        "run experiments/neijiang-baseline/config.toml`): baseline + 6 preset scenarios at 200 "
        "draws, target comparison, report (HTML, Excel, 12 figures as PNG+SVG), model export "
        "and MLflow logging. Latency: served requests of 200 draws to 2035, each with other lever "
        "values (no answer is reused); the engine's base state is built when the model loads.",
        END])
    readme = ROOT / "benchmarks" / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    readme.write_text(text, encoding="utf-8")
    print("\n".join(table))


if __name__ == "__main__":
    main()
