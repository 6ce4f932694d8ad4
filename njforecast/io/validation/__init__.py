"""Check a planner's own observations or population file and report every problem.

Public names:
    Problem                      one finding: file, row, column, message, fix, severity
    ValidationError              DataError carrying the list of problems
    read_table(path)             CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030) or xlsx (first
                                 sheet) → frame of strings indexed by spreadsheet row number
    KnownAreas, known_areas(region)
                                 accepted area ids: census codes, region codes, province codes,
                                 the bundled slugs; names only as hints (names are never accepted)
    known_indicators()           indicator names of the bundled observations and plan tables
    validate_observations(df, path, known)   → list[Problem]
    validate_population(df, path, known)     → list[Problem]
    validate_file(path, kind, region)        → Report (kind, normalised frame, problems)
    load_user_observations(path, region)     → observations frame (validated; unit normalised)
    read_user_observations(path, region)     → (that frame, the warnings)
    load_user_population(path, region)       → population frame (validated)
    format_problems(problems, limit)         → printable lines ``file:row:column: message — fix``
    Report, input_files(paths)               a file's outcome; the files a path names

Modules: :mod:`.problems` (Problem, ValidationError, formatting), :mod:`.read` (encodings, xlsx,
header row, column vocabularies), :mod:`.known` (accepted area ids, known indicator names),
:mod:`.rules` (observation and population rules), :mod:`.unused` (rows a run does not read),
:mod:`.bounds` (a figure's range by unit, shared with targets files).
This facade reads, checks and loads whole files and re-exports the names above.

Rules (README "Bringing your own county series"):
    * Rows are numbered as a spreadsheet shows them: the header is row 1 when it is on the first
      line, data start on row 2. Frames from :func:`read_table` carry these numbers in their
      index (named ``row``); any other frame is taken to have its header on row 1.
    * The header must be the first row. It is searched for among the first 10 rows so that the
      rest of the file can still be checked, but a non-blank row above it is an error ("header
      found on row N; delete the rows above it"): title rows often carry a unit note such as
      ``单位：万人`` that changes what every value means, so they are never skipped silently.
      Blank rows above the header only give a warning.
    * Areas are division codes (GB/T 2260): every code in the bundled census tables (2010
      national, 2020 Sichuan and provinces), the region file's codes (including region-defined
      ones like ``511000-CR`` and former codes like ``511028``) and the province codes. The
      bundled slugs (``sichuan``, ``zizhong``) are accepted too. Names (资中县, Zizhong) are
      rejected — several areas share a name (several districts are called 市中区) — and the message
      shows the code when the name is known.
    * Percentages must lie in 0–``schema.MAX_PERCENT`` (200): a GER may exceed 100 %, but more
      than 200 is almost surely a count or a per-mille figure in a percent column. Per-mille
      rates lie in 0–1000. Counts are ≥ 0; a fractional count is a warning (万人 instead of 人?).
    * A percent series (area, indicator) whose values all lie in (0, 1.5] is written as
      fractions: an error for rates of tens of percent (GER, enrolment, consolidation,
      transition, urbanisation: "multiply by 100"), a warning for other percentages (a dropout
      rate may be that small).
    * Rows a run would not read are named, one warning per kind with the rows: an indicator
      the project does not know (:func:`known_indicators`; with the closest known name) and an
      area outside the region (another prefecture's or county's code; province and national
      codes are read as context series). The reader's indicator vocabulary is open — bundled
      files carry many series no stage reads — so an unknown name is a warning, not an error.
    * Years are whole numbers in ``schema.MIN_YEAR``–``schema.MAX_YEAR``.
    * Duplicate keys (area, year, indicator[, source]) with different values are errors;
      identical duplicates are warnings.

Why not pandera alone: its failure cases name a positional index and a check name; a planner
needs the spreadsheet row, the column and the fix. The normalised frames returned by the
loaders are still checked against the pandera contracts in :mod:`njforecast.schema`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ... import schema as S
from ..store import DataError
from .known import KnownAreas, known_areas, known_indicators
from .problems import MAX_PRINTED, Problem, ValidationError, _errors, format_problems, sort_problems
from .read import (
    _SYNONYMS,
    HEADER_SEARCH_ROWS,
    KINDS,
    OBSERVATIONS,
    POPULATION,
    ROW,
    _norm_header,
    _read_table,
    read_table,
)
from .rules import _check_observations, _check_population, validate_observations, validate_population
from ...config import DEFAULT_REGION

__all__ = [
    "HEADER_SEARCH_ROWS", "KINDS", "MAX_PRINTED", "OBSERVATIONS", "POPULATION", "ROW",
    "KnownAreas", "Problem", "Report", "ValidationError", "format_problems", "input_files",
    "known_areas", "known_indicators", "load_user_observations", "load_user_population",
    "read_table", "read_user_observations",
    "sort_problems", "validate_file", "validate_observations", "validate_population",
]


@dataclass
class Report:
    """Outcome of validating one file."""

    path: str
    kind: str | None
    frame: pd.DataFrame | None
    problems: list[Problem]
    encoding: str = ""

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.frame is not None and not _errors(self.problems)

    def summary(self) -> str:
        """One line: "ok: FILE — observations, 120 rows, 6 areas, 2015–2023, 4 indicators"."""
        df = self.frame
        y0, y1 = int(df[S.YEAR].min()), int(df[S.YEAR].max())
        years = f"{y0}" if y0 == y1 else f"{y0}–{y1}"
        n_area = df[S.AREA].nunique()
        parts = [self.kind, f"{len(df):,} rows", f"{n_area} area{'s' * (n_area != 1)}", years]
        if self.kind == OBSERVATIONS:
            parts.append(f"{df[S.INDICATOR].nunique()} indicators")
        else:
            parts.append(f"{df[S.SEX].nunique()} sexes")
            if S.AGE in df.columns:
                parts.append(f"ages {df[S.AGE].min()}–{df[S.AGE].max()}")
            else:
                parts.append(f"{df[S.AGE_GROUP].nunique()} age groups")
        n_warn = len(self.problems)
        if n_warn:
            parts.append(f"{n_warn} warning{'s' * (n_warn != 1)}")
        if self.encoding not in ("", "UTF-8", "UTF-8 with BOM", "xlsx"):
            parts.append(f"read as {self.encoding}")
        return f"ok: {self.path} — " + ", ".join(parts)


def _guess_kind(df: pd.DataFrame, path: str) -> tuple[str | None, list[Problem]]:
    names = {_norm_header(c) for c in df.columns}
    names |= {_SYNONYMS[n] for n in names if n in _SYNONYMS}
    obs = len(names & {S.INDICATOR, S.VALUE, S.UNIT, S.QUALITY, "source_url"})
    pop = len(names & {S.SEX, S.AGE, S.AGE_GROUP, S.POPULATION, S.CENSUS_YEAR})
    if obs == pop:
        for n in list(names):
            close = difflib.get_close_matches(n, [S.INDICATOR, S.VALUE, S.SEX, S.AGE_GROUP,
                                                  S.POPULATION], 1, 0.7)
            if close:
                obs += close[0] in (S.INDICATOR, S.VALUE)
                pop += close[0] not in (S.INDICATOR, S.VALUE)
    if obs == pop:
        return None, [Problem(path, None, None, "cannot tell whether this is an observations or "
                              f"a population file (columns: {', '.join(map(str, df.columns))})",
                              "pass --kind observations or --kind population, and name the "
                              "columns as the README shows")]
    return (OBSERVATIONS if obs > pop else POPULATION), []


def validate_file(path: str | Path, kind: str = "auto", region: str = DEFAULT_REGION) -> Report:
    """Read and check one user file; never raises for bad content.

    Args:
        path: CSV or xlsx file.
        kind: "observations", "population" or "auto" (decided from the column names).
        region: region whose codes, plan ids and names are known (besides every census code).

    Returns:
        :class:`Report` with the normalised frame (None when there are errors) and every
        problem, warnings included.
    """
    if kind not in (*KINDS, "auto"):
        raise ValueError(f"kind must be observations, population or auto, not {kind!r}")
    f = str(path)
    df, enc, problems = _read_table(path)
    if df is None:
        return Report(f, None, None, problems, enc)
    if kind == "auto":
        kind, more = _guess_kind(df, f)
        if kind is None:
            return Report(f, None, None, problems + more, enc)
    if kind == OBSERVATIONS:
        frame, more = _check_observations(df, f, known_areas(region), known_indicators())
    else:
        frame, more = _check_population(df, f, known_areas(region))
    problems = sort_problems(problems + more)
    if _errors(problems):
        frame = None
    return Report(f, kind, frame, problems, enc)


def input_files(paths: list[str | Path]) -> list[Path]:
    """Files to validate: each path as given, a folder as its .csv/.xlsx files (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file()
                           and q.suffix.lower() in (".csv", ".xlsx", ".tsv", ".txt"))
            if not found:
                raise DataError(f"{p}: folder has no .csv or .xlsx files")
            out.extend(found)
        else:
            out.append(p)
    return out


def _load(path: str | Path, kind: str, region: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The validated frame and its warnings (the caller shows them: the CLI prints them)."""
    rep = validate_file(path, kind, region)
    if not rep.ok:
        raise ValidationError(rep.problems)
    return rep.frame, rep.problems


def load_user_observations(path: str | Path, region: str = DEFAULT_REGION) -> pd.DataFrame:
    """A planner's own series as an observations frame (:func:`read_user_observations`
    without the warnings)."""
    return read_user_observations(path, region)[0]


def read_user_observations(path: str | Path, region: str = DEFAULT_REGION
                           ) -> tuple[pd.DataFrame, list[Problem]]:
    """A planner's own series as an observations frame, ready to replace estimates, and the
    file's warnings (rows not used, fractions?, duplicates …; ``Problem.unused_rows`` counts
    the rows a run will not read).

    Args:
        path: CSV or xlsx with columns area, year, indicator, value [, unit, source,
            source_note, quality] (README "Bringing your own county series").
        region: region whose codes and plan ids are accepted (besides every census code).

    Returns:
        Columns area (current division code: slugs and former codes such as 511028 are
        mapped), year (int), indicator, value (float), unit (persons, percent, permille or
        schools — taken from the indicator name when the column is absent: ``*_pct`` percent,
        ``*_permille`` per mille, otherwise persons), source (the file name when absent),
        source_note, quality ("observed" when absent), preferred (True for the first row of
        each area/year/indicator in file order). Sorted by area, indicator, year. Rows the
        warnings name as not used are kept (no stage reads them).

    Raises:
        ValidationError: the file has errors (every problem listed).
    """
    obs, warnings = _load(path, OBSERVATIONS, region)
    keys = [S.AREA, S.YEAR, S.INDICATOR]
    obs = obs.drop_duplicates([*keys, S.SOURCE, S.VALUE])
    obs[S.PREFERRED] = ~obs.duplicated(keys)
    obs = obs.sort_values([S.AREA, S.INDICATOR, S.YEAR], kind="stable").reset_index(drop=True)
    return S.OBSERVATIONS_SCHEMA.validate(obs), warnings


def load_user_population(path: str | Path, region: str = DEFAULT_REGION) -> pd.DataFrame:
    """A planner's own population table (validated), in file order.

    Returns:
        Columns area, year, sex, then age (single years) and/or age_group, age_start, age_end
        (census groups), [draw,] population (persons, float). Identical duplicate rows are
        dropped.

    Raises:
        ValidationError: the file has errors (every problem listed).
    """
    pop = _load(path, POPULATION, region)[0]
    return pop.drop_duplicates().reset_index(drop=True)
