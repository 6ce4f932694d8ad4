"""njforecast — county-level forecasts of school-age population, enrolment, GER and teachers,
compared with education-plan targets; every experiment tracked in MLflow.

Layout (DESIGN §3), imports flowing down: schema, config → io → areas → demography → models →
education → planning → engine (BaseState, ``engine.project``, ``engine.run``) → evaluation,
reporting → tracking → app → cli. ``engine.run(config, scenario)`` is the one orchestrator.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("njforecast")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
