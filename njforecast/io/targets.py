"""A planner's targets file (any plan): read, check every row, return the targets frame.

Public names:
    validate_targets(path, known, base_year, region[, end_year, config])
                                                     → (targets frame or None, problems)
    load_targets(path, known, base_year, region[, end_year, config])
                                                     → targets frame (raises ValidationError)
    empty_targets()                                  → a targets frame with no rows
    PERIOD_PLACEHOLDER                               ``YYYY_YYYY`` in a known id: a plan period

Format (README "Targets for any plan"): a long CSV or xlsx, one row per target, columns
``area, indicator, target_year, comparison, target, unit`` (required) and ``note``, ``binding``
(binding / expected / …), ``indicator_zh`` (optional). The file is read by the validation
package's reader (encodings, xlsx, header on row 1) and every broken rule is a
:class:`~njforecast.io.validation.Problem` naming the spreadsheet row, the column and the fix:

* ``indicator`` must be a known id (``known``: id → unit, built by
  :func:`njforecast.planning.targets.target_indicators`); an id containing
  :data:`PERIOD_PLACEHOLDER` stands for any plan period, e.g. ``teachers_added_2026_2030``
  (first year ≤ last year; the target year is the period's last year);
* ``comparison`` is one of at_least / at_most / about;
* ``unit`` agrees with the indicator's unit (percent ids in percent, counts in persons;
  ``pct`` and ``%`` are accepted spellings of percent);
* ``target_year`` is a whole year, not before the jump-off year ``base_year``, not after
  :data:`njforecast.config.MAX_END_YEAR` (the last year the engine can project) nor the run's
  ``end_year`` when given (a target the run does not reach could not be compared);
* ``target`` is a number (no ``%`` sign, no thousands separators) in its unit's range
  (:func:`njforecast.io.validation.bounds.bound_problem`, the observations' rule: ≥ 0, a
  percentage at most ``schema.MAX_PERCENT``);
* ``area`` is a code of the region (the region code or one of its areas);
* one area / indicator / year has one target: two rows that disagree are an error, identical
  repeats a warning (the first is kept).

The frame returned has the columns of :func:`njforecast.io.plan.load_plan_targets` (area,
indicator, indicator_zh, stage, unit, target_year, target, target_text, kind, binding,
comparison, baseline columns absent, source) so the engine and the comparison need no change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import load_region
from ..config import MAX_END_YEAR
from .validation.bounds import bound_problem
from .validation.known import known_areas
from .validation.problems import Problem, ValidationError, _errors, sort_problems
from .validation.read import _NA_TOKENS, _norm_header, _read_table

#: In a known id, stands for a plan period ``<first year>_<last year>``.
PERIOD_PLACEHOLDER = "YYYY_YYYY"

_REQUIRED = S.TARGETS_FILE_REQUIRED
_OPTIONAL = S.TARGETS_FILE_OPTIONAL
_MEANING = {S.AREA: "division code, e.g. 511000", S.INDICATOR: "e.g. preschool_ger_3y "
            "(njforecast targets list)", S.TARGET_YEAR: "e.g. 2030",
            S.COMPARISON: "at_least, at_most or about", S.TARGET: "a number, e.g. 95",
            S.UNIT: "percent or persons, as the indicator's"}


def _unit(u: str) -> str:
    """A unit as written → its canonical name (``pct``/``%`` → percent)."""
    u = u.strip().lower()
    return S.UNIT_ALIASES.get(u, u)


def _matcher(known: Mapping[str, str]):
    """id → (expected unit or None, period (first, last) or None, problem text or None)."""
    exact = {k: v for k, v in known.items() if PERIOD_PLACEHOLDER not in k}
    patterns = [(re.compile("^" + re.escape(k).replace(PERIOD_PLACEHOLDER, r"(\d{4})_(\d{4})")
                            + "$"), k, v) for k, v in known.items() if PERIOD_PLACEHOLDER in k]

    def match(ind: str):
        if ind in exact:
            return exact[ind], None, None
        for rx, tmpl, unit in patterns:
            m = rx.match(ind)
            if m:
                y0, y1 = int(m[1]), int(m[2])
                if y0 > y1:
                    fixed = tmpl.replace(PERIOD_PLACEHOLDER, f"{y1}_{y0}")
                    return unit, None, (f"plan period {y0}–{y1} in '{ind}' ends before it "
                                        "starts", f"write {fixed} (first year, then last)")
                return unit, (y0, y1), None
        return None, None, None

    return match


def validate_targets(path: str | Path, known: Mapping[str, str], base_year: int,
                     region: str, end_year: int | None = None,
                     config: str = "the config") -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read and check a targets file; never raises for bad content.

    Args:
        path: CSV or xlsx (first sheet).
        known: indicator id → unit of every id a target may use (``teachers_added_YYYY_YYYY``
            stands for any plan period).
        base_year: the jump-off year; no target may fall before it.
        region: region name; its codes are the areas a target may name.
        end_year: the run's last projected year; no target may fall after it (None: only
            :data:`~njforecast.config.MAX_END_YEAR`, the engine's last year, is checked).
        config: the config file named in the fix of a target after ``end_year``.

    Returns:
        (the targets frame, or None when there is any error; every problem, warnings included).
    """
    f = str(path)
    df, _enc, problems = _read_table(path)
    if df is None:
        return None, problems
    rows = np.asarray(df.index, dtype=int)
    cols: dict[str, pd.Series] = {}
    raw_name: dict[str, str] = {}
    for col in df.columns:
        n = _norm_header(col)
        if n in (*_REQUIRED, *_OPTIONAL) and n not in cols:
            cols[n], raw_name[n] = df[col].astype(str).str.strip(), col
            continue
        close = difflib.get_close_matches(n, [c for c in (*_REQUIRED, *_OPTIONAL)
                                              if c not in cols], 1, 0.7)
        hdr = int(rows.min()) - 1
        if close:
            problems.append(Problem(f, hdr, col, f"column '{col}' is not a known column name — "
                                    f"did you mean '{close[0]}'?", f"rename it to '{close[0]}'"))
        else:
            problems.append(Problem(f, hdr, col, f"column '{col}' is not used and is ignored",
                                    "targets columns: " + ", ".join((*_REQUIRED, *_OPTIONAL)),
                                    "warning"))
    missing = [c for c in _REQUIRED if c not in cols]
    for c in missing:
        problems.append(Problem(f, None, c, f"required column '{c}' is missing",
                                f"add a column named '{c}' ({_MEANING[c]})"))
    if missing:
        return None, sort_problems(problems)

    def add(i: int, col: str, msg: str, fix: str, severity: str = "error") -> None:
        problems.append(Problem(f, int(rows[i]), raw_name.get(col, col), msg, fix, severity))

    reg = load_region(region)
    ka = known_areas(region)
    region_codes = list(dict.fromkeys([reg.code, *[a.code for a in reg.areas]]))
    match = _matcher(known)
    ids = ", ".join(sorted(known))
    recs: list[dict | None] = []
    for i in range(len(df)):
        ok = True
        area_raw = re.sub(r"^(\d+)\.0+$", r"\1", cols[S.AREA].iat[i])
        area = ka.canonical.get(area_raw)
        if area is None:
            add(i, S.AREA, *ka.hint(area_raw))
            ok = False
        elif area not in region_codes:
            add(i, S.AREA, f"area {area} is not in region {region}",
                "use the region code or one of its areas: " + ", ".join(region_codes))
            ok = False
        ind = cols[S.INDICATOR].iat[i]
        unit_exp, period, bad_period = match(ind)
        if unit_exp is None:
            close = difflib.get_close_matches(ind, list(known), 1, 0.75)
            add(i, S.INDICATOR, f"unknown indicator '{ind}'" if ind else "indicator is empty",
                f"did you mean '{close[0]}'? (`njforecast targets list` shows every id)" if close
                else f"known ids (`njforecast targets list`): {ids}")
            ok = False
        elif bad_period:
            add(i, S.INDICATOR, *bad_period)
            ok = False
        comp = cols[S.COMPARISON].iat[i].strip().lower()
        if comp not in S.COMPARISONS:
            close = difflib.get_close_matches(comp, S.COMPARISONS, 1, 0.6)
            add(i, S.COMPARISON, f"comparison '{cols[S.COMPARISON].iat[i]}' is not "
                "at_least, at_most or about",
                f"write {close[0]}" if close else "write at_least (target is a floor), at_most "
                "(a ceiling) or about (within 5 %)")
            ok = False
        unit = _unit(cols[S.UNIT].iat[i])
        if unit_exp is not None and unit != unit_exp:
            add(i, S.UNIT, f"unit/indicator mismatch: '{ind}' is in {unit_exp} but unit is "
                f"'{cols[S.UNIT].iat[i]}'", f"set unit to {unit_exp} (and the target in "
                f"{unit_exp})")
            ok = False
        ytext = cols[S.TARGET_YEAR].iat[i]
        year = pd.to_numeric(ytext, errors="coerce")
        if pd.isna(year) or year % 1 != 0 or not S.MIN_YEAR <= year <= S.MAX_YEAR:
            add(i, S.TARGET_YEAR, f"target year '{ytext}' is not a year",
                "write the year as four digits, e.g. 2030")
            ok = False
        elif year < base_year:
            add(i, S.TARGET_YEAR, f"target year {int(year)} is before the jump-off year "
                f"{base_year}", f"targets must fall in {base_year} or later; drop the row or fix "
                "the year")
            ok = False
        elif period is not None and int(year) != period[1]:
            add(i, S.TARGET_YEAR, f"target year {int(year)} is not the last year of the plan "
                f"period in '{ind}'", f"write {period[1]}")
            ok = False
        elif year > MAX_END_YEAR:
            add(i, S.TARGET_YEAR, f"target year {int(year)} is after {MAX_END_YEAR}, the last "
                "year the engine can project (its demographic inputs end there)",
                f"drop the row or give a target year up to {MAX_END_YEAR}")
            ok = False
        elif end_year is not None and year > end_year:
            add(i, S.TARGET_YEAR, f"target year {int(year)} is after the run's end_year "
                f"{end_year}", f"raise end_year in {config} (at most {MAX_END_YEAR}) or drop "
                "the row")
            ok = False
        ttext = cols[S.TARGET].iat[i]
        target = pd.to_numeric(ttext, errors="coerce")  # "4,000" and "95%" are not numbers
        if ttext.lower() in _NA_TOKENS or not ttext:
            add(i, S.TARGET, "target is missing", "fill in the number, or delete the row")
            ok = False
        elif pd.isna(target) or not np.isfinite(target):
            fix = ("write the number without % and set unit to percent" if "%" in ttext else
                   f"write {ttext.replace(',', '')} without separators" if "," in ttext else
                   "write a plain number, e.g. 95 or 4000")
            add(i, S.TARGET, f"target '{ttext}' is not a number", fix)
            ok = False
        elif (bad := bound_problem("target", float(target), ttext, unit)) is not None:
            add(i, S.TARGET, *bad)
            ok = False
        recs.append({S.AREA: area, S.INDICATOR: ind, S.TARGET_YEAR: int(year),
                     S.TARGET: float(target), S.TARGET + "_text": ttext, S.COMPARISON: comp,
                     S.UNIT: unit, "row": i} if ok else None)
    good = [r for r in recs if r is not None]
    seen: dict[tuple, dict] = {}
    keep = []
    for r in good:
        key = (r[S.AREA], r[S.INDICATOR], r[S.TARGET_YEAR])
        if key not in seen:
            seen[key] = r
            keep.append(r)
            continue
        first = seen[key]
        if (first[S.TARGET], first[S.COMPARISON]) != (r[S.TARGET], r[S.COMPARISON]):
            add(r["row"], S.TARGET, f"conflicting targets for {key[0]} / {key[1]} / {key[2]}: "
                f"{first[S.COMPARISON]} {first[S.TARGET]:g} (row {rows[first['row']]}) and "
                f"{r[S.COMPARISON]} {r[S.TARGET]:g}", "keep one of the two rows")
        else:
            add(r["row"], None, f"repeats row {rows[first['row']]}", "delete the repeat",
                "warning")
    problems = sort_problems(problems)
    if _errors(problems):
        return None, problems

    def opt(name: str, default: str) -> list[str]:
        s = cols.get(name)
        return [(s.iat[r["row"]] or default) if s is not None else default for r in keep]

    zh = opt(S.INDICATOR_ZH, "")
    notes = opt(S.NOTE, "")
    source = Path(f).name
    out = pd.DataFrame({
        S.AREA: [r[S.AREA] for r in keep],
        S.INDICATOR: [r[S.INDICATOR] for r in keep],
        S.INDICATOR_ZH: zh,
        "stage": "",
        S.UNIT: [r[S.UNIT] for r in keep],
        S.TARGET_YEAR: np.array([r[S.TARGET_YEAR] for r in keep], dtype="int64"),
        S.TARGET: np.array([r[S.TARGET] for r in keep], dtype=float),
        "target_text": [r[S.TARGET + "_text"] for r in keep],
        "kind": "value",
        "binding": opt("binding", ""),
        S.COMPARISON: [r[S.COMPARISON] for r in keep],
        S.SOURCE: [f"{source}, row {rows[r['row']]}" + (f"; {n}" if n else "")
                   for r, n in zip(keep, notes, strict=True)],
    })
    return out, problems


TARGETS_COLUMNS = [S.AREA, S.INDICATOR, S.INDICATOR_ZH, "stage", S.UNIT, S.TARGET_YEAR, S.TARGET,
                   "target_text", "kind", "binding", S.COMPARISON, S.SOURCE]


def empty_targets() -> pd.DataFrame:
    """A targets frame with no rows (a region that names no targets)."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == S.TARGET_YEAR else float
                                      if c == S.TARGET else object) for c in TARGETS_COLUMNS})


def load_targets(path: str | Path, known: Mapping[str, str], base_year: int,
                 region: str, end_year: int | None = None,
                 config: str = "the config") -> pd.DataFrame:
    """A planner's targets file as a targets frame (see :func:`validate_targets`, which also
    explains the arguments).

    Returns:
        Columns area, indicator, indicator_zh, stage, unit, target_year (int), target (float,
        the unit's), target_text, kind ("value"), binding, comparison, source (file, row and
        the row's note), in file order.

    Raises:
        ValidationError: the file has errors (every problem listed, file:row:column: message
            — fix).
    """
    frame, problems = validate_targets(path, known, base_year, region, end_year, config)
    if frame is None:
        raise ValidationError(problems)
    return frame
