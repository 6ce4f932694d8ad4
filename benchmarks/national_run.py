"""National run benchmark: every county of the 2010 census projected to 2035, with draws.

Two modes:

    # one run (the measured unit); prints one JSON line with wall time and peak memory
    python benchmarks/national_run.py run --draws 100 --executor local --workers 2

    # the suite: each configuration in a fresh process under /usr/bin/time -v, `--repeat` times;
    # appends to benchmarks/results/national_run.csv and prints the medians as a Markdown table
    python benchmarks/national_run.py suite --draws 100 1000 --repeat 3

What is measured (``run``):
    * ``load_s``: reading data/raw/census/census_county_2010.xlsx (load_census), keeping the
      county-level rows (2,857 areas, kind == "county" in load_census_areas) and graduating them
      to single ages (demography.graduate_single_ages);
    * ``project_s``: ``parallel.project_in_chunks`` with ``demography.project_population_summary``
      under the default assumptions (``DemographicAssumptions()``): population by area, year,
      sex and single age ``--ages`` for 2011…``--to`` with ``--draws`` draws; each area chunk
      is projected and reduced to mean/lo80/hi80/lo95/hi95 inside its worker (draws streamed
      year by year, never all held);
    * ``peak_tree_rss_mb``: peak of the summed resident memory of the driver and all its worker
      processes (psutil, sampled every 0.1 s) — /usr/bin/time -v only reports the largest single
      process, which under-states a multi-process run;
    * the suite adds ``/usr/bin/time -v`` wall time and maximum resident set size.

Results are not checked here (tests/test_parallel.py checks executor equality); this script
only times and measures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "national_run.csv"
CENSUS_2010 = ROOT / "data" / "raw" / "census" / "census_county_2010.xlsx"


class TreeRSS:
    """Peak summed RSS of this process and its descendants, sampled in a background thread."""

    def __init__(self, interval: float = 0.1):
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> int:
        import psutil

        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):  # ended meanwhile
                total += p.memory_info().rss
        return total

    def _loop(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def load_counties(path: Path = CENSUS_2010):
    """Single-age base of every county-level row of the 2010 census (kind == 'county')."""
    from njforecast import schema as S
    from njforecast.data import load_census, load_census_areas
    from njforecast.demography import graduate_single_ages

    areas = load_census_areas(path)
    counties = set(areas.loc[areas["kind"] == "county", S.AREA])
    pop = load_census(path)
    return graduate_single_ages(pop[pop[S.AREA].isin(counties)])


def cmd_run(a) -> dict:
    from njforecast import demography as D
    from njforecast import parallel as P
    from njforecast import schema as S

    ages = range(a.ages[0], a.ages[1] + 1)
    summary = {"groups": {str(x): (x, x) for x in ages}, "by_sex": True}
    with TreeRSS() as mem:
        t0 = time.perf_counter()
        base = load_counties()
        t1 = time.perf_counter()
        out = P.project_in_chunks(base, D.DemographicAssumptions(), a.start, a.to, a.draws,
                                  a.seed, project=D.project_population_summary,
                                  project_kwargs=summary, n_ages=len(ages),
                                  chunk_size=a.chunk_size, executor=a.executor,
                                  workers=a.workers, address=a.address)
        t2 = time.perf_counter()
        if a.out:
            from njforecast.data import write_csv_atomic

            write_csv_atomic(out, a.out)
    row = {
        "areas": int(base[S.AREA].nunique()), "years": f"{a.start}-{a.to}",
        "ages": f"{a.ages[0]}-{a.ages[1]}", "draws": a.draws, "executor": a.executor,
        "workers": a.workers or os.cpu_count(), "chunk_size": a.chunk_size,
        "rows_out": len(out), "load_s": round(t1 - t0, 2), "project_s": round(t2 - t1, 2),
        "peak_tree_rss_mb": round(mem.peak / 2**20),
    }
    print(json.dumps(row))
    return row


_TIME_RE = {"wall": re.compile(r"Elapsed \(wall clock\) time.*: (.+)$", re.MULTILINE),
            "maxrss_kb": re.compile(r"Maximum resident set size \(kbytes\): (\d+)", re.MULTILINE),
            "user": re.compile(r"User time \(seconds\): ([\d.]+)", re.MULTILINE),
            "sys": re.compile(r"System time \(seconds\): ([\d.]+)", re.MULTILINE)}


def _wall_seconds(text: str) -> float:
    parts = [float(x) for x in text.strip().split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def cmd_suite(a) -> None:
    import csv

    a.results.parent.mkdir(parents=True, exist_ok=True)
    configs = [(d, ex, w) for d in a.draws for ex, w in
               (("local", 1), ("local", 2), ("dask", 2))]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()} {os.cpu_count()} cores, " \
              f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GB"
    rows = []
    for draws, ex, w in configs:
        for rep in range(a.repeat):
            cmd = [sys.executable, str(Path(__file__)), "run", "--draws", str(draws),
                   "--executor", ex, "--workers", str(w), "--to", str(a.to),
                   "--ages", str(a.ages[0]), str(a.ages[1])]
            load0 = os.getloadavg()[0]
            res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                                 check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if res.returncode != 0:
                sys.stderr.write(res.stderr[-3000:])
                raise SystemExit(f"run failed: {' '.join(cmd)}")
            row = json.loads(res.stdout.strip().splitlines()[-1])
            row.update(date=stamp, machine=machine, repeat=rep, load_before=round(load0, 2),
                       time_wall_s=round(_wall_seconds(_TIME_RE["wall"].search(res.stderr)[1]), 2),
                       time_maxrss_mb=round(int(_TIME_RE["maxrss_kb"].search(res.stderr)[1]) / 1024),
                       cpu_s=round(float(_TIME_RE["user"].search(res.stderr)[1])
                                   + float(_TIME_RE["sys"].search(res.stderr)[1]), 1),
                       load_after=round(os.getloadavg()[0], 2),
                       command=" ".join(["python", "benchmarks/national_run.py", *cmd[2:]]))
            print(json.dumps(row), flush=True)
            rows.append(row)
    new = not a.results.exists()
    with a.results.open("a", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows(rows)
    print("\n| draws | executor | workers | wall s | project s | CPU s (user+sys) | "
          "peak tree RSS MB | max 1-process RSS MB | runs | 1-min load before/after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for draws, ex, w in configs:
        rs = [r for r in rows if r["draws"] == draws and r["executor"] == ex
              and r["workers"] == w]
        med = {k: statistics.median(r[k] for r in rs) for k in
               ("time_wall_s", "project_s", "cpu_s", "peak_tree_rss_mb", "time_maxrss_mb")}
        loads = ", ".join(f"{r['load_before']}/{r['load_after']}" for r in rs)
        print(f"| {draws} | {ex} | {w} | {med['time_wall_s']:.1f} | {med['project_s']:.1f} | "
              f"{med['cpu_s']:.1f} | {med['peak_tree_rss_mb']:.0f} | {med['time_maxrss_mb']:.0f} | "
              f"{len(rs)} | {loads} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("run", "suite"):
        p = sub.add_parser(name)
        p.add_argument("--to", type=int, default=2035, help="last projected year")
        p.add_argument("--ages", type=int, nargs=2, default=(0, 24), metavar=("FIRST", "LAST"),
                       help="ages kept in the output (default 0 24: school and college ages)")
        if name == "run":
            p.add_argument("--draws", type=int, default=100)
            p.add_argument("--start", type=int, default=2011, help="first projected year")
            p.add_argument("--seed", type=int, default=20101101)
            p.add_argument("--executor", default="local", choices=("serial", "local", "dask"))
            p.add_argument("--workers", type=int, default=None)
            p.add_argument("--address", default=None)
            p.add_argument("--chunk-size", type=int, default=100,
                           help="areas per task (default 100: demography's own streaming chunk, "
                                "so one task holds 100 × 2 × 101 × draws values per year)")
            p.add_argument("--out", default=None, help="write the summary frame (CSV)")
        else:
            p.add_argument("--draws", type=int, nargs="+", default=[100])
            p.add_argument("--repeat", type=int, default=3)
            p.add_argument("--results", type=Path, default=RESULTS,
                           help="CSV the rows are appended to")
    a = ap.parse_args(argv)
    cmd_run(a) if a.mode == "run" else cmd_suite(a)


if __name__ == "__main__":
    main()
