"""The ``njforecast`` command tree (the top-level app and its sub-apps) and what every command
shares: turning bad input into a message and exit status 2, the default config and model
folder, progress lines.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .. import __version__
from ..config import REPO_ROOT

app = typer.Typer(help="Forecast school-age population, enrolment, GER and teacher demand by "
                       "county, and compare them with education-plan targets.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Build, validate and inspect the bundled data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
demography_app = typer.Typer(help="Population engine: project census populations, back-test.",
                             no_args_is_help=True)
app.add_typer(demography_app, name="demography")
enrolment_app = typer.Typer(help="Enrolment, indicators, teachers and capacity.",
                            no_args_is_help=True)
app.add_typer(enrolment_app, name="enrolment")
targets_app = typer.Typer(help="Plan targets: the ids a targets file may use; check a file.",
                          no_args_is_help=True)
app.add_typer(targets_app, name="targets")
scenario_app = typer.Typer(help="Named scenarios: list, show, run.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
serve_app = typer.Typer(help="Serve the scenario engine over HTTP (MLflow scoring server).",
                        invoke_without_command=True)
app.add_typer(serve_app, name="serve")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _guard(func, *args, **kwargs):
    """Run ``func``; turn input errors into a message and exit status 2 (no traceback)."""
    from ..config import ConfigError
    from ..io.store import DataError

    try:
        return func(*args, **kwargs)
    except (DataError, ConfigError, FileNotFoundError, KeyError, ValueError) as exc:
        # a KeyError's str() is the repr of its key: print the message itself
        _fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    if version:
        typer.echo(__version__)
        raise typer.Exit()


#: The main job's config, found from any working directory (the repository's own file).
DEFAULT_CONFIG = REPO_ROOT / "experiments" / "neijiang-baseline" / "config.toml"
DEFAULT_MODEL = Path("models/scenario-engine")


def _progress():
    import time

    t0 = time.perf_counter()
    return lambda msg: typer.echo(f"[{time.perf_counter() - t0:6.1f} s] {msg}", err=True)
