"""Load the bundled raw data into tidy long frames, and build ``data/processed``.

Public functions:
    load_census(path)            census table (2010 or 2020 layout, xlsx or csv) → long frame
                                 (census_year, area, sex, age_group, age_start, age_end, population)
    load_census_checked(path, blank_cells)   the same and the areas dropped/filled for blank cells
    load_census_areas(path)      one row per census row: code, names, kind, parent, totals
    load_census_migration(path)  residents, registered population, intra-provincial in-migrants
    load_bundled_census()        every bundled census table's rows (census_population.csv)
    file_sha256(path)            hex SHA-256 of a file
    load_observations(paths)     observed series → (area, year, indicator, value, unit, source,
                                 source_note, quality, preferred)
    (plan tables — baselines, targets, seats — are read by :mod:`njforecast.io.plan`)
    load_standards(path)         staffing standards

Census layouts (both from leiii/census, MIT; Dong, Du & Liu 2022):
    2010: columns ``0岁（男）``, ``1-4岁（女）`` … ``85岁及以上（男）``; codes in ``区划代码``.
    2020: columns ``男_0岁``, ``女_1到4岁`` … ``男_85岁以上``.
Rows are kept as published; ``kind`` says whether a row is the nation, a province, a prefecture
or a county-level unit, derived from its code (GB/T 2260: ``pp0000`` province, ``pppp00``
prefecture, otherwise county level). Rows without a code (subtotals such as 市辖区) are dropped.
Each census file is parsed once: its frames are kept in data/processed/census as Parquet, keyed by
the file's SHA-256, and every later reader (parallel workers included) reads them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import external_dir, processed_dir, raw_dir
from .census_cells import apply_cell_policy, bad_cells_by_row
from .errors import DataError  # noqa: F401  (re-exported: every reader raises it)

# ------------------------------------------------------------------------------------------
# atomic writes


def write_csv_atomic(df: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """Write ``df`` to ``path`` through a temporary file and an atomic rename.

    A failure leaves no half-written file. Line endings are ``\\n`` and floats are written
    with ``repr`` precision, so writing the same frame twice gives identical bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False, lineterminator="\n", **kwargs)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def replace_dir_atomic(staged: str | Path, final: str | Path) -> Path:
    """Put a fully written folder ``staged`` in place of ``final`` by renames.

    The previous ``final`` (if any) is moved aside first and deleted only after the new folder
    is in place, so readers see either the old or the new outputs, never a half-written mix.
    ``staged`` must be on the same file system as ``final`` (make it in ``final.parent``).
    """
    staged, final = Path(staged), Path(final)
    old = final.parent / f".{final.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


# ------------------------------------------------------------------------------------------
# census

_RE_2010 = re.compile(r"^(\d+)(?:-(\d+))?岁(及以上)?[（(](男|女)[）)]$")
_RE_2020 = re.compile(r"^(男|女)_(\d+)(?:到(\d+))?岁(以上)?$")
_SEX = {"男": "male", "女": "female"}


def _age_label(start: int, end: int | None, open_: bool) -> str:
    if open_:
        return f"{start}+"
    if end is None or end == start:
        return str(start)
    return f"{start}-{end}"


def _census_age_columns(columns) -> tuple[int, dict[str, tuple[str, str]]]:
    """Map raw column names to (sex, age_group); detect the layout's census year."""
    found: dict[str, tuple[str, str]] = {}
    year = None
    for col in columns:
        name = str(col).replace("\n", "").strip()
        m = _RE_2010.match(name)
        if m:
            start, end, open_, sex = m.groups()
            found[col] = (_SEX[sex], _age_label(int(start), int(end) if end else None, bool(open_)))
            year = year or 2010
            continue
        m = _RE_2020.match(name)
        if m:
            sex, start, end, open_ = m.groups()
            found[col] = (_SEX[sex], _age_label(int(start), int(end) if end else None, bool(open_)))
            year = year or 2020
    return (year or 0), found


def _read_any(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path)
    return pd.read_csv(path, encoding="utf-8-sig")


def _code_str(values: pd.Series) -> pd.Series:
    """Codes read as float (511002.0) or str → '511002'; missing → NA."""
    num = pd.to_numeric(values, errors="coerce")
    out = num.round().astype("Int64").astype(str)
    return out.where(num.notna(), pd.NA)


def _kind_of(code: str) -> str:
    if code == "100000":
        return "nation"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def _raw_census(path: Path) -> tuple[pd.DataFrame, int, dict[str, tuple[str, str]]]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: census file not found")
    df = _read_any(path)
    year, agecols = _census_age_columns(df.columns)
    expected = {(sex, g) for sex in S.SEXES for g in S.AGE_GROUP_LABELS}
    got = set(agecols.values())
    if not year or got != expected:
        missing = sorted(expected - got)[:5]
        raise DataError(
            f"{path}: not a recognised census layout — expected the 2010 headers (0岁（男）, "
            f"1-4岁（男）…) or the 2020 headers (男_0岁, 男_1到4岁…) for 19 age groups × 2 sexes; "
            f"missing e.g. {missing}")
    if "区划代码" not in df.columns:
        raise DataError(f"{path}: column 区划代码 (division code) is missing")
    df = df.copy()
    df["_code"] = _code_str(df["区划代码"])
    if year == 2020 and "区县" in df.columns:
        nation = df["省"].astype(str).eq("全国") if "省" in df.columns else False
        df.loc[nation & df["_code"].isna(), "_code"] = "100000"
    df = df[df["_code"].notna()].reset_index(drop=True)
    return df, year, agecols


def _census_population(df: pd.DataFrame, year: int, agecols: dict[str, tuple[str, str]],
                       path: Path) -> pd.DataFrame:
    """The raw table's age columns → the long population frame of :func:`load_census`."""
    cols = list(agecols)
    wide = df[["_code", *cols]].rename(columns={"_code": S.AREA})
    long = wide.melt(id_vars=[S.AREA], var_name="_col", value_name=S.POPULATION)
    long[S.POPULATION] = pd.to_numeric(long[S.POPULATION], errors="coerce")
    long.loc[long[S.POPULATION] < 0, S.POPULATION] = np.nan   # blank cells: io.census_cells
    long[S.SEX] = long["_col"].map(lambda c: agecols[c][0])
    long[S.AGE_GROUP] = long["_col"].map(lambda c: agecols[c][1])
    bounds = {g: (a, b) for g, a, b in S.AGE_GROUPS}
    long[S.AGE_START] = long[S.AGE_GROUP].map(lambda g: bounds[g][0]).astype(int)
    long[S.AGE_END] = long[S.AGE_GROUP].map(lambda g: bounds[g][1]).astype(int)
    long[S.CENSUS_YEAR] = year
    long[S.POPULATION] = long[S.POPULATION].astype(float)
    order = {g: i for i, g in enumerate(S.AGE_GROUP_LABELS)}
    long["_o"] = long[S.AGE_GROUP].map(order)
    long = long.sort_values([S.AREA, S.SEX, "_o"], kind="stable")
    out = long[[S.CENSUS_YEAR, S.AREA, S.SEX, S.AGE_GROUP, S.AGE_START, S.AGE_END,
                S.POPULATION]].reset_index(drop=True)
    dup = out.duplicated([S.AREA, S.SEX, S.AGE_GROUP])
    if dup.any():
        raise DataError(f"{path}: area code {out.loc[dup, S.AREA].iloc[0]} appears on more than "
                        "one row; each code must appear once")
    return out


_TOTAL_COLS = {2010: ("合计", "男", "女", "地区"), 2020: ("人口数_合计", "人口数_男", "人口数_女", "区县")}
#: published columns kept per area besides the totals (2010 table only): raw name → column
_AREA_EXTRA = {"出生率（‰）": "crude_birth_rate_permille", "死亡率（‰）": "crude_death_rate_permille",
               "户籍人口": "registered_population"}
#: residents registered in another county of the same province (2010 table), persons
_IN_PROVINCE = ("迁入人口（人）-本省其他县\n（市）、市区", "in_province_migrants")
#: urban and rural residents (both layouts), persons; read by :func:`load_census_migration`
_URBAN = {"城镇人口": "urban_population", "乡村人口": "rural_population"}


def _census_area_rows(df: pd.DataFrame, year: int, agecols: dict[str, tuple[str, str]]
                      ) -> pd.DataFrame:
    """The raw table's name and total columns → the frame of :func:`load_census_areas` plus
    ``in_province_migrants`` (2010 only), ``urban_population`` and ``rural_population`` (read by
    :func:`load_census_migration`)."""
    tot, male, female, name = _TOTAL_COLS[year]
    out = pd.DataFrame({
        S.CENSUS_YEAR: year,
        S.AREA: df["_code"].astype(str),
        "name_zh": df[name].astype(str).str.strip(),
        "total": pd.to_numeric(df[tot], errors="coerce"),
        "male": pd.to_numeric(df[male], errors="coerce"),
        "female": pd.to_numeric(df[female], errors="coerce"),
    })
    out["kind"] = out[S.AREA].map(_kind_of)
    out["province"] = out[S.AREA].str[:2] + "0000"
    out["prefecture"] = out[S.AREA].str[:4] + "00"
    for raw, new in [*_AREA_EXTRA.items(), _IN_PROVINCE, *_URBAN.items()]:
        out[new] = pd.to_numeric(df[raw], errors="coerce") if raw in df.columns else np.nan
    out["bad_cells"] = bad_cells_by_row(df, agecols)
    return out.reset_index(drop=True)


#: version of the parsed census layout in data/processed/census (bump when the parse changes)
CENSUS_CACHE_VERSION = 3
_CACHE_NAME = re.compile(r"^(?P<stem>.+)-(?P<digest>[0-9a-f]{16})-v(?P<version>\d+)"
                         r"\.(?:population|areas)\.parquet$")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def census_cache_paths(path: str | Path) -> tuple[Path, Path]:
    """Where the parsed frames of a raw census file live: data/processed/census/
    ``<stem>-<sha256[:16]>-v<version>.{population,areas}.parquet`` (keyed by the raw bytes)."""
    path = Path(path)
    key = f"{path.stem}-{file_sha256(path)[:16]}-v{CENSUS_CACHE_VERSION}"
    folder = processed_dir() / "census"
    return folder / f"{key}.population.parquet", folder / f"{key}.areas.parquet"


def _write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write Parquet through a temporary file and a rename (same bytes for the same frame)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, engine="pyarrow", index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _census_tables(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(population, areas) of a census file, parsed once and then read from data/processed.

    The raw table (xlsx or csv) is parsed only when data/processed/census holds no frames for
    its SHA-256 (:func:`census_cache_paths`); the frames are then written there atomically and
    the cached frames of earlier versions of the same file name are removed. A data directory
    that cannot be written to is parsed every time (same frames).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: census file not found")
    pop_path, area_path = census_cache_paths(path)
    if pop_path.is_file() and area_path.is_file():
        try:
            return pd.read_parquet(pop_path), pd.read_parquet(area_path)
        except (OSError, ValueError):  # truncated or foreign file: parse the raw table again
            pass
    df, year, agecols = _raw_census(path)
    pop, areas = _census_population(df, year, agecols, path), _census_area_rows(df, year, agecols)
    try:
        pop_path.parent.mkdir(parents=True, exist_ok=True)
        _write_parquet_atomic(pop, pop_path)
        _write_parquet_atomic(areas, area_path)
        keep = {pop_path.name, area_path.name}
        for old in pop_path.parent.glob(f"{path.stem}-*.parquet"):
            m = _CACHE_NAME.match(old.name)
            if m and m["stem"] == path.stem and old.name not in keep:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return pop, areas


def load_census(path: str | Path, blank_cells: str = "refuse") -> pd.DataFrame:
    """Census population by area, sex and age group (long).

    Args:
        path: a census table in the 2010 or the 2020 layout (xlsx or csv). It is parsed once;
            later calls read the parsed frame from data/processed/census (keyed by the file's
            SHA-256, so a changed file is parsed again).
        blank_cells: what to do with empty, non-numeric or negative age cells: "refuse"
            (DataError naming every cell), "drop" (leave those areas out) or "zero" (empty
            cells read as 0); see :mod:`njforecast.io.census_cells`. Use
            :func:`load_census_checked` to get the list of areas dropped or filled.

    Returns:
        Frame with columns census_year, area, sex, age_group, age_start, age_end, population
        (persons, at 1 November of the census year; ages in completed years). Rows without a
        division code (subtotals) are dropped.

    Raises:
        DataError: unknown layout, missing code column, or unusable age cells under the policy.
    """
    return load_census_checked(path, blank_cells)[0]


def load_census_checked(path: str | Path, blank_cells: str = "refuse"
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`load_census` and the areas its ``blank_cells`` policy dropped or filled.

    Returns:
        (population frame, frame area, name_zh, action, cells) — empty when every cell is usable.
    """
    pop, areas = _census_tables(path)
    return apply_cell_policy(pop, areas, path, blank_cells)


def load_census_areas(path: str | Path) -> pd.DataFrame:
    """One row per coded census row: area, name_zh, kind, province, prefecture, totals.

    Columns: census_year, area, name_zh, kind (nation/province/prefecture/county), province
    (code), prefecture (code), total, male, female (persons), plus ``crude_birth_rate_permille``
    and ``crude_death_rate_permille`` (2010 only, as published) and ``registered_population``
    (2010 only). Parsed once, like :func:`load_census`.
    """
    return _census_tables(path)[1].drop(columns=[_IN_PROVINCE[1], *_URBAN.values(), "bad_cells"])


def load_census_migration(path: str | Path) -> pd.DataFrame:
    """Residents, registered population, intra-provincial in-migrants, urban and rural residents.

    Columns: area, total (residents), registered_population (户籍人口), in_province_migrants
    (residents registered in another county of the same province, column
    迁入人口（人）-本省其他县（市）、市区), urban_population (城镇人口), rural_population
    (乡村人口); persons, NaN where the table has no value (blank cells as published).
    Only the 2010 county table has the in-migrant column.

    Raises:
        DataError: the table has no in-migrant column.
    """
    areas = _census_tables(path)[1]
    if areas[_IN_PROVINCE[1]].isna().all():
        raise DataError(f"{path}: no column {_IN_PROVINCE[0]!r} (intra-provincial in-migrants); "
                        "only the 2010 county table has it")
    return areas[[S.AREA, "total", "registered_population", _IN_PROVINCE[1], *_URBAN.values()]]


def load_bundled_census() -> pd.DataFrame:
    """Every bundled census table's rows, long (the frame of census_population.csv).

    The tables of :func:`_census_paths` (2010 county, 2020 Sichuan county, 2020 province),
    each through :func:`load_census`; a (year, area, sex, age group) published twice is kept
    once, first table first.
    """
    pops = [load_census(p) for p in _census_paths().values()]
    pop = pd.concat(pops, ignore_index=True).drop_duplicates([S.CENSUS_YEAR, S.AREA, S.SEX,
                                                               S.AGE_GROUP])
    return pop.reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# observations

_UNITS = {"pct": "percent", "percent": "percent", "permille": "permille", "persons": "persons",
          "schools": "schools"}

#: Source tiers (data/raw/observed/README.md): official statistics > news agencies quoting them
#: > third-party compilations. Matched on the source note, case-insensitive, first match wins.
_TIERS = (
    (1, ("nbs", "moe", "statistical yearbook", "yearbook", "bulletin", "communique", "统计")),
    (2, ("news", "yicai", "the paper", "xinhua", "people's daily", "report")),
)


def source_tier(note: str) -> int:
    """1 official, 2 news quoting official, 3 third-party (compilations, mirrors, encyclopedias)."""
    text = str(note).lower()
    if any(w in text for w in ("third-party", "mirror", "encyclopedia", "web article", "q&a")):
        return 3
    for tier, words in _TIERS:
        if any(w in text for w in words):
            return tier
    return 3


def _area_slugs() -> dict[str, str]:
    codes = pd.read_csv(external_dir() / "province_codes.csv", dtype=str)
    slugs = dict(zip(codes["slug"], codes["code"], strict=True))
    from ..areas import load_region  # local import: areas sits below data in the import order

    for name in _region_names():
        region = load_region(name)
        slugs.update({a.plan_id: a.code for a in region.areas})
    return slugs


def _region_names() -> list[str]:
    return sorted(p.stem for p in (external_dir() / "regions").glob("*.toml"))


def load_observations(paths: list[str | Path] | None = None) -> pd.DataFrame:
    """Observed yearly series in the long observations format.

    Args:
        paths: files with columns year, area, indicator, value, unit, source_url, source_note
            (the bundled ``data/raw/observed/*.csv`` by default). ``area`` is a slug (``sichuan``,
            ``zizhong``) mapped to its division code.

    Returns:
        Columns area, year, indicator, value, unit, source, source_note, quality, preferred.
        All raw rows are kept; where two sources give the same (area, year, indicator),
        ``preferred`` marks one by a stated rule: the better source tier (official > news >
        third-party, see :func:`source_tier`), then the more precise figure (more significant
        digits), then file order. ``quality`` is "observed" for every bundled row.
    """
    if paths is None:
        paths = sorted((raw_dir() / "observed").glob("*.csv"))
    slugs = _area_slugs()
    frames = []
    for p in paths:
        df = pd.read_csv(p, dtype={"area": str}, encoding="utf-8-sig")
        unknown = sorted(set(df["area"]) - set(slugs))
        if unknown:
            raise DataError(f"{p}: unknown area(s) {unknown}; add them to "
                            "data/external/province_codes.csv or a region file")
        frames.append(pd.DataFrame({
            S.AREA: df["area"].map(slugs),
            S.YEAR: df["year"].astype(int),
            S.INDICATOR: df["indicator"].astype(str),
            S.VALUE: df["value"].astype(float),
            S.UNIT: df["unit"].map(lambda u: _UNITS.get(str(u), str(u))),
            S.SOURCE: df["source_url"].astype(str),
            S.SOURCE_NOTE: df["source_note"].astype(str),
            S.QUALITY: "observed",
        }))
    obs = pd.concat(frames, ignore_index=True)
    obs["_tier"] = obs[S.SOURCE_NOTE].map(source_tier)
    obs["_digits"] = -obs[S.VALUE].map(_significant_digits)
    obs["_order"] = np.arange(len(obs))
    keys = [S.AREA, S.YEAR, S.INDICATOR]
    ranked = obs.sort_values([*keys, "_tier", "_digits", "_order"], kind="stable")
    obs[S.PREFERRED] = False
    obs.loc[ranked.drop_duplicates(keys).index, S.PREFERRED] = True
    obs = obs.drop(columns=["_tier", "_digits", "_order"])
    obs = obs.sort_values([S.AREA, S.INDICATOR, S.YEAR, S.SOURCE], kind="stable")
    return S.OBSERVATIONS_SCHEMA.validate(obs.reset_index(drop=True))


def _significant_digits(x: float) -> int:
    s = f"{abs(x):.10g}".replace(".", "").lstrip("0").rstrip("0")
    return len(s)


def preferred(obs: pd.DataFrame) -> pd.DataFrame:
    """One row per (area, year, indicator): the ``preferred`` rows (all rows if no flag)."""
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED]]
    return obs.drop_duplicates([S.AREA, S.YEAR, S.INDICATOR])


def load_standards(path: str | Path | None = None) -> pd.DataFrame:
    """Staffing standards as published (data/raw/standards/staffing_standards.csv)."""
    path = Path(path or raw_dir() / "standards" / "staffing_standards.csv")
    return pd.read_csv(path)


# ------------------------------------------------------------------------------------------
# processed data


def _census_paths() -> dict[str, Path]:
    c = raw_dir() / "census"
    return {"census_2010": c / "census_county_2010.xlsx",
            "census_2020": c / "census_county_2020_sichuan.csv",
            "census_2020_provinces": c / "census_province_2020.csv"}
