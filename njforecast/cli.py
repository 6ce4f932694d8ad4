"""The ``njforecast`` command: one subcommand per job.

Parses arguments, loads config, calls the package, then tracking; no logic of its own.
Bad input (DataError, ConfigError, ValueError raised by validation) prints a clear message and
exits with status 2, without a Python traceback.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from . import __version__

app = typer.Typer(help="Forecast school-age population, enrolment, GER and teacher demand by "
                       "county, and compare them with education-plan targets.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Build, validate and inspect the bundled data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
demography_app = typer.Typer(help="Population engine: project census populations, back-test.",
                             no_args_is_help=True)
app.add_typer(demography_app, name="demography")


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
def data_build(out: Optional[Path] = typer.Option(None, help="Output folder (default data/processed).")):
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


class _Kind(str, Enum):
    auto = "auto"
    observations = "observations"
    population = "population"


@data_app.command("validate", short_help="Check your own observations or population file "
                  "(CSV or xlsx): every problem with row, column and fix.", help=(
    "Check your own observations or population file (CSV or xlsx) before using it. Every "
    "problem is listed as FILE:ROW:COLUMN: message — fix, and the command exits 2; a valid file "
    "prints one line 'ok: FILE — kind, rows, areas, years, …' and exits 0. Formats: README, "
    "'Bringing your own county series'."))
def data_validate(
        paths: list[Path] = typer.Argument(..., help="CSV (UTF-8, UTF-8 with BOM, GBK) or xlsx "
                                           "file(s); a folder means every .csv/.xlsx in it."),
        kind: _Kind = typer.Option(_Kind.auto, "--kind", help="observations, population, or "
                                   "auto (decided from the column names)."),
        region: str = typer.Option("neijiang", "--region", help="Region whose codes and plan "
                                   "ids are accepted (every census code is accepted too)."),
        max_problems: int = typer.Option(50, "--max-problems", help="Problems printed per "
                                         "file (the rest are counted).")):
    """Validate user files (njforecast.validation); print problems; exit 2 on errors."""
    from .validation import format_problems, input_files, validate_file

    files = _guard(input_files, paths)
    failed = 0
    for path in files:
        report = _guard(validate_file, path, kind.value, region)
        for line in format_problems(report.problems, max_problems):
            typer.echo(line)
        if report.ok:
            typer.echo(report.summary())
        else:
            failed += 1
    if failed:
        _fail(f"{failed} of {len(files)} file(s) have errors; fix them and validate again")


@app.command("run")
def run(config: Path = typer.Argument(..., help="Experiment config (TOML), e.g. "
                                      "experiments/neijiang-baseline/config.toml.")):
    """Run the main job for a config: build data, project, compare with targets, report, track."""
    from .config import load_config
    from .pipeline import run_config

    cfg = _guard(load_config, config)
    _guard(run_config, cfg)


@demography_app.command("project")
def demography_project(
        base: Path = typer.Option(..., help="Census table (2010 xlsx layout or 2020 layout, "
                                  "xlsx or csv); its county-level rows are projected."),
        to: int = typer.Option(2035, "--to", help="Last year (1 September of each year)."),
        output: Path = typer.Option(..., help="Output CSV (written atomically)."),
        draws: int = typer.Option(0, help="Monte Carlo draws (0 = one deterministic path)."),
        seed: int = typer.Option(20201101, help="Random seed (same seed → same numbers)."),
        region: str | None = typer.Option(None, help="Only this region's counties "
                                             "(e.g. neijiang), plus the region total."),
        single_ages: bool = typer.Option(False, help="Single ages 0-25 instead of the school "
                                         "bands 3-5, 6-11, 12-14, 15-17."),
        fertility_path: str = typer.Option("medium", help="constant, medium, trend, low, high."),
        migration_multiplier: float = typer.Option(1.0, help="Scenario factor on net migration."),
        fertility_multiplier: float = typer.Option(1.0, help="Scenario factor on births."),
        executor: str = typer.Option("local", help="local (process pool), dask (cluster; a "
                                     "LocalCluster without --address) or serial."),
        workers: Optional[int] = typer.Option(None, help="Worker processes (default: CPU "
                                              "count); ignored with --address."),
        address: Optional[str] = typer.Option(None, help="Dask scheduler, e.g. "
                                              "tcp://10.0.0.5:8786 (needs --executor dask)."),
):
    """Project a census by county to YEAR: school-age bands (or single ages) with intervals."""
    from .data import write_csv_atomic
    from .demography import DemographicAssumptions, project_census_file

    ass = _guard(DemographicAssumptions, fertility_path=fertility_path,
                 migration_multiplier=migration_multiplier,
                 fertility_multiplier=fertility_multiplier)
    out = _guard(project_census_file, base, to, draws, seed, ass, region, single_ages,
                 executor=executor, workers=workers, address=address)
    write_csv_atomic(out, output)
    typer.echo(f"{out['area'].nunique()} areas, {out['year'].min()}-{out['year'].max()}, "
               f"{'draws ' + str(draws) if draws else 'deterministic'} -> {output}")


@demography_app.command("backtest")
def demography_backtest(
        base: Path = typer.Option(..., help="Census A (launch), e.g. the 2010 county table."),
        actual: Path = typer.Option(..., help="Census B (10 years later), used only to score."),
        output: Path = typer.Option(..., help="Output CSV: one row per county × age group."),
        min_ratio: float = typer.Option(0.5, help="Exclude counties whose total B/A is below."),
        max_ratio: float = typer.Option(2.0, help="Exclude counties whose total B/A is above."),
):
    """Project census A's counties to census B's moment and print errors beside the naive."""
    from .data import write_csv_atomic
    from .demography import census_backtest

    res = _guard(census_backtest, base, actual, (min_ratio, max_ratio))
    write_csv_atomic(res.rows, output)
    for rule in res.rules:
        typer.echo(f"rule: {rule}")
    typer.echo(f"excluded {len(res.excluded)} counties:")
    for r in res.excluded.itertuples(index=False):
        typer.echo(f"  {r.area_code} {r.area_name} — {r.reason}")
    table = res.summary.pivot(index="age_group", columns="method",
                              values=["median_ape", "mean_ape"]).round(1)
    methods = list(dict.fromkeys(res.summary["method"]))
    table = table.reindex(columns=[(v, m) for v in ("median_ape", "mean_ape") for m in methods])
    table = table.reindex(list(dict.fromkeys(res.summary["age_group"])))
    typer.echo(f"counties scored: {res.summary['n'].max()}; absolute percentage error (%):")
    typer.echo(table.to_string())
    typer.echo(f"rows -> {output}")


def main() -> None:
    """Entry point of the ``njforecast`` console script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
