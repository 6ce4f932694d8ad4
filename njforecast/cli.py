"""The ``njforecast`` command: one subcommand per job.

Parses arguments, loads config, calls the package, then tracking; no logic of its own.
Bad input (DataError, ConfigError, ValueError raised by validation) prints a clear message and
exits with status 2, without a Python traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from . import __version__

app = typer.Typer(help="Forecast school-age population, enrolment, GER and teacher demand by "
                       "county, and compare them with education-plan targets.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Build, validate and inspect the bundled data.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _guard(func, *args, **kwargs):
    """Run ``func``; turn input errors into a message and exit status 2 (no traceback)."""
    from .config import ConfigError
    from .data import DataError

    try:
        return func(*args, **kwargs)
    except (DataError, ConfigError, FileNotFoundError, KeyError, ValueError) as exc:
        _fail(str(exc).strip("'\""))


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    if version:
        typer.echo(__version__)
        raise typer.Exit()


@data_app.command("build")
def data_build(out: Path | None = typer.Option(None, help="Output folder (default data/processed).")):
    """Rebuild data/processed from data/raw (deterministic: byte-identical on rerun)."""
    from .data import build_processed

    paths = _guard(build_processed, out)
    for name, path in paths.items():
        typer.echo(f"{name:20s} {path}")


@data_app.command("show")
def data_show(name: str = typer.Argument("summary", help="summary, or a processed frame name "
                                          "(census_population, census_areas, observations, "
                                          "plan_targets, seats, standards)."),
              rows: int = typer.Option(20, help="Rows to print.")):
    """Print a summary of the bundled data, or the first rows of one processed frame."""
    from .data import read_processed

    if name == "summary":
        from .pipeline import data_summary

        typer.echo(_guard(data_summary))
        return
    frame = _guard(read_processed, name)
    typer.echo(frame.head(rows).to_string(index=False))


@app.command("run")
def run(config: Path = typer.Argument(..., help="Experiment config (TOML), e.g. "
                                      "experiments/neijiang-baseline/config.toml.")):
    """Run the main job for a config: build data, project, compare with targets, report, track."""
    from .config import load_config
    from .pipeline import run_config

    cfg = _guard(load_config, config)
    _guard(run_config, cfg)


enrolment_app = typer.Typer(help="Enrolment, indicators, teachers and capacity.",
                            no_args_is_help=True)
app.add_typer(enrolment_app, name="enrolment")


@enrolment_app.command("base")
def enrolment_base(region: str = typer.Option("neijiang", help="Region name or region file."),
                   observations: Path | None = typer.Option(
                       None, help="Your own county series (CSV: area, year, indicator, value); "
                                  "base-year counts replace the estimates."),
                   out: Path | None = typer.Option(None, help="Also write the table as CSV.")):
    """Print the calibrated base year (census 2020 → plan baselines) by area and level."""
    import pandas as pd

    from .areas import load_region
    from .data import write_csv_atomic
    from .enrollment import base_year_table

    reg = _guard(load_region, region)
    obs = None
    if observations is not None:
        if not observations.is_file():
            _fail(f"{observations}: file not found; give a CSV with columns area, year, "
                  "indicator, value")
        obs = _guard(pd.read_csv, observations, dtype={"area": str})
    table = _guard(base_year_table, reg, obs)
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if out is not None:
        _guard(write_csv_atomic, table, out)
        typer.echo(f"written {out}")


def main() -> None:
    """Entry point of the ``njforecast`` console script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
