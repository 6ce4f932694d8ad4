"""Shared fixtures: the bundled processed data (built once per session) and an MLflow store in tmp."""

import pytest


@pytest.fixture(scope="session")
def processed():
    """The processed frames, rebuilt from data/raw once per test session."""
    from njforecast import data

    data.build_processed()
    return {name: data.read_processed(name) for name in
            ("census_population", "census_areas", "observations", "plan_targets", "seats")}


@pytest.fixture()
def tracking_uri(tmp_path):
    """An MLflow tracking URI in a temporary folder (never the working directory)."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
