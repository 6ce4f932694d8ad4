"""Where the bundled data live, the config error, and the vocabularies the tables check against."""

from __future__ import annotations

import os
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parent.parent.parent
#: The region bundled with the package (data/external/regions/neijiang.toml): the default of
#: the command line and of a config without ``region``. Nothing else about it lives in code.
DEFAULT_REGION = "neijiang"
#: Last year a run, a request or a scenario may project (the engine prepares its demographic
#: inputs to this year; the data cannot support a longer horizon).
MAX_END_YEAR = 2050


def data_dir() -> Path:
    """Root of the data tree (``raw/``, ``external/``, ``processed/``)."""
    env = os.environ.get("NJFORECAST_DATA")
    return Path(env) if env else REPO_ROOT / "data"


def raw_dir() -> Path:
    """Immutable files as received (``data/raw``)."""
    return data_dir() / "raw"


def external_dir() -> Path:
    """Third-party reference inputs and region definitions (``data/external``)."""
    return data_dir() / "external"


def processed_dir() -> Path:
    """Frames rebuilt by ``njforecast data build`` (``data/processed``)."""
    return data_dir() / "processed"


class ConfigError(ValueError):
    """A config file is missing, unreadable or has a bad value (message names file and key)."""


# --- vocabularies (the stage modules' own; tests/test_config.py checks they agree) ----------

#: Age bands of the enrolment stage (``education.enrolment.DEFAULT_BANDS``).
BANDS = ("preschool", "primary", "junior", "senior")
#: Plan GER indicator ids (``education.enrolment.BAND_GER``).
GER_IDS = ("preschool_ger_3y", "primary_ger", "junior_ger", "senior_stage_ger")
#: Forecaster registry names (``models.MODELS``).
MODEL_NAMES = ("naive", "drift", "mean", "theta", "ets", "arima", "autoets", "prophet", "global",
               "structural", "cohortflow", "combo", "auto")
#: ``demography.FERTILITY_PATHS`` and ``demography.MIGRATION_SOURCES``.
FERTILITY_PATHS = ("constant", "medium", "trend", "low", "high")
MIGRATION_SOURCES = ("auto", "province", "none")
