"""Fixtures of the planner's page tests: one PlannerService per session (the base state is built
once, as the app does at start-up) and the app on a free loopback port, stopped after."""

from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "neijiang-baseline" / "config.toml"


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    """The page's service over the baseline config; saving logs to a temporary MLflow store."""
    from njforecast.app import PlannerService

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    return PlannerService(CONFIG, tracking_uri=uri)


@pytest.fixture(scope="session")
def base_url(service):
    """The app served on 127.0.0.1 at a free port for the whole session (stopped at the end)."""
    from njforecast.app import background_server

    with background_server(service) as url:
        yield url
