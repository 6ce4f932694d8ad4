"""The ``njforecast`` command: one subcommand per job.

Parses arguments, loads config, calls the package, then tracking; no logic of its own.
Bad input (DataError, ConfigError, ValueError raised by validation) prints a clear message and
exits with status 2, without a Python traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

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


@app.command("run")
def run(config: Path = typer.Argument(..., help="Experiment config (TOML), e.g. "
                                      "experiments/neijiang-baseline/config.toml.")):
    """Run the main job for a config: build data, project, compare with targets, report, track."""
    from .config import load_config
    from .pipeline import run_config

    cfg = _guard(load_config, config)
    if cfg.section("backtest"):  # a back-test experiment (experiments/<name>/config.toml)
        _backtest_experiment(cfg)
        return
    _guard(run_config, cfg)


def _backtest_experiment(cfg) -> None:
    """Run a config's [backtest] inside an MLflow parent run (FAILED if it raises)."""
    from .backtest import format_mape_tables, run_experiment
    from .tracking import log_backtest

    result = {}

    def body():
        result["r"] = run_experiment(cfg)
        return result["r"]

    _guard(log_backtest, None, experiment=cfg.name, tracking_uri=cfg.tracking_uri,
           params={"name": cfg.name, "seed": cfg.seed, "backtest": cfg.section("backtest")},
           body=body)
    typer.echo(format_mape_tables(result["r"].metrics))
    typer.echo(f"\noutputs: {cfg.output_dir}/cv.csv, metrics.csv; MLflow: {cfg.tracking_uri} "
               f"(experiment {cfg.name!r})")


@app.command("backtest")
def backtest(
    observations: Path = typer.Option(..., "--observations", help="File in the observations "
                                      "format (area, year, indicator, value; other columns "
                                      "ignored)."),
    indicator: list[str] = typer.Option(..., "--indicator", help="Indicator to back-test "
                                        "(repeatable)."),
    area: Optional[list[str]] = typer.Option(None, "--area", help="Area code or slug "
                                             "(repeatable; default all)."),
    horizon: int = typer.Option(5, "--horizon", help="Leads 1..H (years)."),
    windows: int = typer.Option(5, "--windows", help="Cutoffs per series (T-H-W+1 .. T-H)."),
    models: str = typer.Option("all", "--models", help="Comma list of models, or 'all'."),
    output: Path = typer.Option(..., "--output", help="Folder for cv.csv and metrics.csv."),
    seed: int = typer.Option(20201101, "--seed", help="Seed for stochastic models."),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help="Log to MLflow at "
                                               "this URI (e.g. sqlite:///mlflow.db)."),
    experiment: str = typer.Option("backtest", "--experiment", help="MLflow experiment name."),
):
    """Rolling-origin back-test of forecasting models; prints MAPE by lead (NCES layout)."""
    from .backtest import format_mape_tables, read_observations_file, run_backtest, write_outputs

    obs = _guard(read_observations_file, observations)
    if area:
        from .data import _area_slugs

        slugs = _area_slugs()
        area = [slugs.get(a, a) for a in area]

    def body():
        res = run_backtest(obs, indicator, models, horizon, windows, area or None, seed,
                           source=str(observations))
        write_outputs(res, output)
        return res

    if tracking_uri:
        from .tracking import log_backtest

        holder = {}

        def tracked():
            holder["r"] = body()
            return holder["r"]

        _guard(log_backtest, None, experiment=experiment, tracking_uri=tracking_uri,
               params={"observations": str(observations), "indicator": indicator,
                       "area": area or ["all"], "horizon": horizon, "windows": windows,
                       "models": models, "seed": seed}, body=tracked)
        res = holder["r"]
    else:
        res = _guard(body)
    typer.echo(format_mape_tables(res.metrics))
    if res.fallbacks:
        typer.echo(f"\nnote: {len(res.fallbacks)} model fit(s) failed and used naive instead; "
                   f"see {output}/fallbacks.csv")
    typer.echo(f"\nwrote {output}/cv.csv and {output}/metrics.csv")


def main() -> None:
    """Entry point of the ``njforecast`` console script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
