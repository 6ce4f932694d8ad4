"""Area hierarchy of a region: codes, names, kinds, parents; aggregation and coherence.

Public names:
    Area, Region (frozen dataclasses), load_region(name_or_path),
    census_codes(region, census_year), aggregation_matrix(region, codes) → (codes, S),
    aggregate_to_parent(df, region, value_cols),
    check_coherence(df, region, value_cols).

A region is data (``data/external/regions/<name>.toml``), never code. Areas join on codes;
names are for display only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .config import external_dir


@dataclass(frozen=True)
class Area:
    """One unit of a region (a county-level unit, the city itself, or a non-territorial unit)."""

    code: str
    name_zh: str
    name_en: str
    pinyin: str
    kind: str
    parent: str
    plan_id: str
    census: bool
    former_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    """A region: its top-level code, areas, comparable census units and allocation rules."""

    code: str
    name_zh: str
    name_en: str
    slug: str
    province: str
    areas: tuple[Area, ...]
    comparable_units: tuple[dict, ...] = ()
    allocation: dict = field(default_factory=dict)
    path: str = ""

    @property
    def counties(self) -> tuple[Area, ...]:
        """Territorial sub-units with a census population (excludes the city itself)."""
        return tuple(a for a in self.areas if a.code != self.code and a.census)

    def area(self, code: str) -> Area:
        """The area with this code (or a former code)."""
        for a in self.areas:
            if a.code == code or code in a.former_codes:
                return a
        raise KeyError(f"area code {code!r} is not in region {self.slug} ({self.path})")

    def names(self, lang: str = "en") -> dict[str, str]:
        """code → display name in 'en', 'zh' or 'pinyin'."""
        attr = {"en": "name_en", "zh": "name_zh", "pinyin": "pinyin"}[lang]
        return {a.code: getattr(a, attr) for a in self.areas}


def load_region(name_or_path: str | Path) -> Region:
    """Load a region definition from TOML (a name under data/external/regions or a path)."""
    p = Path(name_or_path)
    if not p.suffix:
        p = external_dir() / "regions" / f"{name_or_path}.toml"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: region file not found; regions live in "
                                f"{external_dir() / 'regions'}")
    raw = tomllib.loads(p.read_text(encoding="utf-8"))
    reg = raw["region"]
    areas = tuple(
        Area(code=str(a["code"]), name_zh=a["name_zh"], name_en=a["name_en"], pinyin=a["pinyin"],
             kind=a["kind"], parent=str(a["parent"]), plan_id=a["plan_id"],
             census=bool(a.get("census", True)),
             former_codes=tuple(str(c) for c in a.get("former_codes", ())))
        for a in raw["areas"])
    codes = [a.code for a in areas]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{p}: duplicate area codes")
    return Region(code=str(reg["code"]), name_zh=reg["name_zh"], name_en=reg["name_en"],
                  slug=reg.get("slug", p.stem), province=str(reg["province"]), areas=areas,
                  comparable_units=tuple(raw.get("comparable_units", ())),
                  allocation=dict(raw.get("allocation", {})), path=str(p))


def census_codes(region: Region, census_year: int) -> list[str]:
    """Codes under which the census of ``census_year`` publishes the region's counties.

    2020: the current codes of every census area. Other years: the codes of the comparable
    units for that year (``codes_<year>`` in the region file), e.g. Longchang 511028 in 2010.
    """
    if census_year == 2020:
        return [a.code for a in region.counties]
    key = f"codes_{census_year}"
    return sorted({c for u in region.comparable_units for c in u.get(key, ())})


def aggregate_to_parent(df: pd.DataFrame, region: Region, value_cols: list[str],
                        keys: list[str] | None = None) -> pd.DataFrame:
    """Append the city as the sum of its territorial areas (bottom-up coherence).

    Args:
        df: long frame with column ``area`` holding county codes, plus ``keys`` and
            ``value_cols``; rows for the city itself, if present, are replaced.
        region: the region.
        value_cols: additive columns (counts); never rates.
        keys: other grouping columns (default: every non-value column except area).

    Returns:
        ``df`` without existing city rows, plus one city row per key combination.
    """
    keys = keys if keys is not None else [c for c in df.columns if c not in (*value_cols, S.AREA)]
    parts = df[df[S.AREA] != region.code]
    city = parts.groupby(keys, sort=False, dropna=False)[value_cols].sum().reset_index()
    city[S.AREA] = region.code
    return pd.concat([parts, city[df.columns]], ignore_index=True)


def aggregation_matrix(region: Region, codes) -> tuple[tuple[str, ...], np.ndarray]:
    """The summing matrix S from areas to themselves and every ancestor in the region.

    Rows: each of ``codes`` (identity), then each ancestor of theirs that is an area of the
    region, the region's own code last; S[i, j] = 1 when area j lies in output unit i. Any
    additive array over areas x (area, …) aggregates as S @ x (bottom-up coherence, as in
    hierarchical forecasting: Hyndman et al. 2011, *Computational Statistics & Data Analysis*
    55(9):2579–2589).

    Returns:
        (output codes, S of shape (len(output codes), len(codes))).
    """
    codes = [str(c) for c in codes]
    parent = {a.code: a.parent for a in region.areas}
    known = set(parent)
    out = list(codes)
    members: dict[str, set[str]] = {}
    for c in codes:
        p = parent.get(c)
        seen = set()
        while p in known and p not in seen:
            seen.add(p)
            members.setdefault(p, set()).add(c)
            p = parent.get(p)
    ancestors = sorted((p for p in members if p != region.code), key=lambda p: (len(members[p]), p))
    if region.code in members:
        ancestors.append(region.code)
    out += ancestors
    S_ = np.zeros((len(out), len(codes)))
    S_[:len(codes), :] = np.eye(len(codes))
    for i, p in enumerate(ancestors, start=len(codes)):
        S_[i, [codes.index(c) for c in members[p]]] = 1.0
    return tuple(out), S_


def check_coherence(df: pd.DataFrame, region: Region, value_cols: list[str],
                    keys: list[str] | None = None, rtol: float = 1e-9) -> pd.DataFrame:
    """Rows where the city differs from the sum of its areas (empty frame when coherent)."""
    keys = keys if keys is not None else [c for c in df.columns if c not in (*value_cols, S.AREA)]
    city = df[df[S.AREA] == region.code].set_index(keys)[value_cols]
    parts = df[df[S.AREA] != region.code].groupby(keys, dropna=False)[value_cols].sum()
    parts = parts.reindex(city.index)
    diff = (city - parts).abs()
    bad = (diff > rtol * city.abs().clip(lower=1)).any(axis=1)
    return diff[bad].reset_index()
