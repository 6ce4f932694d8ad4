"""Shared fixtures: the bundled processed data (built once per session) and an MLflow store in tmp."""

import sys
from pathlib import Path

import pytest

# tests/reference.py (the frame pipeline of f13f3a3) is importable from every test folder
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def processed():
    """The processed frames, rebuilt from data/raw once per test session."""
    from njforecast.io import processed as data

    data.build_processed()
    return {name: data.read_processed(name) for name in
            ("census_population", "census_areas", "observations", "plan_targets", "seats")}


def sichuan_census_head(directory, n):
    """The 2020 Sichuan county table cut to its first ``n`` county-level rows (real, unchanged).

    Returns the path of the CSV written in ``directory``.
    """
    import pandas as pd

    from njforecast.config import raw_dir

    raw = pd.read_csv(raw_dir() / "census" / "census_county_2020_sichuan.csv", dtype=str)
    code = raw["区划代码"].fillna("").str.replace(r"\.0$", "", regex=True)
    rows = raw[code.str.fullmatch(r"\d{6}") & ~code.str.endswith("00")].head(n)
    path = directory / f"sichuan{n}.csv"
    rows.to_csv(path, index=False)
    return path


@pytest.fixture()
def tracking_uri(tmp_path):
    """An MLflow tracking URI in a temporary folder (never the working directory)."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
