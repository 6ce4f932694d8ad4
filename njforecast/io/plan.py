"""The plan tables a region file names (``[plan]`` and ``[targets]`` of
``data/external/regions/<region>.toml``), read into tidy frames.

Public functions:
    load_plan_indicators(path, area)  plan box 1 baselines as observations (city level)
    load_plan_targets(path, area)     plan targets (plan-table layout) with comparison direction
    region_targets_spec(region)       the region file's default targets file and its format
    region_plan_tables(region)        a region's plan box 1 and seats (empty, with a note, where
                                      its region file names none)
    load_seats(path)                  plan box 6: new school places over the plan period by area
                                      and level

The defaults are the default region's files; nothing about a plan (its files, period or title)
lives in code.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd

from .. import schema as S
from ..areas import Region, load_region
from ..config import DEFAULT_REGION, raw_dir
from .errors import DataError
from .store import _UNITS, _region_names


def _plan_table(region: str | Path | None = None) -> dict:
    return _region_file(region)[0].get("plan", {})


def _plan_source(area: str, path: Path) -> str:
    """``[plan] source`` of the region whose code is ``area``, else the file's name."""
    for name in _region_names():
        if load_region(name).code == area:
            return str(_plan_table(name).get("source", path.name))
    return str(path.name)


def _no_plan_file(key: str):
    raise DataError(f"no plan file: the region file of {DEFAULT_REGION!r} has no [plan] {key}; "
                    "give a path")


def _plan_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for name in _region_names():
        codes.update({a.plan_id: a.code for a in load_region(name).areas})
    return codes


def load_plan_indicators(path: str | Path | None = None, area: str | None = None
                         ) -> pd.DataFrame:
    """The plan's box 1 (city values for 2015 and 2020) as observations.

    Args:
        path: the table (default: the default region's ``[plan] indicators``).
        area: the division code the values are for (default: the default region's code).

    Returns:
        Observations frame (area, year, indicator, value, unit, source, source_note, quality,
        preferred), one row per ``value_<year>`` column that has a value; ``unit`` "pct" becomes
        "percent". Cumulative indicators (teachers added 2016–2020) are dated by their last year.
    """
    if path is None or area is None:
        spec = _region_spec("plan", "indicators")
        path, area = path or spec[0], area or spec[1]
    path = Path(path or _no_plan_file("indicators"))
    df = pd.read_csv(path)
    missing = [c for c in ("indicator_id", "indicator_zh", "unit", "note") if c not in df.columns]
    years = sorted(int(m.group(1)) for c in df.columns
                   if (m := re.fullmatch(r"value_(\d{4})", str(c))))
    if missing or not years:
        raise DataError(f"{path}: plan baselines need columns indicator_id, indicator_zh, unit, "
                        f"note and value_<year>; missing {missing or ['value_<year>']}")
    rows = []
    for _, r in df.iterrows():
        for year in years:
            v = r.get(f"value_{year}")
            if pd.notna(v):
                rows.append({S.AREA: area, S.YEAR: year, S.INDICATOR: r["indicator_id"],
                             S.VALUE: float(v), S.UNIT: _UNITS.get(r["unit"], r["unit"]),
                             S.SOURCE: _plan_source(area, path) + ", box 1",
                             S.SOURCE_NOTE: f"{r['indicator_zh']}"
                             + (f"; {r['note']}" if pd.notna(r["note"]) else ""),
                             S.QUALITY: "observed", S.PREFERRED: True})
    return S.OBSERVATIONS_SCHEMA.validate(pd.DataFrame(rows))


def _region_file(region: str | Path | None = None) -> tuple[dict, str]:
    """A region file's tables (parsed TOML) and the region's code (default region if None)."""
    reg = load_region(region or DEFAULT_REGION)
    return tomllib.loads(Path(reg.path).read_text(encoding="utf-8")), reg.code


def _region_spec(table: str, key: str, region: str | Path | None = None
                 ) -> tuple[Path | None, str]:
    """A file named in a region file (``[table] key``, a path under ``data/raw``) and the
    region's code; (None, code) when the region file names none."""
    tables, code = _region_file(region)
    f = tables.get(table, {}).get(key)
    return (raw_dir() / f if f else None), code


def region_targets_spec(region: str | Path | None = None) -> tuple[Path | None, str]:
    """The region's default plan targets: ``[targets] default`` of its region file (a path
    under ``data/raw``) and ``format`` (``neijiang_plan_table`` or ``long``).

    Returns:
        (the file, its format), or (None, "") when the region file names no targets.
    """
    spec = _region_file(region)[0].get("targets", {})
    if not spec.get("default"):
        return None, ""
    return raw_dir() / spec["default"], str(spec.get("format", "neijiang_plan_table"))


def load_plan_targets(path: str | Path | None = None, area: str | None = None) -> pd.DataFrame:
    """Plan targets in the plan-table layout (box 2 and the text): one row per target.

    The layout (``format = "neijiang_plan_table"`` in a region file): one row per indicator,
    columns indicator_id, indicator_zh, stage, unit, ``target_<year>`` (the target year is read
    from this column's name), target_kind, binding, ``baseline_<year>`` …, comparison.

    Args:
        path: the table (default: the default region's ``[targets] default``).
        area: the division code the targets are for (default: the default region's code).

    Returns:
        Columns: area, indicator, indicator_zh, stage, unit, target_year, target (float; NaN for
        qualitative targets), target_text, kind (value/qualitative), binding, comparison
        (at_least/at_most/about), baseline_<year> … (as the table orders them), source.
    """
    area = area or _region_spec("targets", "default")[1]
    path = Path(path or region_targets_spec()[0])
    df = pd.read_csv(path, dtype=str)
    bad = sorted(set(df["comparison"]) - set(S.COMPARISONS))
    if bad:
        raise DataError(f"{path}: column 'comparison' has {bad}; use one of {S.COMPARISONS}")
    tcol = [c for c in df.columns if re.fullmatch(r"target_\d{4}", c)]
    if len(tcol) != 1:
        raise DataError(f"{path}: needs exactly one column target_<year> (found {tcol})")
    tcol = tcol[0]
    out = pd.DataFrame({
        S.AREA: area,
        S.INDICATOR: df["indicator_id"],
        "indicator_zh": df["indicator_zh"],
        "stage": df["stage"],
        S.UNIT: df["unit"].map(lambda u: _UNITS.get(u, u)),
        S.TARGET_YEAR: int(tcol[len("target_"):]),
        S.TARGET: pd.to_numeric(df[tcol], errors="coerce"),
        "target_text": df[tcol],
        "kind": df["target_kind"],
        "binding": df["binding"],
        S.COMPARISON: df["comparison"],
        **{c: pd.to_numeric(df[c], errors="coerce") for c in df.columns
           if re.fullmatch(r"baseline_\d{4}", c)},
        S.SOURCE: _plan_source(area, path),
    })
    return out


_SEAT_LEVELS = {"seats_preschool": "preschool", "seats_compulsory": "compulsory",
                "seats_senior_general": "senior_general", "seats_vocational": "secondary_vocational"}


def load_seats(path: str | Path | None = None, plan: dict | None = None) -> pd.DataFrame:
    """Plan box 6: new school places planned over the plan period, by area and level.

    Args:
        path: the table (default: the default region's ``[plan] seats``).
        plan: the region file's ``[plan]`` table (period, source; default: the default
            region's).

    Returns:
        Columns area, level (preschool, compulsory = primary + junior, senior_general,
        secondary_vocational), seats (places), period (the region file's ``[plan] period``,
        e.g. "2021-2025"), source. The city total row is dropped after checking that the areas
        add up to it.

    Raises:
        DataError: areas do not add up to the published total.
    """
    path = Path(path or _region_spec("plan", "seats")[0] or _no_plan_file("seats"))
    df = pd.read_csv(path)
    codes = _plan_codes()
    unknown = sorted(set(df["area_id"]) - set(codes))
    if unknown:
        raise DataError(f"{path}: unknown area_id {unknown}; add it to a region file")
    total = df[df["area_kind"] == "city_total"]
    parts = df[df["area_kind"] != "city_total"]
    for col in [*_SEAT_LEVELS, "seats_total"]:
        if len(total) and parts[col].sum() != total[col].iloc[0]:
            raise DataError(f"{path}: column {col}: areas sum to {parts[col].sum()}, the total "
                            f"row says {total[col].iloc[0]}")
    long = parts.melt(id_vars=["area_id"], value_vars=list(_SEAT_LEVELS),
                      var_name="_col", value_name=S.SEATS)
    plan = _plan_table() if plan is None else plan
    out = pd.DataFrame({S.AREA: long["area_id"].map(codes),
                        S.LEVEL: long["_col"].map(_SEAT_LEVELS),
                        S.SEATS: long[S.SEATS].astype(float), "period": plan.get("period", ""),
                        S.SOURCE: str(plan.get("source", path.name)) + ", box 6"})
    return out.sort_values([S.AREA, S.LEVEL], kind="stable").reset_index(drop=True)


def region_plan_tables(region: Region) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The plan tables the region file names (``[plan] indicators``, ``seats``: paths under
    ``data/raw``), empty where it names none.

    Returns:
        (plan box 1 as observations, planned new places, what was skipped: one line each).
    """
    plan = tomllib.loads(Path(region.path).read_text(encoding="utf-8")).get("plan", {})
    skipped = []
    if "indicators" in plan:
        plan_obs = load_plan_indicators(raw_dir() / plan["indicators"],
                                                area=region.code)
    else:
        plan_obs = pd.DataFrame(columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.UNIT, S.SOURCE,
                                         S.SOURCE_NOTE, S.QUALITY, S.PREFERRED])
        skipped.append(f"{region.path}: no [plan] indicators (plan baselines)")
    if "seats" in plan:
        seats = load_seats(raw_dir() / plan["seats"], plan)
    else:
        seats = pd.DataFrame(columns=[S.AREA, S.LEVEL, S.SEATS, "period", S.SOURCE])
        skipped.append(f"{region.path}: no [plan] seats — capacity is the base places only, "
                       "no planned new places")
    return plan_obs, seats, skipped
