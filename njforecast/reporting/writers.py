"""Files a run writes besides the HTML report: figures, Excel workbooks and run provenance, each
written atomically (temporary file in the same folder + rename).

Public names:
    save_figure(fig, folder, stem)          ``stem.png`` (150 dpi) and ``stem.svg`` → [paths]
    write_excel(tables, path, assumptions_df, sources_df, lang)   one sheet per table, units in
                                            headers; headings, sheet names, status and quality
                                            in Chinese with lang='zh' (machine names kept)
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
from .labels import SHEETS, UNITS_ZH, column_label, label, value_label


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


def _unit(c: str, note: str | None) -> str | None:
    """The unit shown in column ``c``'s header (None: no unit)."""
    if c in COLUMN_UNITS:
        return COLUMN_UNITS[c]
    if (c in (S.TARGET, S.GAP, S.VALUE, *S.SUMMARY_COLUMNS) or c.startswith("projected_")
            or c == "diff_vs_baseline") and note:
        return note
    if c.endswith(("_lo80", "_hi80")) and c.rsplit("_", 1)[0] in COLUMN_UNITS:
        return COLUMN_UNITS[c.rsplit("_", 1)[0]]
    return None


def _header(c: str, unit: str | None, lang: str) -> str:
    """A workbook column heading: ``enrolment [persons]``; in Chinese the column's name, the
    machine name in brackets and the unit: ``在校生（enrolment）[人]``."""
    c = str(c)
    if lang == "zh":
        name = column_label(c, lang)
        c = c if name == c else f"{name}（{c}）"
        unit = None if unit is None else UNITS_ZH.get(unit, unit)
    return c if unit is None else f"{c} [{unit}]"


def _with_units(df: pd.DataFrame, summary_unit: str | None = None,
                lang: str = "en") -> pd.DataFrame:
    """Column headers with units: ``enrolment [persons]``; summary columns take the row's
    ``unit`` column ("see unit column") or ``summary_unit``; ``lang`` 'zh': see
    :func:`_header`."""
    note = "see unit column" if S.UNIT in df.columns else summary_unit
    return df.rename(columns={c: _header(c, _unit(c, note), lang) for c in df.columns})


def sheet_name(name: str, lang: str = "en") -> str:
    """The sheet of table ``name``: the name itself; in Chinese ``规划目标对照（target_gaps）``
    (the name alone when it has no Chinese name or the two exceed Excel's 31 characters)."""
    zh = SHEETS.get(name) if lang == "zh" else None
    full = f"{zh}（{name}）" if zh else name
    return full if len(full) <= 31 else name


#: display formats of float cells (the stored values keep full precision): probabilities
#: with two decimals, plan targets and observed values as given (up to 3 decimals: 92.09),
#: every other number with one decimal and thousands separators
NUMBER_FORMATS = {S.P_MEET: "0.00", S.P_OVER: "0.00", S.TARGET: "#,##0.0##",
                  S.ACTUAL: "#,##0.0##"}
DEFAULT_NUMBER_FORMAT = "#,##0.0"


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path,
                assumptions_df: pd.DataFrame | None = None,
                sources_df: pd.DataFrame | None = None, lang: str = "en") -> Path:
    """One sheet per table (units in headers) plus an 'assumptions_sources' sheet; atomic.

    Float cells keep full precision and display with :data:`NUMBER_FORMATS` (default
    :data:`DEFAULT_NUMBER_FORMAT`: 7133.333… shows as 7,133.3).

    Args:
        tables: sheet name (≤ 31 characters) → frame.
        path: the .xlsx file.
        assumptions_df, sources_df: stacked on the 'assumptions_sources' sheet.
        lang: 'en', or 'zh' for Chinese sheet names (:func:`sheet_name`), headings
            (:func:`_header`) and, on the target sheets, status and quality values.
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
        formats = {f: wb.add_format({"num_format": f})
                   for f in {DEFAULT_NUMBER_FORMAT, *NUMBER_FORMATS.values()}}
        for name, df in tables.items():
            if lang == "zh" and S.STATUS in df.columns and S.TARGET in df.columns:
                df = df.assign(**{c: df[c].map(lambda v, c=c: value_label(c, v, lang))
                                  for c in (S.STATUS, S.QUALITY) if c in df.columns})
            fmts = [formats[NUMBER_FORMATS.get(c, DEFAULT_NUMBER_FORMAT)] for c in df.columns]
            out = _with_units(df, TABLE_UNITS.get(name), lang)
            ws = wb.add_worksheet(sheet_name(name, lang))
            _write_frame(ws, out, 0, head, fmts)
            ws.freeze_panes(1, 0)
            for j, h in enumerate(out.columns):
                ws.set_column(j, j, min(max(len(str(h)), 8) + 2, 60))
        ws = wb.add_worksheet(sheet_name("assumptions_sources", lang))
        row = 0
        for title, df in (("assumptions_title", assumptions_df), ("sources_title", sources_df)):
            if df is None:
                continue
            ws.write_string(row, 0, label(title, lang), head)
            _write_frame(ws, df.rename(columns=lambda c: _header(c, None, lang)), row + 1, head,
                         [formats[DEFAULT_NUMBER_FORMAT]] * len(df.columns))
            row += len(df) + 4
        ws.freeze_panes(2 if row else 1, 0)  # the first title and header rows
        if row == 0:
            _write_frame(ws, pd.DataFrame({_header("note", None, lang):
                                           [label("no_assumptions", lang)]}), 0, head)
        wb.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_frame(ws, df: pd.DataFrame, row: int, head_format, number_formats=None) -> None:
    """``df`` at ``row`` of an XlsxWriter sheet: a header row, then one row per record
    (numbers as numbers, floats displayed with ``number_formats[j]`` when given, booleans as
    booleans, missing values as empty cells)."""
    import numpy as np

    ws.write_row(row, 0, [str(c) for c in df.columns], head_format)
    for j, c in enumerate(df.columns):
        col = df[c]
        if col.dtype.kind == "f":
            v = col.to_numpy()
            fmt = None if number_formats is None else number_formats[j]
            for i in np.flatnonzero(np.isfinite(v)):
                ws.write_number(row + 1 + i, j, v[i], fmt)
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
