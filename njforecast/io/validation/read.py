"""Reading a planner's table: encodings, xlsx, the header row, and the column vocabularies.

Public names:
    read_table(path)             CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030) or xlsx (first
                                 sheet) → frame of strings indexed by spreadsheet row number
    ROW                          index name of those frames (``row``)
    HEADER_SEARCH_ROWS           how many rows are searched for the header
    OBSERVATIONS, POPULATION, KINDS   the two kinds of user file

The column vocabularies (required and optional columns per kind, accepted synonyms) are shared
with :mod:`.rules`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ... import schema as S
from .problems import Problem, ValidationError, _errors

#: Index name of frames returned by :func:`read_table` (spreadsheet row numbers).
ROW = "row"
#: How many rows are searched for the header.
HEADER_SEARCH_ROWS = 10

OBSERVATIONS, POPULATION = "observations", "population"
KINDS = (OBSERVATIONS, POPULATION)

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
