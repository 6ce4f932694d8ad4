"""Check a planner's own observations or population file and report every problem.

Public names:
    Problem                      one finding: file, row, column, message, fix, severity
    ValidationError              DataError carrying the list of problems
    read_table(path)             CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030) or xlsx (first
                                 sheet) → frame of strings indexed by spreadsheet row number
    KnownAreas, known_areas(region)
                                 accepted area ids: census codes, region codes, province codes,
                                 the bundled slugs; names only as hints (names are never accepted)
    validate_observations(df, path, known)   → list[Problem]
    validate_population(df, path, known)     → list[Problem]
    validate_file(path, kind, region)        → Report (kind, normalised frame, problems)
    load_user_observations(path, region)     → observations frame (validated; unit normalised)
    load_user_population(path, region)       → population frame (validated)
    format_problems(problems, limit)         → printable lines ``file:row:column: message — fix``

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
    * Years are whole numbers in ``schema.MIN_YEAR``–``schema.MAX_YEAR``.
    * Duplicate keys (area, year, indicator[, source]) with different values are errors;
      identical duplicates are warnings.

Why not pandera alone: its failure cases name a positional index and a check name; a planner
needs the spreadsheet row, the column and the fix. The normalised frames returned by the
loaders are still checked against the pandera contracts in :mod:`njforecast.schema`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import functools
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import data_dir, external_dir, processed_dir
from .store import DataError, _census_paths, load_census_areas

#: Index name of frames returned by :func:`read_table` (spreadsheet row numbers).
ROW = "row"
#: How many rows are searched for the header.
HEADER_SEARCH_ROWS = 10
#: Problems printed by the CLI before "… and N more".
MAX_PRINTED = 50

OBSERVATIONS, POPULATION = "observations", "population"
KINDS = (OBSERVATIONS, POPULATION)

# ------------------------------------------------------------------------------------------
# problems


@dataclass(frozen=True)
class Problem:
    """One finding in a user file.

    Attributes:
        file: the file as given.
        row: spreadsheet row (1-based, the header row counts), or None for the whole file.
        column: column name as the file spells it (or the missing column), or None.
        message: what is wrong.
        fix: how to fix it.
        severity: "error" (the file is rejected) or "warning" (accepted; worth a look).
    """

    file: str
    row: int | None
    column: str | None
    message: str
    fix: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        loc = self.file
        if self.row is not None:
            loc += f":{self.row}"
        if self.column is not None:
            loc += f":{self.column}" if self.row is not None else f"::{self.column}"
        text = self.message if self.severity == "error" else f"warning: {self.message}"
        return f"{loc}: {text}" + (f" — {self.fix}" if self.fix else "")


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """File-level problems first, then by row; order within a row is kept."""
    return sorted(problems, key=lambda p: -1 if p.row is None else p.row)


def format_problems(problems: list[Problem], limit: int = MAX_PRINTED) -> list[str]:
    """Printable lines, at most ``limit`` problems plus a count of the rest."""
    problems = sort_problems(problems)
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        n_err = len(_errors(problems))
        lines.append(f"… and {len(problems) - limit} more problems not shown "
                     f"({n_err} errors, {len(problems) - n_err} warnings in all)")
    return lines


class ValidationError(DataError):
    """A user file has errors; ``problems`` lists every one (warnings included)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sort_problems(problems)
        super().__init__("\n".join(format_problems(self.problems)))


# ------------------------------------------------------------------------------------------
# reading: encodings, xlsx, header row

_NA_TOKENS = {"nan", "na", "n/a", "null", "none", "-", "--", "—", "#n/a", "...", "…", "nat"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _cell_text(v) -> str:
    """A cell as text: None/NaN → "", 2020.0 → "2020", other numbers by repr."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return ""
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(float(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _decode(path: Path, raw: bytes) -> tuple[str | None, str, list[Problem]]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (GBK).

    Returns (text or None, encoding name, problems). Mixed files (some rows UTF-8, some GBK)
    are rejected rather than garbled.
    """
    f = str(path)
    if raw[:4] == b"PK\x03\x04":
        return None, "", [Problem(f, None, None, "this is an Excel workbook (xlsx) with a "
                                  f"'{path.suffix}' name", "rename it to .xlsx, or export CSV")]
    if raw[:8] == _OLE_MAGIC:
        return None, "", [Problem(f, None, None, "this is an old Excel .xls workbook",
                                  "save it as .xlsx or CSV (UTF-8)")]
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "UTF-16", []
        except UnicodeDecodeError as exc:
            return None, "", [Problem(f, None, None, f"starts with a UTF-16 mark but is not "
                                      f"valid UTF-16 ({exc.reason})", "save as CSV UTF-8")]
    if raw.startswith(codecs.BOM_UTF8):
        raw, bom = raw[len(codecs.BOM_UTF8):], True
    else:
        bom = False
    try:
        return raw.decode("utf-8"), "UTF-8 with BOM" if bom else "UTF-8", []
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    utf8_rows, other_rows = [], []
    for i, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_rows.append(i)
        except UnicodeDecodeError:
            other_rows.append(i)
    if utf8_rows and other_rows:
        shown = ", ".join(map(str, other_rows[:5])) + (" …" if len(other_rows) > 5 else "")
        rows_ = "row" if len(other_rows) == 1 else "rows"
        return None, "", [Problem(f, None, None, f"mixed encodings: {rows_} {shown} not UTF-8 "
                                  "(GBK?) while row(s) " + ", ".join(map(str, utf8_rows[:3]))
                                  + " are UTF-8", "open the file in an editor and save the whole "
                                  "file once as UTF-8")]
    try:
        return raw.decode("gb18030"), "GBK/GB18030", []
    except UnicodeDecodeError as exc:
        row = raw[:exc.start].count(b"\n") + 1
        return None, "", [Problem(f, row, None, "the file is neither UTF-8 nor GBK/GB18030 text "
                                  f"(undecodable byte 0x{raw[exc.start]:02x})",
                                  "save it as CSV UTF-8 (Excel: Save As → CSV UTF-8)")]


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:HEADER_SEARCH_ROWS] if ln.strip()]
    counts = {d: sum(ln.count(d) for ln in lines) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_rows(path: Path) -> tuple[list[list[str]] | None, str, list[Problem]]:
    """The file's rows as lists of cell texts (record i is spreadsheet row i + 1)."""
    f = str(path)
    if not path.exists():
        return None, "", [Problem(f, None, None, "file not found", "check the path")]
    if path.is_dir():
        return None, "", [Problem(f, None, None, "is a folder, not a file",
                                  "pass a .csv or .xlsx file")]
    suffix = path.suffix.lower()
    if suffix in (".xls", ".ods", ".xlsb"):
        return None, "", [Problem(f, None, None, f"'{suffix}' files are not read",
                                  "save the sheet as .xlsx or as CSV UTF-8")]
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raw = path.read_bytes()
    if not raw.strip() or not raw.lstrip(codecs.BOM_UTF8).strip():
        return None, "", [Problem(f, None, None, "the file is empty",
                                  "export the table again with its header row and data")]
    text, enc, problems = _decode(path, raw)
    if text is None:
        return None, "", problems
    if "\x00" in text:
        return None, "", [Problem(f, None, None, "the file holds binary data, not text",
                                  "export the table as CSV UTF-8 or .xlsx")]
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text)))
    return rows, enc, problems


def _read_xlsx(path: Path) -> tuple[list[list[str]] | None, str, list[Problem]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    f = str(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        return None, "", [Problem(f, None, None, f"not a readable .xlsx workbook ({exc})",
                                  "open it in Excel and save it again as .xlsx, or export CSV")]
    try:
        sheets = []
        for ws in wb.worksheets:
            rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
            sheets.append((ws.title, rows))
            if len(sheets) == 1 and any(any(c.strip() for c in r) for r in rows):
                break
    finally:
        wb.close()
    title, rows = sheets[0]
    if not any(any(c.strip() for c in r) for r in rows):
        others = [t for t, rs in sheets[1:] if any(any(c.strip() for c in r) for r in rs)]
        fix = (f"move sheet '{others[0]}' (which has data) to the front — only the first sheet "
               "is read" if others else "put the table on the first sheet")
        return None, "", [Problem(f, None, None, f"the first sheet '{title}' is empty", fix)]
    return rows, "xlsx", []


# column vocabularies ----------------------------------------------------------------------

_OBS_REQUIRED = (S.AREA, S.YEAR, S.INDICATOR, S.VALUE)
_OBS_OPTIONAL = (S.UNIT, S.SOURCE, "source_url", S.SOURCE_NOTE, S.QUALITY, S.PREFERRED,
                 S.AREA_NAME)
_POP_REQUIRED = (S.AREA, S.YEAR, S.SEX, S.POPULATION)
_POP_OPTIONAL = (S.AGE, S.AGE_GROUP, S.AGE_START, S.AGE_END, S.CENSUS_YEAR, S.DRAW, S.SOURCE,
                 S.SOURCE_NOTE, S.AREA_NAME)
_COLUMNS = {OBSERVATIONS: (_OBS_REQUIRED, _OBS_OPTIONAL), POPULATION: (_POP_REQUIRED, _POP_OPTIONAL)}
_ALL_COLUMNS = set(_OBS_REQUIRED + _OBS_OPTIONAL + _POP_REQUIRED + _POP_OPTIONAL)
_MEANING = {S.AREA: "division code, e.g. 511025", S.YEAR: "school year starting that autumn, "
            "e.g. 2021", S.INDICATOR: "e.g. primary_enrolment", S.VALUE: "a number ≥ 0",
            S.SEX: "male or female", S.POPULATION: "persons"}

#: Header spellings that are not accepted but whose meaning is clear: suggest the rename.
_SYNONYMS = {
    "地区": S.AREA, "区划代码": S.AREA, "行政区划代码": S.AREA, "代码": S.AREA, "区县": S.AREA,
    "area_code": S.AREA, "code": S.AREA, "county": S.AREA, "district": S.AREA, "region": S.AREA,
    "年份": S.YEAR, "年度": S.YEAR, "年": S.YEAR, "学年": S.YEAR, "school_year": S.YEAR,
    "指标": S.INDICATOR, "指标名称": S.INDICATOR, "variable": S.INDICATOR, "metric": S.INDICATOR,
    "series": S.INDICATOR,
    "数值": S.VALUE, "值": S.VALUE, "数据": S.VALUE, "amount": S.VALUE, "count": S.VALUE,
    "单位": S.UNIT, "units": S.UNIT, "来源": S.SOURCE, "数据来源": S.SOURCE,
    "质量": S.QUALITY, "性别": S.SEX, "gender": S.SEX, "年龄": S.AGE, "ages": S.AGE,
    "年龄组": S.AGE_GROUP, "年龄段": S.AGE_GROUP, "age_band": S.AGE_GROUP, "agegroup": S.AGE_GROUP,
    "人口": S.POPULATION, "人口数": S.POPULATION, "人数": S.POPULATION, "pop": S.POPULATION,
}


def _norm_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).replace("\ufeff", "").strip().lower())


def _canonical(name: str, kind: str | None) -> str | None:
    """The canonical column a header names (``census_year`` is ``year`` in population files)."""
    n = _norm_header(name)
    if kind is None:
        return n if n in _ALL_COLUMNS else None
    req, opt = _COLUMNS[kind]
    if n in req or n in opt:
        return n
    return None


def _looks_like_header(cells: list[str]) -> int:
    return sum(1 for c in cells if _canonical(c, None) or _norm_header(c) in _SYNONYMS)


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _frame_from_rows(path: Path, rows: list[list[str]]) -> tuple[pd.DataFrame | None,
                                                                   list[Problem]]:
    """Find the header, build a string frame indexed by spreadsheet row number."""
    f = str(path)
    problems: list[Problem] = []
    rows = [[c.strip() for c in r] if any(c != c.strip() for c in r) else r for r in rows]
    nonblank = [i for i, r in enumerate(rows) if any(r)]
    if not nonblank:
        return None, [Problem(f, None, None, "the file is empty",
                              "export the table again with its header row and data")]
    header_idx = next((i for i in nonblank[:HEADER_SEARCH_ROWS]
                       if _looks_like_header(rows[i]) >= 2), None)
    if header_idx is None:
        first = nonblank[0]
        fuzzy = sum(1 for c in rows[first]
                    if difflib.get_close_matches(_norm_header(c), _ALL_COLUMNS, 1, 0.7))
        if fuzzy >= 2:
            header_idx = first
        else:
            shown = ", ".join(repr(c) for c in rows[first][:6])
            return None, [Problem(f, first + 1, None, "no header row found in the first "
                                  f"{HEADER_SEARCH_ROWS} rows (row {first + 1} reads {shown})",
                                  "make row 1 the column names: area, year, indicator, value "
                                  "(observations) or area, year, sex, age_group, population "
                                  "(population)")]
    if header_idx > 0:
        above = [i for i in range(header_idx) if any(rows[i])]
        if above:
            text = " ".join(c for c in rows[above[0]] if c)[:60]
            problems.append(Problem(
                f, header_idx + 1, None, f"header found on row {header_idx + 1}; delete the "
                f"rows above it (row {above[0] + 1} reads '{text}')",
                "the header must be row 1: a title or unit note above it (e.g. 单位：万人) may "
                "change what the values mean, so convert the values if needed and delete "
                "those rows"))
        else:
            problems.append(Problem(f, header_idx + 1, None, f"header is on row "
                                    f"{header_idx + 1}, below blank rows",
                                    "delete the blank rows above the header", "warning"))
    header = [c.replace("\ufeff", "") for c in rows[header_idx]]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    data, index = [], []
    for i in range(header_idx + 1, len(rows)):
        r = rows[i]
        if not any(r):
            continue
        extra = [c for c in r[width:] if c]
        if extra:
            problems.append(Problem(f, i + 1, None, f"row has {width + len(extra)} values but "
                                    f"the header names {width} columns (extra: "
                                    f"{', '.join(repr(c) for c in extra[:3])})",
                                    "a comma inside a value (e.g. 1,234 or a note) splits it: "
                                    "quote the value or remove the comma"))
        data.append(r if len(r) == width else (r + [""] * width)[:width])
        index.append(i + 1)
    if not data:
        problems.append(Problem(f, header_idx + 1, None, "the file has a header but no data rows",
                                "add the data below the header"))
        return None, problems
    names: list[str] = []
    seen: dict[str, int] = {}
    keep = []
    for j, name in enumerate(header[:width]):
        if not name:
            if any(row[j] for row in data):
                problems.append(Problem(f, header_idx + 1, _letter(j), f"column {_letter(j)} "
                                        "has values but no name; it is ignored",
                                        "name it or delete it", "warning"))
            continue
        n = _norm_header(name)
        if n in seen:
            problems.append(Problem(f, header_idx + 1, name, f"column '{name}' appears twice "
                                    f"(columns {_letter(seen[n])} and {_letter(j)})",
                                    "keep one of them"))
            continue
        seen[n] = j
        names.append(name)
        keep.append(j)
    if keep != list(range(width)):
        data = [[row[j] for j in keep] for row in data]
    df = pd.DataFrame(data, columns=names, index=pd.Index(index, name=ROW), dtype=object)
    return df, problems


def _read_table(path: str | Path) -> tuple[pd.DataFrame | None, str, list[Problem]]:
    path = Path(path)
    rows, enc, problems = _read_rows(path)
    if rows is None:
        return None, enc, problems
    df, more = _frame_from_rows(path, rows)
    return df, enc, problems + more


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a user table: CSV (any of UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030) or xlsx.

    The encoding is detected, never guessed into garbage: UTF-8 is tried first, then GB18030
    (a superset of GBK); a file mixing the two is rejected. The delimiter may be a comma, tab
    or semicolon. For xlsx only the first sheet is read (cached values of formulas).

    Args:
        path: the file.

    Returns:
        Frame of strings ("" for empty cells) with the header's column names, indexed by the
        spreadsheet row number (index name ``row``). Blank rows are skipped.

    Raises:
        ValidationError: unreadable, empty, header not on row 1, or ragged rows — every such
            problem in one message.
    """
    df, _, problems = _read_table(path)
    if df is None or _errors(problems):
        raise ValidationError(problems)
    return df


# ------------------------------------------------------------------------------------------
# known areas


@dataclass(frozen=True)
class KnownAreas:
    """Area ids accepted in user files, and names that map to codes (for hints only).

    Attributes:
        canonical: accepted id → code used in frames (codes map to themselves, former codes
            to the current one, slugs and plan ids to their code).
        names: lower-cased name (zh, en, pinyin) → codes carrying it.
        region: the region's slug.
    """

    canonical: dict[str, str]
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    region: str = ""

    def hint(self, value: str) -> tuple[str, str]:
        """(message, fix) for an area id that is not accepted."""
        v = value.strip()
        if not v:
            return "area is empty", "fill in the division code, e.g. 511025"
        codes = self.names.get(v.lower())
        if codes:
            shown = ", ".join(codes[:6]) + (" …" if len(codes) > 6 else "")
            if len(codes) == 1:
                return (f"area '{v}' is a name, not a code; names are not accepted",
                        f"use the code {codes[0]}")
            return ((f"area '{v}' is a name, not a code; names are not accepted and "
                    f"{len(codes)} areas are called that ({shown})"), ("use the code of the one "
                    "you mean"))
        if re.fullmatch(r"\d{9,12}", v) and v[:6] in self.canonical:
            return (f"area '{v}' looks like a {len(v)}-digit statistical code",
                    f"use its first 6 digits, {v[:6]}")
        if re.fullmatch(r"\d+", v):
            return ((f"unknown area code '{v}': not in the census tables, the region file "
                    f"({self.region}) or the province list"), ("check the 6-digit GB/T 2260 "
                    "code; units without a census code belong in a region file under "
                    "data/external/regions/"))
        close = difflib.get_close_matches(v.lower(), list(self.names), 1, 0.8)
        if close:
            return (f"unknown area '{v}' (a name? '{close[0]}' is {self.names[close[0]][0]})",
                    "use the 6-digit division code; names are not accepted")
        return (f"unknown area '{v}'", ("use the 6-digit division code (e.g. 511025 for "
                "资中县); names are not accepted"))


def _census_area_names() -> pd.DataFrame:
    """Codes and Chinese names of every coded census row (processed copy if built)."""
    p = processed_dir() / "census_areas.csv"
    if p.is_file():
        return pd.read_csv(p, dtype=str, usecols=[S.AREA, "name_zh"])
    return pd.concat([load_census_areas(c)[[S.AREA, "name_zh"]]
                      for c in _census_paths().values()], ignore_index=True)


def known_areas(region: str = "neijiang") -> KnownAreas:
    """Accepted area ids for ``region`` (cached per region and data folder).

    Codes: every code in the census tables, the region file (current, former and
    region-defined codes) and ``data/external/province_codes.csv``. Slugs: the province slugs
    and the region's plan ids (so the bundled raw files validate). Names (zh/en/pinyin from the
    region file, zh from the census, zh/en of provinces) only feed hints.
    """
    return _known_areas(region, str(data_dir()))


@functools.lru_cache(maxsize=8)
def _known_areas(region: str, _data: str) -> KnownAreas:
    from ..areas import load_region  # local import: areas sits below validation in the order

    reg = load_region(region)
    canonical: dict[str, str] = {}
    names: dict[str, list[str]] = {}

    def name(n: str, code: str) -> None:
        key = str(n).strip().lower()
        if key and key != "nan" and code not in names.setdefault(key, []):
            names[key].append(code)

    cen = _census_area_names().dropna()
    for code in cen[S.AREA]:
        canonical[code] = code
    prov = pd.read_csv(external_dir() / "province_codes.csv", dtype=str)
    for r in prov.itertuples(index=False):
        canonical[r.code] = r.code
        canonical[r.slug] = r.code
    for a in reg.areas:
        canonical[a.code] = a.code
        canonical[a.plan_id] = a.code
        for old in a.former_codes:
            canonical[old] = a.code
        for n in (a.name_zh, a.name_en, a.pinyin):
            name(n, a.code)
    for r in prov.itertuples(index=False):
        name(r.name_zh, r.code)
        name(r.name_en, r.code)
    for code, zh in zip(cen[S.AREA], cen["name_zh"], strict=True):
        name(zh, canonical.get(code, code))
    return KnownAreas(canonical=canonical, names={k: tuple(v) for k, v in names.items()},
                      region=reg.slug)


def _text_column(col: pd.Series) -> pd.Series:
    """Any column as stripped text ("" for missing; 2020.0 → "2020")."""
    return col.map(_cell_text).astype(object).str.strip()


def _area_codes(values: pd.Series) -> pd.Series:
    """'511025.0' (a code read as a number) → '511025'; other text stripped."""
    v = values.astype(str).str.strip()
    return v.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


# ------------------------------------------------------------------------------------------
# shared checks


class _Checker:
    """Collects problems for one frame; maps frame positions to spreadsheet rows."""

    def __init__(self, df: pd.DataFrame, path: str | Path, kind: str):
        self.file = str(path)
        self.kind = kind
        self.problems: list[Problem] = []
        self.from_table = df.index.name == ROW  # cells already stripped strings
        if self.from_table:
            self.rows = np.asarray(df.index, dtype=int)
            self.header_row = int(self.rows.min()) - 1 if len(df) else 1
        else:
            self.rows = np.arange(len(df)) + 2
            self.header_row = 1
        self.df = df.reset_index(drop=True)
        self.raw_names: dict[str, str] = {}
        self.cols: dict[str, pd.Series] = {}

    def add(self, pos: int | None, column: str | None, message: str, fix: str = "",
            severity: str = "error") -> None:
        row = None if pos is None else (self.header_row if pos < 0 else int(self.rows[pos]))
        col = self.raw_names.get(column, column) if column else None
        self.problems.append(Problem(self.file, row, col, message, fix, severity))

    def add_many(self, mask: np.ndarray, column: str, message_fix) -> None:
        """Add a problem for each True position; ``message_fix(pos) -> (message, fix)``."""
        for pos in np.flatnonzero(mask):
            msg, fix = message_fix(pos)
            self.add(int(pos), column, msg, fix)

    # columns ------------------------------------------------------------------------------
    def match_columns(self) -> None:
        """Map headers to canonical names; report misspelled, foreign and missing columns."""
        req, opt = _COLUMNS[self.kind]
        known = list(req + opt)
        present: dict[str, str] = {}
        unknown = []
        for col in self.df.columns:
            canon = _canonical(col, self.kind)
            if self.kind == POPULATION and canon == S.CENSUS_YEAR:
                canon = S.YEAR if S.YEAR not in {_canonical(c, self.kind)
                                                 for c in self.df.columns} else None
            if canon and canon not in present:
                present[canon] = col
            else:
                unknown.append(col)
        suggested = set()
        for col in unknown:
            n = _norm_header(col)
            target = _SYNONYMS.get(n)
            if target in (S.VALUE,) and self.kind == POPULATION:
                target = S.POPULATION
            if target and target not in present and target in known:
                self.add(-1, col, f"column '{col}' is not a known column name",
                         f"rename it to '{target}' (column names are the English ones in the "
                         "README)")
                suggested.add(target)
                continue
            close = difflib.get_close_matches(n, [k for k in known if k not in present], 1, 0.7)
            if close:
                self.add(-1, col, f"column '{col}' is not a known column name — did you mean "
                         f"'{close[0]}'?", f"rename it to '{close[0]}'")
                suggested.add(close[0])
            elif _canonical(col, None) is None or _canonical(col, self.kind) is None:
                self.add(-1, col, f"column '{col}' is not used and is ignored",
                         f"{self.kind} columns: {', '.join(known)}", "warning")
        for name in req:
            if name not in present and name not in suggested:
                meaning = _MEANING.get(name, "")
                self.add(-1, name, f"required column '{name}' is missing",
                         f"add a column named '{name}'" + (f" ({meaning})" if meaning else ""))
        self.raw_names = {canon: col for canon, col in present.items()}
        self.cols = {canon: self.df[col] if self.from_table else _text_column(self.df[col])
                     for canon, col in present.items()}

    # values -------------------------------------------------------------------------------
    def areas(self, known: KnownAreas) -> pd.Series | None:
        """Canonical area codes (None where not accepted)."""
        if S.AREA not in self.cols:
            return None
        raw = self.cols[S.AREA]
        uniq = pd.unique(raw)
        clean = dict(zip(uniq, _area_codes(pd.Series(uniq, dtype=object)), strict=True))
        resolved = {u: known.canonical.get(clean[u]) for u in uniq}
        out = raw.map(resolved)
        hints = {u: known.hint(clean[u]) for u in uniq if resolved[u] is None}
        self.add_many(out.isna().to_numpy(), S.AREA, lambda p: hints[raw.iat[p]])
        return out

    def years(self, column: str = S.YEAR) -> pd.Series | None:
        """Integer years (NaN where invalid)."""
        if column not in self.cols:
            return None
        s = self.cols[column]
        num = pd.to_numeric(s, errors="coerce")

        def hint(pos: int) -> tuple[str, str]:
            v = s.iat[pos]
            if not v:
                return "year is empty", "fill in the year, e.g. 2021"
            m = re.fullmatch(r"(\d{4})\s*[-/–~]\s*(\d{2}|\d{4})", v)
            if m:
                return (f"year '{v}' is a school-year span", (f"write its first year, {m[1]} "
                        "(year = the school year starting that autumn)"))
            m = re.fullmatch(r"(\d{4})\s*年?.*", v)
            if m:
                return f"year '{v}' is not a plain number", f"write {m[1]}"
            return f"year '{v}' is not a number", "write the year as four digits, e.g. 2021"

        bad_text = num.isna().to_numpy()
        self.add_many(bad_text, column, hint)
        frac = (num.notna() & (num % 1 != 0)).to_numpy()
        self.add_many(frac, column, lambda p: (f"year {s.iat[p]} is not a whole year",
                                               ("write the year the school year starts, e.g. "
                                               "2020")))
        out_range = (num.notna() & (num % 1 == 0)
                     & ((num < S.MIN_YEAR) | (num > S.MAX_YEAR))).to_numpy()
        self.add_many(out_range, column, lambda p: (
            f"year {s.iat[p]} is outside {S.MIN_YEAR}–{S.MAX_YEAR}", ("check the year (four "
            "digits, school year starting that autumn)")))
        return num.where(~(bad_text | frac | out_range))

    def numbers(self, column: str, what: str) -> pd.Series | None:
        """Finite, non-negative numbers (NaN where invalid); every bad cell reported."""
        if column not in self.cols:
            return None
        s = self.cols[column]
        missing = s.str.lower().isin(_NA_TOKENS) | (s == "")
        num = pd.to_numeric(s.where(~missing), errors="coerce")

        def missing_hint(pos: int) -> tuple[str, str]:
            v = s.iat[pos]
            shown = f" ('{v}')" if v else ""
            return (f"{what} is missing{shown}", ("fill in the number, or delete the row if the "
                    "figure is not known (rows are optional; empty values are not)"))

        def text_hint(pos: int) -> tuple[str, str]:
            v = s.iat[pos]
            if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", v):
                return (f"{what} '{v}' is not a number (thousands separator)",
                        f"write {v.replace(',', '')} without separators")
            m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*万\s*人?", v)
            if m:
                return (f"{what} '{v}' is in 万 (10,000) and is not a number",
                        f"write the count in persons: {float(m[1]) * 10_000:.0f}")
            m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*%", v)
            if m:
                return (f"{what} '{v}' is not a number (percent sign)",
                        f"write {m[1]} and set unit to percent")
            return f"{what} '{v}' is not a number", "write a plain number such as 1234 or 98.5"

        miss = missing.to_numpy()
        text = (~missing & num.isna()).to_numpy()
        self.add_many(miss, column, missing_hint)
        self.add_many(text, column, text_hint)
        inf = np.isinf(num.to_numpy(dtype=float))
        self.add_many(inf, column, lambda p: (f"{what} '{s.iat[p]}' is infinite",
                                              "write a finite number"))
        neg = (num < 0).to_numpy() & ~inf
        self.add_many(neg, column, lambda p: (f"{what} {s.iat[p]} is negative",
                                              "counts and rates are ≥ 0; check the sign"))
        return num.where(~(miss | text | inf | neg))

    def duplicates(self, key: pd.DataFrame, values: pd.Series, column: str,
                   key_text: str) -> None:
        """Repeated keys: conflicting values are errors, identical ones warnings."""
        ok = (key.notna().all(axis=1) & values.notna()).to_numpy()  # bad cells: reported
        k = key[ok]
        dup = k.duplicated(keep=False).to_numpy()
        if not dup.any():
            return
        sub = k[dup]
        pos = np.flatnonzero(ok)[dup]
        groups = sub.groupby(list(sub.columns), sort=False, dropna=False).indices
        for idx in groups.values():
            members = pos[idx]
            first = members[0]
            for p in members[1:]:
                a, b = values.iat[first], values.iat[p]
                same = (a == b) or (pd.isna(a) and pd.isna(b))
                row0 = int(self.rows[first])
                if same:
                    self.add(int(p), column, f"identical duplicate of row {row0} ({key_text})",
                             "delete one of the two rows", "warning")
                else:
                    self.add(int(p), column, f"conflicts with row {row0}: same {key_text} but "
                             f"{column} {_fmt(b)} here and {_fmt(a)} there",
                             "keep one row (or give each its own source if both are "
                             "published)" if self.kind == OBSERVATIONS else "keep one row")


def _fmt(x) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


# ------------------------------------------------------------------------------------------
# observations


def _unit_of_name(indicator: str) -> str | None:
    for suffix, unit in S.UNIT_SUFFIXES.items():
        if indicator.endswith(suffix):
            return unit
    return None


_RATE_WORDS = {"rate", "ger", "ner", "ratio", "share", "pct", "percent", "permille"}


def _is_rate_name(indicator: str) -> bool:
    """True when a word of the name says it is a rate (…_ger, …_rate, …_share, …_pct)."""
    return bool(_RATE_WORDS & set(indicator.split("_")))


def _check_observations(df: pd.DataFrame, path: str | Path,
                        known: KnownAreas) -> tuple[pd.DataFrame | None, list[Problem]]:
    c = _Checker(df, path, OBSERVATIONS)
    c.match_columns()
    area = c.areas(known)
    year = c.years()
    value = c.numbers(S.VALUE, "value")
    indicator = c.cols.get(S.INDICATOR)
    ind_ok = None
    if indicator is not None:
        empty = (indicator == "").to_numpy()
        c.add_many(empty, S.INDICATOR, lambda p: ("indicator is empty",
                                                  ("fill in the indicator name, e.g. "
                                                  "primary_enrolment")))
        bad = (~indicator.str.fullmatch(r"[a-z][a-z0-9_]*")).to_numpy() & ~empty
        c.add_many(bad, S.INDICATOR, lambda p: (
            f"indicator '{indicator.iat[p]}' is not a valid name",
            ("indicator names are lower-case ASCII words joined by _, e.g. primary_enrolment, "
            "junior_ger_pct (rates end in _pct or _permille)")))
        ind_ok = indicator.where(~(empty | bad))

    # units: given (normalised) or taken from the indicator name
    unit = None
    if ind_ok is not None:
        by_name = ind_ok.fillna("").map(_unit_of_name)
        rate_like = ind_ok.fillna("").map(_is_rate_name) & ind_ok.notna()
        given = pd.Series(np.nan, index=c.df.index, dtype=object)
        raw = c.cols.get(S.UNIT, pd.Series("", index=c.df.index))
        unknown = np.zeros(len(c.df), dtype=bool)
        if S.UNIT in c.cols:
            norm = raw.str.lower().map(lambda u: S.UNIT_ALIASES.get(u, u))
            given = norm.where(raw != "")
            unknown = (given.notna() & ~given.isin(S.UNITS)).to_numpy()

            def unit_hint(pos: int) -> tuple[str, str]:
                u = raw.iat[pos]
                if "万" in u:
                    return (f"unit '{u}' is not accepted",
                            "multiply the values by 10,000 and write unit persons")
                if u in ("人", "人数", "名"):
                    return f"unit '{u}' is not accepted", "write persons"
                return (f"unknown unit '{u}'", f"use one of {', '.join(S.UNITS)}")

            c.add_many(unknown, S.UNIT, unit_hint)
        has = given.notna().to_numpy() & ~unknown
        # a *_pct / *_permille name fixes the unit
        mism = has & (by_name.notna() & (given != by_name)).to_numpy()
        c.add_many(mism, S.UNIT, lambda p: (
            (f"unit/indicator mismatch: indicator '{ind_ok.iat[p]}' is in {by_name.iat[p]} "
            f"(its name ends in {'_pct' if by_name.iat[p] == 'percent' else '_permille'}) but "
            f"unit is '{raw.iat[p]}'"),
            f"set unit to {by_name.iat[p]}, or rename the indicator if it is a count"))
        # a rate name (…_ger, …_rate, …_share) cannot be a count
        count_rate = has & (given.isin(["persons", "schools"]) & rate_like
                            & by_name.isna()).to_numpy()
        c.add_many(count_rate, S.UNIT, lambda p: (
            (f"unit/indicator mismatch: indicator '{ind_ok.iat[p]}' names a rate but unit is "
            f"'{raw.iat[p]}'"), ("set unit to percent (or permille) and name the indicator "
            f"{ind_ok.iat[p]}_pct; or rename it if it is a count")))
        # a rate unit on a name that does not say so: accepted, but worth a look
        for p in np.flatnonzero(has & (given.isin(["percent", "permille"]) & ~rate_like)
                                .to_numpy()):
            c.add(int(p), S.UNIT, f"unit '{raw.iat[p]}' but indicator '{ind_ok.iat[p]}' does "
                  "not name a rate", "rates are best named *_pct or *_permille", "warning")
        # no unit given: from the name; a rate name without suffix cannot be guessed
        guess = (~has & ~unknown & ind_ok.notna().to_numpy() & by_name.isna().to_numpy()
                 & rate_like.to_numpy())
        c.add_many(guess, S.UNIT, lambda p: (
            f"indicator '{ind_ok.iat[p]}' looks like a rate but has no unit",
            f"fill in the unit (percent or permille), or name it {ind_ok.iat[p]}_pct"))
        unit = given.where(has, by_name.fillna("persons")).where(
            ind_ok.notna().to_numpy() & ~(unknown | mism | count_rate | guess))

    if value is not None and unit is not None:
        for u, top in (("percent", S.MAX_PERCENT), ("permille", S.MAX_PERMILLE)):
            high = ((unit == u) & (value > top)).to_numpy()
            c.add_many(high, S.VALUE, lambda p, u=u, top=top: (
                f"value {c.cols[S.VALUE].iat[p]} {u} is outside 0–{top:g}",
                "a GER may exceed 100 % but not 200 %: is this a count or a per-mille figure?"
                if u == "percent" else "per-mille rates lie in 0–1000; check the unit"))
        # a percent series whose values all lie in 0–1.5 is almost surely written as fractions
        pct = pd.DataFrame({"a": area, "i": ind_ok, "v": value})[(unit == "percent")
                                                                  & value.notna()]
        if len(pct):
            top = pct.groupby(["a", "i"], sort=False)["v"].agg(["max", "size"])
            for (a_, i_), r in top[(top["max"] <= 1.5) & (top["max"] > 0)].iterrows():
                c.problems.append(Problem(
                    c.file, None, c.raw_names.get(S.VALUE), f"every value of '{i_}' in area "
                    f"{a_} is at most {r['max']:g} percent ({int(r['size'])} rows): fractions "
                    "instead of percent?", "write 95.2 for 95.2 %, not 0.952", "warning"))
        frac = ((unit.isin(["persons", "schools"])) & value.notna() & (value % 1 != 0)).to_numpy()
        for p in np.flatnonzero(frac):
            c.add(int(p), S.VALUE, f"value {c.cols[S.VALUE].iat[p]} is not a whole number of "
                  f"{unit.iat[p]}", "counts are whole numbers; if the figure is in 万 multiply "
                  "it by 10,000", "warning")

    quality = pd.Series("observed", index=c.df.index)
    if S.QUALITY in c.cols:
        q = c.cols[S.QUALITY].str.lower()
        bad = ((q != "") & ~q.isin(S.QUALITIES)).to_numpy()
        c.add_many(bad, S.QUALITY, lambda p: ((f"quality '{c.cols[S.QUALITY].iat[p]}' is not "
                                              "known"), (f"use one of {', '.join(S.QUALITIES)} "
                                              "(empty = observed)")))
        quality = q.where(q != "", "observed")

    src_col = S.SOURCE if S.SOURCE in c.cols else ("source_url" if "source_url" in c.cols
                                                    else None)
    source = c.cols[src_col] if src_col else pd.Series("", index=c.df.index)
    if area is not None and year is not None and ind_ok is not None and value is not None:
        key = pd.DataFrame({"a": area, "y": year, "i": ind_ok})
        text = "area, year and indicator"
        if src_col:
            key["s"] = source
            text += f" and {src_col}"
        c.duplicates(key, value, S.VALUE, text)

    if _errors(c.problems):
        return None, c.problems
    note = c.cols.get(S.SOURCE_NOTE, pd.Series("", index=c.df.index))
    out = pd.DataFrame({S.AREA: area, S.YEAR: year.astype(int), S.INDICATOR: ind_ok,
                        S.VALUE: value.astype(float), S.UNIT: unit,
                        S.SOURCE: source.where(source != "", f"user file {Path(path).name}"),
                        S.SOURCE_NOTE: note, S.QUALITY: quality})
    return out, c.problems


def validate_observations(df: pd.DataFrame, path: str | Path,
                          known: KnownAreas) -> list[Problem]:
    """Every problem in an observations frame (errors and warnings).

    Args:
        df: the table as read (strings from :func:`read_table`, or any frame); columns area,
            year, indicator, value [, unit, source | source_url, source_note, quality].
        path: file name used in the messages.
        known: accepted areas (:func:`known_areas`).

    Returns:
        Problems in row order; the frame is valid when none has severity "error".
    """
    return sort_problems(_check_observations(df, path, known)[1])


# ------------------------------------------------------------------------------------------
# population

_GROUP_BOUNDS = {g: (a, b) for g, a, b in S.AGE_GROUPS}


def _age_group_hint(v: str) -> tuple[str, str]:
    if not v:
        return "age_group is empty", "fill in a census age group such as 5-9"
    t = v.replace("岁", "").replace("–", "-").replace("—", "-").replace("~", "-").replace("到", "-")
    t = re.sub(r"\s+", "", t).replace("及以上", "+").replace("以上", "+")
    if t in _GROUP_BOUNDS:
        return f"age_group '{v}' is not written as the census labels are", f"write {t}"
    return (f"age_group '{v}' is not a census age group",
            "use the census groups " + ", ".join(S.AGE_GROUP_LABELS[:4]) + ", …, 85+ (split or "
            "merge your groups to match, or give single ages in an 'age' column)")


def _sex_hint(v: str) -> tuple[str, str]:
    if not v:
        return "sex is empty", "write male or female"
    low = v.lower()
    if low in ("男", "m", "男性", "men", "boys", "man"):
        return f"unknown sex label '{v}'", "write male"
    if low in ("女", "f", "女性", "women", "girls", "woman"):
        return f"unknown sex label '{v}'", "write female"
    if low in ("total", "both", "all", "合计", "总计", "小计", "persons"):
        return (f"sex '{v}' is a total", "give male and female rows only; totals are computed")
    return f"unknown sex label '{v}'", "write male or female"


def _check_population(df: pd.DataFrame, path: str | Path,
                      known: KnownAreas) -> tuple[pd.DataFrame | None, list[Problem]]:
    c = _Checker(df, path, POPULATION)
    c.match_columns()
    area = c.areas(known)
    year = c.years()
    pop = c.numbers(S.POPULATION, "population")
    if pop is not None:
        frac = (pop.notna() & (pop % 1 != 0)).to_numpy()
        for p in np.flatnonzero(frac):
            c.add(int(p), S.POPULATION, f"population {c.cols[S.POPULATION].iat[p]} is not a "
                  "whole number", "counts are persons; if the figure is in 万 multiply it by "
                  "10,000", "warning")
    sex = None
    if S.SEX in c.cols:
        s = c.cols[S.SEX]
        low = s.str.lower()
        bad = (~low.isin(S.SEXES)).to_numpy()
        c.add_many(bad, S.SEX, lambda p: _sex_hint(s.iat[p]))
        sex = low.where(~bad)

    if S.AGE not in c.cols and S.AGE_GROUP not in c.cols:
        c.add(-1, S.AGE_GROUP, "the file needs an 'age' or an 'age_group' column",
              "add 'age' (single years 0, 1, 2 …) or 'age_group' (census groups 0, 1-4, 5-9, "
              "…, 85+)")
    age = group = None
    if S.AGE in c.cols:
        a = c.cols[S.AGE]
        num = pd.to_numeric(a, errors="coerce")
        text = num.isna().to_numpy()
        c.add_many(text, S.AGE, lambda p: (
            f"age '{a.iat[p]}' is not a whole number" if a.iat[p] else "age is empty",
            ("give single ages as whole numbers; put groups such as 5-9 or 85+ in an "
            "'age_group' column")))
        bad = (num.notna() & ((num % 1 != 0) | (num < 0) | (num > S.MAX_AGE))).to_numpy()
        c.add_many(bad, S.AGE, lambda p: (
            f"age {a.iat[p]} is not a whole number in 0–{S.MAX_AGE}",
            "give single ages as whole numbers of completed years"))
        age = num.where(~(text | bad))
    if S.AGE_GROUP in c.cols:
        g = c.cols[S.AGE_GROUP]
        bad = (~g.isin(S.AGE_GROUP_LABELS)).to_numpy()
        c.add_many(bad, S.AGE_GROUP, lambda p: _age_group_hint(g.iat[p]))
        group = g.where(~bad)
        for col, k in ((S.AGE_START, 0), (S.AGE_END, 1)):
            if col not in c.cols:
                continue
            b = pd.to_numeric(c.cols[col], errors="coerce")
            expect = group.map(lambda x, k=k: _GROUP_BOUNDS[x][k] if isinstance(x, str) else None)
            wrong = (group.notna() & (b != expect.astype(float))).to_numpy()
            c.add_many(wrong, col, lambda p, col=col, expect=expect: (
                f"{col} '{c.cols[col].iat[p]}' does not match age group {group.iat[p]}",
                f"write {int(expect.iat[p])} (or fix the age group)"))

    draw = None
    if S.DRAW in c.cols:
        d = pd.to_numeric(c.cols[S.DRAW], errors="coerce")
        bad = (d.isna() | (d < 0) | (d % 1 != 0)).to_numpy()
        c.add_many(bad, S.DRAW, lambda p: ((f"draw '{c.cols[S.DRAW].iat[p]}' is not a whole "
                                           "number ≥ 0"), "number draws 0, 1, 2 …"))
        draw = d.where(~bad)

    age_key = age if age is not None else group
    if all(x is not None for x in (area, year, sex, age_key, pop)):
        key = pd.DataFrame({"a": area, "y": year, "s": sex, "g": age_key})
        text = f"area, year, sex and {'age' if age is not None else 'age_group'}"
        if draw is not None:
            key["d"] = draw
            text += " and draw"
        c.duplicates(key, pop, S.POPULATION, text)

    if (group is not None and all(x is not None for x in (area, year, sex))
            and not _errors(c.problems)):
        cover = pd.DataFrame({"a": area, "y": year, "s": sex, "g": group})
        cover = cover.drop_duplicates()
        size = cover.groupby(["a", "y", "s"], sort=False)["g"].transform("size")
        short = cover[size < len(S.AGE_GROUP_LABELS)]
        for (a_, y_, s_), grp in short.groupby(["a", "y", "s"], sort=False):
            have = set(grp["g"])
            lacking = [x for x in S.AGE_GROUP_LABELS if x not in have]
            if lacking:
                c.problems.append(Problem(
                    c.file, None, c.raw_names.get(S.AGE_GROUP), f"area {a_} year {int(y_)} "
                    f"{s_} has {len(have)} of the {len(S.AGE_GROUP_LABELS)} census age groups "
                    f"(missing {', '.join(lacking[:4])}{' …' if len(lacking) > 4 else ''})",
                    "add the missing groups if the population is to be projected", "warning"))

    if _errors(c.problems):
        return None, c.problems
    out = pd.DataFrame({S.AREA: area, S.YEAR: year.astype(int), S.SEX: sex})
    if age is not None:
        out[S.AGE] = age.astype(int)
    if group is not None:
        out[S.AGE_GROUP] = group
        out[S.AGE_START] = group.map(lambda x: _GROUP_BOUNDS[x][0]).astype(int)
        out[S.AGE_END] = group.map(lambda x: _GROUP_BOUNDS[x][1]).astype(int)
    if draw is not None:
        out[S.DRAW] = draw.astype(int)
    out[S.POPULATION] = pop.astype(float)
    return out, c.problems


def validate_population(df: pd.DataFrame, path: str | Path, known: KnownAreas) -> list[Problem]:
    """Every problem in a population frame (errors and warnings).

    Args:
        df: columns area, year (or census_year), sex (male/female), age (single years) and/or
            age_group (census labels "0", "1-4", …, "85+"; age_start/age_end checked if
            present), population (persons) [, draw].
        path: file name used in the messages.
        known: accepted areas (:func:`known_areas`).

    Returns:
        Problems in row order; the frame is valid when none has severity "error".
    """
    return sort_problems(_check_population(df, path, known)[1])


# ------------------------------------------------------------------------------------------
# files


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


def validate_file(path: str | Path, kind: str = "auto", region: str = "neijiang") -> Report:
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
    check = _check_observations if kind == OBSERVATIONS else _check_population
    frame, more = check(df, f, known_areas(region))
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


def _load(path: str | Path, kind: str, region: str) -> pd.DataFrame:
    rep = validate_file(path, kind, region)
    if not rep.ok:
        raise ValidationError(rep.problems)
    warn = [p for p in rep.problems if p.severity == "warning"]
    if warn:
        warnings.warn(f"{path}: {len(warn)} warning(s), e.g. {warn[0]}", UserWarning,
                      stacklevel=3)
    return rep.frame


def load_user_observations(path: str | Path, region: str = "neijiang") -> pd.DataFrame:
    """A planner's own series as an observations frame, ready to replace estimates.

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
        each area/year/indicator in file order). Sorted by area, indicator, year.

    Raises:
        ValidationError: the file has errors (every problem listed).
    """
    obs = _load(path, OBSERVATIONS, region)
    keys = [S.AREA, S.YEAR, S.INDICATOR]
    obs = obs.drop_duplicates([*keys, S.SOURCE, S.VALUE])
    obs[S.PREFERRED] = ~obs.duplicated(keys)
    obs = obs.sort_values([S.AREA, S.INDICATOR, S.YEAR], kind="stable").reset_index(drop=True)
    return S.OBSERVATIONS_SCHEMA.validate(obs)


def load_user_population(path: str | Path, region: str = "neijiang") -> pd.DataFrame:
    """A planner's own population table (validated), in file order.

    Returns:
        Columns area, year, sex, then age (single years) and/or age_group, age_start, age_end
        (census groups), [draw,] population (persons, float). Identical duplicate rows are
        dropped.

    Raises:
        ValidationError: the file has errors (every problem listed).
    """
    pop = _load(path, POPULATION, region)
    return pop.drop_duplicates().reset_index(drop=True)
