"""The ``njforecast`` command: one subcommand per job.

Parses arguments, loads config, calls the package, then tracking; no logic of its own.
Bad input (DataError, ConfigError, ValueError raised by validation) prints a clear message and
exits with status 2, without a Python traceback.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from . import __version__
from .config import DEFAULT_REGION

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
    from .io.store import DataError

    try:
        return func(*args, **kwargs)
    except (DataError, ConfigError, FileNotFoundError, KeyError, ValueError) as exc:
        _fail(str(exc).strip("'\""))


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    if version:
        typer.echo(__version__)
        raise typer.Exit()


enrolment_app = typer.Typer(help="Enrolment, indicators, teachers and capacity.",
                            no_args_is_help=True)
app.add_typer(enrolment_app, name="enrolment")


@enrolment_app.command("base")
def enrolment_base(region: str = typer.Option(DEFAULT_REGION, help="Region name or region file."),
                   observations: Path | None = typer.Option(
                       None, help="Your own county series (CSV/xlsx: area, year, indicator, "
                                  "value); base-year counts replace the estimates."),
                   out: Path | None = typer.Option(None, help="Also write the table as CSV.")):
    """Print the calibrated base year (census 2020 → plan baselines) by area and level."""
    from .areas import load_region
    from .io.store import write_csv_atomic
    from .education.enrolment import base_year_table

    reg = _guard(load_region, region)
    obs = None
    if observations is not None:
        from .io.validation import load_user_observations

        if not observations.is_file():
            _fail(f"{observations}: file not found; give a CSV or xlsx with columns area, year, "
                  "indicator, value (check it with `njforecast data validate`)")
        obs = _guard(load_user_observations, observations, region)
    from .io.plan import load_plan_indicators
    from .io.store import load_census, raw_dir

    census = _guard(load_census, raw_dir() / "census" / "census_county_2020_sichuan.csv")
    table = _guard(base_year_table, reg, census, _guard(load_plan_indicators, area=reg.code),
                   obs)
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if out is not None:
        _guard(write_csv_atomic, table, out)
        typer.echo(f"written {out}")


@data_app.command("build")
def data_build(out: Path | None = typer.Option(None, help="Output folder (default data/processed).")):
    """Rebuild data/processed from data/raw (deterministic: byte-identical on rerun)."""
    from .io.processed import build_processed

    paths = _guard(build_processed, out)
    for name, path in paths.items():
        typer.echo(f"{name:20s} {path}")


@data_app.command("show")
def data_show(name: str = typer.Argument("summary", help="summary, or a processed frame name "
                                          "(census_population, census_areas, observations, "
                                          "plan_targets, seats, standards)."),
              rows: int = typer.Option(20, help="Rows to print.")):
    """Print a summary of the bundled data, or the first rows of one processed frame."""
    from .io.processed import read_processed

    if name == "summary":
        from .io.summary import data_summary

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
        region: str = typer.Option(DEFAULT_REGION, "--region", help="Region whose codes and plan "
                                   "ids are accepted (every census code is accepted too)."),
        max_problems: int = typer.Option(50, "--max-problems", help="Problems printed per "
                                         "file (the rest are counted).")):
    """Validate user files (njforecast.io.validation); print problems; exit 2 on errors."""
    from .io.validation import format_problems, input_files, validate_file

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
                                      "experiments/neijiang-baseline/config.toml."),
        lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
        scenarios: bool = typer.Option(True, "--scenarios/--no-scenarios",
                                       help="Also run the preset scenarios side by side."),
        observations: Path | None = typer.Option(
            None, "--observations", help="Your own series (observations format, README "
            "'Bringing your own county series'); replace the estimates where present. Same as "
            "[data] observations in the config."),
        targets: Path | None = typer.Option(
            None, "--targets", help="Plan targets to compare with (targets format, README "
            "'Targets for any plan'; list the ids with `njforecast targets list`). Same as "
            "[targets] file in the config; default: the region's plan."),
        jump_off: str | None = typer.Option(
            None, "--jump-off", help="'latest' (calibrate each of your series at its latest "
            "observed year) or a year (later observations are only compared with, ex-post). "
            "Same as jump_off in the config; default latest.")):
    """Run the main job for a config: build data, project, compare with targets, report, track."""
    from dataclasses import replace

    from .config import load_config

    cfg = _guard(load_config, config)
    if observations is not None:
        sections = dict(cfg.sections)
        sections["data"] = {**cfg.section("data"), "observations": str(observations.resolve())}
        cfg = replace(cfg, sections=sections)
    if targets is not None:
        cfg = replace(cfg, sections={**cfg.sections, "targets": {
            **cfg.section("targets"), "file": str(targets.resolve())}})
    if jump_off is not None:
        from .config import with_jump_off

        cfg = _guard(with_jump_off, cfg, jump_off, "--jump-off")
    if cfg.section("ex_post"):  # an ex-post check (experiments/sichuan-expost/config.toml)
        from .evaluation.ex_post import run_ex_post, write_ex_post

        table, notes = _guard(run_ex_post, cfg)
        out = write_ex_post(table, notes, cfg.output_dir)
        typer.echo(table.round(2).to_string(index=False))
        typer.echo(f"\noutputs: {out}, {out.parent / 'ex_post_assumptions.csv'}")
        return
    if cfg.section("backtest"):  # a back-test experiment (experiments/<name>/config.toml)
        _backtest_experiment(cfg)
        return
    _pipeline_job(cfg, lang, None, scenarios, export_model=True)


# --- targets for any plan (issue 14) -------------------------------------------------------
targets_app = typer.Typer(help="Plan targets: the ids a targets file may use; check a file.",
                          no_args_is_help=True)
app.add_typer(targets_app, name="targets")


@targets_app.command("list")
def targets_list(config: Path = typer.Option(Path("experiments/neijiang-baseline/config.toml"),
                                             "--config", help="Experiment config whose region "
                                             "and plan give the ids.")):
    """Print the indicator ids a targets file may use, with unit and meaning."""
    from .config import load_config
    from .engine.state import target_ids

    table = _guard(target_ids, _guard(load_config, config))
    typer.echo(table.to_string(index=False))


@targets_app.command("validate")
def targets_validate(
        path: Path = typer.Argument(..., help="Targets file (CSV or xlsx)."),
        config: Path = typer.Option(Path("experiments/neijiang-baseline/config.toml"), "--config",
                                    help="Experiment config whose region and jump-off year "
                                         "the targets are checked against.")):
    """Check a targets file: exit 0 with one line when it is fine, 2 with every problem."""
    from .config import load_config
    from .engine.state import check_targets_file
    from .io.validation import format_problems

    if not path.is_file():
        _fail(f"{path}: file not found; give a CSV or xlsx with columns area, indicator, "
              "target_year, comparison, target, unit")
    frame, problems = _guard(check_targets_file, _guard(load_config, config), path)
    for line in format_problems(problems):
        typer.echo(line)
    if frame is None:
        _fail(f"{path} has errors; fix them and validate again")
    typer.echo(f"ok: {path} — {len(frame)} targets, {frame['indicator'].nunique()} indicators, "
               f"target years {', '.join(map(str, sorted(set(frame['target_year']))))}")


# --- planner: pipeline, scenarios, serving (issue 6) ---------------------------------------
scenario_app = typer.Typer(help="Named scenarios: list, show, run.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
serve_app = typer.Typer(help="Serve the scenario engine over HTTP (MLflow scoring server).",
                        invoke_without_command=True)
app.add_typer(serve_app, name="serve")

DEFAULT_CONFIG = Path("experiments/neijiang-baseline/config.toml")
DEFAULT_MODEL = Path("models/scenario-engine")


def _progress():
    import time

    t0 = time.perf_counter()
    return lambda msg: typer.echo(f"[{time.perf_counter() - t0:6.1f} s] {msg}", err=True)


def _pipeline_job(cfg, lang: str, scenario, with_presets: bool, export_model: bool) -> None:
    """Pipeline → targets → scenarios → report inside one MLflow run; print the summary."""
    from .engine import presets_for
    from .reporting import build_outputs, resolve_lang, summary_table
    from .tracking import TrackingError, export_and_log_scenario_model, log_pipeline, log_scenario

    say = _progress()
    _, msg = _guard(resolve_lang, lang)
    if msg:
        typer.echo(msg, err=True)

    def body(parent):
        out = build_outputs(cfg, lang, scenario, list(_guard(presets_for, cfg).values())
                            if with_presets else [],
                            say, on_scenario=lambda res, gaps: log_scenario(parent, res, gaps))
        if export_model:
            from .engine.state import planner_observations_path, targets_path

            parent.apply(export_and_log_scenario_model, DEFAULT_MODEL, cfg.path,
                         planner_observations_path(cfg), targets_path(cfg))
        say("waiting for MLflow (tracking process"
            f"{', scenario model export to ' + str(DEFAULT_MODEL) if export_model else ''})")
        return out

    name = None if scenario is None else f"scenario:{scenario.name}"
    try:
        run_id, out = _guard(log_pipeline, cfg, body, run_name=name)
    except TrackingError as exc:  # the outputs are written; only the MLflow record failed
        typer.echo(f"error: {exc}\n(outputs written to {cfg.output_dir}/; fix the tracking "
                   f"store {cfg.tracking_uri} and run again to record them)", err=True)
        raise typer.Exit(code=1) from None
    say("done")
    typer.echo(summary_table(out["gaps"], lang=lang))
    typer.echo(f"\noutputs: {out['out_dir']}/ (target_gaps.csv, report.html, report.xlsx, "
               f"figures/, tidy tables)\nMLflow: {cfg.tracking_uri} experiment {cfg.name!r}, "
               f"run {run_id}")


@scenario_app.command("list")
def scenario_list(config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                              help="Experiment config whose region and plan "
                                                   "the presets use.")):
    """List the preset scenarios and what each changes."""
    from .config import load_config
    from .engine import presets_for

    for sc in _guard(presets_for, _guard(load_config, config)).values():
        over = ", ".join(f"{k}={v}" for k, v in sc.overrides().items()) or "—"
        typer.echo(f"{sc.name:20s} {over:50s} {sc.description}")


@scenario_app.command("show")
def scenario_show(name: str = typer.Argument(..., help="Preset name or a scenario .toml file."),
                  config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                              help="Experiment config whose region and plan "
                                                   "the presets use.")):
    """Print a scenario as TOML (copy it to a file to make your own)."""
    from .config import load_config
    from .engine import presets_for
    from .planning.scenarios import get_scenario

    known = _guard(presets_for, _guard(load_config, config))
    typer.echo(_guard(get_scenario, name, known).to_toml(), nl=False)


@scenario_app.command("run")
def scenario_run(name: str = typer.Argument(..., help="Preset name or a scenario .toml file."),
                 config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                             help="Experiment config the scenario modifies."),
                 lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
                 output: Path | None = typer.Option(None, "--output", help="Output folder "
                                                       "(default <output_dir>-<scenario>).")):
    """Run one scenario (a tracked MLflow run) and write its report next to the baseline's."""
    import dataclasses

    from .config import load_config
    from .planning.scenarios import get_scenario

    from .engine import presets_for

    cfg = _guard(load_config, config)
    sc = _guard(get_scenario, name, _guard(presets_for, cfg))
    cfg = dataclasses.replace(cfg, output_dir=str(output or f"{cfg.output_dir}-{sc.name}"))
    _pipeline_job(cfg, lang, sc, False, export_model=False)


@serve_app.callback()
def serve(ctx: typer.Context,
          port: int = typer.Option(5001, "--port", help="Port to listen on."),
          host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
          model: Path = typer.Option(DEFAULT_MODEL, "--model", help="Exported model folder."),
          config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                      help="Config used when the model must be exported first.")):
    """Serve the scenario model with `mlflow models serve --env-manager local` (exports it first
    when the folder is missing). Request: POST /invocations
    {"dataframe_records": [{"scenario": "baseline"}]}; fields in models/README.md."""
    import subprocess

    if ctx.invoked_subcommand is not None:
        return
    if not (model / "MLmodel").is_file():
        from .tracking import export_scenario_model

        typer.echo(f"exporting the scenario model to {model} (first use)…", err=True)
        _guard(export_scenario_model, model, config)
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model), "--env-manager",
           "local", "-p", str(port), "-h", host, "-w", "1"]
    typer.echo(" ".join(cmd), err=True)
    import os

    # MLflow starts `uvicorn` by name: put this interpreter's bin folder (the venv) on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code=code)


@serve_app.command("export")
def serve_export(out: Path = typer.Option(DEFAULT_MODEL, "--out", help="Model folder to write."),
                 config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                             help="Config the served engine uses.")):
    """Export the scenario engine as an MLflow pyfunc model folder (code + data + config)."""
    from .tracking import export_scenario_model

    typer.echo(_guard(export_scenario_model, out, config))


@app.command("app")
def planner_app(config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                            help="Experiment config the page explores."),
                port: int = typer.Option(8050, "--port", help="Port to listen on."),
                host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind "
                                         "(loopback by default; another makes the page reachable "
                                         "from other machines)."),
                tracking_uri: str | None = typer.Option(
                    None, "--tracking-uri", help="Where 'save scenario' logs its MLflow run "
                    "(default: the config's, else sqlite:///mlflow.db)."),
                workers: int = typer.Option(1, "--workers", help="Processes answering the page "
                                            "(each builds its own state; 2 uses two cores).")):
    """The planner's page: presets, levers, charts and target table in the browser (offline)."""
    import socket

    from .app import PlannerService, serve, serve_workers

    if not config.is_file():
        _fail(f"{config}: config file not found; give an experiment config such as "
              f"{DEFAULT_CONFIG}")
    if not 1 <= port <= 65535:
        _fail(f"--port {port} is not a port number (1-65535)")
    try:  # a taken port is a message and exit 2, not uvicorn's exit 1 after the state is built
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
              "or --host")
    if not 1 <= workers <= 8:
        _fail(f"--workers {workers}: give 1 to 8 processes")
    if workers > 1:
        from .config import load_config

        _guard(load_config, config)  # a bad config is reported here, not by every worker
        typer.echo(f"planner's page: http://{host}:{port}/  ({workers} processes, each "
                   "building its base state; Ctrl-C to stop)")
        serve_workers(config, host, port, workers, tracking_uri)
        return
    say = _progress()
    say(f"building the base state from {config} (once)")
    service = _guard(PlannerService, config, tracking_uri)
    say(f"ready in {service.start_seconds:.1f} s")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: the page is reachable from other machines",
                   err=True)
    typer.echo(f"planner's page: http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        serve(service, host, port)
    except KeyboardInterrupt:
        pass


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
    from .io.store import write_csv_atomic
    from .demography import DemographicAssumptions, project_census_file

    ass = _guard(DemographicAssumptions, fertility_path=fertility_path,
                 migration_multiplier=migration_multiplier,
                 fertility_multiplier=fertility_multiplier)
    from .io.store import load_census_checked

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
    from .io.store import write_csv_atomic
    from .engine.national import project_census_file_enrolment

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
    from .io.store import write_csv_atomic
    from .evaluation.census_backtest import backtest_summary, census_backtest, province_backtest

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


def _backtest_experiment(cfg) -> None:
    """Run a config's [backtest] inside an MLflow parent run (FAILED if it raises)."""
    from .evaluation.backtest import format_mape_tables, run_experiment
    from .tracking import log_backtest

    result = {}

    def body():
        result["r"] = run_experiment(cfg)
        return result["r"]

    _guard(log_backtest, None, experiment=cfg.name, tracking_uri=cfg.tracking_uri,
           params={"name": cfg.name, "seed": cfg.seed, "backtest": cfg.section("backtest")},
           body=body)
    typer.echo(format_mape_tables(result["r"].metrics))
    typer.echo(f"\noutputs: {cfg.output_dir}/cv.csv, metrics.csv, fits.csv; MLflow: "
               f"{cfg.tracking_uri} "
               f"(experiment {cfg.name!r})")


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
    from .evaluation.backtest import format_mape_tables, read_observations_file, run_backtest, write_outputs

    obs = _guard(read_observations_file, observations)
    if area:
        from .io.store import _area_slugs

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
    typer.echo(f"\nwrote {output}/cv.csv, {output}/metrics.csv and {output}/fits.csv")


def main() -> None:
    """Entry point of the ``njforecast`` console script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
