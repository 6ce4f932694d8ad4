"""njforecast — county-level forecasts of school-age population, enrolment, GER and teachers,
compared with education-plan targets; every experiment tracked in MLflow.

Public API: see ``__all__``. Stages (DESIGN §2): data → areas → demography → enrollment →
models → teachers → capacity → scenarios → pipeline → backtest/metrics → plan_targets →
reporting → tracking → cli.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("njforecast")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
