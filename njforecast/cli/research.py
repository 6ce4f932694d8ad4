"""The researcher's commands: ``demography project|backtest``, ``backtest`` (models) and
``evaluate`` (the whole engine back-tested from a census jump-off).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from .common import _fail, _guard, app, demography_app

BlankCells = Enum("BlankCells", {p: p for p in ("refuse", "drop", "zero")}, type=str)


_BLANK_HELP = ("Census age cells that are empty or not numbers: refuse (list them, exit 2), "
               "drop (leave those areas out, each listed) or zero (read empty cells as 0).")


def _echo_touched(touched) -> None:
    """List the areas a blank-cell policy dropped or filled (never silently)."""
    for r in touched.itertuples(index=False):
        typer.echo(f"{r.action}: {r.area} {r.name_zh} (cells: {r.cells})")


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
        workers: int | None = typer.Option(None, help="Worker processes (default: CPU "
                                              "count); ignored with --address."),
        address: str | None = typer.Option(None, help="Dask scheduler, e.g. "
                                              "tcp://10.0.0.5:8786 (needs --executor dask)."),
        with_enrolment: bool = typer.Option(False, help="Also enrolment and teacher demand by "
                                            "county, year and level under the default national "
                                            "assumptions (estimated; needs --draws >= 1)."),
        enrolment_output: Path | None = typer.Option(None, help="Enrolment/teachers CSV "
                                                        "(default OUTPUT_enrolment.csv; the "
                                                        "assumptions go to "
                                                        "OUTPUT_enrolment_assumptions.csv)."),
        blank_cells: BlankCells = typer.Option(BlankCells.refuse, help=_BLANK_HELP),
):
    """Project a census by county to YEAR: school-age bands (or single ages) with intervals."""
    if address is not None and executor != "dask":
        _fail(f"--address {address} needs --executor dask (got --executor {executor})")
    from ..io.store import write_csv_atomic
    from ..demography import DemographicAssumptions, project_census_file

    ass = _guard(DemographicAssumptions, fertility_path=fertility_path,
                 migration_multiplier=migration_multiplier,
                 fertility_multiplier=fertility_multiplier)
    from ..io.store import load_census_checked

    touched = _guard(load_census_checked, base, blank_cells.value)[1]
    if with_enrolment or enrolment_output is not None:
        if len(touched):
            _fail(f"{base}: --with-enrolment reads complete census tables only; fix the cells "
                  "listed by `njforecast demography project` without it")
        _national_enrolment(base, to, output, enrolment_output, draws, seed, ass, region,
                            single_ages, executor, workers, address)
        return
    _echo_touched(touched)
    out = _guard(project_census_file, base, to, draws, seed, ass, region, single_ages,
                 executor=executor, workers=workers, address=address,
                 blank_cells=blank_cells.value)
    write_csv_atomic(out, output)
    typer.echo(f"{out['area'].nunique()} areas, {out['year'].min()}-{out['year'].max()}, "
               f"{'draws ' + str(draws) if draws else 'deterministic'} -> {output}")


def _national_enrolment(base, to, output, enrolment_output, draws, seed, ass, region,
                        single_ages, executor, workers, address) -> None:
    """`demography project --with-enrolment`: population + enrolment/teachers files."""
    from ..io.store import write_csv_atomic
    from ..engine.national import project_census_file_enrolment

    if region or single_ages:
        _fail("--with-enrolment runs every county under national assumptions; drop --region "
              "and --single-ages (a region's calibrated enrolment: `njforecast run CONFIG`)")
    pop, enr, nat = _guard(project_census_file_enrolment, base, to, draws, seed, ass,
                           executor=executor, workers=workers, address=address)
    enrolment_output = enrolment_output or output.with_name(f"{output.stem}_enrolment.csv")
    assumptions_path = enrolment_output.with_name(f"{enrolment_output.stem}_assumptions.csv")
    write_csv_atomic(pop, output)
    write_csv_atomic(enr, enrolment_output)
    write_csv_atomic(nat, assumptions_path)
    for r in nat.itertuples(index=False):
        typer.echo(f"assumption (estimated) {r.level}: GER {r.rate:.2f} % of ages {r.band} "
                   f"({r.rate_quality} {r.rate_year}) x share {r.share:.4f}; "
                   f"{r.ratio:.2f} pupils per teacher")
    typer.echo(f"{pop['area'].nunique()} areas, {pop['year'].min()}-{pop['year'].max()}, "
               f"draws {draws} -> {output}; enrolment and teachers (estimated, national "
               f"assumptions) -> {enrolment_output}; assumptions -> {assumptions_path}")


BacktestLevel = Enum("BacktestLevel", {p: p for p in ("county", "province")}, type=str)


@demography_app.command("backtest")
def demography_backtest(
        base: Path = typer.Option(..., help="Census A (launch), e.g. the 2010 county table."),
        actual: Path = typer.Option(..., help="Census B (10 years later), used only to score: "
                                    "a county table (--level county) or the 2020 province "
                                    "table (--level province)."),
        output: Path = typer.Option(..., help="Output CSV: one row per area × age group."),
        level: BacktestLevel = typer.Option(BacktestLevel.county, help="county: census A's "
                                            "counties against B's, with the held-out halves "
                                            "A/B of the county rules; province: every province "
                                            "from A's counties summed, against B's province "
                                            "rows."),
        min_ratio: float = typer.Option(0.5, help="Exclude counties whose total B/A is below."),
        max_ratio: float = typer.Option(2.0, help="Exclude counties whose total B/A is above."),
        blank_cells: BlankCells = typer.Option(BlankCells.refuse, help=_BLANK_HELP),
):
    """Project census A's counties to census B's moment and print errors beside the naive."""
    from ..io.store import write_csv_atomic
    from ..evaluation.census_backtest import backtest_summary, census_backtest, province_backtest

    res = (_guard(province_backtest, base, actual, blank_cells=blank_cells.value)
           if level is BacktestLevel.province else
           _guard(census_backtest, base, actual, (min_ratio, max_ratio),
                  blank_cells=blank_cells.value))
    write_csv_atomic(res.rows, output)
    for rule in res.rules:
        typer.echo(f"rule: {rule}")
    typer.echo(f"excluded {len(res.excluded)} areas:")
    for r in res.excluded.itertuples(index=False):
        typer.echo(f"  {r.area_code} {r.area_name} — {r.reason}")
    methods = list(dict.fromkeys(res.summary["method"]))
    county = level is BacktestLevel.county
    summary = backtest_summary(res.rows, methods) if county else res.summary.assign(subset="all")
    groups = list(dict.fromkeys(summary["age_group"]))
    typer.echo(f"{level.value} level, areas scored: {res.summary['n'].max()}; absolute percentage "
               "error (%)" + ("; halves A/B: counties split by prefecture (the county rules "
                              "were chosen on A)" if county else ""))
    for name, part in summary.groupby("subset", sort=False):
        table = part.pivot(index="age_group", columns="method",
                           values=["median_ape", "mean_ape"]).round(1)
        table = table.reindex(columns=[(v, m) for v in ("median_ape", "mean_ape")
                                       for m in methods]).reindex(groups)
        typer.echo(f"-- {name} (n = {part['n'].max()})")
        typer.echo(table.to_string())
    typer.echo(f"rows -> {output}")


@app.command("backtest")
def backtest(
    observations: Path = typer.Option(..., "--observations", help="File in the observations "
                                      "format (area, year, indicator, value; other columns "
                                      "ignored)."),
    indicator: list[str] = typer.Option(..., "--indicator", help="Indicator to back-test "
                                        "(repeatable)."),
    area: list[str] | None = typer.Option(None, "--area", help="Area code or slug "
                                             "(repeatable; default all)."),
    horizon: int = typer.Option(5, "--horizon", help="Leads 1..H (years)."),
    windows: int = typer.Option(5, "--windows", help="Cutoffs per series (T-H-W+1 .. T-H)."),
    models: str = typer.Option("all", "--models", help="Comma list of models, or 'all'."),
    output: Path = typer.Option(..., "--output", help="Folder for cv.csv and metrics.csv."),
    seed: int = typer.Option(20201101, "--seed", help="Seed for stochastic models."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help="Log to MLflow at "
                                               "this URI (e.g. sqlite:///mlflow.db)."),
    experiment: str = typer.Option("backtest", "--experiment", help="MLflow experiment name."),
):
    """Rolling-origin back-test of forecasting models; prints MAPE by lead (NCES layout)."""
    from ..evaluation.backtest import format_mape_tables, read_observations_file, run_backtest, write_outputs

    obs = _guard(read_observations_file, observations)
    if area:
        from ..io.store import _area_slugs

        slugs = _area_slugs()
        area = [slugs.get(a, a) for a in area]

    def body():
        res = run_backtest(obs, indicator, models, horizon, windows, area or None, seed,
                           source=str(observations))
        write_outputs(res, output)
        return res

    if tracking_uri:
        from ..tracking import log_backtest

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
    typer.echo(f"\nwrote {output}/cv.csv, {output}/metrics.csv and {output}/fits.csv")


@app.command("evaluate")
def evaluate(
    region: str = typer.Option(..., "--region", help="Region: china (the nation as one area) "
                               "or china-provinces (31 provinces), or a region file."),
    jump_off: int = typer.Option(..., "--jump-off", help="Census year the engine starts from "
                                 "(2010 or 2020); calibrated on this year's observations."),
    to: int = typer.Option(..., "--to", help="Last year scored."),
    observations: Path = typer.Option(..., "--observations", help="Observed series (year, "
                                      "area, indicator, value; area as code or pinyin)."),
    output: Path = typer.Option(..., "--output", help="Folder for evaluation.csv, "
                                "mape_by_lead.csv, coverage.csv, assumptions.csv."),
    draws: int = typer.Option(200, "--draws", help="Population and rate-path draws (≥ 2)."),
    seed: int = typer.Option(20201101, "--seed", help="Seed of the draws."),
    paths: str = typer.Option("learned", "--paths", help="Rate paths: learned (damped trends "
                              "fitted to the history up to the jump-off, the default) or held "
                              "(rates and pupils per teacher held where no GER trend applies) or "
                              "learned-rates (rates learned, pupils per teacher held)."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help="Log to MLflow at "
                                               "this URI (e.g. sqlite:///mlflow.db)."),
    experiment: str = typer.Option("evaluate", "--experiment", help="MLflow experiment name."),
):
    """The whole engine back-tested from a census jump-off against observed series; prints
    MAPE by lead next to naive (the jump-off year's value)."""
    from ..evaluation import evaluate as ev

    def body():
        reg = ev._region(region)
        obs = ev.read_evaluation_observations(observations, reg)
        res = ev.evaluate(reg, jump_off, to, obs, draws, seed, source=str(observations),
                          paths=paths)
        ev.write_evaluation(res, output)
        return res

    if tracking_uri:
        from ..tracking import log_evaluation

        res = _guard(log_evaluation, experiment, tracking_uri,
                     params={"region": region, "jump_off": jump_off, "to": to,
                             "observations": str(observations), "draws": draws, "seed": seed,
                             "paths": paths},
                     body=body)
    else:
        res = _guard(body)
    typer.echo(ev.format_mape(res.mape))
    typer.echo("\ncoverage of the intervals (% of actuals inside)")
    typer.echo(res.coverage.to_string(index=False))
    skipped = [a[1] for a in res.assumptions if a[0] == "not_projected"]
    if skipped:
        typer.echo(f"\nnot projected (no method for these indicators): {', '.join(skipped)}")
    typer.echo(f"\nwrote {output}/evaluation.csv ({len(res.table)} rows)")
