"""Commands on the data: ``data build|show|validate`` and ``enrolment base``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..config import DEFAULT_REGION
from .common import _fail, _guard, data_app, enrolment_app

@enrolment_app.command("base")
def enrolment_base(region: str = typer.Option(DEFAULT_REGION, help="Region name or region file."),
                   observations: Path | None = typer.Option(
                       None, help="Your own county series (CSV/xlsx: area, year, indicator, "
                                  "value); base-year counts replace the estimates."),
                   out: Path | None = typer.Option(None, help="Also write the table as CSV.")):
    """Print the calibrated base year (census 2020 → plan baselines) by area and level."""
    from ..areas import load_region
    from ..io.store import write_csv_atomic
    from ..education.enrolment import base_year_table

    reg = _guard(load_region, region)
    obs = None
    if observations is not None:
        from ..io.validation import format_problems, read_user_observations

        if not observations.is_file():
            _fail(f"{observations}: file not found; give a CSV or xlsx with columns area, year, "
                  "indicator, value (check it with `njforecast data validate`)")
        obs, warnings = _guard(read_user_observations, observations, region)
        for line in format_problems(warnings):
            typer.echo(line, err=True)
    from .. import schema as S
    from ..io.plan import region_plan_tables
    from ..io.processed import read_processed

    census = _guard(read_processed, "census_population")
    census = census[census[S.CENSUS_YEAR] == 2020]
    plan_obs = _guard(region_plan_tables, reg)[0]
    table = _guard(base_year_table, reg, census, plan_obs, obs)
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if out is not None:
        _guard(write_csv_atomic, table, out)
        typer.echo(f"written {out}")


@data_app.command("build")
def data_build(out: Path | None = typer.Option(None, help="Output folder (default data/processed).")):
    """Rebuild data/processed from data/raw (deterministic: byte-identical on rerun)."""
    from ..io.processed import build_processed

    paths = _guard(build_processed, out)
    for name, path in paths.items():
        typer.echo(f"{name:20s} {path}")


@data_app.command("show")
def data_show(name: str = typer.Argument("summary", help="summary, or a processed frame name "
                                          "(census_population, census_areas, observations, "
                                          "plan_targets, seats, standards)."),
              rows: int = typer.Option(20, help="Rows to print."),
              region: str = typer.Option(DEFAULT_REGION, help="Region name or region file "
                                         "(for the summary).")):
    """Print a summary of the bundled data, or the first rows of one processed frame."""
    from ..io.processed import read_processed

    if name == "summary":
        from ..io.summary import data_summary

        typer.echo(_guard(data_summary, region))
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
        region: str = typer.Option(DEFAULT_REGION, "--region", help="Region whose codes and plan "
                                   "ids are accepted (every census code is accepted too)."),
        max_problems: int = typer.Option(50, "--max-problems", help="Problems printed per "
                                         "file (the rest are counted).")):
    """Validate user files (njforecast.io.validation); print problems; exit 2 on errors."""
    from ..io.validation import format_problems, input_files, validate_file

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
