"""Scale benchmark (not a test): wall time and peak memory of the national census back-test.

Usage (from the repository root):
    python benchmarks/national_census_backtest.py [--runs 2]

Census A is the bundled 2010 county table, all of China (2,857 county-level codes). Only
Sichuan's 2020 county table is bundled, so census B is **SYNTHETIC**: the 2010 table's own
rows (every coded row, same counts) relabelled as census year 2020 and written, in the 2020
layout that :func:`njforecast.io.store.load_census` reads (区划代码, 区县, 人口数_合计/男/女,
男_0岁, 女_0岁, 男_1到4岁 … 女_85岁以上), to a temporary CSV built here. The back-test's
errors against it mean nothing (it "scores" the projection against the base year); only the
time and memory do, and they are those of the real national run: the same 2,857 counties go
through the same loader, exclusions, engine, Hamilton-Perry and scoring.

Each run is a fresh Python process (``--child``) with ``NJFORECAST_DATA`` pointing at a
temporary data directory whose ``raw`` and ``external`` are links to the repository's and
whose ``processed`` starts empty: run 1 is cold (parses the 2010 xlsx and the synthetic CSV,
as a first run on a new machine does), later runs are warm (parsed frames cached, as every
later run). Reported per run: wall time of the whole process (imports included) and of the
``census_backtest`` call alone, CPU time (user + system), peak resident memory (max RSS), the
counties scored and a checksum of the rows (sum of every method's column) that any speed-up
must leave unchanged. A last, warm run is the user's command, ``njforecast demography
backtest --level county`` (timed by ``/usr/bin/time``; its checksum from the rows CSV it
writes). Appends to ``benchmarks/results/national_census_backtest.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from njforecast import schema as S  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "national_census_backtest.csv"
METHODS = ("projected", "province_only", "hamilton_perry", "naive", "actual")


def _header(sex: str, label: str) -> str:
    """2020-layout age header: ("male", "1-4") → 男_1到4岁, ("female", "85+") → 女_85岁以上."""
    zh = {"male": "男", "female": "女"}[sex]
    if label.endswith("+"):
        return f"{zh}_{label[:-1]}岁以上"
    return f"{zh}_{label.replace('-', '到')}岁"


def synthetic_2020(base: Path, dest: Path) -> Path:
    """SYNTHETIC: the 2010 table's coded rows relabelled census 2020, in the 2020 CSV layout."""
    from njforecast.io.store import load_census, load_census_areas

    pop = load_census(base)
    areas = load_census_areas(base).drop_duplicates(S.AREA).set_index(S.AREA)
    wide = pop.pivot_table(index=S.AREA, columns=[S.SEX, S.AGE_GROUP], values=S.POPULATION,
                           aggfunc="sum", sort=False)
    wide.columns = [_header(s, g) for s, g in wide.columns]
    order = [_header(s, g) for g in S.AGE_GROUP_LABELS for s in S.SEXES]
    out = pd.DataFrame({"区划代码": wide.index,
                        "区县": areas["name_zh"].reindex(wide.index).to_numpy(),
                        "人口数_合计": areas["total"].reindex(wide.index).to_numpy(),
                        "人口数_男": areas["male"].reindex(wide.index).to_numpy(),
                        "人口数_女": areas["female"].reindex(wide.index).to_numpy()})
    out = pd.concat([out, wide[order].reset_index(drop=True)], axis=1)
    out.to_csv(dest, index=False, encoding="utf-8")
    return dest


def child(base: str, actual: str) -> None:
    """One timed back-test in this process; prints a JSON line."""
    from njforecast.evaluation.census_backtest import census_backtest

    t0 = time.perf_counter()
    res = census_backtest(base, actual)
    secs = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"backtest_s": round(secs, 2), "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
                      "peak_mb": round(ru.ru_maxrss / 1024), "counties": res.rows["area_code"]
                      .nunique(), "excluded": len(res.excluded),
                      "checksum": _checksum(res.rows)}))


def _checksum(rows: pd.DataFrame) -> str:
    return repr(float(sum(rows[m].sum() for m in METHODS)))


def cli_run(base: Path, actual: Path, tmp: Path, env: dict) -> dict:
    """The warm CLI command under ``/usr/bin/time``: wall, CPU, peak memory, checksum."""
    out, stats = tmp / "rows.csv", tmp / "time.txt"
    cmd = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(stats),
           str(Path(sys.executable).parent / "njforecast"), "demography", "backtest",
           "--level", "county", "--base", str(base), "--actual", str(actual), "--output", str(out)]
    subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall, user, sys_, kb = stats.read_text().split()[-4:]
    rows = pd.read_csv(out, dtype={"area_code": str})
    return {"wall_s": round(float(wall), 1), "cpu_s": round(float(user) + float(sys_), 2),
            "peak_mb": round(int(kb) / 1024), "counties": rows["area_code"].nunique(),
            "checksum": _checksum(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="processes: 1 cold, the rest warm")
    ap.add_argument("--child", nargs=2, metavar=("BASE", "ACTUAL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    base = ROOT / "data" / "raw" / "census" / "census_county_2010.xlsx"
    rows = []
    with tempfile.TemporaryDirectory(prefix="njf-national-bt-") as tmp:
        tmp = Path(tmp)
        actual = synthetic_2020(base, tmp / "census_county_2020_SYNTHETIC.csv")
        data = tmp / "data"
        (data / "processed").mkdir(parents=True)
        for sub in ("raw", "external"):
            (data / sub).symlink_to(ROOT / "data" / sub)
        env = {**os.environ, "NJFORECAST_DATA": str(data), "PYTHONPATH": str(ROOT)}
        for run in range(args.runs):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, __file__, "--child", str(base), str(actual)],
                                  env=env, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            rec = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append({"date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                         "run": "cold" if run == 0 else "warm", "wall_s": round(wall, 1),
                         **rec, "load_avg_1m": round(os.getloadavg()[0], 1)})
            print(rows[-1], flush=True)
        rows.append({"date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                     "run": "warm, CLI", **cli_run(base, actual, tmp, env),
                     "load_avg_1m": round(os.getloadavg()[0], 1)})
    df = pd.DataFrame(rows)
    OUT.parent.mkdir(exist_ok=True)
    df.to_csv(OUT, mode="a", header=not OUT.is_file(), index=False)
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
