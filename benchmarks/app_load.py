"""Latency and load test of the planner's page (not a pytest test), on loopback only.

Starts ``python -m njforecast app`` on a free 127.0.0.1 port (its own process), then:

1. latency: ``--changes`` distinct lever changes at 200 draws, one after another (every one a
   new scenario, so each costs one ``engine.project`` and its summaries): HTTP round trip and
   the server's own compute time, p50 / p95 / max;
2. load: ``--users`` simulated planners for ``--seconds`` s, each moving one lever a step at a
   time (sliders, caps, staffing standard, preset, area) and reading the page for a think time
   drawn from ``--think LO HI`` seconds between changes; in the middle one malformed request
   (broken JSON) and one oversized body are sent, which must be refused (400 / 413) while the
   users keep being answered. Errors = user requests not answered 200.

Usage (from the repository root):
    python benchmarks/app_load.py [--users 20] [--seconds 30] [--think 1 3] [--changes 40]
        [--config experiments/neijiang-baseline/config.toml] [--no-readme]

Writes benchmarks/results/app_load.csv (one row per request) and replaces the section between
``<!-- app:start -->`` and ``<!-- app:end -->`` of benchmarks/README.md. Exit status 1 when the
issue's bar is missed (any error, p95 > 500 ms, or the app stopped answering).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- app:start -->", "<!-- app:end -->"
RESULTS = ROOT / "benchmarks" / "results" / "app_load.csv"

#: What a simulated planner can move, one step at a time (value lists like the page's sliders).
LEVERS = {
    "fertility_multiplier": [round(0.5 + 0.05 * i, 2) for i in range(21)],
    "migration_multiplier": [round(0.5 + 0.1 * i, 1) for i in range(16)],
    "class_size_cap_primary": [None, *range(38, 51)],
    "class_size_cap_junior": [None, *range(42, 56)],
    "attrition": [None, *[round(0.03 + 0.005 * i, 3) for i in range(9)]],
    "hires_per_year": [None, *range(300, 1300, 100)],
    "reach_targets_by": [None, 2025, 2027, 2030],
    "staffing_standard": ["config", "unified_2014", "area_ratio"],
}
PRESETS = ["baseline", "low_fertility", "high_fertility", "high_out_migration", "status_quo_rates",
           "national_staffing"]
AREAS = ["511000", "511002", "511011", "511024", "511025", "511071", "511083"]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(conn: http.client.HTTPConnection, body: bytes, path: str = "/api/scenario"
             ) -> tuple[int, float, dict | None]:
    """(status, seconds, parsed JSON or None) of one POST on a kept-alive connection."""
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    dt = time.perf_counter() - t0
    if resp.status == 200 and data.startswith(b'{"compute_ms":'):
        # the answer opens with its timing: read that, not the whole chart data (client CPU
        # is taken from the same two cores as the server's)
        head = data[:data.index(b',"', data.index(b'"cached"'))] + b"}"
        return resp.status, dt, json.loads(head)
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    return resp.status, dt, parsed


def start_app(config: str, port: int, workers: int = 1):
    """The app as a child process (its own session, so it can be stopped with its children)."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "njforecast", "app", "--config", config,
                             "--port", str(port), "--workers", str(workers)], cwd=ROOT,
                            env=_env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    t0 = time.perf_counter()
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit("app exited:\n" + log.read().decode()[-3000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
        if time.perf_counter() - t0 > 120:
            raise SystemExit("app did not answer within 120 s")
    return proc, log, time.perf_counter() - t0


def bench_latency(port: int, n: int) -> dict:
    """First page load, then ``n`` distinct 200-draw lever changes one after another."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    for path in ("/", "/static/app.js", "/static/charts.js", "/static/app.css", "/api/meta"):
        conn.request("GET", path)
        conn.getresponse().read()
    status, _, first = _request(conn, json.dumps({"scenario": "baseline", "draws": 200,
                                                  "area": "511000"}).encode())
    first_load = time.perf_counter() - t0
    rtt, server = [], []
    for i in range(n):
        body = {"scenario": PRESETS[i % len(PRESETS)], "draws": 200,
                "fertility_multiplier": round(0.55 + 0.021 * i, 3),
                "migration_multiplier": round(0.7 + 0.017 * i, 3), "area": AREAS[i % 7]}
        status, dt, ans = _request(conn, json.dumps(body).encode())
        if status != 200 or ans.get("cached"):
            raise SystemExit(f"latency request {i} not a fresh 200 answer: {status} {ans}")
        rtt.append(dt * 1e3)
        server.append(ans["compute_ms"])
    conn.close()
    q = statistics.quantiles
    return {"first_load_s": first_load, "n": n, "rtt_p50": statistics.median(rtt),
            "rtt_p95": q(rtt, n=20)[18], "rtt_max": max(rtt),
            "compute_p50": statistics.median(server), "compute_p95": q(server, n=20)[18]}


def _user(uid: int, port: int, until: float, think: tuple[float, float], rows: list,
          lock: threading.Lock) -> None:
    """One simulated planner: moves one lever a step, reads, moves another …"""
    rnd = random.Random(1000 + uid)
    state = {"scenario": rnd.choice(PRESETS), "draws": 200, "area": rnd.choice(AREAS),
             "fertility_multiplier": 1.0, "migration_multiplier": 1.0}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < until:
        what = rnd.random()
        if what < 0.08:
            state["scenario"] = rnd.choice(PRESETS)
        elif what < 0.18:
            state["area"] = rnd.choice(AREAS)
        else:
            name = rnd.choice(list(LEVERS))
            values = LEVERS[name]
            cur = state.get(name, values[0] if values[0] is not None else None)
            i = values.index(cur) if cur in values else 0
            state[name] = values[max(0, min(len(values) - 1, i + rnd.choice((-1, 1))))]
        body = json.dumps({k: v for k, v in state.items() if v is not None}).encode()
        t_sent = time.perf_counter()
        try:
            status, dt, ans = _request(conn, body)
            cached = bool(ans and ans.get("cached"))
            compute = ans.get("compute_ms") if ans else None
        except (OSError, http.client.HTTPException):
            status, dt, cached, compute = 0, time.perf_counter() - t_sent, False, None
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            rows.append({"user": uid, "t": t_sent, "status": status, "ms": dt * 1e3,
                         "cached": cached, "compute_ms": compute, "kind": "user"})
        time.sleep(rnd.uniform(*think))
    conn.close()


def cpu_seconds(session: int) -> float:
    """User + system CPU seconds of the live processes of a session (the app and its workers;
    Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def bench_load(port: int, users: int, seconds: float, think: tuple[float, float]) -> pd.DataFrame:
    """``users`` planners for ``seconds`` s, one malformed and one oversized request midway."""
    rows: list = []
    lock = threading.Lock()
    t0 = time.perf_counter()
    until = t0 + seconds
    threads = [threading.Thread(target=_user, args=(u, port, until, think, rows, lock))
               for u in range(users)]
    for th in threads:
        th.start()
    time.sleep(seconds / 2)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for kind, body in (("malformed", b'{"scenario": "baseline", "draws": '),
                       ("oversized", b'{"scenario": "' + b"x" * 100_000 + b'"}')):
        t = time.perf_counter()
        try:
            status, dt, _ = _request(conn, body)
        except (OSError, http.client.HTTPException):
            status, dt = 0, time.perf_counter() - t
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            rows.append({"user": -1, "t": t, "status": status, "ms": dt * 1e3, "cached": False,
                         "compute_ms": None, "kind": kind})
    conn.close()
    for th in threads:
        th.join(seconds + 60)
    df = pd.DataFrame(rows)
    df["t"] = df["t"] - t0
    return df.sort_values("t").reset_index(drop=True)


def summarise(df: pd.DataFrame, seconds: float) -> dict:
    """Errors, latency percentiles, throughput and cache share of the user requests."""
    u = df[df["kind"] == "user"]
    bad = df[df["kind"] != "user"]
    mid = bad["t"].min() if len(bad) else 0
    after = u[u["t"] > mid]
    fresh = u[~u["cached"] & u["compute_ms"].notna()]
    return {"requests": len(u), "errors": int((u["status"] != 200).sum()),
            "p50": u["ms"].median(), "p95": u["ms"].quantile(0.95), "max": u["ms"].max(),
            "rate": len(u) / seconds, "cached_share": u["cached"].mean(),
            "fresh_p50": fresh["compute_ms"].median(), "fresh_p95": fresh["compute_ms"].quantile(0.95),
            "refused": ", ".join(f"{r.kind} → {r.status}" for r in bad.itertuples()),
            "refused_ok": bool(len(bad) == 2 and set(bad["status"]) == {400, 413}),
            "answered_after": int((after["status"] == 200).sum())}


def write_readme(lat: dict, load: dict, args, start_s: float) -> None:
    load_avg = os.getloadavg()[0]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = (f"python benchmarks/app_load.py --users {args.users} --seconds {args.seconds:g} "
           f"--think {args.think[0]:g} {args.think[1]:g} --changes {args.changes} "
           f"--workers {args.workers}")
    think = f"{args.think[0]:g}–{args.think[1]:g} s"
    rows = [
        ("app start (base state built, presets answered) to first `/api/health`",
         f"{start_s:.1f} s"),
        ("first page load (page, scripts, `/api/meta`, baseline answer)",
         f"{lat['first_load_s'] * 1e3:.0f} ms"),
        (f"lever change, 200 draws, a new scenario each time ({lat['n']} in a row): "
         "HTTP p50 / p95 / max",
         f"{lat['rtt_p50']:.0f} / {lat['rtt_p95']:.0f} / {lat['rtt_max']:.0f} ms"),
        ("… of which the app's compute (project, summaries, target table): p50 / p95",
         f"{lat['compute_p50']:.0f} / {lat['compute_p95']:.0f} ms"),
        (f"load: {args.users} users × {args.seconds:g} s, think {think}: requests (per s)",
         f"{load['requests']} ({load['rate']:.1f}/s)"),
        ("load: errors (user requests not answered 200)", f"{load['errors']}"),
        ("load: latency p50 / p95 / max",
         f"{load['p50']:.0f} / {load['p95']:.0f} / {load['max']:.0f} ms"),
        ("load: answers from the cache (a lever moved back, area or preset switched)",
         f"{load['cached_share'] * 100:.0f} %"),
        ("load: the app's compute of new scenarios p50 / p95",
         f"{load['fresh_p50']:.0f} / {load['fresh_p95']:.0f} ms"),
        (f"load: the app's CPU time (user + system) during the {args.seconds:g} s",
         f"{load['server_cpu_s']:.1f} s"),
        ("malformed + oversized request midway",
         f"{load['refused']}; {load['answered_after']} user requests answered 200 after them"),
    ]
    table = "| measurement | value |\n|---|---:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    text = f"""{START}
## Planner's page: latency and load (issue 16)

`{cmd}` — {now}, {platform.machine()}, {os.cpu_count()} cores shared with other jobs
(1-min load average at the end: {load_avg:.1f}), Python {platform.python_version()}; the app
(`python -m njforecast app`) in its own process on 127.0.0.1, the simulated users in this one.

{table}

Each user starts from a random preset and area and moves one lever a step at a time (the page's
slider steps: fertility and migration multipliers, class caps, attrition, hires, reach-targets
year, staffing standard; sometimes the preset or area), at 200 draws; the page debounces a
dragged slider, so one change is one request. At most two new scenarios are computed at once
(threads), a scenario already being computed is waited for, and repeats are answered from an
LRU of 128 scenarios. Raw rows: `results/app_load.csv`.
{END}"""
    path = ROOT / "benchmarks" / "README.md"
    old = path.read_text(encoding="utf-8")
    if START in old and END in old:
        new = old[:old.index(START)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="experiments/neijiang-baseline/config.toml")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("LO", "HI"))
    ap.add_argument("--changes", type=int, default=40)
    ap.add_argument("--workers", type=int, default=1, help="the app's --workers")
    ap.add_argument("--no-readme", action="store_true", help="do not update benchmarks/README.md")
    args = ap.parse_args()
    port = _free_port()
    proc, log, start_s = start_app(args.config, port, args.workers)
    try:
        lat = bench_latency(port, args.changes)
        cpu0 = cpu_seconds(proc.pid)
        df = bench_load(port, args.users, args.seconds, tuple(args.think))
        server_cpu = cpu_seconds(proc.pid) - cpu0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, _, _ = _request(conn, b'{"scenario": "baseline", "draws": 50}')
        alive = status == 200
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()
    load = summarise(df, args.seconds)
    load["server_cpu_s"] = server_cpu
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(RESULTS, index=False)
    print(json.dumps({"latency": lat, "load": load, "alive_at_end": alive}, indent=1,
                     default=float))
    if not args.no_readme:
        write_readme(lat, load, args, start_s)
    ok = alive and load["errors"] == 0 and load["p95"] <= 500 and load["refused_ok"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
