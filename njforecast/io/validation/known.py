"""Area ids accepted in a planner's file: division codes (census, region file, provinces) and the
bundled slugs; names only feed hints, because several areas share a name. Also the indicator
names the project knows.

Public names:
    KnownAreas                   accepted id → code, and name → codes for hints (``hint(value)``);
                                 ``in_region(code)`` says whether a run of the region reads it
    known_areas(region)          the accepted ids for ``region`` (cached per region and data folder)
    known_indicators()           indicator names of the bundled observations and plan tables
    is_known_indicator(name, known)   ``name`` is one of them (any plan period for
                                 ``teachers_added_YYYY_YYYY``)
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ... import schema as S
from ...areas import load_region
from ...config import data_dir, external_dir, processed_dir, raw_dir
from ..store import _census_paths, load_census_areas
from ...config import DEFAULT_REGION


@dataclass(frozen=True)
class KnownAreas:
    """Area ids accepted in user files, and names that map to codes (for hints only).

    Attributes:
        canonical: accepted id → code used in frames (codes map to themselves, former codes
            to the current one, slugs and plan ids to their code).
        names: lower-cased name (zh, en, pinyin) → codes carrying it.
        region: the region's slug.
        region_codes: codes of the region and its areas (current codes, region-defined units
            such as ``511000-CR``); empty = every area counts as in the region.
    """

    canonical: dict[str, str]
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    region: str = ""
    region_codes: frozenset[str] = frozenset()

    def in_region(self, code: str) -> bool:
        """True when a run of the region can read rows of ``code``: the region's own codes, and
        province and national codes (GB/T 2260 ``pp0000``; context series such as Sichuan's
        ratios and the nation's GERs). Another prefecture's or county's code is not read."""
        return not self.region_codes or code in self.region_codes or code.endswith("0000")

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


def known_areas(region: str = DEFAULT_REGION) -> KnownAreas:
    """Accepted area ids for ``region`` (cached per region and data folder).

    Codes: every code in the census tables, the region file (current, former and
    region-defined codes) and ``data/external/province_codes.csv``. Slugs: the province slugs
    and the region's plan ids (so the bundled raw files validate). Names (zh/en/pinyin from the
    region file, zh from the census, zh/en of provinces) only feed hints.
    """
    return _known_areas(region, str(data_dir()))


@functools.lru_cache(maxsize=8)
def _known_areas(region: str, _data: str) -> KnownAreas:
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
                      region=reg.slug,
                      region_codes=frozenset([reg.code, *(a.code for a in reg.areas)]))


#: Plan-period totals: ``teachers_added_2021_2025`` and the like name any five-year period.
PERIOD_INDICATOR = re.compile(r"teachers_added_\d{4}_\d{4}")


def known_indicators() -> frozenset[str]:
    """Indicator names the project knows (cached per data folder).

    The names in the bundled observations (``data/raw/observed/**/*.csv``, column
    ``indicator``) and plan tables (``data/raw/plan/*.csv``, column ``indicator_id``): every
    series the engine reads from a planner's file is among them (the count and teacher series
    by level, the GERs, the consolidation rate, entrants and graduates, resident and registered
    population) and so are the plan's ids, under which a planner's values are compared with
    targets. A name outside them is read by no part of a run.
    """
    return _known_indicators(str(raw_dir()))


@functools.lru_cache(maxsize=4)
def _known_indicators(raw: str) -> frozenset[str]:
    names: set[str] = set()
    tables = [(p, "indicator") for p in sorted(Path(raw, "observed").rglob("*.csv"))]
    tables += [(p, "indicator_id") for p in sorted(Path(raw, "plan").glob("*.csv"))]
    for path, column in tables:
        if column in pd.read_csv(path, nrows=0).columns:
            names |= set(pd.read_csv(path, usecols=[column], dtype=str)[column].dropna())
    return frozenset(names)


def is_known_indicator(name: str, known: frozenset[str]) -> bool:
    """``name`` is in ``known`` or is a plan-period total (:data:`PERIOD_INDICATOR`)."""
    return name in known or PERIOD_INDICATOR.fullmatch(name) is not None
