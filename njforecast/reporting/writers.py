"""Files a run writes besides the HTML report: figures, Excel workbooks and run provenance, each
written atomically (temporary file in the same folder + rename).

Public names:
    save_figure(fig, folder, stem)          ``stem.png`` (150 dpi) and ``stem.svg`` → [paths]
    write_excel(tables, path, assumptions_df, sources_df)   one sheet per table, units in headers
    run_info(results)                       provenance dict (package, git commit, data hash, config)
    write_run_info(results, path)           :func:`run_info` as JSON
    COLUMN_UNITS, TABLE_UNITS               units shown in Excel and HTML headers

CSV tables are written with ``io.store.write_csv_atomic``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .. import schema as S
from .figures import save_figure_bytes


def _atomic_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_figure(fig, folder: str | Path, stem: str) -> list[Path]:
    """Write ``stem.png`` (150 dpi) and ``stem.svg`` atomically; close the figure."""
    return [_atomic_bytes(Path(folder) / f"{stem}.{ext}", data)
            for ext, data in save_figure_bytes(fig).items()]


#: unit of each column, shown in Excel/HTML headers ("enrolment [persons]").
COLUMN_UNITS = {S.POPULATION: "persons", S.ENROLMENT: "persons", S.SEATS: "places",
                S.UTILISATION: "%", S.DEMAND: "teachers", S.SUPPLY: "teachers",
                S.HIRES_NEEDED: "teachers", S.SURPLUS: "teachers",
                S.RATIO: "pupils per teacher", S.P_MEET: "probability 0–1"}


#: unit of the summary columns (mean, lo80, …) of tables without a ``unit`` column.
TABLE_UNITS = {"population_school_age": "persons", "enrolment": "persons",
               "scenario_targets": "target's unit"}


def _with_units(df: pd.DataFrame, summary_unit: str | None = None) -> pd.DataFrame:
    """Column headers with units: ``enrolment [persons]``; summary columns take the row's
    ``unit`` column ("see unit column") or ``summary_unit``."""
    note = "see unit column" if S.UNIT in df.columns else summary_unit
    ren = {}
    for c in df.columns:
        if c in COLUMN_UNITS:
            ren[c] = f"{c} [{COLUMN_UNITS[c]}]"
        elif (c in (S.TARGET, S.GAP, S.VALUE, *S.SUMMARY_COLUMNS) or c.startswith("projected_")
              or c == "diff_vs_baseline") and note:
            ren[c] = f"{c} [{note}]"
        elif c.endswith(("_lo80", "_hi80")) and c.rsplit("_", 1)[0] in COLUMN_UNITS:
            ren[c] = f"{c} [{COLUMN_UNITS[c.rsplit('_', 1)[0]]}]"
    return df.rename(columns=ren)


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path,
                assumptions_df: pd.DataFrame | None = None,
                sources_df: pd.DataFrame | None = None) -> Path:
    """One sheet per table (units in headers) plus an 'assumptions_sources' sheet; atomic.

    Args:
        tables: sheet name (≤ 31 characters) → frame.
        path: the .xlsx file.
        assumptions_df, sources_df: stacked on the 'assumptions_sources' sheet.
    """
    path = Path(path)
    for name in tables:
        if len(name) > 31 or not name:
            raise ValueError(f"Excel sheet name {name!r} must have 1–31 characters")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".xlsx")
    os.close(fd)
    try:
        import xlsxwriter

        # XlsxWriter cell by cell, a column at a time: several times faster than openpyxl at
        # writing and about 40 % faster than going through pandas.to_excel (same cells)
        wb = xlsxwriter.Workbook(tmp, {"nan_inf_to_errors": True})
        head = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "top"})
        for name, df in tables.items():
            out = _with_units(df, TABLE_UNITS.get(name))
            ws = wb.add_worksheet(name)
            _write_frame(ws, out, 0, head)
            ws.freeze_panes(1, 0)
            for j, h in enumerate(out.columns):
                ws.set_column(j, j, min(max(len(str(h)), 8) + 2, 60))
        ws = wb.add_worksheet("assumptions_sources")
        row = 0
        for title, df in (("Assumptions", assumptions_df), ("Data sources and quality",
                                                             sources_df)):
            if df is None:
                continue
            ws.write_string(row, 0, title, head)
            _write_frame(ws, df, row + 1, head)
            row += len(df) + 4
        if row == 0:
            _write_frame(ws, pd.DataFrame({"note": ["no assumptions recorded"]}), 0, head)
        wb.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_frame(ws, df: pd.DataFrame, row: int, head_format) -> None:
    """``df`` at ``row`` of an XlsxWriter sheet: a header row, then one row per record
    (numbers as numbers, booleans as booleans, missing values as empty cells)."""
    import numpy as np

    ws.write_row(row, 0, [str(c) for c in df.columns], head_format)
    for j, c in enumerate(df.columns):
        col = df[c]
        if col.dtype.kind == "f":
            v = col.to_numpy()
            for i in np.flatnonzero(np.isfinite(v)):
                ws.write_number(row + 1 + i, j, v[i])
            for i in np.flatnonzero(np.isinf(v)):
                ws.write(row + 1 + i, j, v[i])
        else:
            missing = col.isna().to_numpy()
            ws.write_column(row + 1, j, [None if m else v for m, v in
                                         zip(missing, col.astype(object).tolist(), strict=True)])


def _git_commit(where: Path) -> dict[str, object]:
    """Commit of the source tree at ``where`` and whether it has uncommitted changes (None
    when git or the repository is not available)."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(where), *args], capture_output=True,
                               text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def run_info(results) -> dict:
    """Provenance of one run's outputs (so stale outputs can be recognised).

    Keys: package_version, git_commit (None outside a git checkout), git_dirty (tracked files
    changed since that commit), data_hash (sha256 of the bundled inputs,
    ``pipeline.data_hash``), config_path, config_text (the TOML file as read, None when the
    config was built in code), config (the parsed config incl. tables), scenario, region,
    seed, draws, base_year, end_year, created_utc (ISO 8601, seconds).
    """
    import dataclasses
    import datetime as dt

    from .. import __version__

    cfg = results.config
    text = None
    if cfg.path and Path(cfg.path).is_file():
        text = Path(cfg.path).read_text(encoding="utf-8")
    return {
        "package_version": __version__,
        **_git_commit(Path(__file__).resolve().parent.parent),
        "data_hash": results.data_hash,
        "config_path": None if cfg.path is None else str(cfg.path),
        "config_text": text,
        "config": dataclasses.asdict(cfg),
        "scenario": results.scenario,
        "region": results.region.code,
        "seed": cfg.seed, "draws": cfg.draws,
        "base_year": cfg.base_year, "end_year": cfg.end_year,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_run_info(results, path: str | Path) -> Path:
    """Write :func:`run_info` as JSON atomically (temporary file + rename)."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(run_info(results), indent=2, ensure_ascii=False, sort_keys=True,
                      default=str) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
