"""National run benchmark: every county of the 2010 census projected to 2035, with draws.

Each measured run is the user-facing command, in a fresh process under ``/usr/bin/time -v``:

    njforecast demography project --base data/raw/census/census_county_2010.xlsx --to 2035 \
        --draws N --executor local|dask --workers W --output <tmp>.csv

i.e. all 2,857 county-level rows of the 2010 county table, cohort-component projection
(``demography.project_census`` under the default ``DemographicAssumptions``), school-age bands
3-5, 6-11, 12-14, 15-17 by county and year 2011-2035 with mean/lo80/hi80/lo95/hi95 over the
draws, split into area chunks by ``njforecast.parallel`` (draws streamed inside each task,
reduced before leaving the worker). With ``--with-enrolment`` the command also computes
enrolment and teacher demand per draw under the default national assumptions
(``njforecast.engine.national``) inside each task; rows then go to results/national_run_enrolment.csv.
See benchmarks/README.md.

    python benchmarks/national_run.py --plan 100:local:1 100:local:2 100:dask:2 --repeat 3

Before/after comparisons of two versions of the code (``--code DIR``: the checkout whose
``njforecast`` is imported and whose ``data/`` is used, e.g. ``git worktree add /tmp/base main``;
``--label`` names it in the results), with the output checked against a reference file
(``--reference REF.csv``: the largest relative difference of the numeric cells is recorded, and
the run fails above 1e-9) and optionally with the parsed census removed first
(``--cold-cache``: data/processed/census is deleted before each run, so the run parses the raw
tables as the first run after a data change does):

    python benchmarks/national_run.py --plan 1000:local:2 --repeat 2 --code /tmp/base \
        --label main --keep /tmp/ref
    python benchmarks/national_run.py --plan 1000:local:2 --repeat 2 --label demog \
        --reference /tmp/ref/national.csv

Per run it records wall time, CPU time (user + sys, all processes) and maximum resident set
size of the largest single process (from ``/usr/bin/time -v``), the peak of the summed resident
memory of the whole process tree (driver + pool or Dask workers, sampled with psutil every
0.2 s — /usr/bin/time reports only the largest single process), and the 1-minute load average
before and after (the machine is shared). Rows are appended to
benchmarks/results/national_run.csv as each run ends; the medians are printed as Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "national_run.csv"
BASE = "data/raw/census/census_county_2010.xlsx"

_TIME_RE = {
    "wall": re.compile(r"Elapsed \(wall clock\) time.*: (.+)$", re.MULTILINE),
    "maxrss_kb": re.compile(r"Maximum resident set size \(kbytes\): (\d+)", re.MULTILINE),
    "user": re.compile(r"User time \(seconds\): ([\d.]+)", re.MULTILINE),
    "sys": re.compile(r"System time \(seconds\): ([\d.]+)", re.MULTILINE),
}


def _wall_seconds(text: str) -> float:
    parts = [float(x) for x in text.strip().split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):  # ended meanwhile
            total += p.memory_info().rss
    return total


def command(draws: int, executor: str, workers: int, to: int, output: str,
            enrolment: bool = False) -> list[str]:
    """The measured command (argv)."""
    return [sys.executable, "-m", "njforecast", "demography", "project", "--base", BASE,
            "--to", str(to), "--draws", str(draws), "--executor", executor,
            "--workers", str(workers), *(["--with-enrolment"] if enrolment else []),
            "--output", output]


def max_relative_difference(path_a: str | Path, path_b: str | Path) -> float:
    """Largest |a − b| / |a| over the numeric cells of two output CSVs with the same rows.

    Raises:
        SystemExit: the files differ in columns, row count or any non-numeric cell.
    """
    import numpy as np
    import pandas as pd

    a = pd.read_csv(path_a, dtype={"area": str})
    b = pd.read_csv(path_b, dtype={"area": str})
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        raise SystemExit(f"{path_b}: columns or rows differ from {path_a}")
    num = [c for c in a.select_dtypes("number").columns if c != "year"]
    keys = [c for c in a.columns if c not in num]
    if not a[keys].equals(b[keys]):
        raise SystemExit(f"{path_b}: area/year/group cells differ from {path_a}")
    x, y = a[num].to_numpy(), b[num].to_numpy()
    return float((np.abs(x - y) / np.maximum(np.abs(x), 1e-300)).max())


def _commit(code: Path) -> str:
    """Short commit of a checkout ('' when it is not a git checkout)."""
    res = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else ""


def measure(draws: int, executor: str, workers: int, to: int, enrolment: bool = False,
            keep: Path | None = None, code: Path = ROOT, label: str = "",
            reference: Path | None = None, cold_cache: bool = False) -> dict:
    """Run the command once under /usr/bin/time -v; return the measurements."""
    import psutil

    if cold_cache:
        shutil.rmtree(code / "data" / "processed" / "census", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "national.csv")
        argv = command(draws, executor, workers, to, out, enrolment)
        load0 = os.getloadavg()[0]
        err = Path(tmp) / "time.txt"
        with err.open("w") as fh:
            proc = subprocess.Popen(["/usr/bin/time", "-v", *argv], cwd=code, stdout=fh,
                                    stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONPATH": str(code)})
            ps = psutil.Process(proc.pid)
            peak = 0
            while proc.poll() is None:
                with contextlib.suppress(psutil.NoSuchProcess):
                    peak = max(peak, _tree_rss(ps))
                time.sleep(0.2)
        text = err.read_text()
        if proc.returncode != 0:
            sys.stderr.write(text[-3000:])
            raise SystemExit(f"run failed: {' '.join(argv)}")
        rows_out = sum(1 for _ in open(out, encoding="utf-8")) - 1
        diff = max_relative_difference(reference, out) if reference else None
        if diff is not None and diff > 1e-9:
            raise SystemExit(f"output differs from {reference}: max relative difference {diff}")
        enr = Path(tmp) / "national_enrolment.csv"
        extra = {"enrolment_rows_out": sum(1 for _ in enr.open(encoding="utf-8")) - 1} \
            if enrolment else {}
        if keep is not None:  # keep the outputs (e.g. for sanity checks), not committed
            keep.mkdir(parents=True, exist_ok=True)
            for f in Path(tmp).glob("national*.csv"):
                shutil.copy(f, keep / f.name)
    return {
        "label": label, "commit": _commit(code), "cold_cache": cold_cache,
        "max_rel_diff": "" if diff is None else diff,
        "draws": draws, "executor": executor, "workers": workers, "to": to,
        "rows_out": rows_out, **extra,
        "wall_s": round(_wall_seconds(_TIME_RE["wall"].search(text)[1]), 1),
        "cpu_s": round(float(_TIME_RE["user"].search(text)[1])
                       + float(_TIME_RE["sys"].search(text)[1]), 1),
        "max_1proc_rss_mb": round(int(_TIME_RE["maxrss_kb"].search(text)[1]) / 1024),
        "peak_tree_rss_mb": round(peak / 2**20),
        "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores "
                   f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GB",
        "command": " ".join(["njforecast", *argv[3:-2], "--output", "OUT.csv"]),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", nargs="+", default=["100:local:1", "100:local:2", "100:dask:2"],
                    help="runs as DRAWS:EXECUTOR:WORKERS, in this order")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the plan")
    ap.add_argument("--to", type=int, default=2035)
    ap.add_argument("--with-enrolment", action="store_true",
                    help="measure `--with-enrolment` (national enrolment and teachers too)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="copy the last run's output files to this folder")
    ap.add_argument("--results", type=Path, default=None,
                    help="CSV rows are appended to (default results/national_run.csv, or "
                         "results/national_run_enrolment.csv with --with-enrolment)")
    ap.add_argument("--table", action="store_true",
                    help="only print the median table of every row in --results")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="checkout whose njforecast and data/ the command uses (default: this one)")
    ap.add_argument("--label", default="", help="name of this version in the results")
    ap.add_argument("--reference", type=Path, default=None,
                    help="output CSV the run's output must match (relative difference <= 1e-9)")
    ap.add_argument("--cold-cache", action="store_true",
                    help="delete data/processed/census of --code before each run")
    a = ap.parse_args(argv)
    if a.results is None:
        a.results = RESULTS.with_name("national_run_enrolment.csv") if a.with_enrolment \
            else RESULTS
    if a.table:
        with a.results.open(encoding="utf-8") as fh:
            table(list(csv.DictReader(fh)))
        return
    plan = [(int(d), ex, int(w)) for d, ex, w in (p.split(":") for p in a.plan)]
    a.results.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for _ in range(a.repeat):           # passes interleave configurations (fairer under load)
        for draws, ex, w in plan:
            row = measure(draws, ex, w, a.to, a.with_enrolment, a.keep, a.code.resolve(),
                          a.label, a.reference, a.cold_cache)
            print(row, flush=True)
            rows.append(row)
            append_row(a.results, row)
    table(rows)


def append_row(path: Path, row: dict) -> None:
    """Append ``row`` to a CSV; columns it adds extend the header (earlier rows get blanks)."""
    old = list(csv.DictReader(path.open(encoding="utf-8"))) if path.exists() else []
    fields = list(old[0]) if old else []
    fields += [k for k in row if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, fieldnames=fields, restval="")
        wr.writeheader()
        wr.writerows([*old, row])


def table(rows: list[dict]) -> None:
    """Print the medians per (draws, executor, workers) as a Markdown table."""
    print("\n| label | cold cache | draws | executor | workers | wall s | CPU s | "
          "peak tree RSS MB | max 1-process RSS MB | max rel. diff | runs | load before/after |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")

    def key(r):
        return (r.get("label", ""), str(r.get("cold_cache", "")), int(r["draws"]),
                r["executor"], int(r["workers"]))

    for k in sorted({key(r) for r in rows}):
        rs = [r for r in rows if key(r) == k]
        med = {c: statistics.median(float(r[c]) for r in rs)
               for c in ("wall_s", "cpu_s", "peak_tree_rss_mb", "max_1proc_rss_mb")}
        diffs = [float(r["max_rel_diff"]) for r in rs if str(r.get("max_rel_diff", "")) != ""]
        diff = f"{max(diffs):.2g}" if diffs else ""
        loads = ", ".join(f"{r['load_before']}/{r['load_after']}" for r in rs)
        label, cold, draws, ex, w = k
        print(f"| {label} | {cold} | {draws} | {ex} | {w} | {med['wall_s']:.0f} | "
              f"{med['cpu_s']:.0f} | {med['peak_tree_rss_mb']:.0f} | "
              f"{med['max_1proc_rss_mb']:.0f} | {diff} | {len(rs)} | {loads} |")


if __name__ == "__main__":
    main()
