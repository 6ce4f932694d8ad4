"""The ``njforecast`` command: one subcommand per job.

Parses arguments, loads config, calls the package, then tracking; no logic of its own.
Bad input (DataError, ConfigError, ValueError raised by validation) prints a clear message and
exits with status 2, without a Python traceback.

Modules: ``common`` (the command tree, input-error handling, defaults), ``data`` (data and
enrolment-base commands), ``jobs`` (run, targets, scenario, serve, the planner's page),
``research`` (demography, model back-tests and ``evaluate``, the whole engine back-tested).
"""

from __future__ import annotations

import sys

from . import data, jobs, research  # noqa: F401  (each registers its commands on ``app``)
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``njforecast`` console script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
