"""The rules a planner's observations and population frames must follow; every broken rule is a
:class:`~.problems.Problem` naming the spreadsheet row, the column and the fix.

Public functions:
    validate_observations(df, path, known)   → list[Problem]
    validate_population(df, path, known)     → list[Problem]

``_check_observations`` and ``_check_population`` also return the normalised frame (None when
there are errors); the loaders in the package facade use them.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ... import schema as S
from .bounds import UNIT_MAX, negative, too_high
from .known import KnownAreas, is_known_indicator
from .problems import Problem, _errors, rows_text, sort_problems
from .read import (
    _COLUMNS,
    _MEANING,
    _NA_TOKENS,
    _SYNONYMS,
    OBSERVATIONS,
    POPULATION,
    ROW,
    _canonical,
    _cell_text,
    _norm_header,
)
from .unused import outside_region, unknown_indicators


def _text_column(col: pd.Series) -> pd.Series:
    """Any column as stripped text ("" for missing; 2020.0 → "2020")."""
    return col.map(_cell_text).astype(object).str.strip()


def _area_codes(values: pd.Series) -> pd.Series:
    """'511025.0' (a code read as a number) → '511025'; other text stripped."""
    v = values.astype(str).str.strip()
    return v.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


# --- shared checks ----------------------------------------------------------------------


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

    def add_rows(self, positions, column: str, message: str, fix: str,
                 severity: str = "warning", unused: bool = False) -> None:
        """One problem for a group of rows, placed at the first; the message ends with the rows
        ("— rows 2, 5 (2 rows)", plus "are not used" when ``unused``)."""
        rows = [int(self.rows[p]) for p in positions]
        tail = rows_text(rows) + ((" is" if len(rows) == 1 else " are") + " not used"
                                  if unused else "")
        self.problems.append(Problem(self.file, rows[0], self.raw_names.get(column, column),
                                     f"{message} — {tail}", fix, severity,
                                     len(rows) if unused else 0))

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
        self.add_many(neg, column, lambda p: negative(what, s.iat[p]))
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


# --- observations -----------------------------------------------------------------------


def _unit_of_name(indicator: str) -> str | None:
    for suffix, unit in S.UNIT_SUFFIXES.items():
        if indicator.endswith(suffix):
            return unit
    return None


_RATE_WORDS = {"rate", "ger", "ner", "ratio", "share", "pct", "percent", "permille"}


def _is_rate_name(indicator: str) -> bool:
    """True when a word of the name says it is a rate (…_ger, …_rate, …_share, …_pct)."""
    return bool(_RATE_WORDS & set(indicator.split("_")))


#: Words of percent indicators that are tens of percent (enrolment ratios, consolidation,
#: transition, urbanisation): such a series at most 1.5 % throughout is fractions, an error.
#: Other percent series (dropout, shares) may be that small and only get a warning.
_LARGE_RATE_WORDS = {"ger", "ner", "enrolment", "consolidation", "transition", "urbanization",
                     "completion", "retention", "promotion", "coverage"}
#: Words that make a percent series a share or a small rate whatever else its name says.
_SMALL_RATE_WORDS = {"share", "dropout", "repetition"}
#: A percent series whose values all lie in (0, FRACTION_MAX] looks written as fractions.
FRACTION_MAX = 1.5


def _check_observations(df: pd.DataFrame, path: str | Path, known: KnownAreas,
                        indicators: frozenset[str] | None = None
                        ) -> tuple[pd.DataFrame | None, list[Problem]]:
    c = _Checker(df, path, OBSERVATIONS)
    c.match_columns()
    area = c.areas(known)
    if area is not None:
        outside_region(c, area, known)
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
        if indicators:
            unknown_indicators(c, ind_ok, indicators)

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
        for u, top in UNIT_MAX.items():
            high = ((unit == u) & (value > top)).to_numpy()
            c.add_many(high, S.VALUE, lambda p, u=u: too_high("value", c.cols[S.VALUE].iat[p], u))
        # a percent series whose values all lie in (0, 1.5] is almost surely written as fractions
        pct = pd.DataFrame({"a": area, "i": ind_ok, "v": value})[(unit == "percent")
                                                                  & value.notna()]
        for (a_, i_), g in pct.groupby(["a", "i"], sort=False):
            top = float(g["v"].max())
            if not 0 < top <= FRACTION_MAX:
                continue
            example = f"{round(top * 100, 1):g}"
            fix = f"multiply by 100: write {example} for {example} %, not {top:g}"
            words = set(str(i_).split("_"))
            # an error only for a rate a run reads (a known name) that is tens of percent
            if (_LARGE_RATE_WORDS & words and not _SMALL_RATE_WORDS & words
                    and (indicators is None or is_known_indicator(str(i_), indicators))):
                c.add_rows(list(g.index), S.VALUE, f"'{i_}' in area {a_} is at most {top:g} "
                           "percent in every row, but this rate is tens of percent: values look "
                           "like fractions", fix, "error")
            else:
                c.add_rows(list(g.index), S.VALUE, f"every value of '{i_}' in area {a_} is at "
                           f"most {top:g} percent: fractions instead of percent?",
                           "if these are fractions, " + fix)
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


def validate_observations(df: pd.DataFrame, path: str | Path, known: KnownAreas,
                          indicators: frozenset[str] | None = None) -> list[Problem]:
    """Every problem in an observations frame (errors and warnings).

    Args:
        df: the table as read (strings from :func:`read_table`, or any frame); columns area,
            year, indicator, value [, unit, source | source_url, source_note, quality].
        path: file name used in the messages.
        known: accepted areas (:func:`known_areas`); rows of an area outside its region get a
            warning (not used by a run).
        indicators: known indicator names (:func:`known_indicators`); rows of another name get
            a warning with the closest known name. None: names are not checked.

    Returns:
        Problems in row order; the frame is valid when none has severity "error".
    """
    return sort_problems(_check_observations(df, path, known, indicators)[1])


# --- population -------------------------------------------------------------------------

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
