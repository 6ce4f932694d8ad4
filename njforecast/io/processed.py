"""The processed data store: every frame rebuilt from ``data/raw`` deterministically.

Public names:
    build_processed(out_dir)     write every processed frame (deterministic, byte-identical)
    read_processed(name)         read a processed frame (building it first if missing)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import schema as S
from ..config import processed_dir
from ..areas import load_region
from .errors import DataError
from .plan import load_plan_targets, load_seats, region_plan_tables
from .store import (_census_paths, _region_names, load_census, load_census_areas, load_observations,
                    load_standards, write_csv_atomic)


def build_processed(out_dir: str | Path | None = None) -> dict[str, Path]:
    """Rebuild every processed frame from ``data/raw`` (deterministic; byte-identical reruns).

    Writes: census_population.csv (all census rows, both years, long), census_areas.csv,
    observations.csv (observed series + plan box 1), plan_targets.csv, seats.csv,
    standards.csv.

    Returns:
        name → written path.
    """
    out = Path(out_dir or processed_dir())
    pops, areas = [], []
    for p in _census_paths().values():
        pops.append(load_census(p))
        areas.append(load_census_areas(p))
    pop = pd.concat(pops, ignore_index=True).drop_duplicates([S.CENSUS_YEAR, S.AREA, S.SEX,
                                                               S.AGE_GROUP])
    area = pd.concat(areas, ignore_index=True).drop_duplicates([S.CENSUS_YEAR, S.AREA])
    # every region's plan box 1 (the regions whose region file names one)
    plans = [region_plan_tables(load_region(name))[0] for name in _region_names()]
    obs = pd.concat([load_observations(), *[p for p in plans if len(p)]], ignore_index=True)
    frames = {  # the names of PROCESSED_FRAMES, in order
        "census_population": pop,
        "census_areas": area,
        "observations": obs,
        "plan_targets": load_plan_targets(),
        "seats": load_seats(),
        "standards": load_standards(),
    }
    return {name: write_csv_atomic(df, out / f"{name}.csv") for name, df in frames.items()}


_DTYPES = {S.AREA: str, "province": str, "prefecture": str}

#: The frames :func:`build_processed` writes.
PROCESSED_FRAMES = ("census_population", "census_areas", "observations", "plan_targets",
                    "seats", "standards")


def read_processed(name: str, rebuild: bool = False) -> pd.DataFrame:
    """Read ``data/processed/<name>.csv``, running :func:`build_processed` first if needed.

    Raises:
        DataError: ``name`` is not one of :data:`PROCESSED_FRAMES`.
    """
    if name not in PROCESSED_FRAMES:
        raise DataError(f"no processed frame {name!r}; choose one of "
                        f"{', '.join(PROCESSED_FRAMES)}")
    path = processed_dir() / f"{name}.csv"
    if rebuild or not path.is_file():
        build_processed()
    return pd.read_csv(path, dtype=_DTYPES, keep_default_na=True)
